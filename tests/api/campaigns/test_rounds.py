"""Rounds per organisation: a city runs a campaign of its own districts; a district that posted
nothing closes its round with an empty proposal so the city can start; a district attached straight
to the province sends its promotions to the province's round."""
from __future__ import annotations

from datetime import timedelta

from services.common.db import utcnow
from tests.api.campaigns.helpers import (API, LESSON, RUBRIC, build_world, level_specs, move_level, post_lesson,
                                         score_all)
from tests.helpers import assert_problem


def test_a_city_campaign_and_a_district_that_posted_nothing(client, factory):
    world = build_world(factory)
    east, west, south = world.districts
    teacher = factory.user(school=factory.school(district=east))
    southerner = factory.user(school=factory.school(district=south))
    judges = [factory.user(school=factory.school(district=west)) for _ in range(2)]
    factory.commit()
    created = client.post(f"{API}/campaigns", headers=factory.headers(world.city_admin), json={
        "title": "测试市优课", "categories": LESSON, "rubric": RUBRIC, "levels": level_specs()[:2]})
    assert created.status_code == 201, created.text
    campaign, cid = created.json(), created.json()["id"]
    assert [lv["name"] for lv in campaign["levels"]] == ["东区县级", "西区县级", "测试市市级"]
    assert campaign["region_id"] == world.city.id
    assert_problem(client.post(f"{API}/campaigns/{cid}/packages", headers=factory.headers(southerner),
                               json={"category": "lesson", "title": "第二市的课"}), 403, "campaign.not_participating")
    package = post_lesson(client, factory, world, campaign, teacher)

    # 西区 posted nothing: its round starts with no entry and closes with an empty proposal.
    west_admin = factory.headers(world.district_admins[1])
    started = client.post(f"{API}/campaigns/{cid}/levels/0/judging", headers=west_admin)
    assert started.status_code == 200 and started.json() == [], started.text
    assert client.post(f"{API}/campaigns/{cid}/levels/0/promotions", headers=west_admin,
                       json={"package_ids": []}).status_code == 200
    move_level(factory, campaign, 0, publicity_ends_at=utcnow() - timedelta(minutes=1))
    assert client.post(f"{API}/campaigns/{cid}/levels/0/finalise", headers=west_admin).json() == []
    city = factory.headers(world.city_admin)
    assert client.get(f"{API}/campaigns/{cid}", headers=city).json()["levels"][2]["status"] == "open"
    assert_problem(client.post(f"{API}/campaigns/{cid}/levels/1/judging", headers=city), 409,
                   "campaign.rounds_below_running")

    # 东区 has a package competing: an empty proposal is refused.
    east_admin = factory.headers(world.district_admin)
    assert client.post(f"{API}/campaigns/{cid}/levels/0/panels", headers=east_admin, json={
        "subject_code": "physics", "name": "物理组", "judge_ids": [j.id for j in judges]}).status_code == 201
    assert client.post(f"{API}/campaigns/{cid}/levels/0/judging", headers=east_admin).status_code == 200
    score_all(client, factory, judges, campaign, marks={package: 8})
    assert_problem(client.post(f"{API}/campaigns/{cid}/levels/0/promotions", headers=east_admin,
                               json={"package_ids": []}), 422, "campaign.not_competing")
    assert client.post(f"{API}/campaigns/{cid}/levels/0/promotions", headers=east_admin,
                       json={"package_ids": [package]}).status_code == 200
    move_level(factory, campaign, 0, publicity_ends_at=utcnow() - timedelta(minutes=1))
    assert len(client.post(f"{API}/campaigns/{cid}/levels/0/finalise", headers=east_admin).json()) == 1
    assert client.post(f"{API}/campaigns/{cid}/levels/1/panels", headers=city, json={
        "subject_code": "physics", "name": "物理组", "judge_ids": [j.id for j in judges]}).status_code == 201
    started = client.post(f"{API}/campaigns/{cid}/levels/1/judging", headers=city)
    assert started.status_code == 200 and started.json()[0]["assignments"] == 2, started.text


def test_a_district_straight_under_the_province_skips_the_city_level(client, factory):
    world = build_world(factory)
    north = factory.district(name="北区")
    north.region_id = world.province.id
    factory.commit()
    created = client.post(f"{API}/campaigns", headers=factory.headers(world.province_admin), json={
        "title": "全省优课", "categories": LESSON, "rubric": RUBRIC, "levels": level_specs()})
    assert created.status_code == 201, created.text
    rounds = {lv["name"]: lv for lv in created.json()["levels"]}
    assert set(rounds) == {"东区县级", "西区县级", "南区县级", "北区县级", "测试市市级", "第二市市级", "测试省省级"}
    assert rounds["北区县级"]["parent_id"] == rounds["测试省省级"]["id"]
    assert rounds["北区县级"]["district_id"] == north.id and rounds["测试省省级"]["region_id"] == world.province.id

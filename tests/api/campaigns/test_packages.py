"""A teacher's side of a campaign: a package checked part by part before it can be submitted;
submissions only within the window; a submitted package never changes, and a resource changed
after submission (a new revision, reviewed again) must be submitted again before it is judged."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from services.api.campaigns.models import Entry
from services.api.orgs.models import District, Region, RegionKind, Role
from services.common.db import utcnow
from tests.api.campaigns.helpers import API, build_world, create_campaign, lesson, move_level, post_lesson
from tests.helpers import assert_problem


def parts(response):  # type: ignore[no-untyped-def]
    assert response.status_code in (200, 201), response.text
    return {p["part"]: p["problems"] for p in response.json()["parts"]}


def test_completeness_part_by_part_and_a_submitted_package_never_changes(client, factory):
    world = build_world(factory)
    school = factory.school(district=world.district)
    teacher, colleague = factory.user(school=school), factory.user(school=school)
    judges = [factory.user(school=factory.school(district=world.district)) for _ in range(2)]
    factory.commit()
    campaign = create_campaign(client, factory, world)
    cid, mine = campaign["id"], factory.headers(teacher)
    too_long = lesson(client, factory, world, teacher, duration_min=50)
    recording = lesson(client, factory, world, teacher, duration_min=38)
    unconverted = lesson(client, factory, world, teacher, kind="lesson_plan", filename="plan.docx", converted=False)
    unreviewed = lesson(client, factory, world, teacher, kind="lesson_plan", filename="plan.pdf", approve=False)
    wrong_format = lesson(client, factory, world, teacher, kind="lesson_plan", filename="plan.txt")
    plan = lesson(client, factory, world, teacher, kind="lesson_plan", filename="plan.pdf")
    theirs = lesson(client, factory, world, colleague, kind="lesson_plan", filename="plan.pdf")

    created = client.post(f"{API}/campaigns/{cid}/packages", headers=mine,
                          json={"category": "lesson", "title": "温度", "items": {"recording": too_long}})
    assert parts(created) == {"recording": ["duration_out_of_range"], "plan": ["missing"]}
    assert created.json()["complete"] is False
    package = f"{API}/campaigns/{cid}/packages/{created.json()['id']}"
    refused = assert_problem(client.post(f"{package}/submit", headers=mine), 422, "campaign.package_incomplete")
    assert {e["loc"][1] for e in refused["errors"]} == {"recording", "plan"}
    assert parts(client.put(f"{package}/items", headers=mine, json={"items": {
        "recording": recording, "plan": unconverted}})) == {"recording": [], "plan": ["conversion_failed"]}
    assert parts(client.put(f"{package}/items", headers=mine, json={"items": {
        "recording": recording, "plan": unreviewed}}))["plan"] == ["not_reviewed"]
    assert parts(client.put(f"{package}/items", headers=mine, json={"items": {
        "recording": recording, "plan": wrong_format}}))["plan"] == ["wrong_format"]
    assert parts(client.put(f"{package}/items", headers=mine, json={"items": {
        "recording": plan, "plan": recording}})) == {"recording": ["wrong_kind", "wrong_format", "duration_out_of_range"],
                                                     "plan": ["wrong_kind", "wrong_format"]}
    assert_problem(client.put(f"{package}/items", headers=mine, json={"items": {"recording": recording, "plan": theirs}}),
                   422, "campaign.not_your_resource")
    assert_problem(client.post(f"{API}/campaigns/{cid}/packages", headers=mine,
                               json={"category": "micro", "title": "x"}), 422, "campaign.unknown_category")
    complete = client.put(f"{package}/items", headers=mine, json={"items": {"recording": recording, "plan": plan}})
    assert complete.json()["complete"] is True
    submitted = client.post(f"{package}/submit", headers=mine)
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted", submitted.text

    # A submitted package cannot change; its resources change only by a reviewed revision.
    assert_problem(client.put(f"{package}/items", headers=mine, json={"items": {"recording": recording}}),
                   409, "campaign.package_locked")
    assert_problem(client.post(f"{package}/submit", headers=mine), 409, "campaign.invalid_transition")

    def revise(resource_id: str, title: str) -> None:
        edited = client.patch(f"{API}/resources/{resource_id}", headers=mine, json={"title": title})
        assert edited.status_code == 200, edited.text
        approved = client.post(f"{API}/moderation/resources/{resource_id}/decision", json={"action": "approve"},
                               headers=factory.headers(world.moderator))
        assert approved.status_code == 200, approved.text

    revise(recording, "《温度》第二版")
    # Withdrawn and submitted again, it carries the new version.
    assert client.post(f"{package}/withdraw", headers=mine).json()["status"] == "draft"
    assert client.post(f"{package}/submit", headers=mine).json()["status"] == "submitted"

    # Outside the window nothing is submitted.
    move_level(factory, campaign, 0, submission_closes_at=utcnow() - timedelta(minutes=1))
    late = client.post(f"{API}/campaigns/{cid}/packages", headers=factory.headers(colleague),
                       json={"category": "lesson", "title": "晚了", "items": {"plan": theirs}})
    assert_problem(client.post(f"{API}/campaigns/{cid}/packages/{late.json()['id']}/submit",
                               headers=factory.headers(colleague)), 409, "campaign.window_closed")
    assert_problem(client.post(f"{package}/withdraw", headers=mine), 409, "campaign.window_closed")

    # Changed again after submission: judges may not score it.
    revise(recording, "《温度》第三版")
    admin = factory.headers(world.district_admin)
    assert client.post(f"{API}/campaigns/{cid}/levels/0/panels", headers=admin, json={
        "subject_code": "physics", "name": "物理组", "judge_ids": [j.id for j in judges]}).status_code == 201
    assert client.post(f"{API}/campaigns/{cid}/levels/0/judging", headers=admin).status_code == 200
    assignment = client.get(f"{API}/me/judging", headers=factory.headers(judges[0])).json()[0]
    assert_problem(client.put(f"{API}/campaigns/{cid}/assignments/{assignment['id']}/scores",
                              headers=factory.headers(judges[0]), json={"scores": {
                                  c: {"score": 8} for c in ("design", "delivery", "media")}}),
                   409, "campaign.package_changed")
    # The administrator takes it out; nothing is awaited from it and it leaves the ranking.
    assert_problem(client.post(f"{API}/campaigns/{cid}/levels/0/promotions", headers=admin,
                               json={"package_ids": [created.json()["id"]]}), 409, "campaign.judging_incomplete")
    assert client.get(f"{API}/campaigns/{cid}/levels/0/ranking", headers=admin).json()["items"] == []
    entry = factory.session.scalars(select(Entry).where(Entry.package_id == created.json()["id"])).one()
    out = client.post(f"{API}/campaigns/{cid}/entries/{entry.id}/disqualification", headers=admin,
                      json={"reason": "报送后资源已修改"})
    assert out.status_code == 200 and out.json()["status"] == "disqualified", out.text
    assert_problem(client.post(f"{API}/campaigns/{cid}/levels/0/promotions", headers=admin,
                               json={"package_ids": [created.json()["id"]]}), 422, "campaign.not_competing")
    assert_problem(client.post(f"{API}/campaigns/{cid}/entries/{entry.id}/disqualification",
                               headers=factory.headers(teacher), json={"reason": "x"}), 403, "campaign.not_level_admin")


def test_who_may_set_up_a_campaign_and_judge(client, factory):
    world = build_world(factory)
    school = factory.school(district=world.district)
    teacher = factory.user(school=school)
    colleague_judge = factory.user(school=school)
    factory.commit()
    body = {"title": "t", "categories": {"lesson": {"name": "优课", "parts": [{"part": "recording"}]}},
            "rubric": [{"code": "a", "name": "A", "weight": 1}], "levels": []}
    from tests.api.campaigns.helpers import level_specs
    body["levels"] = level_specs()
    assert_problem(client.post(f"{API}/campaigns", headers=factory.headers(teacher), json=body), 403,
                   "campaign.not_level_admin")
    province = factory.headers(world.province_admin)
    assert_problem(client.post(f"{API}/campaigns", headers=province,
                               json={**body, "levels": body["levels"][1:]}), 422, "campaign.invalid")
    assert_problem(client.post(f"{API}/campaigns", headers=province, json={
        **body, "levels": [*body["levels"][:2], {**level_specs()[2], "quotas": [{"rule": "max_share", "share": 3}]}]}),
        422, "campaign.invalid")
    # The province's campaign is the province administrator's, not a district's or a city's.
    assert_problem(client.post(f"{API}/campaigns", headers=factory.headers(world.district_admin), json=body),
                   403, "campaign.not_level_admin")
    assert_problem(client.post(f"{API}/campaigns", headers=factory.headers(world.city_admin), json=body),
                   403, "campaign.not_level_admin")
    # A district runs a campaign of its own (one level) without any region.
    lone = factory.user(roles=(Role.district_admin,), district=factory.district())  # no city above it
    empty_province = Region(name="空省", kind=RegionKind.province)
    factory.session.add(empty_province)
    factory.session.flush()
    governor = factory.user(roles=(Role.province_admin,), district=factory.district())
    governor.region_id = empty_province.id
    factory.commit()
    assert_problem(client.post(f"{API}/campaigns", headers=factory.headers(lone), json=body), 403,
                   "campaign.not_level_admin")
    own = client.post(f"{API}/campaigns", headers=factory.headers(lone), json={**body, "levels": body["levels"][:1]})
    assert own.status_code == 201, own.text
    assert [(lv["name"], lv["district_id"]) for lv in own.json()["levels"]] == [(f"{lone_name(factory, lone)}县级",
                                                                                 lone.district_id)]
    assert_problem(client.post(f"{API}/campaigns", headers=factory.headers(governor), json=body), 422,
                   "campaign.invalid")
    campaign = create_campaign(client, factory, world)
    post_lesson(client, factory, world, campaign, teacher)
    admin = factory.headers(world.district_admin)
    # The only judge is from the teacher's own school: nobody may judge the package.
    assert client.post(f"{API}/campaigns/{campaign['id']}/levels/0/panels", headers=admin, json={
        "subject_code": "physics", "name": "物理组", "judge_ids": [colleague_judge.id]}).status_code == 201
    refused = assert_problem(client.post(f"{API}/campaigns/{campaign['id']}/levels/0/judging", headers=admin),
                             422, "campaign.not_enough_judges")
    assert "0" in refused["detail"]
    assert_problem(client.get(f"{API}/campaigns/{'0' * 26}", headers=admin), 404, "campaign.not_found")


def lone_name(factory, user) -> str:  # type: ignore[no-untyped-def]
    return factory.session.get(District, user.district_id).name

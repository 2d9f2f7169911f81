"""A whole province campaign across three levels — three districts, two cities, the province —
from posting to certificates: each district ranks its own packages, a city round gathers the
promotions of all its districts and the province those of all its cities, quotas apply over each
round's own population, judges never score their own school's packages, each administrator sees
their own organisation and what lies under it, the publicity period with an objection,
certificates that verify, the lists handed upward."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from services.api.orgs.models import Role
from services.api.resources.models import Resource
from services.common.db import utcnow
from tests.api.campaigns.helpers import API, build_world, create_campaign, move_level, post_lesson, score_all
from tests.helpers import assert_problem


def run_round(client, factory, campaign, position, admin, judges, *, marks, promote, org=None) -> list[str]:  # type: ignore[no-untyped-def]
    """A round from its panel to its certificates, by its own administrator."""
    headers, where = factory.headers(admin), f"?org={org}" if org else ""
    base = f"{API}/campaigns/{campaign['id']}/levels/{position}"
    panel = client.post(f"{base}/panels{where}", headers=headers,
                        json={"subject_code": "physics", "name": "物理组", "judge_ids": [j.id for j in judges]})
    assert panel.status_code == 201, panel.text
    started = client.post(f"{base}/judging{where}", headers=headers)
    assert started.status_code == 200, started.text
    score_all(client, factory, judges, campaign, marks=marks)
    proposed = client.post(f"{base}/promotions{where}", headers=headers, json={"package_ids": promote})
    assert proposed.status_code == 200, proposed.text
    move_level(factory, campaign, position, publicity_ends_at=utcnow() - timedelta(minutes=1))
    codes = client.post(f"{base}/finalise{where}", headers=headers)
    assert codes.status_code == 200 and len(codes.json()) == len(promote), codes.text
    return codes.json()


def test_a_province_campaign_from_posting_to_certificates_across_three_levels(client, factory):
    world = build_world(factory)
    east, west, south = world.districts  # 东区 and 西区 under 测试市; 南区 under 第二市
    a, b, c = (factory.school(district=east, name=n) for n in ("甲校", "乙校", "丙校"))
    d, e = factory.school(district=west, name="丁校"), factory.school(district=south, name="戊校")
    a1, a2 = (factory.user(school=a) for _ in range(2))
    b1, b2 = (factory.user(school=b) for _ in range(2))
    c1, *_ = (factory.user(school=c) for _ in range(4))  # one of four teachers posts: 25 %
    d1, d2 = (factory.user(school=d) for _ in range(2))
    e1, e2 = (factory.user(school=e) for _ in range(2))
    outside = factory.school(district=factory.district())  # a district outside the province
    stranger = factory.user(school=outside)
    j1 = factory.user(school=a)  # a judge from 甲校: never judges 甲校's packages
    k1 = factory.user(school=d)  # a judge from 丁校 (西区), on the city's panel: never judges 丁校's
    j2, j3, j4, j5 = (factory.user(school=outside) for _ in range(4))
    factory.commit()
    lesson_key = ["grade_code", "edition_code", "subject_code", "knowledge_point"]
    campaign = create_campaign(client, factory, world, publicity_days=(1, 0, 0), quotas=(
        [{"rule": "max_share", "share": 0.5, "per": ["stage_code"]},
         {"rule": "max_per", "limit": 1, "per": lesson_key},
         {"rule": "min_participation", "share": 0.3}],
        [{"rule": "max_per", "limit": 1, "per": lesson_key}, {"rule": "max_per", "limit": 1, "per": ["teacher_id"]}],
        [{"rule": "max_per", "limit": 1, "per": lesson_key}, {"rule": "max_per", "limit": 1, "per": ["teacher_id"]}]))
    cid = campaign["id"]
    rounds = {lv["name"]: lv for lv in campaign["levels"]}
    assert list(rounds) == ["东区县级", "南区县级", "西区县级", "测试市市级", "第二市市级", "测试省省级"]
    assert [lv["status"] for lv in campaign["levels"]] == ["open"] * 3 + ["pending"] * 3
    assert campaign["region_id"] == world.province.id
    assert rounds["东区县级"]["parent_id"] == rounds["西区县级"]["parent_id"] == rounds["测试市市级"]["id"]
    assert rounds["南区县级"]["parent_id"] == rounds["第二市市级"]["id"]
    assert rounds["测试市市级"]["parent_id"] == rounds["第二市市级"]["parent_id"] == rounds["测试省省级"]["id"]

    # Posting: teachers of every district of the province; nobody from outside it.
    packages = {
        "a1": post_lesson(client, factory, world, campaign, a1, point="phys.j.matter.state.temp"),
        "a2": post_lesson(client, factory, world, campaign, a2, point="phys.j.matter.state.temp"),
        "b1": post_lesson(client, factory, world, campaign, b1, point="phys.j.matter.state.thermometer"),
        "b2": post_lesson(client, factory, world, campaign, b2, point="phys.j.matter.state"),
        "c1": post_lesson(client, factory, world, campaign, c1, point="phys.j.matter"),
        # 西区's best is the same lesson as 甲校's a1; 南区's best the same as 乙校's b1.
        "d1": post_lesson(client, factory, world, campaign, d1, point="phys.j.matter.state.temp"),
        "d2": post_lesson(client, factory, world, campaign, d2, point="phys.j.matter.state"),
        "e1": post_lesson(client, factory, world, campaign, e1, point="phys.j.matter.state.thermometer"),
        "e2": post_lesson(client, factory, world, campaign, e2, point="phys.j.matter"),
    }
    assert_problem(client.post(f"{API}/campaigns/{cid}/packages", headers=factory.headers(stranger),
                               json={"category": "lesson", "title": "外省"}), 403, "campaign.not_participating")
    marks = {packages["a1"]: 9, packages["d1"]: 8.8, packages["b1"]: 8.5, packages["e1"]: 8.2, packages["a2"]: 8,
             packages["c1"]: 7.5, packages["b2"]: 7, packages["d2"]: 6.5, packages["e2"]: 6}
    admin = factory.headers(world.district_admin)

    # District level: a panel, judges assigned (none to their own school), scoring.
    panel = client.post(f"{API}/campaigns/{cid}/levels/0/panels", headers=admin,
                        json={"subject_code": "physics", "name": "初中物理组", "judge_ids": [j1.id, j2.id, j3.id]})
    assert panel.status_code == 201, panel.text
    assert_problem(client.post(f"{API}/campaigns/{cid}/levels/0/judging", headers=factory.headers(world.city_admin)),
                   403, "campaign.not_level_admin")
    started = client.post(f"{API}/campaigns/{cid}/levels/0/judging", headers=admin)
    assert started.status_code == 200, started.text
    assert started.json()[0]["assignments"] == 10 and started.json()[0]["scored"] == 0
    own_school = {packages["a1"], packages["a2"]}
    assert own_school.isdisjoint(x["package_id"] for x in client.get(f"{API}/me/judging",
                                                                      headers=factory.headers(j1)).json())
    # Submissions are closed once judging starts.
    late_teacher = factory.user(school=b)
    factory.commit()
    with pytest.raises(AssertionError, match="campaign.window_closed"):
        post_lesson(client, factory, world, campaign, late_teacher, point="phys.j.matter.state.temp")

    # A judge opens an assigned package's files, though its resources are visible to its school only.
    j2_first = client.get(f"{API}/me/judging", headers=factory.headers(j2)).json()[0]
    opened = client.get(f"{API}/campaigns/{cid}/assignments/{j2_first['id']}/package", headers=factory.headers(j2))
    assert opened.status_code == 200, opened.text
    assert [p["part"] for p in opened.json()] == ["plan", "recording"]
    assert all(f["url"] for p in opened.json() for f in p["files"])
    assert client.get(f"{API}/resources/{opened.json()[0]['resource_id']}",
                      headers=factory.headers(j2)).status_code == 404
    assert_problem(client.get(f"{API}/campaigns/{cid}/assignments/{j2_first['id']}/package",
                              headers=factory.headers(j3)), 403, "campaign.not_your_panel")

    # A judge scoring out of range, or someone else's package, is refused.
    assert_problem(client.put(f"{API}/campaigns/{cid}/assignments/{j2_first['id']}/scores", headers=factory.headers(j2),
                              json={"scores": {"design": {"score": 11}, "delivery": {"score": 5}, "media": {"score": 5}}}),
                   422, "campaign.score_out_of_range")
    assert_problem(client.put(f"{API}/campaigns/{cid}/assignments/{j2_first['id']}/scores", headers=factory.headers(j2),
                              json={"scores": {"design": {"score": 5}}}), 422, "campaign.scores_incomplete")
    assert_problem(client.put(f"{API}/campaigns/{cid}/assignments/{j2_first['id']}/scores", headers=factory.headers(j3),
                              json={"scores": {"design": {"score": 5}, "delivery": {"score": 5}, "media": {"score": 5}}}),
                   403, "campaign.not_your_panel")
    assert_problem(client.post(f"{API}/campaigns/{cid}/levels/0/promotions", headers=admin,
                               json={"package_ids": [packages["a1"]]}), 409, "campaign.judging_incomplete")
    # After the judging window, no sheet is taken.
    move_level(factory, campaign, 0, judging_closes_at=utcnow() - timedelta(minutes=1))
    assert_problem(client.put(f"{API}/campaigns/{cid}/assignments/{j2_first['id']}/scores", headers=factory.headers(j2),
                              json={"scores": {"design": {"score": 5}, "delivery": {"score": 5}, "media": {"score": 5}}}),
                   409, "campaign.judging_closed")
    move_level(factory, campaign, 0, judging_closes_at=utcnow() + timedelta(days=1))
    score_all(client, factory, [j1, j2, j3], campaign, marks=marks)
    progress = client.get(f"{API}/campaigns/{cid}/levels/0/progress", headers=admin).json()
    assert progress == [{"panel_id": panel.json()["id"], "name": "初中物理组", "subject_code": "physics", "judges": 3,
                         "assignments": 10, "scored": 10}]
    ranking = client.get(f"{API}/campaigns/{cid}/levels/0/ranking", headers=admin).json()
    assert ranking["aggregation"] == "trimmed_mean" and "earlier submission" in ranking["tie_break"]
    assert [i["package_id"] for i in ranking["items"]] == [packages[k] for k in ("a1", "b1", "a2", "c1", "b2")]
    assert [i["rank"] for i in ranking["items"]] == [1, 2, 3, 4, 5] and ranking["items"][0]["score"] == 90.0

    # Promotion under quotas: each refusal names its rule.
    refused = assert_problem(client.post(f"{API}/campaigns/{cid}/levels/0/promotions", headers=admin,
                                         json={"package_ids": [packages["a1"], packages["a2"]]}),
                             409, "campaign.quota_exceeded")
    assert "max_per" in refused["detail"] and "knowledge_point" in refused["detail"]
    refused = assert_problem(client.post(f"{API}/campaigns/{cid}/levels/0/promotions", headers=admin,
                                         json={"package_ids": [packages["a1"], packages["b1"], packages["b2"]]}),
                             409, "campaign.quota_exceeded")
    assert "max_share" in refused["detail"] and refused["errors"][0]["allowed"] == 2
    refused = assert_problem(client.post(f"{API}/campaigns/{cid}/levels/0/promotions", headers=admin,
                                         json={"package_ids": [packages["a1"], packages["c1"]]}),
                             409, "campaign.quota_exceeded")
    assert "min_participation" in refused["detail"] and refused["errors"][0]["group"] == {"school_id": c.id}
    proposed = client.post(f"{API}/campaigns/{cid}/levels/0/promotions", headers=admin,
                           json={"package_ids": [packages["a1"], packages["b1"]]})
    assert proposed.status_code == 200, proposed.text

    # Publicity (公示): an objection holds the results until it is decided and the period ends.
    b1_entry = next(i["entry_id"] for i in ranking["items"] if i["package_id"] == packages["b1"])
    objection = client.post(f"{API}/campaigns/{cid}/entries/{b1_entry}/objections", headers=factory.headers(c1),
                            json={"reason": "课例与去年作品雷同"})
    assert objection.status_code == 201, objection.text
    assert_problem(client.post(f"{API}/campaigns/{cid}/levels/0/finalise", headers=admin), 409,
                   "campaign.publicity_running")
    move_level(factory, campaign, 0, publicity_ends_at=utcnow() - timedelta(minutes=1))
    assert_problem(client.post(f"{API}/campaigns/{cid}/levels/0/finalise", headers=admin), 409,
                   "campaign.publicity_running")
    assert_problem(client.post(f"{API}/campaigns/{cid}/entries/{b1_entry}/objections", headers=factory.headers(c1),
                               json={"reason": "再提一次"}), 409, "campaign.publicity_over")
    dismissed = client.post(f"{API}/campaigns/{cid}/objections/{objection.json()['id']}/decision", headers=admin,
                            json={"uphold": False})
    assert dismissed.json()["status"] == "dismissed", dismissed.text
    district_codes = client.post(f"{API}/campaigns/{cid}/levels/0/finalise", headers=admin)
    assert district_codes.status_code == 200 and len(district_codes.json()) == 2, district_codes.text

    # A city round waits for every district under it: 西区 has not finished.
    city = factory.headers(world.city_admin)
    assert client.post(f"{API}/campaigns/{cid}/levels/1/panels", headers=city, json={
        "subject_code": "physics", "name": "市物理组", "judge_ids": [k1.id, j2.id, j3.id]}).status_code == 201
    waiting = assert_problem(client.post(f"{API}/campaigns/{cid}/levels/1/judging", headers=city),
                             409, "campaign.rounds_below_running")
    assert "西区县级" in waiting["detail"] and "东区县级" not in waiting["detail"]
    assert_problem(client.post(f"{API}/campaigns/{cid}/levels/1/judging", headers=admin), 403,
                   "campaign.not_level_admin")

    # 西区 and 南区 run their own rounds over their own packages, under the same district quotas.
    west_admin = factory.headers(world.district_admins[1])
    assert run_round(client, factory, campaign, 0, world.district_admins[2], [j2, j3], marks=marks,
                     promote=[packages["e1"]])
    assert client.post(f"{API}/campaigns/{cid}/levels/0/panels", headers=west_admin, json={
        "subject_code": "physics", "name": "物理组", "judge_ids": [j2.id, j3.id]}).status_code == 201
    assert client.post(f"{API}/campaigns/{cid}/levels/0/judging", headers=west_admin).status_code == 200
    score_all(client, factory, [j2, j3], campaign, marks=marks)
    west_ranking = client.get(f"{API}/campaigns/{cid}/levels/0/ranking", headers=west_admin).json()["items"]
    assert [i["package_id"] for i in west_ranking] == [packages["d1"], packages["d2"]]
    refused = assert_problem(client.post(f"{API}/campaigns/{cid}/levels/0/promotions", headers=west_admin,
                                         json={"package_ids": [packages["d1"], packages["d2"]]}),
                             409, "campaign.quota_exceeded")
    assert "max_share" in refused["detail"] and refused["errors"][0]["allowed"] == 1

    # Who sees what: a district administrator their district; a city's or the province's
    # administrator every round under them, and nothing beside.
    assert_problem(client.get(f"{API}/campaigns/{cid}/levels/0/ranking?org={east.id}", headers=west_admin),
                   403, "campaign.not_level_admin")
    assert_problem(client.get(f"{API}/campaigns/{cid}/levels/1/ranking?org={world.city.id}", headers=west_admin),
                   403, "campaign.not_level_admin")
    assert_problem(client.get(f"{API}/campaigns/{cid}/levels/1/ranking", headers=west_admin),
                   403, "campaign.not_level_admin")
    assert_problem(client.get(f"{API}/campaigns/{cid}/levels/1/ranking?org={south.id}", headers=west_admin),
                   404, "campaign.round_not_found")
    seen = client.get(f"{API}/campaigns/{cid}/levels/0/ranking?org={west.id}", headers=city)
    assert [i["package_id"] for i in seen.json()["items"]] == [packages["d1"], packages["d2"]], seen.text
    assert_problem(client.get(f"{API}/campaigns/{cid}/levels/0/ranking?org={south.id}", headers=city),
                   403, "campaign.not_level_admin")
    assert_problem(client.get(f"{API}/campaigns/{cid}/levels/0/progress?org={west.id}",
                              headers=factory.headers(world.other_city_admin)), 403, "campaign.not_level_admin")
    province = factory.headers(world.province_admin)
    for org in (east.id, west.id, south.id):
        assert client.get(f"{API}/campaigns/{cid}/levels/0/progress?org={org}", headers=province).status_code == 200
    assert_problem(client.post(f"{API}/campaigns/{cid}/levels/0/promotions?org={west.id}", headers=province,
                               json={"package_ids": [packages["d1"]]}), 403, "campaign.not_level_admin")
    assert client.post(f"{API}/campaigns/{cid}/levels/0/promotions", headers=west_admin,
                       json={"package_ids": [packages["d1"]]}).status_code == 200
    move_level(factory, campaign, 0, publicity_ends_at=utcnow() - timedelta(minutes=1))
    assert len(client.post(f"{API}/campaigns/{cid}/levels/0/finalise", headers=west_admin).json()) == 1

    # 测试市's round ranks the promotions of both its districts; its quota spans them: 东区's a1
    # and 西区's d1 are the same lesson. 丁校's judge k1 never scores 丁校's d1.
    started = client.post(f"{API}/campaigns/{cid}/levels/1/judging", headers=city)
    assert started.status_code == 200 and started.json()[0]["assignments"] == 6, started.text
    k1_packages = {x["package_id"] for x in client.get(f"{API}/me/judging", headers=factory.headers(k1)).json()}
    assert k1_packages and packages["d1"] not in k1_packages
    score_all(client, factory, [k1, j2, j3], campaign, marks=marks)
    ranked = client.get(f"{API}/campaigns/{cid}/levels/1/ranking", headers=city).json()["items"]
    assert [i["package_id"] for i in ranked] == [packages["a1"], packages["d1"], packages["b1"]]
    assert client.get(f"{API}/campaigns/{cid}/levels/1/ranking", headers=province).status_code == 200
    refused = assert_problem(client.post(f"{API}/campaigns/{cid}/levels/1/promotions", headers=city,
                                         json={"package_ids": [packages["a1"], packages["d1"]]}),
                             409, "campaign.quota_exceeded")
    assert "knowledge_point" in refused["detail"]
    assert sorted(refused["errors"][0]["package_ids"]) == sorted([packages["a1"], packages["d1"]])
    assert client.post(f"{API}/campaigns/{cid}/levels/1/promotions", headers=city,
                       json={"package_ids": [packages["a1"], packages["b1"]]}).status_code == 200
    assert len(client.post(f"{API}/campaigns/{cid}/levels/1/finalise", headers=city).json()) == 2

    # The province waits for 第二市, then ranks what both cities promoted, one per lesson across them.
    assert client.post(f"{API}/campaigns/{cid}/levels/2/panels", headers=province, json={
        "subject_code": "physics", "name": "省物理组", "judge_ids": [j3.id, j4.id, j5.id]}).status_code == 201
    assert_problem(client.post(f"{API}/campaigns/{cid}/levels/2/judging", headers=province), 409,
                   "campaign.rounds_below_running")
    run_round(client, factory, campaign, 1, world.other_city_admin, [j3, j4], marks=marks, promote=[packages["e1"]])
    assert client.post(f"{API}/campaigns/{cid}/levels/2/judging", headers=province).status_code == 200
    score_all(client, factory, [j3, j4, j5], campaign, marks=marks)
    ranked = client.get(f"{API}/campaigns/{cid}/levels/2/ranking", headers=province).json()["items"]
    assert [i["package_id"] for i in ranked] == [packages["a1"], packages["b1"], packages["e1"]]
    assert_problem(client.get(f"{API}/campaigns/{cid}/levels/2/ranking", headers=city), 403,
                   "campaign.not_level_admin")
    refused = assert_problem(client.post(f"{API}/campaigns/{cid}/levels/2/promotions", headers=province,
                                         json={"package_ids": [packages["a1"], packages["b1"], packages["e1"]]}),
                             409, "campaign.quota_exceeded")
    assert sorted(refused["errors"][0]["package_ids"]) == sorted([packages["b1"], packages["e1"]])
    assert client.post(f"{API}/campaigns/{cid}/levels/2/promotions", headers=province,
                       json={"package_ids": [packages["a1"], packages["b1"]]}).status_code == 200
    assert len(client.post(f"{API}/campaigns/{cid}/levels/2/finalise", headers=province).json()) == 2

    # Certificates: the code resolves publicly; the PDF is the holder's.
    read = client.get(f"{API}/campaigns/{cid}", headers=admin).json()
    assert [lv["status"] for lv in read["levels"]] == ["final"] * 6
    winners = client.get(f"{API}/campaigns/{cid}/winners", headers=factory.headers(c1)).json()
    assert [(w["award"], w["package_id"]) for w in winners][:2] == [("测试省省级优课", packages["a1"]),
                                                                    ("测试省省级优课", packages["b1"])]
    assert len(winners) == 9  # 东区 2, 西区 1, 南区 1, 测试市 2, 第二市 1, 测试省 2
    assert {w["level"] for w in winners} == set(rounds)
    code = winners[0]["certificate_code"]
    verified = client.get(f"{API}/certificates/{code}")
    assert verified.status_code == 200, verified.text
    assert verified.json()["award"] == "测试省省级优课" and verified.json()["teacher"] == a1.real_name
    assert_problem(client.get(f"{API}/certificates/NOSUCHCODE00"), 404, "campaign.certificate_not_found")
    pdf = client.get(f"{API}/certificates/{code}/pdf", headers=factory.headers(a1))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and b"NotoSansCJK" in pdf.content
    assert_problem(client.get(f"{API}/certificates/{code}/pdf", headers=factory.headers(b2)), 404,
                   "campaign.certificate_not_found")
    assert client.get(f"{API}/certificates/{code}/pdf", headers=province).status_code == 200
    assert_problem(client.get(f"{API}/certificates/{code}/pdf", headers=city), 404, "campaign.certificate_not_found")

    # The awarded lessons are in the district library with their award.
    a1_package = client.get(f"{API}/campaigns/{cid}/packages/{packages['a1']}", headers=factory.headers(a1)).json()
    recording = factory.session.scalars(select(Resource).where(
        Resource.id == a1_package["items"]["recording"]).execution_options(populate_existing=True)).one()
    assert recording.visibility == "district" and "获奖:测试省省级优课" in recording.tags
    assert recording.kind == "excellent_lesson"
    other_school_teacher = factory.user(school=c)
    factory.commit()
    seen = client.get(f"{API}/resources/{recording.id}", headers=factory.headers(other_school_teacher))
    assert seen.status_code == 200, seen.text

    # Participation per school, and the lists handed upward as CSV and XLSX.
    shares = {p["school"]: (p["posted"], p["teachers"]) for p in
              client.get(f"{API}/campaigns/{cid}/participation", headers=admin).json()}
    assert shares["甲校"] == (2, 3) and shares["乙校"] == (2, 3) and shares["丙校"] == (1, 5)
    assert set(shares) == {"甲校", "乙校", "丙校"}  # 东区's administrator: 东区's schools only

    def schools(headers, org=""):  # type: ignore[no-untyped-def]
        listed = client.get(f"{API}/campaigns/{cid}/participation{org}", headers=headers)
        assert listed.status_code == 200, listed.text
        return {p["school"]: (p["posted"], p["teachers"]) for p in listed.json()}

    assert set(schools(city)) == {"甲校", "乙校", "丙校", "丁校"} and schools(city)["丁校"] == (2, 3)
    assert set(schools(province)) == {"甲校", "乙校", "丙校", "丁校", "戊校"}
    assert schools(province, f"?org={south.id}") == {"戊校": (2, 2)}
    assert_problem(client.get(f"{API}/campaigns/{cid}/participation?org={east.id}", headers=west_admin), 403,
                   "campaign.not_level_admin")
    csv = client.get(f"{API}/campaigns/{cid}/participation?format=csv", headers=admin)
    assert csv.headers["content-type"].startswith("text/csv") and csv.content.startswith("\ufeff".encode())
    assert "丙校" in csv.content.decode("utf-8-sig")
    for path in ("levels/0/ranking", "levels/0/progress", "winners", "participation"):
        xlsx = client.get(f"{API}/campaigns/{cid}/{path}?format=xlsx", headers=admin)
        assert xlsx.status_code == 200, (path, xlsx.text)
        sheet = load_workbook(io.BytesIO(xlsx.content)).active
        assert sheet.max_row >= 2, path
    ranking_rows = list(load_workbook(io.BytesIO(client.get(f"{API}/campaigns/{cid}/levels/0/ranking?format=xlsx",
                                                                headers=admin).content)).active.values)
    assert ranking_rows[1][:2] == (1, packages["a1"])
    assert_problem(client.get(f"{API}/campaigns/{cid}/participation", headers=factory.headers(a1)), 403,
                   "campaign.not_level_admin")
    assert Role.city_admin in {Role(r) for r in world.city_admin.roles}

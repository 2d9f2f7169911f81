"""A whole campaign across three levels (district → city → province), from posting to
certificates: quotas refused with the rule named, judges kept off their own school's packages,
the publicity period with an objection, certificates that verify, the lists handed upward."""
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



def test_a_campaign_from_posting_to_certificates_across_three_levels(client, factory):
    world = build_world(factory)
    a, b, c = (factory.school(district=world.district, name=n) for n in ("甲校", "乙校", "丙校"))
    a1, a2 = (factory.user(school=a) for _ in range(2))
    b1, b2 = (factory.user(school=b) for _ in range(2))
    c1, *_ = (factory.user(school=c) for _ in range(4))  # one of four teachers posts: 25 %
    outside = factory.school(district=factory.district())
    j1 = factory.user(school=a)  # a judge from 甲校: never judges 甲校's packages
    j2, j3, j4, j5 = (factory.user(school=outside) for _ in range(4))
    factory.commit()
    lesson_key = ["grade_code", "edition_code", "subject_code", "knowledge_point"]
    campaign = create_campaign(client, factory, world, publicity_days=(1, 0, 0), quotas=(
        [{"rule": "max_share", "share": 0.5, "per": ["stage_code"]},
         {"rule": "max_per", "limit": 1, "per": lesson_key},
         {"rule": "min_participation", "share": 0.3}],
        [{"rule": "max_per", "limit": 1, "per": ["teacher_id"]}],
        [{"rule": "max_per", "limit": 1, "per": lesson_key}, {"rule": "max_per", "limit": 1, "per": ["teacher_id"]}]))
    cid = campaign["id"]
    assert [lv["name"] for lv in campaign["levels"]] == [f"{world.district.name}县级", "测试市市级", "测试省省级"]
    assert [lv["status"] for lv in campaign["levels"]] == ["open", "pending", "pending"]

    # Posting.
    packages = {
        "a1": post_lesson(client, factory, world, campaign, a1, point="phys.j.matter.state.temp"),
        "a2": post_lesson(client, factory, world, campaign, a2, point="phys.j.matter.state.temp"),
        "b1": post_lesson(client, factory, world, campaign, b1, point="phys.j.matter.state.thermometer"),
        "b2": post_lesson(client, factory, world, campaign, b2, point="phys.j.matter.state"),
        "c1": post_lesson(client, factory, world, campaign, c1, point="phys.j.matter"),
    }
    marks = {packages["a1"]: 9, packages["b1"]: 8.5, packages["a2"]: 8, packages["c1"]: 7.5, packages["b2"]: 7}
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

    # City, then province: each level's own administrator, panel and quotas.
    for position, level_admin, judges in ((1, world.city_admin, [j2, j3, j4]), (2, world.province_admin, [j3, j4, j5])):
        headers = factory.headers(level_admin)
        assert_problem(client.post(f"{API}/campaigns/{cid}/levels/{position}/judging", headers=admin),
                       403, "campaign.not_level_admin")
        assert client.post(f"{API}/campaigns/{cid}/levels/{position}/panels", headers=headers, json={
            "subject_code": "physics", "name": "物理组", "judge_ids": [j.id for j in judges]}).status_code == 201
        assert client.post(f"{API}/campaigns/{cid}/levels/{position}/judging", headers=headers).status_code == 200
        score_all(client, factory, judges, campaign, marks=marks)
        ranked = client.get(f"{API}/campaigns/{cid}/levels/{position}/ranking", headers=headers).json()["items"]
        assert [i["package_id"] for i in ranked] == [packages["a1"], packages["b1"]]
        promoted = client.post(f"{API}/campaigns/{cid}/levels/{position}/promotions", headers=headers,
                               json={"package_ids": [packages["a1"], packages["b1"]]})
        assert promoted.status_code == 200, promoted.text
        codes = client.post(f"{API}/campaigns/{cid}/levels/{position}/finalise", headers=headers)
        assert codes.status_code == 200 and len(codes.json()) == 2, codes.text

    # Certificates: the code resolves publicly; the PDF is the holder's.
    read = client.get(f"{API}/campaigns/{cid}", headers=admin).json()
    assert [lv["status"] for lv in read["levels"]] == ["final", "final", "final"]
    winners = client.get(f"{API}/campaigns/{cid}/winners", headers=factory.headers(c1)).json()
    assert [(w["award"], w["package_id"]) for w in winners][:2] == [("测试省省级优课", packages["a1"]),
                                                                    ("测试省省级优课", packages["b1"])]
    assert len(winners) == 6
    code = winners[0]["certificate_code"]
    verified = client.get(f"{API}/certificates/{code}")
    assert verified.status_code == 200, verified.text
    assert verified.json()["award"] == "测试省省级优课" and verified.json()["teacher"] == a1.real_name
    assert_problem(client.get(f"{API}/certificates/NOSUCHCODE00"), 404, "campaign.certificate_not_found")
    pdf = client.get(f"{API}/certificates/{code}/pdf", headers=factory.headers(a1))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and b"NotoSansCJK" in pdf.content
    assert_problem(client.get(f"{API}/certificates/{code}/pdf", headers=factory.headers(b2)), 404,
                   "campaign.certificate_not_found")

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

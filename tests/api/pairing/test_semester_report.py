"""A pair's semester from plan to report: a synchronous class booked on the helper's recording
classroom, the recording the device pushes for it shared with the pair and holding the activity,
the assisted school's watching reported by its player, and the report in JSON, CSV and PDF; the
district's view marks the pairs behind their goal and those at risk."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pypdfium2
from sqlalchemy import select

from services.api.pairing import printing
from services.api.resources.models import Resource
from services.api.resources.status import ResourceEvent, apply_event
from tests.api.devices.test_recordings import two_tracks
from tests.api.pairing.conftest import NOV_2, SHANGHAI
from tests.api.pairing.test_activities import new_resource, sync_class
from tests.api.uploads.test_tus import TUS
from tests.helpers import assert_problem

MID_NOVEMBER = datetime(2026, 11, 20, 12, 0, tzinfo=SHANGHAI)  # 0.54 of 2026-fall has passed


def test_plan_to_activity_to_recording_to_report(client, factory, pair, session, tmp_path):
    pairing_url = f"/api/v1/pairings/{pair.pairing.id}"
    helper_teacher, assisted_teacher = factory.headers(pair.helper_teacher), factory.headers(pair.assisted_teacher)
    plan = client.post(f"{pairing_url}/plans", headers=factory.headers(pair.helper_admin), json={
        "semester": "2026-fall", "goal_exchanges": 2, "subjects": ["math"],
        "teachers": {"helper": [pair.helper_teacher.id], "assisted": [pair.assisted_teacher.id]}})
    assert plan.status_code == 201, plan.text
    registered = client.post("/api/v1/devices", json={"classroom": "录播教室一", "name": "录播主机"},
                             headers=factory.headers(pair.helper_admin)).json()
    device = {"Authorization": f"Bearer {registered['token']}", **TUS}
    pack_item = new_resource(client, factory, pair.helper_teacher, "分数的意义 练习", visibility="paired")
    created = client.post(f"{pairing_url}/activities", headers=helper_teacher,
                          json=sync_class(pair, registered["id"], resource_ids=[pack_item]))
    assert created.status_code == 201, created.text
    activity_id = created.json()["id"]

    # The classroom records the lesson and pushes it, as any recording (tests/api/devices).
    ids = two_tracks(client, device, tmp_path)
    filed = client.post("/api/v1/recordings", headers=device, json={
        "started_at": (NOV_2 + timedelta(minutes=1)).isoformat(), "ended_at": (NOV_2 + timedelta(minutes=41)).isoformat(),
        "tracks": [{"role": "presenter", "upload_id": ids["presenter"]}, {"role": "students", "upload_id": ids["students"]}]})
    assert filed.status_code == 201 and filed.json()["outcome"] == "resource", filed.text
    recording_id = filed.json()["resource_id"]
    activity = client.get(f"{pairing_url}/activities?semester=2026-fall", headers=assisted_teacher).json()[0]
    assert (activity["id"], activity["status"], activity["recording_resource_id"]) == (activity_id, "held", recording_id)
    detail = client.get(f"/api/v1/resources/{recording_id}", headers=helper_teacher).json()
    assert (detail["visibility"], detail["owner"]["id"]) == ("paired", pair.helper_teacher.id)

    # Transcoding is not what this test is about: the transcoder's outcome is applied by hand
    # (a stand-in), then a district moderator publishes it through the API.
    for resource_id in (recording_id, pack_item):
        resource = session.scalars(select(Resource).where(Resource.id == resource_id)).one()
        apply_event(resource, ResourceEvent.processed if resource_id == recording_id else ResourceEvent.submit)
    factory.commit()
    for resource_id in (recording_id, pack_item):
        approved = client.post(f"/api/v1/moderation/resources/{resource_id}/decision", json={"action": "approve"},
                               headers=factory.headers(pair.district_admin))
        assert approved.status_code == 200, approved.text

    # The assisted school's classroom player reports what it watched; seconds only grow.
    progress = f"/api/v1/resources/{recording_id}/play/progress"
    opened = client.post(progress, json={"seconds": 60, "classroom": "一二年级复式班"}, headers=assisted_teacher)
    assert opened.status_code == 200, opened.text
    play_id = opened.json()["play_id"]
    for seconds in (1500, 1200):
        assert client.post(progress, json={"seconds": seconds, "play_id": play_id}, headers=assisted_teacher).json() == {
            "play_id": play_id, "seconds": 1500}
    assert client.post(f"/api/v1/resources/{pack_item}/play/progress", json={"seconds": 300},
                       headers=assisted_teacher).status_code == 200
    assert_problem(client.post(progress, json={"seconds": 9000, "play_id": play_id}, headers=helper_teacher),
                   404, "playback.play_not_found")
    # The helper's own watching is not the assisted school's.
    assert client.post(progress, json={"seconds": 2400}, headers=helper_teacher).status_code == 200

    report_url = f"{pairing_url}/report?semester=2026-fall&as_of={MID_NOVEMBER.isoformat()}".replace("+", "%2B")
    report = client.get(report_url, headers=assisted_teacher)
    assert report.status_code == 200, report.text
    body = report.json()
    assert (body["held"], body["goal_exchanges"], body["expected_by_now"]) == (1, 2, 1)
    assert (body["below_goal"], body["at_risk"]) == (True, False)
    assert (body["minutes_watched"], body["plays"], body["classrooms"]) == (30.0, 2, 2)
    assert (body["resources_shared"], body["resources_used"]) == (2, 2)
    assert body["helper_school"]["name"] == "城关第一小学" and body["subjects"] == ["math"]
    assert [(a["id"], a["pack_size"], a["minutes_watched"]) for a in body["activities"]] == [(activity_id, 1, 30.0)]

    as_csv = client.get(f"{report_url}&format=csv", headers=assisted_teacher)
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert rows[0] == printing.SUMMARY_COLUMNS
    assert rows[1][:5] == ["城关第一小学", "石门村教学点", "2026-fall", "2", "1"] and rows[1][10] == "30.0"
    assert rows[4][:3] == [activity_id, "同步课堂", "已开展"]

    as_pdf = client.get(f"{report_url}&format=pdf", headers=assisted_teacher)
    assert as_pdf.status_code == 200 and as_pdf.headers["content-type"] == "application/pdf"
    assert as_pdf.content.startswith(b"%PDF")
    document = pypdfium2.PdfDocument(as_pdf.content)
    text = document[0].get_textpage().get_text_range()
    assert "城关第一小学" in text and "石门村教学点" in text and "已开展 1 次 / 目标 2 次" in text
    document.close()
    assert b"NotoSansCJK" in as_pdf.content  # the Chinese font travels inside the file

    # The district sees the pair: below its goal, on pace in mid-November, at risk in January.
    district = factory.headers(pair.district_admin)
    summary = client.get("/api/v1/pairings/report?semester=2026-fall&as_of=2026-11-20T12:00:00", headers=district).json()
    assert [(p["pairing_id"], p["below_goal"], p["at_risk"]) for p in summary["pairs"]] == [
        (pair.pairing.id, True, False)]
    january = client.get("/api/v1/pairings/report?semester=2026-fall&as_of=2027-01-20T12:00:00&format=csv",
                         headers=district)
    rows = list(csv.reader(io.StringIO(january.content.decode("utf-8-sig"))))
    assert rows[1][0] == pair.pairing.id and (rows[1][9], rows[1][10]) == ("是", "是")
    assert client.get("/api/v1/pairings/report?semester=2026-fall&format=pdf",
                      headers=district).content.startswith(b"%PDF")


def test_the_district_view_marks_pairs_behind_the_pace(client, factory, pair):
    other = factory.pairing(factory.school(name="实验小学"), factory.school(name="河口小学"))
    factory.commit()
    url = f"/api/v1/pairings/{pair.pairing.id}"
    admin = factory.headers(pair.district_admin)
    assert client.post(f"{url}/plans", json={"semester": "2026-fall", "goal_exchanges": 4}, headers=admin).status_code == 201
    for day in (0, 7):
        start = NOV_2 + timedelta(days=day)
        activity = client.post(f"{url}/activities", headers=admin, json={
            "kind": "master_class", "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat()})
        assert activity.status_code == 201, activity.text
        assert client.post(f"{url}/activities/{activity.json()['id']}/status", json={"event": "mark_held"},
                           headers=admin).json()["status"] == "held"
    # Mid-November: 0.54 of the semester has passed, so 2 of 4 are due (held: 2); the other pair
    # (no plan: a goal of 2) is due 1 and has held none.
    pairs = client.get("/api/v1/pairings/report?semester=2026-fall&as_of=2026-11-20T12:00:00+08:00".replace("+", "%2B"),
                       headers=admin).json()["pairs"]
    assert [(p["pairing_id"], p["goal_exchanges"], p["held"], p["expected_by_now"], p["at_risk"], p["below_goal"],
             p["has_plan"]) for p in pairs] == [
        (other.id, 2, 0, 1, True, True, False), (pair.pairing.id, 4, 2, 2, False, True, True)]
    # Before the semester nobody is at risk; a semester is judged against its own goal only.
    early = client.get("/api/v1/pairings/report?semester=2027-spring&as_of=2026-11-20T12:00:00", headers=admin).json()
    assert {(p["held"], p["at_risk"]) for p in early["pairs"]} == {(0, False)}
    assert_problem(client.get("/api/v1/pairings/report?semester=2026-fall", headers=factory.headers(pair.helper_admin)),
                   403, "auth.forbidden")
    assert_problem(client.get("/api/v1/pairings/report?semester=autumn", headers=admin), 422, "semester.unknown")
    assert_problem(client.get(f"{url}/report?semester=2026-fall", headers=factory.headers(pair.outsider_admin)),
                   404, "pairing.not_found")
    assert_problem(client.get(f"{url}/report?semester=2026-fall&format=xlsx", headers=admin), 422,
                   "request.validation_failed")

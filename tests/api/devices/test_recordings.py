"""Recording classrooms: a device registered with its own token, its timetable, and the
recordings it pushes landing on the right teacher's drafts (or the school's inbox)."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from services.api.orgs.models import Role
from services.common.jobs import processing_jobs
from tests import media
from tests.api.uploads.test_tus import TUS, upload_file
from tests.helpers import assert_problem

SHANGHAI = ZoneInfo("Asia/Shanghai")
LESSON = datetime(2026, 11, 23, 8, 0, tzinfo=SHANGHAI)


@pytest.fixture
def school(factory):
    school = factory.school()
    people = {"admin": factory.user(school=school, roles=(Role.school_admin,)),
              "teacher": factory.user(school=school, username="zhang.laoshi"),
              "other_school_admin": factory.user(roles=(Role.school_admin,))}
    factory.commit()
    return school, people


def register(client, factory, admin, classroom="三年级二班"):
    response = client.post("/api/v1/devices", json={"classroom": classroom, "name": "录播主机"},
                           headers=factory.headers(admin))
    assert response.status_code == 201, response.text
    body = response.json()
    return body["id"], {"Authorization": f"Bearer {body['token']}", **TUS}


def put_json_schedule(client, factory, admin, device_id, teacher="zhang.laoshi"):
    slots = [{"teacher": teacher, "subject": "math", "grade": "g3", "class_name": "三年级二班",
              "start": (LESSON + timedelta(days=d)).isoformat(),
              "end": (LESSON + timedelta(days=d, minutes=40)).isoformat()} for d in range(5)]
    return client.put(f"/api/v1/devices/{device_id}/schedule", json={"slots": slots}, headers=factory.headers(admin))


def two_tracks(client, device_headers, tmp_path):
    clip = media.lesson_mp4(tmp_path / "cam.mp4").read_bytes()
    other = media.lesson_mp4(tmp_path / "students.mp4", size="160x120").read_bytes()
    ids = {}
    for role, data in (("presenter", clip), ("students", other)):
        location, response = upload_file(client, device_headers, data, f"{role}.mp4")
        assert response.status_code == 204, response.text
        ids[role] = location.rstrip("/").rsplit("/", 1)[1]
    return ids


def test_a_recording_inside_a_slot_becomes_the_teachers_resource_processing_both_tracks(client, factory, school,
                                                                                        tmp_path, session):
    _, people = school
    device_id, device = register(client, factory, people["admin"])
    assert put_json_schedule(client, factory, people["admin"], device_id).status_code == 200
    ids = two_tracks(client, device, tmp_path)
    filed = client.post("/api/v1/recordings", headers=device, json={
        "started_at": (LESSON + timedelta(days=1, minutes=1)).isoformat(),
        "ended_at": (LESSON + timedelta(days=1, minutes=42)).isoformat(),
        "tracks": [{"role": "students", "upload_id": ids["students"]},
                   {"role": "presenter", "upload_id": ids["presenter"]}]})
    assert filed.status_code == 201, filed.text
    assert filed.json()["outcome"] == "resource"
    resource_id = filed.json()["resource_id"]
    teacher = factory.headers(people["teacher"])
    mine = client.get("/api/v1/resources?status=processing&mine=true", headers=teacher).json()
    assert [item["id"] for item in mine["items"]] == [resource_id]
    detail = client.get(f"/api/v1/resources/{resource_id}", headers=teacher).json()
    assert detail["kind"] == "lesson_recording" and detail["status"] == "processing"
    assert (detail["subject"], detail["grade"]) == ("math", "g3")
    assert detail["title"] == "三年级二班 数学 课堂实录 2026-11-24 08:01"
    assert [a["role"] for a in detail["assets"]] == ["presenter", "students"]  # the presenter leads
    # Each camera track is queued for a first playable and a ladder, in the ledger.
    queued = session.execute(select(processing_jobs.c.asset_id, processing_jobs.c.kind, processing_jobs.c.state)
                             .where(processing_jobs.c.resource_id == resource_id)).all()
    assert sorted((row.asset_id, row.kind.value, row.state.value) for row in queued) == sorted(
        (asset["id"], kind, "queued") for asset in detail["assets"] for kind in ("first_playable", "ladder"))


def test_an_unmatched_recording_waits_in_the_school_inbox(client, factory, school, tmp_path):
    _, people = school
    device_id, device = register(client, factory, people["admin"])
    put_json_schedule(client, factory, people["admin"], device_id)
    ids = two_tracks(client, device, tmp_path)
    filed = client.post("/api/v1/recordings", headers=device, json={
        "started_at": (LESSON + timedelta(hours=5)).isoformat(), "ended_at": (LESSON + timedelta(hours=6)).isoformat(),
        "tracks": [{"role": "presenter", "upload_id": ids["presenter"]}]}).json()
    assert filed["outcome"] == "inbox"
    admin = factory.headers(people["admin"])
    inbox = client.get("/api/v1/recordings/inbox", headers=admin).json()
    assert [item["id"] for item in inbox["items"]] == [filed["inbox_id"]]
    assert client.get("/api/v1/recordings/inbox", headers=factory.headers(people["other_school_admin"])).json()[
        "total"] == 0
    assigned = client.post(f"/api/v1/recordings/inbox/{filed['inbox_id']}/assign", headers=admin,
                           json={"teacher_id": people["teacher"].id, "subject": "math", "grade": "g3"})
    assert assigned.status_code == 200, assigned.text
    assert client.get("/api/v1/recordings/inbox", headers=admin).json()["total"] == 0
    detail = client.get(f"/api/v1/resources/{assigned.json()['resource_id']}",
                        headers=factory.headers(people["teacher"])).json()
    assert detail["owner"]["id"] == people["teacher"].id and len(detail["assets"]) == 1


def test_a_device_touches_only_its_own_uploads_and_a_revoked_token_nothing(client, factory, school, tmp_path):
    _, people = school
    device_id, device = register(client, factory, people["admin"])
    _, other_device = register(client, factory, people["admin"], classroom="四年级一班")
    put_json_schedule(client, factory, people["admin"], device_id)
    ids = two_tracks(client, device, tmp_path)
    location = f"/api/v1/uploads/{ids['presenter']}"
    assert client.head(location, headers=other_device).status_code == 404
    before = {d["id"]: d["last_seen_at"] for d in client.get("/api/v1/devices", headers=factory.headers(people["admin"])).json()["items"]}
    assert client.head(location, headers=device).status_code == 200  # a reading request still marks it seen
    after = {d["id"]: d["last_seen_at"] for d in client.get("/api/v1/devices", headers=factory.headers(people["admin"])).json()["items"]}
    assert after[device_id] > before[device_id]
    stolen = client.post("/api/v1/recordings", headers=other_device, json={
        "started_at": (LESSON + timedelta(minutes=1)).isoformat(), "ended_at": (LESSON + timedelta(minutes=40)).isoformat(),
        "tracks": [{"role": "presenter", "upload_id": ids["presenter"]}]})
    assert_problem(stolen, 422, "resource.upload_not_usable")
    assert_problem(client.post("/api/v1/recordings", headers=factory.headers(people["teacher"]), json={
        "started_at": LESSON.isoformat(), "ended_at": (LESSON + timedelta(minutes=40)).isoformat(),
        "tracks": [{"role": "presenter", "upload_id": ids["presenter"]}]}), 401, "device.invalid_token")
    revoked = client.post(f"/api/v1/devices/{device_id}/revoke", headers=factory.headers(people["admin"]))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert_problem(client.get(location, headers=device), 401, "device.invalid_token")
    forged = {"Authorization": f"Bearer lbd_{device_id}_not-the-secret", **TUS}
    assert_problem(client.get(location, headers=forged), 401, "device.invalid_token")


ICS_WITH_CLASS = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//LessonBridge test//EN\r\nBEGIN:VEVENT\r\n"
                  "UID:math-3-2@school\r\nDTSTART;TZID=Asia/Shanghai:20260907T080000\r\n"
                  "DTEND;TZID=Asia/Shanghai:20260907T084000\r\nRRULE:FREQ=WEEKLY;COUNT=16\r\nSUMMARY:数学\r\n"
                  "X-LB-TEACHER:zhang.laoshi\r\nX-LB-SUBJECT:math\r\nX-LB-GRADE:g3\r\nX-LB-CLASS:{}\r\n"
                  "END:VEVENT\r\nEND:VCALENDAR\r\n")


def test_schedules_in_icalendar_with_weekly_recurrence(client, factory, school):
    _, people = school
    device_id, _ = register(client, factory, people["admin"])
    ics = ICS_WITH_CLASS.format("三年级二班")
    response = client.put(f"/api/v1/devices/{device_id}/schedule", content=ics.encode(),
                          headers={**factory.headers(people["admin"]), "Content-Type": "text/calendar"})
    assert response.status_code == 200, response.text
    slots = response.json()["slots"]
    assert len(slots) == 16
    first = datetime.fromisoformat(slots[0]["start"])
    assert first == datetime(2026, 9, 7, 8, 0, tzinfo=SHANGHAI)
    assert datetime.fromisoformat(slots[1]["start"]) - first == timedelta(weeks=1)


def test_bad_schedules_change_nothing(client, factory, school, tmp_path):
    _, people = school
    device_id, _ = register(client, factory, people["admin"])
    assert put_json_schedule(client, factory, people["admin"], device_id).status_code == 200
    unknown = put_json_schedule(client, factory, people["admin"], device_id, teacher="nobody")
    body = assert_problem(unknown, 422, "device.invalid_schedule")
    assert body["errors"][0]["loc"] == ["slots", 0, "teacher"]
    garbage = client.put(f"/api/v1/devices/{device_id}/schedule", content=b"BEGIN:VCALENDAR\r\nnonsense",
                         headers={**factory.headers(people["admin"]), "Content-Type": "text/calendar"})
    assert_problem(garbage, 422, "device.invalid_schedule")
    nul = client.put(f"/api/v1/devices/{device_id}/schedule", content=ICS_WITH_CLASS.format("三年级\x00二班").encode(),
                     headers={**factory.headers(people["admin"]), "Content-Type": "text/calendar"})
    assert_problem(nul, 422, "device.invalid_schedule")  # PostgreSQL cannot store a NUL: a 500 there before
    kept = client.get(f"/api/v1/devices/{device_id}/schedule", headers=factory.headers(people["admin"])).json()
    assert len(kept["slots"]) == 5
    assert_problem(client.put(f"/api/v1/devices/{device_id}/schedule", json={"slots": []},
                              headers=factory.headers(people["teacher"])), 403, "auth.forbidden")
    assert_problem(client.put(f"/api/v1/devices/{device_id}/schedule", json={"slots": []},
                              headers=factory.headers(people["other_school_admin"])), 403, "auth.forbidden")

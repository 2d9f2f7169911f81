"""Exchange activities: a synchronous class books the helper's recording classroom (never over a
lesson already there), shares an ordered pack of resources the caller can see, tells both
schools' administrators, and moves planned -> held / cancelled through one table."""
from __future__ import annotations

from datetime import timedelta

import pytest

from services.api.pairing.errors import InvalidActivityTransition
from services.api.pairing.models import ActivityStatus, PairingActivity
from services.api.pairing.status import ActivityEvent, apply_event, next_status
from tests.api.pairing.conftest import NOV_2
from tests.helpers import assert_problem


def register_device(client, factory, admin, classroom="录播教室一"):
    response = client.post("/api/v1/devices", json={"classroom": classroom, "name": "录播主机"},
                           headers=factory.headers(admin))
    assert response.status_code == 201, response.text
    return response.json()


def sync_class(pair, device_id, start=NOV_2, minutes=40, **changes):
    return {"kind": "sync_class", "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(minutes=minutes)).isoformat(), "subject": "math", "device_id": device_id,
            "teachers": [pair.helper_teacher.id], "classes": ["三年级"], **changes}


def new_resource(client, factory, user, title, visibility="private"):
    response = client.post("/api/v1/resources", json={"title": title, "kind": "courseware", "visibility": visibility},
                           headers=factory.headers(user))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_a_sync_class_books_the_classroom_and_never_over_a_booked_slot(client, factory, pair):
    device = register_device(client, factory, pair.helper_admin)
    admin = factory.headers(pair.helper_admin)
    slot = {"teacher": pair.helper_teacher.username, "subject": "math", "class_name": "五年级一班",
            "start": (NOV_2 + timedelta(hours=1)).isoformat(), "end": (NOV_2 + timedelta(hours=1, minutes=40)).isoformat()}
    assert client.put(f"/api/v1/devices/{device['id']}/schedule", json={"slots": [slot]}, headers=admin).status_code == 200
    url = f"/api/v1/pairings/{pair.pairing.id}/activities"
    teacher = factory.headers(pair.helper_teacher)
    # Over the timetable's lesson: refused, nothing booked or created.
    clash = client.post(url, json=sync_class(pair, device["id"], start=NOV_2 + timedelta(minutes=30)), headers=teacher)
    body = assert_problem(clash, 409, "pairing.slot_taken")
    assert "2026-11-02 10:00" in body["detail"]
    assert client.get(url, headers=teacher).json() == []
    created = client.post(url, json=sync_class(pair, device["id"]), headers=teacher)
    assert created.status_code == 201, created.text
    activity = created.json()
    assert (activity["status"], activity["semester"], activity["device_id"]) == ("planned", "2026-fall", device["id"])
    slots = client.get(f"/api/v1/devices/{device['id']}/schedule", headers=admin).json()["slots"]
    assert [(s["class_name"], s["teacher_id"]) for s in slots] == [("三年级", pair.helper_teacher.id),
                                                                   ("五年级一班", pair.helper_teacher.id)]
    # The booked slot outlives a new timetable, which may not overlap it; a second booking may not either.
    assert client.put(f"/api/v1/devices/{device['id']}/schedule", json={"slots": [slot]}, headers=admin).status_code == 200
    over = {**slot, "start": NOV_2.isoformat(), "end": (NOV_2 + timedelta(minutes=40)).isoformat()}
    body = assert_problem(client.put(f"/api/v1/devices/{device['id']}/schedule", json={"slots": [slot, over]},
                                     headers=admin), 422, "device.invalid_schedule")
    assert body["errors"][0]["loc"] == ["slots", 1, "start"]
    assert len(client.get(f"/api/v1/devices/{device['id']}/schedule", headers=admin).json()["slots"]) == 2
    again = client.post(url, json=sync_class(pair, device["id"], start=NOV_2 + timedelta(minutes=39)),
                        headers=factory.headers(pair.assisted_teacher))
    assert_problem(again, 409, "pairing.slot_taken")
    assert len(client.get(url, headers=teacher).json()) == 1
    # Cancelling frees the classroom.
    cancelled = client.post(f"{url}/{activity['id']}/status", json={"event": "cancel"}, headers=teacher)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert client.post(url, json=sync_class(pair, device["id"], start=NOV_2 + timedelta(minutes=10)),
                       headers=teacher).status_code == 201


def test_bad_activities_are_located_and_create_nothing(client, factory, pair):
    helper_device = register_device(client, factory, pair.helper_admin)
    assisted_device = register_device(client, factory, pair.assisted_admin, classroom="村小教室")
    url = f"/api/v1/pairings/{pair.pairing.id}/activities"
    teacher = factory.headers(pair.helper_teacher)
    cases = [
        (sync_class(pair, helper_device["id"], minutes=-5), ["body", "ends_at"]),
        (sync_class(pair, helper_device["id"], minutes=5 * 60), ["body", "ends_at"]),
        (sync_class(pair, assisted_device["id"]), ["body", "device_id"]),  # the helper's classroom only
        (sync_class(pair, None), ["body", "device_id"]),
        (sync_class(pair, helper_device["id"], subject="alchemy"), ["body", "subject"]),
        (sync_class(pair, helper_device["id"], teachers=[pair.outsider_teacher.id]), ["body", "teachers", 0]),
    ]
    for body, loc in cases:
        problem = assert_problem(client.post(url, json=body, headers=teacher), 422, "pairing.invalid_activity")
        assert loc in [e["loc"] for e in problem["errors"]], (body, problem)
    assert_problem(client.post(url, json=sync_class(pair, helper_device["id"]), headers=factory.headers(pair.outsider_admin)),
                   404, "pairing.not_found")
    # A pack with resources the caller cannot see: each located, nothing created.
    mine = new_resource(client, factory, pair.helper_teacher, "分数的意义 课件")
    hidden = new_resource(client, factory, pair.outsider_teacher, "别校的私有课件")
    body = {"kind": "master_class", "starts_at": NOV_2.isoformat(), "ends_at": (NOV_2 + timedelta(hours=1)).isoformat(),
            "resource_ids": [mine, hidden, "01JUNKJUNKJUNKJUNKJUNKJUNK"]}
    problem = assert_problem(client.post(url, json=body, headers=teacher), 404, "pairing.pack_not_visible")
    assert [e["loc"] for e in problem["errors"]] == [["body", "resource_ids", 1], ["body", "resource_ids", 2]]
    assert client.get(url, headers=teacher).json() == []
    assert client.get(f"/api/v1/devices/{helper_device['id']}/schedule",
                      headers=factory.headers(pair.helper_admin)).json()["slots"] == []
    assert_problem(client.get(f"{url}?semester=fall", headers=teacher), 422, "semester.unknown")


def test_a_pack_is_shared_in_order_and_both_schools_admins_are_told(client, factory, pair):
    url = f"/api/v1/pairings/{pair.pairing.id}/activities"
    first = new_resource(client, factory, pair.helper_teacher, "一")
    second = new_resource(client, factory, pair.helper_teacher, "二")
    body = {"kind": "joint_preparation", "starts_at": NOV_2.isoformat(),
            "ends_at": (NOV_2 + timedelta(hours=2)).isoformat(), "resource_ids": [second, first],
            "teachers": [pair.helper_teacher.id, pair.assisted_teacher.id]}
    created = client.post(url, json=body, headers=factory.headers(pair.helper_teacher))
    assert created.status_code == 201, created.text
    assert created.json()["resource_ids"] == [second, first]
    for admin in (pair.helper_admin, pair.assisted_admin):
        inbox = client.get("/api/v1/me/notifications", headers=factory.headers(admin)).json()
        kinds = [(n["kind"], n["details"].get("activity_id")) for n in inbox["items"]]
        assert ("pairing.activity", created.json()["id"]) in kinds, inbox
    assert client.get("/api/v1/me/notifications", headers=factory.headers(pair.outsider_admin)).json()["items"] == []
    # Marking held is for administrators; a held activity is not cancelled.
    status_url = f"{url}/{created.json()['id']}/status"
    assert_problem(client.post(status_url, json={"event": "mark_held"}, headers=factory.headers(pair.assisted_teacher)),
                   403, "auth.forbidden")
    held = client.post(status_url, json={"event": "mark_held"}, headers=factory.headers(pair.assisted_admin))
    assert held.status_code == 200 and held.json()["status"] == "held" and held.json()["held_at"]
    assert_problem(client.post(status_url, json={"event": "cancel"}, headers=factory.headers(pair.district_admin)),
                   409, "pairing.invalid_activity_transition")


def test_the_activity_status_table():
    assert next_status(ActivityStatus.planned, ActivityEvent.recording_filed) is ActivityStatus.held
    assert next_status(ActivityStatus.planned, ActivityEvent.mark_held) is ActivityStatus.held
    assert next_status(ActivityStatus.held, ActivityEvent.recording_filed) is ActivityStatus.held
    assert next_status(ActivityStatus.planned, ActivityEvent.cancel) is ActivityStatus.cancelled
    for status, event in ((ActivityStatus.held, ActivityEvent.cancel), (ActivityStatus.cancelled, ActivityEvent.mark_held),
                          (ActivityStatus.cancelled, ActivityEvent.recording_filed),
                          (ActivityStatus.held, ActivityEvent.mark_held)):
        with pytest.raises(InvalidActivityTransition):
            next_status(status, event)
    activity = PairingActivity(status=ActivityStatus.planned)
    apply_event(activity, ActivityEvent.cancel)
    assert activity.status is ActivityStatus.cancelled and activity.cancelled_at is not None

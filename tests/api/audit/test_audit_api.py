"""`GET /audit`: who may read it, its filters, paging and CSV export; and which actions land in it."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from services.api.audit import service as audit
from services.api.audit.models import AuditEvent
from services.api.orgs.models import Role
from services.api.uploads import gc
from services.common.db import utcnow
from tests.api.devices.test_recordings import put_json_schedule, register
from tests.helpers import assert_problem

AUDIT = "/api/v1/audit"


@pytest.fixture
def trail(factory, session):
    """A district admin, a few rows of theirs at known times, and rows of others they must not see."""
    admin = factory.user(roles=(Role.district_admin,))
    other = factory.user(roles=(Role.district_admin,), district=factory.district())
    now = utcnow()
    rows = [audit.record(session, actor_id=admin.id, district_id=admin.district_id, action=action,
                         target_type=target_type, target_id=target_id, note=note)
            for action, target_type, target_id, note in (
                ("user.update", "user", "u1", "=HYPERLINK(\"http://evil\")"),
                ("school.update", "school", "s1", "带宽, \"4000\""),
                ("user.update", "user", "u2", "第三"),
                ("user.create", "user", "u1", "第四"))]
    audit.record(session, actor_id=other.id, district_id=other.district_id, action="user.update",
                 target_type="user", target_id="u1")
    audit.record(session, actor_id=None, district_id=None, action="blobs.gc", target_type="storage", target_id="blobs")
    session.flush()
    for hours, row in zip((40, 30, 20, 10), rows, strict=True):  # spread them out in time
        session.execute(update(AuditEvent).where(AuditEvent.id == row.id).values(at=now - timedelta(hours=hours)))
    factory.commit()
    return admin, rows, now


def items(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return [e["details"].get("note") for e in response.json()["items"]]


def test_the_district_admin_filters_their_districts_trail(client, factory, trail):
    admin, rows, now = trail
    headers = factory.headers(admin)
    everything = client.get(AUDIT, headers=headers).json()
    assert everything["total"] == 4  # not the other district's row, not the platform's
    assert [e["seq"] for e in everything["items"]] == sorted((r.seq for r in rows), reverse=True)
    assert {"seq", "prev_hash", "hash", "district_id"} <= set(everything["items"][0])
    assert items(client.get(AUDIT, headers=headers, params={"action": "user.update"})) == ["第三", rows[0].details["note"]]
    assert items(client.get(AUDIT, headers=headers, params={"target_type": "user", "target_id": "u1"})) == [
        "第四", rows[0].details["note"]]
    assert items(client.get(AUDIT, headers=headers, params={"actor": admin.id, "target_type": "school"})) == [
        "带宽, \"4000\""]
    window = {"from": (now - timedelta(hours=35)).isoformat(), "to": (now - timedelta(hours=15)).isoformat()}
    assert items(client.get(AUDIT, headers=headers, params=window)) == ["第三", "带宽, \"4000\""]
    page = client.get(AUDIT, headers=headers, params={"page": 2, "size": 3}).json()
    assert page["total"] == 4 and [e["seq"] for e in page["items"]] == [rows[0].seq]


def test_the_export_is_csv_of_every_match_oldest_first_and_safe_for_spreadsheets(client, factory, trail):
    admin, rows, _ = trail
    headers = factory.headers(admin)
    for response in (client.get(AUDIT, headers=headers, params={"format": "csv", "size": 1}),
                     client.get(AUDIT, headers={**headers, "Accept": "text/csv"})):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        table = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
        exported = [int(r["seq"]) for r in table if r["action"] != "audit.export"]
        assert exported == [r.seq for r in rows]  # all of them, not one page
        assert table[0]["hash"] == rows[0].hash and table[0]["actor_id"] == admin.id
        # The export itself is on the record, before its rows are read.
        assert table[-1]["action"] == "audit.export" and table[-1]["actor_id"] == admin.id
        assert '带宽, \\"4000\\"' in table[1]["details"]  # quotes and commas survive
    filtered = client.get(AUDIT, headers=headers, params={"format": "csv", "action": "school.update"})
    assert len(list(csv.DictReader(io.StringIO(filtered.content.decode("utf-8-sig"))))) == 1


def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_defused(client, factory, session):
    admin = factory.user(roles=(Role.district_admin,))
    # A failed sign-in's target is whatever was typed as the username.
    audit.record(session, actor_id=None, district_id=admin.district_id, action="auth.sign_in_failed",
                 target_type="username", target_id="=HYPERLINK(\"http://x\")")
    factory.commit()
    response = client.get(AUDIT, headers=factory.headers(admin), params={"format": "csv"})
    table = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert table[0]["target_id"] == "'=HYPERLINK(\"http://x\")"


def test_only_district_admins_read_the_trail(client, factory):
    school = factory.school()
    people = [factory.user(school=school, roles=(role,)) for role in (Role.teacher, Role.school_admin, Role.moderator)]
    factory.commit()
    for person in people:
        assert_problem(client.get(AUDIT, headers=factory.headers(person)), 403, "auth.forbidden")
        assert_problem(client.get(AUDIT, headers=factory.headers(person), params={"format": "csv"}),
                       403, "auth.forbidden")


@pytest.mark.parametrize("params", [
    {"from": "2026-12-01T00:00:00+00:00", "to": "2026-11-01T00:00:00+00:00"},
    {"from": "2026-12-01T00:00:00"},  # no time zone: ambiguous
    {"from": "yesterday"},
    {"format": "xlsx"},
    {"target_id": "x" * 65},
    {"page": 0},
])
def test_bad_filters_are_problems(client, factory, params):
    admin = factory.user(roles=(Role.district_admin,))
    factory.commit()
    body = assert_problem(client.get(AUDIT, headers=factory.headers(admin), params=params),
                          422, "request.validation_failed")
    assert body["errors"]


def _actions(session, **where) -> list[str]:  # type: ignore[no-untyped-def]
    session.expire_all()
    query = select(AuditEvent.action).order_by(AuditEvent.seq)
    for name, value in where.items():
        query = query.where(getattr(AuditEvent, name) == value)
    return list(session.scalars(query))


def test_resource_changes_are_audited_whoever_makes_them(client, factory, session):
    teacher = factory.user()
    factory.commit()
    headers = factory.headers(teacher)
    created = client.post("/api/v1/resources", json={"title": "一元二次方程", "kind": "lesson_plan"}, headers=headers)
    assert created.status_code == 201, created.text
    resource_id = created.json()["id"]
    assert client.patch(f"/api/v1/resources/{resource_id}", json={"title": "一元二次方程（二）"},
                        headers=headers).status_code == 200
    assert client.post(f"/api/v1/resources/{resource_id}/submit", headers=headers).status_code == 200
    assert client.delete(f"/api/v1/resources/{resource_id}", headers=headers).status_code == 204
    assert _actions(session, target_id=resource_id) == [
        "resource.create", "resource.update", "resource.submit", "resource.delete"]
    assert set(_actions(session, actor_id=teacher.id)) == {
        "resource.create", "resource.update", "resource.submit", "resource.delete"}


def test_a_timetable_change_is_audited(client, factory, session):
    school = factory.school()
    admin = factory.user(school=school, roles=(Role.school_admin,))
    factory.user(school=school, username="zhang.laoshi")
    factory.commit()
    device_id, _ = register(client, factory, admin)
    assert put_json_schedule(client, factory, admin, device_id).status_code == 200
    assert _actions(session, target_id=device_id) == ["device.register", "device.schedule_replace"]


def test_blob_gc_that_deletes_is_audited_as_a_platform_action(app, session):
    data = b"left by a crash"
    app.state.blob_store.put("sha256/00/00/stray-object", io.BytesIO(data), length=len(data),
                             content_type="application/octet-stream")
    report = gc.collect_garbage(session, store=app.state.blob_store, apply=True, operator="ops",
                                stray_grace=timedelta(0))  # the object is new: no grace for it here
    assert "sha256/00/00/stray-object" in report.stray_objects
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "blobs.gc")).one()
    assert event.district_id is None and event.details["operator"] == "ops"
    assert "sha256/00/00/stray-object" in event.details["keys"]
    assert audit.verify_chain(session).intact

"""Reports (举报): filed by anyone who sees a resource, one open report per person; enough of
them hide it from everyone else and from search; a moderator of its district resolves them
together, upheld (taken down through a moderation decision) or dismissed; the reporters and the
owner learn the outcome, the owner never who reported."""
from __future__ import annotations

from sqlalchemy import select

from services.api.audit.models import AuditEvent
from services.api.moderation.models import ModerationDecision
from services.api.orgs.models import Role
from services.api.resources.models import Resource
from services.api.search.models import SearchOutbox
from services.api.search.documents import build_documents
from tests.helpers import assert_problem


def published(client, factory, owner, moderator, *, title="勾股定理", visibility="district"):
    created = client.post("/api/v1/resources", json={"title": title, "kind": "courseware", "visibility": visibility},
                          headers=factory.headers(owner))
    assert created.status_code == 201, created.text
    resource_id = created.json()["id"]
    assert client.post(f"/api/v1/resources/{resource_id}/submit", headers=factory.headers(owner)).status_code == 200
    approved = client.post(f"/api/v1/moderation/resources/{resource_id}/decision", json={"action": "approve"},
                           headers=factory.headers(moderator))
    assert approved.json()["status"] == "published", approved.text
    return resource_id


def report(client, factory, user, resource_id, reason="inappropriate", detail=""):
    return client.post(f"/api/v1/resources/{resource_id}/reports", json={"reason": reason, "detail": detail},
                       headers=factory.headers(user))


def notifications(client, factory, user):
    return client.get("/api/v1/me/notifications", headers=factory.headers(user)).json()["items"]


def test_filing_reports(client, factory):
    owner = factory.user()
    moderator = factory.user(roles=(Role.moderator,))
    reader, stranger = factory.user(), factory.user(district=factory.district())
    factory.commit()
    resource_id = published(client, factory, owner, moderator)
    filed = report(client, factory, reader, resource_id, "copyright", "整页扫描自教材")
    assert filed.status_code == 201, filed.text
    assert filed.json()["reason"] == "copyright" and filed.json()["state"] == "open"
    # One open report per person and resource.
    assert_problem(report(client, factory, reader, resource_id, "other"), 409, "report.already_open")
    # Someone who cannot see it (another district) gets what they get everywhere: not found.
    assert_problem(report(client, factory, stranger, resource_id), 404, "resource.not_found")
    assert_problem(report(client, factory, reader, "0" * 26), 404, "resource.not_found")
    assert_problem(report(client, factory, reader, resource_id, "boring"), 422, "request.validation_failed")
    assert_problem(client.post(f"/api/v1/resources/{resource_id}/reports", json={"reason": "other"}),
                   401, "auth.not_authenticated")


def test_open_reports_are_grouped_per_resource_for_the_districts_moderators(client, factory):
    owner = factory.user()
    moderator = factory.user(roles=(Role.moderator,))
    foreign_moderator = factory.user(roles=(Role.moderator,), district=factory.district())
    readers = [factory.user() for _ in range(2)]
    factory.commit()
    first = published(client, factory, owner, moderator, title="甲")
    second = published(client, factory, owner, moderator, title="乙")
    assert report(client, factory, readers[0], second, "privacy", "有学生身份证号").status_code == 201
    assert report(client, factory, readers[0], first, "copyright").status_code == 201
    assert report(client, factory, readers[1], second, "privacy").status_code == 201
    listed = client.get("/api/v1/moderation/reports", headers=factory.headers(moderator))
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["total"] == 2
    # Oldest first: the second resource was reported first.
    assert [g["resource"]["id"] for g in body["items"]] == [second, first]
    group = body["items"][0]
    assert group["open_reports"] == 2 and group["reporters"] == 2 and group["reasons"] == {"privacy": 2}
    assert {r["detail"] for r in group["reports"]} == {"有学生身份证号", ""}
    paged = client.get("/api/v1/moderation/reports?page=2&size=1", headers=factory.headers(moderator)).json()
    assert paged["total"] == 2 and [g["resource"]["id"] for g in paged["items"]] == [first]
    assert client.get("/api/v1/moderation/reports", headers=factory.headers(foreign_moderator)).json()["total"] == 0
    assert_problem(client.get("/api/v1/moderation/reports", headers=factory.headers(owner)), 403, "auth.forbidden")


def test_enough_reporters_hide_a_resource_from_others_and_from_search(client, factory, session, app):
    owner = factory.user()
    moderator = factory.user(roles=(Role.moderator,))
    readers = [factory.user() for _ in range(3)]
    factory.commit()
    assert app.state.settings.api.reports_hide_threshold == 3
    resource_id = published(client, factory, owner, moderator)
    for reader in readers[:2]:
        assert report(client, factory, reader, resource_id).status_code == 201
    assert client.get(f"/api/v1/resources/{resource_id}", headers=factory.headers(readers[2])).status_code == 200
    assert report(client, factory, readers[2], resource_id, "privacy").status_code == 201
    # Hidden: others no longer see it; the owner and moderators do.
    assert_problem(client.get(f"/api/v1/resources/{resource_id}", headers=factory.headers(readers[0])),
                   404, "resource.not_found")
    assert client.get(f"/api/v1/resources/{resource_id}", headers=factory.headers(owner)).json()["status"] == "hidden"
    assert client.get(f"/api/v1/resources/{resource_id}", headers=factory.headers(moderator)).status_code == 200
    # Search is told (the version moved) and the document it gets is a tombstone.
    session.expire_all()
    assert session.scalar(select(SearchOutbox.version).where(SearchOutbox.resource_id == resource_id)
                          .order_by(SearchOutbox.version.desc()).limit(1)) == session.get(Resource, resource_id).version
    [document] = build_documents(session, {resource_id: 1}, app.state.blob_store)
    assert document.live is False
    # The owner learns it is hidden, and why, but not who reported it.
    [hidden] = [n for n in notifications(client, factory, owner) if n["kind"] == "report.hidden"]
    assert hidden["resource_id"] == resource_id and hidden["details"]["reasons"] == {"inappropriate": 2, "privacy": 1}
    text = str(hidden)
    assert not any(reader.id in text or reader.real_name in text or reader.username in text for reader in readers)
    assert session.scalar(select(AuditEvent.action).where(AuditEvent.target_id == resource_id,
                                                          AuditEvent.action == "report.hidden"))


def test_a_low_threshold_from_settings(client, factory, app):
    app.state.settings = app.state.settings.model_copy(update={
        "api": app.state.settings.api.model_copy(update={"reports_hide_threshold": 1})})
    owner, reader = factory.user(), factory.user()
    moderator = factory.user(roles=(Role.moderator,))
    factory.commit()
    resource_id = published(client, factory, owner, moderator)
    assert report(client, factory, reader, resource_id).status_code == 201
    assert client.get(f"/api/v1/resources/{resource_id}", headers=factory.headers(owner)).json()["status"] == "hidden"


def test_upheld_reports_take_the_resource_down_through_a_moderation_decision(client, factory, session):
    owner = factory.user()
    moderator = factory.user(roles=(Role.moderator,))
    foreign_moderator = factory.user(roles=(Role.moderator,), district=factory.district())
    readers = [factory.user() for _ in range(3)]
    factory.commit()
    resource_id = published(client, factory, owner, moderator, visibility="public")
    for reader, reason in zip(readers, ("copyright", "copyright", "other"), strict=True):
        assert report(client, factory, reader, resource_id, reason).status_code == 201
    url = f"/api/v1/moderation/reports/{resource_id}/resolution"
    assert_problem(client.post(url, json={"outcome": "upheld"}, headers=factory.headers(foreign_moderator)),
                   404, "report.none_open")
    assert_problem(client.post(url, json={"outcome": "upheld"}, headers=factory.headers(readers[0])),
                   403, "auth.forbidden")
    resolved = client.post(url, json={"outcome": "upheld", "note": "侵犯教材版权"}, headers=factory.headers(moderator))
    assert resolved.status_code == 200, resolved.text
    body = resolved.json()
    assert body["status"] == "taken_down" and body["resolved_reports"] == 3 and body["decision_id"]
    decision = session.get(ModerationDecision, body["decision_id"])
    assert decision.action.value == "take_down" and decision.reason_code.value == "copyright"  # most reports said so
    assert client.get("/api/v1/moderation/reports", headers=factory.headers(moderator)).json()["total"] == 0
    assert_problem(client.post(url, json={"outcome": "dismissed"}, headers=factory.headers(moderator)),
                   404, "report.none_open")
    for reader in readers:
        [told] = [n for n in notifications(client, factory, reader) if n["kind"] == "report.resolved"]
        assert told["details"]["outcome"] == "upheld" and told["body"] == "侵犯教材版权"
    # The owner hears of the take-down once, in the report's words (not also as a bare review.taken_down).
    [owner_told] = [n for n in notifications(client, factory, owner)
                    if n["kind"] in ("report.resolved", "review.taken_down")]
    assert owner_told["kind"] == "report.resolved"
    assert owner_told["details"] == {"outcome": "upheld", "taken_down": True, "status": "taken_down"}
    # Taken down, it is gone for the reporters.
    assert_problem(report(client, factory, readers[0], resource_id), 404, "resource.not_found")


def test_dismissed_reports_show_a_hidden_resource_again(client, factory):
    owner = factory.user()
    moderator = factory.user(roles=(Role.moderator,))
    readers = [factory.user() for _ in range(3)]
    factory.commit()
    resource_id = published(client, factory, owner, moderator)
    for reader in readers:
        assert report(client, factory, reader, resource_id, "factual_error").status_code == 201
    assert_problem(client.get(f"/api/v1/resources/{resource_id}", headers=factory.headers(readers[0])),
                   404, "resource.not_found")
    resolved = client.post(f"/api/v1/moderation/reports/{resource_id}/resolution",
                           json={"outcome": "dismissed", "note": "内容无误"}, headers=factory.headers(moderator))
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "published" and resolved.json()["decision_id"] is None
    assert client.get(f"/api/v1/resources/{resource_id}", headers=factory.headers(readers[0])).status_code == 200
    [told] = [n for n in notifications(client, factory, readers[1]) if n["kind"] == "report.resolved"]
    assert told["details"]["outcome"] == "dismissed"
    [owner_told] = [n for n in notifications(client, factory, owner) if n["kind"] == "report.resolved"]
    assert owner_told["details"]["status"] == "published"
    # Resolved reports no longer count, and the same people may report again.
    assert report(client, factory, readers[0], resource_id).status_code == 201
    assert client.get(f"/api/v1/resources/{resource_id}", headers=factory.headers(readers[1])).status_code == 200


def test_the_database_holds_one_open_report_per_person_and_resource(client, factory, session):
    """What keeps two concurrent requests from both filing: the partial unique index."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    from services.api.reports.models import ReportReason, ReportState, ResourceReport

    owner, reader = factory.user(), factory.user()
    moderator = factory.user(roles=(Role.moderator,))
    factory.commit()
    resource_id = published(client, factory, owner, moderator)

    def add(state):
        session.add(ResourceReport(resource_id=resource_id, reporter_id=reader.id, district_id=owner.district_id,
                                   reason=ReportReason.other, state=state))
        session.flush()

    add(ReportState.dismissed)
    add(ReportState.upheld)
    add(ReportState.open)  # resolved ones do not count
    nested = session.begin_nested()
    with pytest.raises(IntegrityError):
        add(ReportState.open)
    nested.rollback()

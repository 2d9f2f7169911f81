"""Revisions, not silent edits: a change to what a reviewer approved waits as a pending revision
while the approved version stays live for everyone (GET, search documents, play); approving
applies it through the status table (a new version for search), rejecting leaves it as it was;
narrowing visibility, withdrawing and deleting apply at once."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from services.api.orgs.models import Role
from services.api.resources.models import Asset
from services.api.search.documents import build_documents
from services.api.search.models import SearchOutbox
from services.api.uploads.models import Blob
from tests import media
from tests.api.uploads.test_assets import upload_id_of
from tests.api.uploads.test_tus import TUS, upload_file
from tests.helpers import assert_problem

RESOURCES = "/api/v1/resources"


@pytest.fixture
def people(factory):
    school, other = factory.school(name="城关一中"), factory.school(name="河西中学")
    people = {"owner": factory.user(school=school), "colleague": factory.user(school=school),
              "outsider": factory.user(school=other),
              "moderator": factory.user(roles=(Role.moderator,)),
              "school_admin": factory.user(school=school, roles=(Role.school_admin,))}
    factory.commit()
    return {name: (user, factory.headers(user)) for name, user in people.items()}


def h(people, name):
    return people[name][1]


def published(client, people, **fields):
    body = {"title": "认识钟表", "kind": "courseware", "subject": "math", "stage": "primary", "visibility": "school",
            "tags": ["一年级"], **fields}
    created = client.post(RESOURCES, json=body, headers=h(people, "owner"))
    assert created.status_code == 201, created.text
    resource_id = created.json()["id"]
    assert client.post(f"{RESOURCES}/{resource_id}/submit", headers=h(people, "owner")).status_code == 200
    decide(client, people, resource_id, "approve")
    return resource_id


def decide(client, people, resource_id, action, who="moderator", **extra):
    response = client.post(f"/api/v1/moderation/resources/{resource_id}/decision",
                           json={"action": action, **extra}, headers=h(people, who))
    assert response.status_code == 200, response.text
    return response.json()


def read(client, people, resource_id, who="owner"):
    response = client.get(f"{RESOURCES}/{resource_id}", headers=h(people, who))
    assert response.status_code == 200, response.text
    return response.json()


def outbox(session, resource_id):
    return [v for (v,) in session.execute(select(SearchOutbox.version).where(SearchOutbox.resource_id == resource_id)
                                          .order_by(SearchOutbox.id))]


def search_document(session, app, resource_id):
    """What the outbox relay would send the search service for this resource now."""
    [document] = build_documents(session, {resource_id: 1}, app.state.blob_store)
    return document


def test_an_edit_of_a_published_resource_waits_and_the_live_version_stays_for_get_and_search(
        client, app, session, people, factory):
    resource_id = published(client, people)
    point = factory.knowledge_point("math.p.num.addsub.carry20")
    versions_before = outbox(session, resource_id)
    edit = client.patch(f"{RESOURCES}/{resource_id}", headers=h(people, "owner"), json={
        "title": "认识钟表（修订）", "description": "新增练习", "knowledge_point_ids": [point.id], "tags": ["钟表"],
        "license": "cc-by-4.0", "grade": "g1"})
    assert edit.status_code == 200, edit.text
    body = edit.json()
    assert body["title"] == "认识钟表" and body["status"] == "published"
    assert body["review"]["status"] == "pending" and body["review"]["revision_id"]
    # Nothing search cares about moved: no outbox row, and the document is the approved one.
    assert outbox(session, resource_id) == versions_before
    document = search_document(session, app, resource_id)
    assert document.live and document.title == "认识钟表" and document.knowledge_points == []
    for who in ("owner", "colleague", "moderator"):
        live = read(client, people, resource_id, who)
        assert (live["title"], live["description"], live["tags"], live["grade"], live["license"]) == (
            "认识钟表", "", ["一年级"], None, "CC-BY-NC-SA-4.0"), who
    # Others never see the review, nor that a revision waits.
    assert read(client, people, resource_id, "colleague")["review"] is None

    history = client.get(f"{RESOURCES}/{resource_id}/revisions", headers=h(people, "owner")).json()
    assert history["total"] == 1
    [revision] = history["items"]
    assert revision["status"] == "pending" and revision["decision"] is None
    assert revision["author"]["id"] == people["owner"][0].id
    assert {c["field"]: (c["before"], c["after"]) for c in revision["changes"]} == {
        "title": ("认识钟表", "认识钟表（修订）"), "description": ("", "新增练习"), "grade": (None, "g1"),
        "knowledge_point_ids": ([], [point.id]), "tags": (["一年级"], ["钟表"]),
        "license": ("CC-BY-NC-SA-4.0", "CC-BY-4.0")}

    approved = decide(client, people, resource_id, "approve", note="好")
    assert approved["status"] == "published" and approved["revision_id"] == revision["id"]
    live = read(client, people, resource_id, "colleague")
    assert (live["title"], live["description"], live["tags"], live["grade"], live["license"]) == (
        "认识钟表（修订）", "新增练习", ["钟表"], "g1", "CC-BY-4.0")
    assert live["knowledge_point_ids"] == [point.id]
    # Approval went through the status table: one new version, so the relay sends the new document.
    assert outbox(session, resource_id) == [*versions_before, versions_before[-1] + 1]
    document = search_document(session, app, resource_id)
    assert document.title == "认识钟表（修订）" and document.knowledge_points == [point.id]
    assert document.version == live["version"]
    history = client.get(f"{RESOURCES}/{resource_id}/revisions", headers=h(people, "owner")).json()
    assert history["items"][0]["status"] == "approved"
    assert history["items"][0]["decision"]["action"] == "approve"


def test_a_rejected_revision_leaves_the_live_version_as_it_was(client, app, session, people):
    resource_id = published(client, people)
    versions_before = outbox(session, resource_id)
    client.patch(f"{RESOURCES}/{resource_id}", json={"title": "换个标题"}, headers=h(people, "owner"))
    rejected = decide(client, people, resource_id, "reject", reason_code="wrong_metadata", note="标题与内容不符")
    assert rejected["status"] == "published"
    live = read(client, people, resource_id)
    assert live["title"] == "认识钟表" and live["status"] == "published"
    assert live["review"]["status"] == "rejected" and live["review"]["note"] == "标题与内容不符"
    assert live["review"]["reason_code"] == "wrong_metadata" and live["review"]["revision_id"]
    assert outbox(session, resource_id) == versions_before
    assert search_document(session, app, resource_id).title == "认识钟表"
    [revision] = client.get(f"{RESOURCES}/{resource_id}/revisions", headers=h(people, "owner")).json()["items"]
    assert revision["status"] == "rejected"
    assert revision["decision"]["reason_code"] == "wrong_metadata"
    # Nothing waits any more: a second approve or reject is refused by the status table.
    assert_problem(client.post(f"/api/v1/moderation/resources/{resource_id}/decision", json={"action": "approve"},
                               headers=h(people, "moderator")), 409, "resource.invalid_transition")


def test_widening_waits_for_review_and_play_follows_the_live_audience(client, app, session, people):
    resource_id = published(client, people, kind="micro_lesson")
    # A playable video, as the transcoder would leave it (rows written directly: no ffmpeg here).
    blob = Blob(sha256="0" * 64, size=10, media_type="video/mp4", backend="local", key="blobs/test")
    session.add(blob)
    session.flush()
    session.add(Asset(resource_id=resource_id, blob_id=blob.id, role="main", filename="l.mp4",
                      media_type="video/mp4", category="video", size=10, sha256="0" * 64,
                      renditions=[{"job": "ladder", "prefix": "renditions/x", "tracks": [
                          {"variants": [{"bandwidth": 400_000, "height": 240, "uri": "240/index.m3u8"}]}]}]))
    session.commit()
    assert client.get(f"{RESOURCES}/{resource_id}/play", headers=h(people, "colleague")).status_code == 200
    assert_problem(client.get(f"{RESOURCES}/{resource_id}/play", headers=h(people, "outsider")),
                   404, "resource.not_found")

    edit = client.patch(f"{RESOURCES}/{resource_id}", json={"visibility": "public"}, headers=h(people, "owner"))
    assert edit.json()["visibility"] == "school" and edit.json()["review"]["status"] == "pending"
    assert_problem(client.get(f"{RESOURCES}/{resource_id}/play", headers=h(people, "outsider")),
                   404, "resource.not_found")
    assert_problem(client.get(f"{RESOURCES}/{resource_id}", headers=h(people, "outsider")), 404, "resource.not_found")
    assert search_document(session, app, resource_id).visibility == "school"
    queue = client.get("/api/v1/moderation/queue", headers=h(people, "moderator")).json()
    [item] = [i for i in queue["items"] if i["id"] == resource_id]
    assert item["changes"] == [{"field": "visibility", "before": "school", "after": "public"}]
    assert item["revision"]["id"] and item["level"] == "district"

    decide(client, people, resource_id, "approve")
    assert client.get(f"{RESOURCES}/{resource_id}/play", headers=h(people, "outsider")).status_code == 200
    assert search_document(session, app, resource_id).visibility == "public"


def test_narrowing_visibility_applies_at_once_and_a_mixed_edit_splits(client, app, session, people):
    resource_id = published(client, people, visibility="district")
    before = outbox(session, resource_id)
    edit = client.patch(f"{RESOURCES}/{resource_id}", json={"visibility": "school", "title": "新标题"},
                        headers=h(people, "owner"))
    body = edit.json()
    assert body["visibility"] == "school" and body["title"] == "认识钟表"
    assert outbox(session, resource_id) == [*before, before[-1] + 1]
    assert search_document(session, app, resource_id).visibility == "school"
    assert_problem(client.get(f"{RESOURCES}/{resource_id}", headers=h(people, "outsider")), 404, "resource.not_found")
    [revision] = client.get(f"{RESOURCES}/{resource_id}/revisions", headers=h(people, "owner")).json()["items"]
    assert revision["changes"] == [{"field": "title", "before": "认识钟表", "after": "新标题"}]
    # Only a narrowing: nothing waits, nothing new.
    client.patch(f"{RESOURCES}/{resource_id}", json={"visibility": "private"}, headers=h(people, "owner"))
    assert client.get(f"{RESOURCES}/{resource_id}/revisions", headers=h(people, "owner")).json()["total"] == 1
    assert read(client, people, resource_id)["visibility"] == "private"


def test_a_second_edit_supersedes_the_pending_revision_with_both_changes(client, people):
    resource_id = published(client, people)
    client.patch(f"{RESOURCES}/{resource_id}", json={"title": "第一次"}, headers=h(people, "owner"))
    client.patch(f"{RESOURCES}/{resource_id}", json={"description": "第二次"}, headers=h(people, "owner"))
    items = client.get(f"{RESOURCES}/{resource_id}/revisions", headers=h(people, "owner")).json()["items"]
    assert [i["status"] for i in items] == ["pending", "superseded"]
    assert {c["field"]: c["after"] for c in items[0]["changes"]} == {"title": "第一次", "description": "第二次"}
    queue = client.get("/api/v1/moderation/queue", headers=h(people, "moderator")).json()
    assert [i["revision"]["id"] for i in queue["items"] if i["id"] == resource_id] == [items[0]["id"]]
    # An edit back to the live values leaves nothing to review.
    client.patch(f"{RESOURCES}/{resource_id}", json={"title": "认识钟表", "description": ""},
                 headers=h(people, "owner"))
    items = client.get(f"{RESOURCES}/{resource_id}/revisions", headers=h(people, "owner")).json()["items"]
    assert [i["status"] for i in items] == ["superseded", "superseded"]
    assert read(client, people, resource_id)["review"]["status"] == "approved"


def test_new_files_on_a_published_resource_wait_for_review(client, app, people, tmp_path):
    resource_id = published(client, people)
    headers = {**h(people, "owner"), **TUS}
    location, _ = upload_file(client, headers, media.png(tmp_path / "p.png").read_bytes(), "板书.png")
    added = client.post(f"{RESOURCES}/{resource_id}/assets", json={"upload_ids": [upload_id_of(location)]},
                        headers=h(people, "owner"))
    assert added.status_code == 202 and added.json() == []
    assert read(client, people, resource_id, "colleague")["assets"] == []
    [revision] = client.get(f"{RESOURCES}/{resource_id}/revisions", headers=h(people, "owner")).json()["items"]
    [change] = revision["changes"]
    assert change["field"] == "upload_ids" and change["after"][0]["filename"] == "板书.png"
    decide(client, people, resource_id, "approve")
    [asset] = read(client, people, resource_id, "colleague")["assets"]
    assert asset["filename"] == "板书.png"


def test_pending_review_edits_apply_directly(client, people):
    created = client.post(RESOURCES, json={"title": "草稿", "kind": "courseware"}, headers=h(people, "owner"))
    resource_id = created.json()["id"]
    client.post(f"{RESOURCES}/{resource_id}/submit", headers=h(people, "owner"))
    edit = client.patch(f"{RESOURCES}/{resource_id}", json={"title": "定稿", "visibility": "public"},
                        headers=h(people, "owner"))
    assert edit.json()["title"] == "定稿" and edit.json()["visibility"] == "public"
    assert client.get(f"{RESOURCES}/{resource_id}/revisions", headers=h(people, "owner")).json()["total"] == 0
    # A reviewer who looked at an older version is told it changed.
    assert_problem(client.post(f"/api/v1/moderation/resources/{resource_id}/decision",
                               json={"action": "approve", "version": edit.json()["version"] - 1},
                               headers=h(people, "moderator")), 409, "moderation.stale_version")
    assert decide(client, people, resource_id, "approve", version=edit.json()["version"])["status"] == "published"


def test_withdrawing_and_deleting_apply_at_once(client, app, session, people):
    resource_id = published(client, people)
    client.patch(f"{RESOURCES}/{resource_id}", json={"title": "改"}, headers=h(people, "owner"))
    withdrawn = client.post(f"{RESOURCES}/{resource_id}/withdraw", headers=h(people, "owner"))
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "draft"
    assert not search_document(session, app, resource_id).live
    assert_problem(client.get(f"{RESOURCES}/{resource_id}", headers=h(people, "colleague")), 404, "resource.not_found")
    items = client.get(f"{RESOURCES}/{resource_id}/revisions", headers=h(people, "owner")).json()["items"]
    assert [i["status"] for i in items] == ["superseded"]
    assert_problem(client.post(f"{RESOURCES}/{resource_id}/withdraw", headers=h(people, "owner")),
                   409, "resource.invalid_transition")
    again = published(client, people)
    client.patch(f"{RESOURCES}/{again}", json={"title": "改"}, headers=h(people, "owner"))
    assert client.delete(f"{RESOURCES}/{again}", headers=h(people, "owner")).status_code == 204
    assert not search_document(session, app, again).live


def test_revision_history_is_for_the_owner_administrators_and_reviewers(client, people):
    resource_id = published(client, people)
    client.patch(f"{RESOURCES}/{resource_id}", json={"title": "改"}, headers=h(people, "owner"))
    for who in ("owner", "moderator", "school_admin"):
        assert client.get(f"{RESOURCES}/{resource_id}/revisions", headers=h(people, who)).json()["total"] == 1, who
    assert_problem(client.get(f"{RESOURCES}/{resource_id}/revisions", headers=h(people, "colleague")),
                   403, "resource.not_owner")
    assert_problem(client.get(f"{RESOURCES}/{resource_id}/revisions", headers=h(people, "outsider")),
                   404, "resource.not_found")
    page = client.get(f"{RESOURCES}/{resource_id}/revisions?size=1&page=2", headers=h(people, "owner")).json()
    assert page["total"] == 1 and page["items"] == [] and page["page"] == 2

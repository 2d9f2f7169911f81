"""The revision functions step by step (services/api/resources/revisions.py) and the revision
status table: what counts as wider, what applies at once, how a second edit amends the first,
what approve and reject do to the live resource."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from services.api.resources import revisions
from services.api.resources.errors import InvalidTransition
from services.api.resources.models import (License, Resource, ResourceKind, ResourceRevision, ResourceStatus,
                                           ReviewLevel, RevisionStatus, Visibility)
from services.api.resources.status import ResourceEvent, RevisionEvent, next_revision_status, next_status
from services.api.uploads.uploader import Uploader
from services.common.problems import InvalidField

V = Visibility


@pytest.mark.parametrize(("new", "old", "wider"), [
    (V.school, V.private, True), (V.paired, V.school, True), (V.district, V.paired, True),
    (V.public, V.district, True), (V.public, V.private, True),
    (V.private, V.public, False), (V.school, V.paired, False), (V.school, V.school, False),
])
def test_audiences_are_ordered_by_inclusion(new, old, wider):
    assert revisions.is_wider(new, old) is wider


def test_split_applies_only_narrowing_at_once_and_drops_unchanged_values():
    live = {"title": "甲", "visibility": "district", "tags": ["a"], "upload_ids": []}
    immediate, reviewed = revisions.split(live=live, requested={"title": "甲", "visibility": "school", "tags": ["b"]})
    assert immediate == {"visibility": "school"} and reviewed == {"tags": ["b"]}
    immediate, reviewed = revisions.split(live=live, requested={"visibility": "public", "upload_ids": ["u1"]})
    assert immediate == {} and reviewed == {"visibility": "public", "upload_ids": ["u1"]}
    assert revisions.split(live=live, requested={"upload_ids": []}) == ({}, {})


@pytest.mark.parametrize(("current", "event", "expected"), [
    (RevisionStatus.pending, RevisionEvent.approve, RevisionStatus.approved),
    (RevisionStatus.pending, RevisionEvent.reject, RevisionStatus.rejected),
    (RevisionStatus.pending, RevisionEvent.supersede, RevisionStatus.superseded),
    (RevisionStatus.rejected, RevisionEvent.appeal, RevisionStatus.pending),
])
def test_revision_transitions(current, event, expected):
    assert next_revision_status(current, event) is expected


@pytest.mark.parametrize(("current", "event"), [
    (RevisionStatus.approved, RevisionEvent.reject), (RevisionStatus.superseded, RevisionEvent.approve),
    (RevisionStatus.rejected, RevisionEvent.approve), (RevisionStatus.approved, RevisionEvent.appeal),
])
def test_refused_revision_transitions(current, event):
    with pytest.raises(InvalidTransition):
        next_revision_status(current, event)


@pytest.mark.parametrize(("current", "event", "expected"), [
    (ResourceStatus.rejected, ResourceEvent.appeal, ResourceStatus.pending_review),
    (ResourceStatus.published, ResourceEvent.apply_revision, ResourceStatus.published),
    (ResourceStatus.published, ResourceEvent.withdraw, ResourceStatus.draft),
    (ResourceStatus.pending_review, ResourceEvent.withdraw, ResourceStatus.draft),
])
def test_review_events_of_the_resource_table(current, event, expected):
    assert next_status(current, event) is expected


@pytest.mark.parametrize(("current", "event"), [
    (ResourceStatus.pending_review, ResourceEvent.apply_revision), (ResourceStatus.taken_down, ResourceEvent.appeal),
    (ResourceStatus.draft, ResourceEvent.withdraw),
])
def test_review_events_refused_elsewhere(current, event):
    with pytest.raises(InvalidTransition):
        next_status(current, event)


@pytest.fixture
def live(factory, session):
    owner = factory.user()
    resource = Resource(title="认识钟表", kind=ResourceKind.courseware, visibility=Visibility.school,
                        license=License.cc_by, owner_id=owner.id, school_id=owner.school_id,
                        district_id=owner.district_id, status=ResourceStatus.published, tags=["一年级"])
    session.add(resource)
    session.flush()
    return resource, owner


def test_normalise_checks_values_as_an_edit_would(session, live):
    resource, owner = live
    uploader = Uploader(user_id=owner.id, device_id=None, school_id=owner.school_id)
    values = revisions.normalise(session, resource=resource, uploader=uploader,
                                 changes={"tags": ["钟", "钟"], "kind": "exercise", "subject": "math"})
    assert values == {"tags": ["钟"], "kind": "exercise", "subject": "math"}
    with pytest.raises(InvalidField):
        revisions.normalise(session, resource=resource, uploader=uploader, changes={"title": None})
    with pytest.raises(InvalidField):
        revisions.normalise(session, resource=resource, uploader=uploader, changes={"subject": "alchemy"})


def test_propose_amend_and_decide_step_by_step(session, live):
    resource, owner = live
    version = resource.version
    first = revisions.propose(session, resource=resource, author_id=owner.id, requested={"title": "钟表"})
    assert first.status is RevisionStatus.pending and first.base_version == version
    assert first.changes == [{"field": "title", "before": "认识钟表", "after": "钟表"}]
    assert resource.title == "认识钟表" and resource.version == version
    # Nothing new: the pending revision stays as it is.
    assert revisions.propose(session, resource=resource, author_id=owner.id, requested={"title": "钟表"}) is first
    resource.review_level = ReviewLevel.district  # as if the school had passed it
    second = revisions.propose(session, resource=resource, author_id=owner.id, requested={"visibility": "public"})
    assert first.status is RevisionStatus.superseded and second.status is RevisionStatus.pending
    assert second.proposed == {"title": "钟表", "visibility": "public"}
    assert resource.review_level is None  # an amended revision is reviewed from the first level again
    assert revisions.pending_revision(session, resource_id=resource.id) is second

    revisions.approve(session, resource=resource, revision=second)
    assert (resource.title, resource.visibility, resource.status) == ("钟表", Visibility.public,
                                                                      ResourceStatus.published)
    assert resource.version == version + 1 and second.decided_at is not None

    third = revisions.propose(session, resource=resource, author_id=owner.id, requested={"tags": []})
    revisions.reject(revision=third)
    assert resource.tags == ["一年级"] and resource.version == version + 1
    assert revisions.pending_revision(session, resource_id=resource.id) is None
    statuses = session.scalars(select(ResourceRevision.status).where(ResourceRevision.resource_id == resource.id)
                               .order_by(ResourceRevision.created_at, ResourceRevision.id)).all()
    assert statuses == [RevisionStatus.superseded, RevisionStatus.approved, RevisionStatus.rejected]


def test_an_edit_back_to_the_live_version_leaves_nothing_pending(session, live):
    resource, owner = live
    pending = revisions.propose(session, resource=resource, author_id=owner.id, requested={"title": "钟表"})
    assert revisions.propose(session, resource=resource, author_id=owner.id, requested={"title": "认识钟表"}) is None
    assert pending.status is RevisionStatus.superseded

"""The resource status machine. `next_status` is the only place a status is decided.

    draft ─upload─▶ uploading ─uploads_complete─▶ processing ─processed─▶ pending_review
      └──────────────────────submit (nothing to process)───────────────────▶ pending_review
    processing ─processing_failed─▶ failed ─retry─▶ processing
    pending_review ─approve─▶ published ─take_down─▶ taken_down ─restore─▶ published
    pending_review ─reject─▶ rejected ─submit─▶ pending_review
    published ─hide─▶ hidden ─unhide─▶ published;  hidden ─take_down─▶ taken_down  (reports)
    rejected ─appeal─▶ pending_review (before another reviewer)
    published ─apply_revision─▶ published (an approved revision replaces the live version)
    published, pending_review ─withdraw─▶ draft (the owner takes it back, at once)

Revisions have their own table below, with `apply_revision_event`:
    pending ─approve─▶ approved;  pending ─reject─▶ rejected ─appeal─▶ pending
    pending ─supersede─▶ superseded (a later edit replaced it)
"""
from __future__ import annotations

from enum import StrEnum

from services.api.resources import links
from services.api.resources.errors import InvalidTransition
from services.api.resources.models import Resource, changed_for_search
from services.api.resources.models import ResourceStatus as S
from services.api.resources.models import ResourceRevision, RevisionStatus
from services.common.db import utcnow


class ResourceEvent(StrEnum):
    upload = "upload"
    uploads_complete = "uploads_complete"
    processed = "processed"
    processing_failed = "processing_failed"
    retry = "retry"
    submit = "submit"
    approve = "approve"
    reject = "reject"
    take_down = "take_down"
    restore = "restore"
    hide = "hide"      # enough open reports: withheld until a moderator resolves them
    unhide = "unhide"  # reports dismissed (or upheld without a take-down)
    appeal = "appeal"
    apply_revision = "apply_revision"
    withdraw = "withdraw"


E = ResourceEvent
_TRANSITIONS: dict[tuple[S, E], S] = {
    (S.draft, E.upload): S.uploading,
    (S.draft, E.uploads_complete): S.processing,
    (S.uploading, E.uploads_complete): S.processing,
    (S.processing, E.processed): S.pending_review,
    (S.processing, E.processing_failed): S.failed,
    (S.failed, E.retry): S.processing,
    (S.draft, E.submit): S.pending_review,
    (S.rejected, E.submit): S.pending_review,
    (S.pending_review, E.approve): S.published,
    (S.pending_review, E.reject): S.rejected,
    (S.published, E.take_down): S.taken_down,
    (S.taken_down, E.restore): S.published,
    (S.published, E.hide): S.hidden,
    (S.hidden, E.unhide): S.published,
    (S.hidden, E.take_down): S.taken_down,
    (S.rejected, E.appeal): S.pending_review,
    (S.published, E.apply_revision): S.published,
    (S.published, E.withdraw): S.draft,
    (S.pending_review, E.withdraw): S.draft,
}


def next_status(current: S, event: ResourceEvent) -> S:
    try:
        return _TRANSITIONS[(current, event)]
    except KeyError:
        raise InvalidTransition(status=current.value, event=event.value) from None


def apply_event(resource: Resource, event: ResourceEvent) -> Resource:
    """Moves a resource through the status machine; every status change goes through here."""
    previous = resource.status
    resource.status = next_status(previous, event)
    links.on_status_change(resource, previous=previous)
    if resource.status is S.published and resource.published_at is None:
        resource.published_at = utcnow()
    changed_for_search(resource)
    return resource


class RevisionEvent(StrEnum):
    approve = "approve"
    reject = "reject"
    supersede = "supersede"
    appeal = "appeal"


R = RevisionStatus
_REVISION_TRANSITIONS: dict[tuple[R, RevisionEvent], R] = {
    (R.pending, RevisionEvent.approve): R.approved,
    (R.pending, RevisionEvent.reject): R.rejected,
    (R.pending, RevisionEvent.supersede): R.superseded,
    (R.rejected, RevisionEvent.appeal): R.pending,
}


def next_revision_status(current: R, event: RevisionEvent) -> R:
    try:
        return _REVISION_TRANSITIONS[(current, event)]
    except KeyError:
        raise InvalidTransition(status=current.value, event=event.value) from None


def apply_revision_event(revision: ResourceRevision, event: RevisionEvent) -> ResourceRevision:
    """Moves a revision through its table; every revision status change goes through here."""
    revision.status = next_revision_status(revision.status, event)
    revision.decided_at = utcnow() if revision.status in (R.approved, R.rejected) else None
    return revision

"""The resource status machine. `next_status` is the only place a status is decided.

    draft ─upload─▶ uploading ─uploads_complete─▶ processing ─processed─▶ pending_review
      └──────────────────────submit (nothing to process)───────────────────▶ pending_review
    processing ─processing_failed─▶ failed ─retry─▶ processing
    pending_review ─approve─▶ published ─take_down─▶ taken_down ─restore─▶ published
    pending_review ─reject─▶ rejected ─submit─▶ pending_review
"""
from __future__ import annotations

from enum import StrEnum

from services.api.resources import links
from services.api.resources.errors import InvalidTransition
from services.api.resources.models import Resource
from services.api.resources.models import ResourceStatus as S
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
    resource.version += 1
    return resource

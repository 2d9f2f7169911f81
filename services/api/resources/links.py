"""Revocable links. Every link the API hands out for a resource's media (the signed playback
link, and the poster and download behind it) carries the resource's `link_epoch`; the link
works only while the epoch is unchanged. The epoch moves when the people a link was given to may
no longer see the resource:

- its status leaves `published` (take-down, or any later event such as a hide): `status.apply_event`;
- its visibility narrows: the `Resource.visibility` validator (models.py), whatever path sets it;
- a pairing ends: `revoke_paired` for both schools' `paired` resources (pairing.service).

Storage URLs (S3 presigned, or the local store's signed /blobs URLs) cannot be revoked, so they
are minted only after the epoch is checked and live minutes (STORAGE_URL_TTL_S), not hours.
"""
from __future__ import annotations

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.orm import Session

from services.api.resources.errors import LinkRevoked
from services.api.resources.models import Resource, ResourceStatus, Visibility
from services.common.db import PreparedQuery

# What a storage URL minted behind a checked link may live: enough to start fetching a segment or
# a download (S3 and /blobs check expiry when a request starts); a resumed download asks again.
STORAGE_URL_TTL_S = 5 * 60

_EPOCH_OF = PreparedQuery(select(Resource.link_epoch).where(Resource.id == bindparam("resource_id")))


def revoke(resource: Resource) -> None:
    """Every link handed out for this resource stops working."""
    resource.link_epoch = (resource.link_epoch or 0) + 1


def on_status_change(resource: Resource, *, previous: ResourceStatus) -> None:
    # Only a published resource is seen by people other than its owner and reviewers.
    if previous is ResourceStatus.published and resource.status is not ResourceStatus.published:
        revoke(resource)


def revoke_paired(session: Session, *, school_ids: list[str]) -> None:
    """A pairing between these schools ended: their `paired` resources' links stop working."""
    session.execute(update(Resource)
                    .where(Resource.school_id.in_(school_ids), Resource.visibility == Visibility.paired)
                    .values(link_epoch=Resource.link_epoch + 1).execution_options(synchronize_session=False))


def check(connection: Connection, *, resource_id: str, epoch: int) -> None:
    """One indexed lookup by primary key: run on every playlist, segment, poster and download."""
    row = _EPOCH_OF.one_or_none(connection, {"resource_id": resource_id})
    if row is None or row.link_epoch != epoch:
        raise LinkRevoked()

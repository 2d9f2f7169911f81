"""The blocklist of taken-down content: a take-down puts its files' SHA-256 on it, a restore
takes them off, and attaching a file whose bytes are on it is refused. Hashes, not names: the
same file renamed, re-titled or uploaded by someone else is still the same bytes."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.api.moderation.models import ModerationAction
from services.api.resources.models import Asset, Resource
from services.api.screening.errors import ContentBlocked
from services.api.screening.models import BlockedHash
from services.api.uploads.models import Blob, Upload


def follow_decision(session: Session, *, resource: Resource, action: ModerationAction,
                    reason_code: str | None) -> None:
    """Called by every moderation decision, after the status changed."""
    if action is ModerationAction.take_down:
        block(session, resource=resource, reason_code=reason_code)
    elif action is ModerationAction.restore:
        unblock(session, resource=resource)


def block(session: Session, *, resource: Resource, reason_code: str | None) -> int:
    hashes = sorted(set(session.scalars(select(Asset.sha256).where(Asset.resource_id == resource.id))))
    if not hashes:
        return 0
    values = [{"sha256": sha256, "resource_id": resource.id, "district_id": resource.district_id,
               "reason_code": reason_code} for sha256 in hashes]
    # Already blocked (another resource with the same bytes was taken down first): kept as it is.
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(BlockedHash).values(values).on_conflict_do_nothing(index_elements=["sha256"]))
    return len(hashes)


def unblock(session: Session, *, resource: Resource) -> int:
    return session.execute(delete(BlockedHash).where(BlockedHash.resource_id == resource.id)).rowcount or 0


def blocked_among(session: Session, *, sha256s: Sequence[str]) -> set[str]:
    if not sha256s:
        return set()
    return set(session.scalars(select(BlockedHash.sha256).where(BlockedHash.sha256.in_(sorted(set(sha256s))))))


def refuse_blocked(session: Session, *, uploads: Sequence[Upload]) -> None:
    """Raises ContentBlocked for the first upload whose bytes are on the blocklist (a hard check:
    refused, not flagged)."""
    blob_ids = [upload.blob_id for upload in uploads if upload.blob_id]
    if not blob_ids:
        return
    blocked_blobs = set(session.scalars(select(Blob.id).join(BlockedHash, BlockedHash.sha256 == Blob.sha256)
                                        .where(Blob.id.in_(blob_ids))))
    for index, upload in enumerate(uploads):
        if upload.blob_id in blocked_blobs:
            raise ContentBlocked(upload_id=upload.id, index=index)

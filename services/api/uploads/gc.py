"""Finding and removing stored bytes nothing needs any more.

A blob is kept while an asset uses it, or while a finished upload not yet attached to a
resource points at it (for a grace period). Processing outputs (`media/{asset_id}/…`) are kept
while their asset exists. Objects in storage the database does not know (left by a crash between
storing and recording, or the outputs of a deleted resource) are orphans too.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session

from services.api.audit import service as audit
from services.api.resources.models import Asset
from services.api.uploads.models import Blob, Upload, UploadStatus
from services.common.db import utcnow
from services.common.jobs import MEDIA_PREFIX
from services.common.storage import BlobStore

UNATTACHED_GRACE = timedelta(days=7)


@dataclass
class GarbageReport:
    orphan_blobs: list[str] = field(default_factory=list)    # blob keys with rows nothing references
    stray_objects: list[str] = field(default_factory=list)   # stored keys with no row at all
    freed_bytes: int = 0
    applied: bool = False


def collect_garbage(session: Session, *, store: BlobStore, apply: bool,
                    progress: Callable[[int], None] | None = None, operator: str | None = None) -> GarbageReport:
    """`operator`: who ran it (the command line's OS user), for the audit trail."""
    report = GarbageReport(applied=apply)
    since = utcnow() - UNATTACHED_GRACE
    used_by_asset = exists().where(Asset.blob_id == Blob.id)
    held_by_upload = exists().where(Upload.blob_id == Blob.id, Upload.status == UploadStatus.complete,
                                    Upload.updated_at > since)
    orphans = session.scalars(select(Blob).where(~used_by_asset, ~held_by_upload)).all()
    for blob in orphans:
        report.orphan_blobs.append(blob.key)
        report.freed_bytes += blob.size
    known = set(session.scalars(select(Blob.key)))
    receiving = {f"staging/uploads/{i}" for i in session.scalars(select(Upload.id).where(
        Upload.status == UploadStatus.receiving))}
    assets = set(session.scalars(select(Asset.id)))
    for info in store.list(""):
        if _media_asset(info.key) in assets:
            continue
        if info.key not in known and info.key not in receiving:
            report.stray_objects.append(info.key)
            report.freed_bytes += info.size
        if progress:
            progress(1)
    if apply:
        for key in report.orphan_blobs + report.stray_objects:
            store.delete(key)
        if orphans:
            ids = [b.id for b in orphans]
            # Old unattached uploads stop pointing at blobs that are about to go.
            session.execute(update(Upload).where(Upload.blob_id.in_(ids)).values(blob_id=None))
            session.execute(delete(Blob).where(Blob.id.in_(ids)))
        # A platform action (no district): the trail says what went, and that nothing else did.
        audit.record(session, actor_id=None, district_id=None, action="blobs.gc", target_type="storage",
                     target_id="blobs", orphan_blobs=len(report.orphan_blobs),
                     stray_objects=len(report.stray_objects), freed_bytes=report.freed_bytes,
                     keys=(report.orphan_blobs + report.stray_objects)[:1000], operator=operator)
        session.commit()
    return report



def _media_asset(key: str) -> str | None:
    """The asset whose processing output `key` is, if it is one."""
    top, _, rest = key.partition("/")
    return rest.partition("/")[0] if top == MEDIA_PREFIX else None

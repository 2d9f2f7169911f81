"""Finding and removing stored bytes nothing needs any more.

A blob is kept while an asset uses it, or while a finished upload not yet attached to a
resource points at it (for a grace period). Processing outputs (`media/{asset_id}/…`) are kept
while their asset exists. Objects in storage the database does not know (left by a crash between
storing and recording, or the outputs of a deleted resource) are orphans too.

The scan takes minutes on a large store while uploads go on, so what it found may be in use
again by the time it deletes: an upload finishing with the same bytes reuses an orphan blob
(uploads.service._keep_once), and a new upload stores bytes before its row commits. So each
orphan blob is deleted in a transaction of its own that locks its row first and checks again
that nothing uses it; the upload that reuses a blob locks the same row. Objects with no row are
left alone while they are recent (STRAY_GRACE) and checked again just before they go.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.orm import Session

from services.api.audit import service as audit
from services.api.resources.models import Asset
from services.api.uploads.models import Blob, Upload, UploadStatus
from services.common.db import utcnow
from services.common.jobs import MEDIA_PREFIX
from services.common.storage import BlobStore

UNATTACHED_GRACE = timedelta(days=7)
# Stored bytes younger than this are never strays: their row may not be committed yet (a
# finishing upload stores its content, then records it), or the scan read the rows before
# the upload that wrote them began. Uploads and finishing take minutes, not a day.
STRAY_GRACE = timedelta(days=1)


@dataclass
class GarbageReport:
    orphan_blobs: list[str] = field(default_factory=list)    # blob keys with rows nothing references
    stray_objects: list[str] = field(default_factory=list)   # stored keys with no row at all
    freed_bytes: int = 0
    applied: bool = False
    # Found unused by the scan, in use again when their turn to go came: kept.
    reused: list[str] = field(default_factory=list)


def collect_garbage(session: Session, *, store: BlobStore, apply: bool,
                    progress: Callable[[int], None] | None = None, operator: str | None = None,
                    stray_grace: timedelta = STRAY_GRACE) -> GarbageReport:
    """`operator`: who ran it (the command line's OS user), for the audit trail."""
    report = GarbageReport(applied=apply)
    now = utcnow()
    orphans = session.scalars(select(Blob).where(~_in_use(now))).all()
    for blob in orphans:
        report.orphan_blobs.append(blob.key)
        report.freed_bytes += blob.size
    known = set(session.scalars(select(Blob.key)))
    receiving = _receiving(session)
    assets = set(session.scalars(select(Asset.id)))
    for info in store.list(""):
        if progress:
            progress(1)
        if _media_asset(info.key) in assets or _recent(info.modified, now - stray_grace):
            continue
        if info.key not in known and info.key not in receiving:
            report.stray_objects.append(info.key)
            report.freed_bytes += info.size
    session.commit()  # the scan's snapshot is over: what follows reads afresh
    if apply:
        for blob in orphans:
            if not _delete_if_unused(session, store=store, blob_id=blob.id, now=now):
                report.orphan_blobs.remove(blob.key)
                report.reused.append(blob.key)
                report.freed_bytes -= blob.size
        receiving = _receiving(session)
        for key in list(report.stray_objects):
            if session.scalar(select(Blob.id).where(Blob.key == key)) is not None or key in receiving:
                report.stray_objects.remove(key)
                report.reused.append(key)
                continue
            store.delete(key)
        # A platform action (no district): the trail says what went, and that nothing else did.
        audit.record(session, actor_id=None, district_id=None, action="blobs.gc", target_type="storage",
                     target_id="blobs", orphan_blobs=len(report.orphan_blobs),
                     stray_objects=len(report.stray_objects), freed_bytes=report.freed_bytes,
                     keys=(report.orphan_blobs + report.stray_objects)[:1000], operator=operator)
        session.commit()
    return report


def _in_use(now: datetime):  # type: ignore[no-untyped-def]  # a SQL expression over Blob
    used_by_asset = exists().where(Asset.blob_id == Blob.id)
    held_by_upload = exists().where(Upload.blob_id == Blob.id, Upload.status == UploadStatus.complete,
                                    Upload.updated_at > now - UNATTACHED_GRACE)
    return or_(used_by_asset, held_by_upload)


def _delete_if_unused(session: Session, *, store: BlobStore, blob_id: str, now: datetime) -> bool:
    """Deletes one orphan blob, unless something uses it again. Its own transaction, which
    begins by writing its row: that locks it (PostgreSQL: an upload reusing it waits in
    _keep_once's SELECT ... FOR UPDATE; SQLite: the write lock, as every writer session takes)
    before anything is read, so the check below cannot be outdated by the time the bytes go.
    The bytes go before the row, under the lock: a reuse waiting on the row then finds no row,
    and stores its own copy afresh rather than having it deleted from the same content key."""
    session.commit()
    locked = session.execute(update(Blob).where(Blob.id == blob_id).values(key=Blob.key)
                             .execution_options(synchronize_session=False))
    if locked.rowcount != 1 or session.scalar(select(_in_use(now)).where(Blob.id == blob_id)):
        session.commit()
        return False
    store.delete(session.scalars(select(Blob.key).where(Blob.id == blob_id)).one())
    # Old unattached uploads stop pointing at the blob that goes.
    session.execute(update(Upload).where(Upload.blob_id == blob_id).values(blob_id=None)
                    .execution_options(synchronize_session=False))
    session.execute(delete(Blob).where(Blob.id == blob_id).execution_options(synchronize_session=False))
    session.commit()
    return True


def _receiving(session: Session) -> set[str]:
    return {f"staging/uploads/{i}" for i in session.scalars(select(Upload.id).where(
        Upload.status == UploadStatus.receiving))}


def _recent(modified: datetime | None, since: datetime) -> bool:
    return modified is not None and modified > since


def _media_asset(key: str) -> str | None:
    """The asset whose processing output `key` is, if it is one."""
    top, _, rest = key.partition("/")
    return rest.partition("/")[0] if top == MEDIA_PREFIX else None

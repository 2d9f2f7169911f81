"""The life of an upload: created with its size known; bytes appended by one writer at a time;
on the last byte, checked, hashed and kept once per distinct content; or expired.

The database row is the truth about how many bytes were received (`offset`) and which parts
are in blob storage (`parts`); the spool holds the rest, in memory or on local disk (spool.py).
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.api.orgs.models import School, User
from services.api.resources.models import Asset, Resource
from services.api.uploads import checks, inspector, limits, tus
from services.api.uploads import subtitles as subtitle_check
from services.api.uploads.errors import (BadUploadRequest, OffsetMismatch, QuotaExceeded, TypeMismatch,
                                         UnsupportedFileType, UploadError, UploadGone, UploadLocked, UploadNotFound,
                                         UploadTooLarge, UserQuotaExceeded)
from services.api.uploads.filenames import clean_filename, extension_of
from services.api.uploads.models import Blob, Upload, UploadStatus
from services.api.uploads.sniff import (CATEGORY_OF, EXTENSION_CATEGORY, HEAD_BYTES, OLE_CONTAINER, ZIP_CONTAINER,
                                        sniff)
from services.api.uploads.spool import InPlace, Segment, Spool
from services.api.uploads.uploader import Uploader
from services.common.db import utcnow
from services.common.storage import BlobStore, MultipartPart

log = structlog.get_logger("uploads")

CATEGORY_NAMES = {"video": "视频 video", "audio": "音频 audio", "document": "文档 document", "image": "图片 image",
                  "subtitle": "字幕 subtitle"}


@dataclass
class Lease:
    """A writer's hold on an upload for one PATCH: what it may append to, and its lock token."""

    upload_id: str
    token: str
    length: int
    offset: int
    parts: list[MultipartPart]
    staging_key: str
    multipart_id: str

    @property
    def sent_bytes(self) -> int:
        return sum(part.size for part in self.parts)


# --- creating ------------------------------------------------------------------------------

def create_upload(session: Session, *, store: BlobStore, owner: Uploader, length: int,
                  metadata: dict[str, str], user_quota_bytes: int) -> Upload:
    """Refuses, before any byte is sent, what could never be accepted: a type we do not take,
    a size over its kind's limit, a school (or a user without a school, who has
    `user_quota_bytes`) over its quota. The quota is checked and the upload reserved in one
    transaction, holding the quota owner's row locked: two creates at once cannot both fit."""
    filename = clean_filename(metadata.get("filename") or metadata.get("name") or "")
    declared = (metadata.get("content_type") or metadata.get("filetype") or "").split(";")[0].strip().lower()
    category = _guess_category(filename, declared)
    if length > limits.MAX_SIZE[category]:
        raise UploadTooLarge(category=CATEGORY_NAMES[category], limit_mib=limits.MAX_SIZE[category] // limits.MiB)
    if owner.school_id is not None:
        _check_quota(session, school_id=owner.school_id, needed=length)
    elif owner.user_id is not None:
        _check_user_quota(session, user_id=owner.user_id, quota=user_quota_bytes, needed=length)
    upload = Upload(owner_id=owner.user_id, device_id=owner.device_id, school_id=owner.school_id, length=length,
                    filename=filename,
                    declared_type=declared[:100], metadata_=metadata, category=category,
                    staging_key="", expires_at=utcnow() + timedelta(seconds=limits.EXPIRES_AFTER_S))
    session.add(upload)
    session.flush()
    upload.staging_key = f"staging/uploads/{upload.id}"
    if store.direct_path(upload.staging_key) is None:  # else written in place: see open_spool
        upload.multipart_id = store.create_multipart(upload.staging_key, content_type="application/octet-stream")
    return upload


def _guess_category(filename: str, declared: str) -> str:
    category = EXTENSION_CATEGORY.get(extension_of(filename)) or CATEGORY_OF.get(declared)
    if category is None:
        raise UnsupportedFileType()
    return category


def _check_quota(session: Session, *, school_id: str, needed: int) -> None:
    # FOR UPDATE: a second create for this school waits here until the first commits its upload
    # (which the sums below then count). PostgreSQL otherwise let both read the same sums and
    # both fit. SQLite ignores it: a writer session's BEGIN IMMEDIATE serialises the two already.
    quota = session.scalar(select(School.storage_quota_bytes).where(School.id == school_id).with_for_update()) or 0
    # The school's resources' files, plus uploads still arriving or finished but not attached.
    used = session.scalar(select(func.coalesce(func.sum(Asset.size), 0)).join(
        Resource, Resource.id == Asset.resource_id).where(Resource.school_id == school_id)) or 0
    attached = select(Asset.upload_id).where(Asset.upload_id.is_not(None))
    pending = session.scalar(select(func.coalesce(func.sum(Upload.length), 0)).where(
        Upload.school_id == school_id, Upload.status.in_([UploadStatus.receiving, UploadStatus.complete]),
        Upload.id.not_in(attached))) or 0
    if used + pending + needed > quota:
        raise QuotaExceeded(free_mib=max(quota - used - pending, 0) // limits.MiB, needed_mib=-(-needed // limits.MiB))


def _check_user_quota(session: Session, *, user_id: str, quota: int, needed: int) -> None:
    """A user without a school (district staff): their own files and unfinished uploads, under
    the quota from settings. Locked on their user row, as _check_quota locks the school's."""
    session.execute(select(User.id).where(User.id == user_id).with_for_update())
    used = session.scalar(select(func.coalesce(func.sum(Asset.size), 0)).join(
        Resource, Resource.id == Asset.resource_id).where(Resource.owner_id == user_id,
                                                           Resource.school_id.is_(None))) or 0
    attached = select(Asset.upload_id).where(Asset.upload_id.is_not(None))
    pending = session.scalar(select(func.coalesce(func.sum(Upload.length), 0)).where(
        Upload.owner_id == user_id, Upload.school_id.is_(None),
        Upload.status.in_([UploadStatus.receiving, UploadStatus.complete]), Upload.id.not_in(attached))) or 0
    if used + pending + needed > quota:
        raise UserQuotaExceeded(free_mib=max(quota - used - pending, 0) // limits.MiB,
                                needed_mib=-(-needed // limits.MiB))


# --- reading -------------------------------------------------------------------------------

def get_own_upload(session: Session, *, owner: Uploader, upload_id: str) -> Upload:
    upload = session.get(Upload, upload_id)
    if upload is None or not owner.owns(upload):
        raise UploadNotFound()
    return upload


# --- writing: one PATCH holds a lease ------------------------------------------------------

def acquire(session: Session, *, owner: Uploader, upload_id: str, offset: int) -> Lease:
    # A writer session (the request's): this reads the upload, then writes its lock, and
    # concurrent PATCHes race here. Commit what authenticating the caller read first.
    session.commit()
    upload = get_own_upload(session, owner=owner, upload_id=upload_id)
    if upload.status is not UploadStatus.receiving:
        raise UploadGone()
    if offset != upload.offset:
        raise OffsetMismatch(offset=upload.offset)
    now, token = utcnow(), secrets.token_hex(16)
    # Compare-and-set: the one UPDATE that wins holds the upload; a dead writer's lease lapses.
    taken = session.execute(
        update(Upload).where(Upload.id == upload_id, Upload.offset == offset,
                             (Upload.locked_until.is_(None)) | (Upload.locked_until < now))
        .values(lock_token=token, locked_until=now + timedelta(seconds=limits.LOCK_LEASE_S))
        .execution_options(synchronize_session=False))
    session.commit()
    if taken.rowcount != 1:
        raise UploadLocked()
    return Lease(upload_id=upload.id, token=token, length=upload.length, offset=upload.offset,
                 parts=[MultipartPart(**p) for p in upload.parts], staging_key=upload.staging_key,
                 multipart_id=upload.multipart_id or "")


def open_spool(store: BlobStore, lease: Lease, *, spool_root: Path) -> Spool | InPlace:
    """Where this PATCH's bytes go: straight into the blob's file where the store has one (local
    disk: each byte written once, docs/design.md), else the spool that turns them into parts."""
    if lease.multipart_id:
        return Spool(spool_root / lease.upload_id, first_part=len(lease.parts) + 1,
                     kept_bytes=lease.offset - lease.sent_bytes)
    path = store.direct_path(lease.staging_key)
    if path is None:
        raise RuntimeError(f"upload {lease.upload_id} has no multipart upload and {store.backend} has no files")
    return InPlace(path, offset=lease.offset)


def rewind_to_parts(session: Session, lease: Lease, *, spool_root: Path) -> None:
    """The spool lost bytes the offset covers (spool.SpoolLost): the upload goes back to the end
    of its last part in blob storage, which cannot be lost, instead of failing every PATCH until
    it expires. The client is told the lower offset (UploadRewound) and resumes from there."""
    received = lease.offset
    Spool(spool_root / lease.upload_id, first_part=1, kept_bytes=0).discard()
    commit_progress(session, lease, offset=lease.sent_bytes)
    log.warning("upload_spool_lost", upload_id=lease.upload_id, offset_was=received, offset=lease.sent_bytes)


def send_full_parts(store: BlobStore, lease: Lease, spool: Spool | InPlace, *, everything: bool = False) -> None:
    """Sends full segments (or, at the end, every segment) to blob storage as parts. Called
    with the request no longer writing."""
    segments = spool.all_segments() if everything else spool.full_segments()
    send_parts(store, lease, spool, segments)
    for number, _ in segments:
        spool.sent(number)


def send_parts(store: BlobStore, lease: Lease, spool: Spool | InPlace, segments: list[Segment]) -> None:
    """Sends these (full, no longer written) segments as parts. Safe to run in a worker thread
    while the request goes on writing the next segment; the caller retires them afterwards.

    The segments are not fsynced first: parts are durable once `upload_parts` returns (the local
    store fsyncs its assembly file, S3 acknowledges), and only then may an offset covering them be
    committed. Syncing the segment as well wrote every byte to disk twice; unsynced, a segment
    sent and unlinked within seconds mostly never reaches the disk at all."""
    if segments:
        lease.parts.extend(store.upload_parts(lease.staging_key, lease.multipart_id, segments))


def commit_progress(session: Session, lease: Lease, *, offset: int) -> None:
    """Makes received bytes official: the client's next HEAD says `offset`."""
    changed = session.execute(
        update(Upload).where(Upload.id == lease.upload_id, Upload.lock_token == lease.token)
        .values(offset=offset, parts=[vars(p) for p in lease.parts], updated_at=utcnow(),
                expires_at=utcnow() + timedelta(seconds=limits.EXPIRES_AFTER_S))
        .execution_options(synchronize_session=False))
    session.commit()
    if changed.rowcount != 1:
        raise UploadLocked()  # our lease lapsed and another writer took over
    lease.offset = offset


def release(session: Session, lease: Lease) -> None:
    session.execute(update(Upload).where(Upload.id == lease.upload_id, Upload.lock_token == lease.token)
                    .values(lock_token=None, locked_until=None).execution_options(synchronize_session=False))
    session.commit()


# --- finishing -----------------------------------------------------------------------------

def finish(session: Session, *, store: BlobStore, lease: Lease, sha256: str | None) -> Upload:
    """Every byte has arrived: assemble, check, hash, and keep the content once. A file that
    fails a check is deleted and the upload marked refused; the error goes to the client."""
    if lease.multipart_id:
        store.complete_multipart(lease.staging_key, lease.multipart_id, lease.parts)
    upload = session.get_one(Upload, lease.upload_id)
    filename, length, metadata = upload.filename, upload.length, dict(upload.metadata_ or {})
    # The checks and the hashing take seconds: no transaction stays open across them. On SQLite a
    # read snapshot held that long makes the final write fail ("database is locked") as soon as
    # anyone else commits meanwhile (seen with the media janitor). Our lease keeps the row ours.
    session.rollback()
    try:
        facts = _inspect(store, key=lease.staging_key, filename=filename, metadata=metadata)
    except UploadError as refusal:
        store.delete(lease.staging_key)
        upload = session.get_one(Upload, lease.upload_id)
        upload.status, upload.refusal_code = UploadStatus.refused, refusal.code
        upload.lock_token = upload.locked_until = None
        session.commit()
        raise
    digest = sha256 or _hash_blob(store, lease.staging_key)
    blob = _keep_once(session, store=store, staging_key=lease.staging_key, sha256=digest, size=length,
                      media_type=facts["media_type"])
    upload = session.get_one(Upload, lease.upload_id)
    upload.status, upload.blob_id = UploadStatus.complete, blob.id
    upload.media_type, upload.category, upload.probe = facts["media_type"], facts["category"], facts["probe"]
    upload.lock_token = upload.locked_until = None
    session.commit()
    return upload


def _inspect(store: BlobStore, *, key: str, filename: str, metadata: dict[str, str]) -> dict[str, Any]:
    if EXTENSION_CATEGORY.get(extension_of(filename)) == "subtitle":
        # Text, never sniffed: read whole (its size was bounded when the upload was created).
        size = store.stat(key).size
        if size > limits.MAX_SIZE["subtitle"]:
            raise UploadTooLarge(category=CATEGORY_NAMES["subtitle"], limit_mib=limits.MAX_SIZE["subtitle"] // limits.MiB)
        return subtitle_check.inspect(b"".join(store.open(key)), filename=filename, metadata=metadata)
    head = b"".join(store.open(key, start=0, end=HEAD_BYTES - 1))
    media_type = sniff(head).media_type
    # Containers, PDFs and pictures are parsed in a sandboxed child process (inspector.py).
    inspected: dict[str, Any] | None = None
    if media_type in (ZIP_CONTAINER, OLE_CONTAINER):
        with store.local_file(key) as path:
            inspected = inspector.inspect("zip" if media_type == ZIP_CONTAINER else "ole", path)
        media_type = inspected["media_type"]
    category = CATEGORY_OF.get(media_type)
    if category is None:
        raise UnsupportedFileType()
    named = EXTENSION_CATEGORY.get(extension_of(filename))
    if named is not None and named != category:
        raise TypeMismatch(extension=extension_of(filename), actual=media_type)
    size = store.stat(key).size
    if size > limits.MAX_SIZE[category]:
        raise UploadTooLarge(category=CATEGORY_NAMES[category], limit_mib=limits.MAX_SIZE[category] // limits.MiB)
    probe: dict[str, Any] = {}
    if category == "image" or media_type == "application/pdf":
        with store.local_file(key) as path:
            probe = inspector.inspect("image" if category == "image" else "pdf", path)["probe"]
    elif category in ("video", "audio"):
        probe = checks.probe_media(store.tool_source(key), category=category, media_type=media_type)
    elif inspected is not None:
        probe = inspected["probe"]
    return {"media_type": media_type, "category": category, "probe": probe}


def _hash_blob(store: BlobStore, key: str) -> str:
    """The fallback when the bytes were not hashed as they arrived (another replica, a restart)."""
    digest = hashlib.sha256()
    for chunk in store.open(key):
        digest.update(chunk)
    return digest.hexdigest()


def content_key(sha256: str) -> str:
    return f"sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def _keep_once(session: Session, *, store: BlobStore, staging_key: str, sha256: str, size: int,
               media_type: str) -> Blob:
    # FOR UPDATE: `lb blobs gc` may have found this blob unused and be deleting it right now
    # (gc._delete_if_unused locks the row first). Either it finishes first and this finds no row,
    # or this upload's reference commits first and gc sees it when it checks again.
    existing = session.scalar(select(Blob).where(Blob.sha256 == sha256).with_for_update())
    if existing is not None:
        if store.exists(existing.key):
            store.delete(staging_key)
            return existing
        # Its bytes are gone (a gc killed between deleting them and deleting the row): ours take their place.
        existing.key, existing.backend = store.keep(staging_key, content_key(sha256)), store.backend
        return existing
    session.rollback()  # as in finish: no read snapshot held across the storage call
    key = store.keep(staging_key, content_key(sha256))
    blob = Blob(sha256=sha256, size=size, media_type=media_type, backend=store.backend, key=key)
    try:
        with session.begin_nested():
            session.add(blob)
    except IntegrityError:
        # The same content finished concurrently and is recorded: keep theirs. On local disk its
        # bytes sit at the same content key as ours; on S3 ours are a second copy.
        winner = session.scalars(select(Blob).where(Blob.sha256 == sha256)).one()
        if winner.key != key:
            store.delete(key)
        return winner
    return blob


# --- ending early --------------------------------------------------------------------------

def terminate(session: Session, *, store: BlobStore, owner: Uploader, upload_id: str, spool_root: Path) -> None:
    upload = get_own_upload(session, owner=owner, upload_id=upload_id)
    if upload.status is UploadStatus.receiving:
        if upload.locked_until is not None and upload.locked_until > utcnow():
            raise UploadLocked()
        _discard(upload, store=store, spool_root=spool_root)
    session.commit()


def expire_uploads(session: Session, *, store: BlobStore, spool_root: Path, now: datetime | None = None) -> int:
    """Abandoned uploads lose their partial bytes (spool and multipart parts). Returns how many."""
    now = now or utcnow()
    stale = session.scalars(select(Upload).where(Upload.status == UploadStatus.receiving,
                                                 Upload.expires_at < now)).all()
    for upload in stale:
        if upload.locked_until is not None and upload.locked_until > now:
            continue  # someone is writing right now: not abandoned after all
        _discard(upload, store=store, spool_root=spool_root)
    session.commit()
    return len(stale)


def _discard(upload: Upload, *, store: BlobStore, spool_root: Path) -> None:
    if upload.multipart_id:
        store.abort_multipart(upload.staging_key, upload.multipart_id)
    else:
        store.delete(upload.staging_key)  # written in place
    Spool(spool_root / upload.id, first_part=1, kept_bytes=0).discard()
    upload.status = UploadStatus.expired
    upload.lock_token = upload.locked_until = None


def parse_length(raw: str | None) -> int:
    if not tus.is_ascii_count(raw):
        raise BadUploadRequest(reason="Upload-Length must be a non-negative integer (deferred lengths are not supported)")
    length = int(raw)
    if length == 0:
        raise BadUploadRequest(reason="an empty file is not a resource / 文件为空")
    if length > limits.LARGEST:
        raise UploadTooLarge(category="", limit_mib=limits.LARGEST // limits.MiB)
    return length

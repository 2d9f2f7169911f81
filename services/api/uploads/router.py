"""tus 1.0.0 at /api/v1/uploads/: any standard tus client works unmodified.

PATCH bodies stream from the socket into the spool without ever being held whole; database and
blob-storage calls run in the threadpool so the event loop keeps serving other uploads.
"""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from sqlalchemy.orm import Session
from starlette.requests import ClientDisconnect

from services.api.auth.deps import bearer_token, current_principal
from services.api.devices.service import DEVICE_TOKEN_PREFIX, authenticate_device
from services.api.db import SessionDep
from services.api.routing import api_router, body_of
from services.api.uploads import service, tus
from services.api.uploads.errors import BadUploadRequest, ChecksumMismatch, UploadRewound, WrongContentType
from services.api.uploads.limits import PART_SIZE, SPOOL_BACKLOG
from services.api.uploads.models import Blob, Upload, UploadStatus
from services.api.uploads.service import Lease
from services.api.uploads.spool import InPlace, Segment, Spool, SpoolLost
from services.api.uploads.uploader import Uploader

# Received bytes are written and hashed in batches this size, off the event loop.
BATCH_BYTES = 4 * 1024 * 1024

router = api_router("/uploads", tags=["uploads"], responses=tus.PROBLEMS)


def current_uploader(request: Request, session: SessionDep) -> Uploader:
    """A recording classroom's device token, or a user's access token."""
    token = bearer_token(request)
    if token.startswith(DEVICE_TOKEN_PREFIX):
        device = authenticate_device(session, token=token)
        return Uploader(user_id=None, device_id=device.id, school_id=device.school_id)
    return Uploader.for_user(current_principal(request, session))


CurrentUploader = Annotated[Uploader, Depends(current_uploader)]


class UploadRead(BaseModel):
    id: str
    status: UploadStatus
    offset: int
    length: int
    filename: str
    media_type: str | None
    category: str | None
    refusal_code: str | None
    sha256: str | None
    probe: dict[str, Any]


@router.options("/", status_code=204)
def capabilities() -> Response:
    return Response(status_code=204, headers=tus.capability_headers())


@router.post("/", status_code=201, openapi_extra=tus.headers_in(
    tus.header("Upload-Length", {"type": "integer", "minimum": 0}, "The file's size in bytes"),
    tus.header("Upload-Metadata", {"type": "string"}, "`key base64value` pairs, comma-separated", required=False)))
async def create_upload(request: Request, session: SessionDep, caller: CurrentUploader) -> Response:
    tus.require_version(request.headers)
    length = service.parse_length(request.headers.get("upload-length"))
    metadata = tus.parse_metadata(request.headers.get("upload-metadata"))
    store = request.app.state.blob_store

    def create() -> Upload:
        upload = service.create_upload(session, store=store, owner=caller, length=length, metadata=metadata)
        session.commit()
        return upload

    upload = await run_in_threadpool(create)
    headers = {"Location": str(request.url_for("upload_status", upload_id=upload.id)),
               "Tus-Resumable": tus.VERSION, "Upload-Expires": tus.expires_header(upload.expires_at)}
    # creation-with-upload: the first bytes may ride along with the creation request.
    if request.headers.get("content-type", "").startswith(tus.OFFSET_CONTENT_TYPE):
        offset = await _append(request, session, caller, upload.id, offset=0)
        headers["Upload-Offset"] = str(offset)
    return Response(status_code=201, headers=headers)


@router.head("/{upload_id}", name="upload_status", openapi_extra=tus.headers_in())
def upload_status(request: Request, session: SessionDep, caller: CurrentUploader, upload_id: str) -> Response:
    tus.require_version(request.headers)
    upload = service.get_own_upload(session, owner=caller, upload_id=upload_id)
    if upload.status in (UploadStatus.expired, UploadStatus.refused):
        return Response(status_code=410, headers={"Tus-Resumable": tus.VERSION, "Cache-Control": "no-store"})
    headers = {"Tus-Resumable": tus.VERSION, "Upload-Offset": str(upload.offset),
               "Upload-Length": str(upload.length), "Cache-Control": "no-store"}
    if upload.metadata_:
        headers["Upload-Metadata"] = tus.encode_metadata(upload.metadata_)
    if upload.status is UploadStatus.receiving:
        headers["Upload-Expires"] = tus.expires_header(upload.expires_at)
    return Response(status_code=200, headers=headers)


@router.get("/{upload_id}", response_model=UploadRead)
def read_upload(session: SessionDep, caller: CurrentUploader, upload_id: str) -> UploadRead:
    """Not tus: what became of an upload (its checks' verdict and what the file is)."""
    u = service.get_own_upload(session, owner=caller, upload_id=upload_id)
    blob = session.get(Blob, u.blob_id) if u.blob_id else None
    return UploadRead(id=u.id, status=u.status, offset=u.offset, length=u.length, filename=u.filename,
                      media_type=u.media_type, category=u.category, refusal_code=u.refusal_code,
                      sha256=blob.sha256 if blob else None, probe=u.probe)


@router.patch("/{upload_id}", status_code=204, openapi_extra={**tus.headers_in(
    tus.header("Upload-Offset", {"type": "integer", "minimum": 0}, "Where these bytes start")),
    **body_of({tus.OFFSET_CONTENT_TYPE: {"type": "string", "format": "binary"}})})
async def append(request: Request, session: SessionDep, caller: CurrentUploader, upload_id: str) -> Response:
    tus.require_version(request.headers)
    if not request.headers.get("content-type", "").startswith(tus.OFFSET_CONTENT_TYPE):
        raise WrongContentType()
    offset = tus.parse_offset(request.headers.get("upload-offset"))
    new_offset = await _append(request, session, caller, upload_id, offset=offset)
    return Response(status_code=204, headers={"Tus-Resumable": tus.VERSION, "Upload-Offset": str(new_offset)})


@router.delete("/{upload_id}", status_code=204, openapi_extra=tus.headers_in())
def terminate(request: Request, session: SessionDep, caller: CurrentUploader, upload_id: str) -> Response:
    tus.require_version(request.headers)
    service.terminate(session, store=request.app.state.blob_store, owner=caller, upload_id=upload_id,
                      spool_root=_spool_root(request))
    request.app.state.upload_hashes.forget(upload_id)
    return Response(status_code=204, headers={"Tus-Resumable": tus.VERSION})


def _spool_root(request: Request) -> Path:
    return request.app.state.settings.core.data_dir / "uploads"


async def _append(request: Request, session: Session, caller: Uploader, upload_id: str, *, offset: int) -> int:
    """Streams the request body onto the upload; returns the offset the client may resume from.
    The request's one session is used from threadpool threads, one call at a time."""
    checksum = tus.parse_checksum(request.headers.get("upload-checksum"))
    store, hashes = request.app.state.blob_store, request.app.state.upload_hashes

    def acquire() -> Lease:
        return service.acquire(session, owner=caller, upload_id=upload_id, offset=offset)

    def commit(lease: Lease, new_offset: int, *, flush: bool) -> None:
        if flush:
            service.send_full_parts(store, lease, spool)
        spool.sync()  # what stays behind (not in a part) is durable before the offset covers it
        service.commit_progress(session, lease, offset=new_offset)

    def finish(lease: Lease, sha256: str | None) -> None:
        service.send_full_parts(store, lease, spool, everything=True)
        spool.sync()
        service.commit_progress(session, lease, offset=lease.length)
        try:
            service.finish(session, store=store, lease=lease, sha256=sha256)
        finally:
            spool.discard()

    def release(lease: Lease) -> None:
        try:
            if spool is not None:
                spool.close()
        finally:
            session.rollback()  # whatever failed mid-way is not ours to keep
            service.release(session, lease)

    def send_in_background(lease: Lease, segments: list[Segment]) -> None:
        # Only bytes inside sent parts become official here: the rest may not be on disk yet.
        service.send_parts(store, lease, spool, segments)
        service.commit_progress(session, lease, offset=lease.sent_bytes)

    def store_batch(batch: list[bytes]) -> None:
        # Off the event loop: the file write and both hashes release the GIL, so they run on the
        # other core while the loop receives the next batch (on the loop they capped an upload at
        # about half the speed of a plain copy; measured, docs/benchmarks.md). The chunks are not
        # joined first: a fresh 4 MiB bytes object per batch cost a copy and its page faults.
        for chunk in batch:
            spool.write(chunk)
            if running is not None:
                running.update(chunk)
            if chunk_digest is not None:
                chunk_digest.update(chunk)

    lease = await run_in_threadpool(acquire)
    spool: Spool | InPlace | None = None
    sending: asyncio.Future[None] | None = None
    sending_segments: list[Segment] = []
    storing: asyncio.Future[None] | None = None  # the one batch being written and hashed

    async def stored() -> None:
        """Waits for the batch being written: the spool and the hashes are then this loop's again."""
        nonlocal storing
        if storing is not None:
            pending, storing = storing, None
            await pending

    async def settle() -> None:
        """Waits for the parts being sent, then retires their segments."""
        nonlocal sending
        if sending is not None:
            pending, sending = sending, None
            await pending
            for number, _ in sending_segments:
                spool.sent(number)

    try:
        try:
            spool = await run_in_threadpool(service.open_spool, store, lease, spool_root=_spool_root(request))
        except SpoolLost:
            await run_in_threadpool(service.rewind_to_parts, session, lease, spool_root=_spool_root(request))
            hashes.forget(upload_id)
            raise UploadRewound(offset=lease.offset) from None
        running = hashes.resume(upload_id, lease.offset)
        chunk_digest = tus.CHECKSUMS[checksum[0]]() if checksum else None
        start, position = spool.size, lease.offset  # `position`: bytes received, from the file's start
        batch: list[bytes] = []
        batched = 0
        try:
            async for chunk in request.stream():
                if position + len(chunk) > lease.length:
                    raise BadUploadRequest(reason="more bytes than Upload-Length / 数据超出声明的文件大小")
                batch.append(chunk)
                batched += len(chunk)
                position += len(chunk)
                if batched < BATCH_BYTES:
                    continue
                await stored()
                if chunk_digest is None and spool.size >= PART_SIZE and position < lease.length:
                    # No checksum to wait for: full parts go to storage in a worker thread while
                    # this request keeps reading, one batch at a time (the fsyncs, copies and
                    # S3 puts stalled the upload 40% of the time when done inline; measured).
                    if sending is not None and (sending.done() or spool.size >= SPOOL_BACKLOG):
                        await settle()  # past the backlog, this waits: no reading until parts are sent
                    if sending is None:
                        sending_segments = spool.full_segments()
                        if sending_segments:
                            sending = asyncio.ensure_future(
                                run_in_threadpool(send_in_background, lease, sending_segments))
                storing = asyncio.ensure_future(run_in_threadpool(store_batch, batch))
                batch, batched = [], 0
            await stored()
            if batch:
                await run_in_threadpool(store_batch, batch)
        except ClientDisconnect:
            # What arrived before the cut is kept (and made durable below), like every byte.
            await stored()
            if batch:
                await run_in_threadpool(store_batch, batch)
            await settle()
            if checksum is not None:  # a partial chunk cannot be verified: drop it
                spool.truncate(start)
                hashes.forget(upload_id)
                return lease.offset
            await run_in_threadpool(commit, lease, position, flush=False)
            _keep_running(hashes, upload_id, lease.offset, running)
            return lease.offset
        except BaseException:
            # Let in-flight work finish before the lease goes.
            await asyncio.gather(*filter(None, [storing, sending]), return_exceptions=True)
            storing = sending = None
            raise
        await settle()
        if checksum is not None and chunk_digest is not None and chunk_digest.digest() != checksum[1]:
            spool.truncate(start)
            hashes.forget(upload_id)
            raise ChecksumMismatch()
        if position == lease.length:
            hashes.forget(upload_id)
            await run_in_threadpool(finish, lease, running.hexdigest() if running is not None else None)
            return lease.length
        await run_in_threadpool(commit, lease, position, flush=True)
        _keep_running(hashes, upload_id, position, running)
        return position
    finally:
        await run_in_threadpool(release, lease)


def _keep_running(hashes: Any, upload_id: str, offset: int, running: Any) -> None:
    if running is not None:
        hashes.keep(upload_id, offset, running)

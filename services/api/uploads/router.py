"""tus 1.0.0 at /api/v1/uploads/: any standard tus client works unmodified.

PATCH bodies stream from the socket into the spool without ever being held whole; database and
blob-storage calls run in the threadpool so the event loop keeps serving other uploads.
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
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
from services.api.uploads.errors import (BadUploadRequest, ChecksumMismatch, UploadIdle, UploadRewound,
                                         WrongContentType)
from services.api.uploads.in_flight import Ticket
from services.api.uploads.limits import PART_SIZE, SPOOL_BACKLOG
from services.api.uploads.models import Blob, Upload, UploadStatus
from services.api.uploads.service import Lease
from services.api.uploads.spool import InPlace, Segment, Spool, SpoolLost
from services.api.uploads.uploader import Uploader
from services.common.db import writer_session

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
async def create_upload(request: Request) -> Response:
    """No request-long session (SessionDep): creation-with-upload streams a body, and a session
    held while a client trickles it would be one of the API's few for as long as it likes."""
    tus.require_version(request.headers)
    length = service.parse_length(request.headers.get("upload-length"))
    metadata = tus.parse_metadata(request.headers.get("upload-metadata"))
    store = request.app.state.blob_store
    with_body = request.headers.get("content-type", "").startswith(tus.OFFSET_CONTENT_TYPE)

    def create() -> tuple[Uploader, Upload, Ticket | None]:
        with _session(request) as session:
            caller = current_uploader(request, session)
            # Before the row exists: a refusal must not leave an upload the client never heard of.
            ticket = request.app.state.uploads_in_flight.enter(caller) if with_body else None
            try:
                upload = service.create_upload(session, store=store, owner=caller, length=length, metadata=metadata,
                                               user_quota_bytes=request.app.state.settings.uploads.user_quota_bytes)
                session.commit()
            except BaseException:
                if ticket is not None:
                    ticket.leave()
                raise
            return caller, upload, ticket

    caller, upload, ticket = await run_in_threadpool(create)
    headers = {"Location": _upload_url(request, upload.id),
               "Tus-Resumable": tus.VERSION, "Upload-Expires": tus.expires_header(upload.expires_at)}
    # creation-with-upload: the first bytes may ride along with the creation request.
    if ticket is not None:
        offset = await _append(request, upload.id, offset=0, caller=caller, ticket=ticket)
        headers["Upload-Offset"] = str(offset)
    return Response(status_code=201, headers=headers)


def _upload_url(request: Request, upload_id: str) -> str:
    """Where the client resumes: under LB_PUBLIC_URL when set, else as the request reached us
    (scheme and host from a trusted proxy's X-Forwarded-*, services/common/edge.py)."""
    public_url = request.app.state.settings.api.public_url
    if public_url:
        return public_url.rstrip("/") + request.app.url_path_for("upload_status", upload_id=upload_id)
    return str(request.url_for("upload_status", upload_id=upload_id))


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
async def append(request: Request, upload_id: str) -> Response:
    """No request-long session (SessionDep), as in create_upload: _append takes short ones."""
    tus.require_version(request.headers)
    if not request.headers.get("content-type", "").startswith(tus.OFFSET_CONTENT_TYPE):
        raise WrongContentType()
    offset = tus.parse_offset(request.headers.get("upload-offset"))
    new_offset = await _append(request, upload_id, offset=offset)
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


def _session(request: Request) -> Session:
    """A session for one short step of an upload request, closed by the caller (`with`) before
    the request goes back to its client. Each step runs within one worker-thread call, so these
    sessions are bounded by the worker threads, and their connections by the pool above
    SessionDep's cap (services/api/db.py)."""
    return writer_session(request.app.state.sessionmaker)


async def _append(request: Request, upload_id: str, *, offset: int, caller: Uploader | None = None,
                  ticket: Ticket | None = None) -> int:
    """Streams the request body onto the upload; returns the offset the client may resume from.

    No session is open while the body streams: one short session takes the lease, others
    commit the offset, and the lease (lock_token) fences every write in between, as before.
    `caller` and `ticket`: creation-with-upload has authenticated and counted the upload already."""
    checksum = tus.parse_checksum(request.headers.get("upload-checksum"))
    store, hashes = request.app.state.blob_store, request.app.state.upload_hashes
    idle_timeout_s = request.app.state.settings.uploads.idle_timeout_s

    def acquire() -> tuple[Lease, Ticket]:
        with _session(request) as session:
            owner = caller or current_uploader(request, session)
            held = ticket or request.app.state.uploads_in_flight.enter(owner)
            try:
                return service.acquire(session, owner=owner, upload_id=upload_id, offset=offset), held
            except BaseException:
                held.leave()
                raise

    def commit(lease: Lease, new_offset: int, *, flush: bool) -> None:
        if flush:
            service.send_full_parts(store, lease, spool)
        spool.sync()  # what stays behind (not in a part) is durable before the offset covers it
        with _session(request) as session:
            service.commit_progress(session, lease, offset=new_offset)

    def finish(lease: Lease, sha256: str | None) -> None:
        service.send_full_parts(store, lease, spool, everything=True)
        spool.sync()
        try:
            with _session(request) as session:
                service.commit_progress(session, lease, offset=lease.length)
                service.finish(session, store=store, lease=lease, sha256=sha256)
        finally:
            spool.discard()

    def release(lease: Lease) -> None:
        try:
            if spool is not None:
                spool.close()
        finally:
            with _session(request) as session:
                service.release(session, lease)

    def rewind(lease: Lease) -> None:
        with _session(request) as session:
            service.rewind_to_parts(session, lease, spool_root=_spool_root(request))

    def send_in_background(lease: Lease, segments: list[Segment]) -> None:
        # Only bytes inside sent parts become official here: the rest may not be on disk yet.
        service.send_parts(store, lease, spool, segments)
        if checksum is None:  # a chunk with a checksum becomes official only once verified
            with _session(request) as session:
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

    lease, held = await run_in_threadpool(acquire)
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
            await run_in_threadpool(rewind, lease)
            hashes.forget(upload_id)
            raise UploadRewound(offset=lease.offset) from None
        running = hashes.resume(upload_id, lease.offset)
        chunk_digest = tus.CHECKSUMS[checksum[0]]() if checksum else None
        parts_before = list(lease.parts)
        if checksum is not None:
            # The chunk's full parts go to storage as it streams, as without a checksum (held
            # back until verified, an 8 GiB chunk went whole onto the API's disk). What stays
            # behind is a copy of the committed tail, to go back to if the chunk is refused.
            await run_in_threadpool(spool.checkpoint)

        def drop_chunk() -> None:
            """The chunk is refused or cut short: none of it counts, the parts it sent neither."""
            spool.restore()
            lease.parts[:] = parts_before
            hashes.forget(upload_id)

        position = lease.offset  # bytes received, from the file's start
        batch: list[bytes] = []
        batched = 0
        try:
            async for chunk in _body(request, idle_timeout_s=idle_timeout_s):
                if position + len(chunk) > lease.length:
                    raise BadUploadRequest(reason="more bytes than Upload-Length / 数据超出声明的文件大小")
                batch.append(chunk)
                batched += len(chunk)
                position += len(chunk)
                if batched < BATCH_BYTES:
                    continue
                await stored()
                if spool.size >= PART_SIZE and position < lease.length:
                    # Full parts go to storage in a worker thread while this request keeps
                    # reading, one batch at a time (the fsyncs, copies and S3 puts stalled the
                    # upload 40% of the time when done inline; measured).
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
        except (ClientDisconnect, BodyStalled) as cut:
            # What arrived before the cut (or the stall) is kept (and made durable below), like every byte.
            await stored()
            if batch:
                await run_in_threadpool(store_batch, batch)
            await settle()
            if checksum is not None:  # a partial chunk cannot be verified: drop it
                await run_in_threadpool(drop_chunk)
            else:
                await run_in_threadpool(commit, lease, position, flush=False)
                _keep_running(hashes, upload_id, lease.offset, running)
            if isinstance(cut, BodyStalled):
                raise UploadIdle(seconds=idle_timeout_s, offset=lease.offset) from None
            return lease.offset
        except BaseException:
            # Let in-flight work finish before the lease goes.
            await asyncio.gather(*filter(None, [storing, sending]), return_exceptions=True)
            storing = sending = None
            if checksum is not None:
                await run_in_threadpool(drop_chunk)
            raise
        await settle()
        if checksum is not None and chunk_digest is not None and chunk_digest.digest() != checksum[1]:
            await run_in_threadpool(drop_chunk)
            raise ChecksumMismatch()
        if position == lease.length:
            hashes.forget(upload_id)
            await run_in_threadpool(finish, lease, running.hexdigest() if running is not None else None)
            return lease.length
        await run_in_threadpool(commit, lease, position, flush=True)
        spool.drop_checkpoint()
        _keep_running(hashes, upload_id, position, running)
        return position
    finally:
        try:
            await run_in_threadpool(release, lease)
        finally:
            held.leave()


class BodyStalled(Exception):
    """The client sent nothing for the idle timeout."""


async def _body(request: Request, *, idle_timeout_s: float) -> AsyncIterator[bytes]:
    """The request body, chunk by chunk, ending with BodyStalled when the client sends nothing for
    `idle_timeout_s`: uvicorn has no such timeout, and a request waiting on a silent client would
    hold its upload's lease, buffers and in-flight place for ever."""
    chunks = request.stream().__aiter__()
    while True:
        try:
            async with asyncio.timeout(idle_timeout_s):  # a timer, not a task per chunk as wait_for makes
                chunk = await chunks.__anext__()
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise BodyStalled() from None
        yield chunk


def _keep_running(hashes: Any, upload_id: str, offset: int, running: Any) -> None:
    if running is not None:
        hashes.keep(upload_id, offset, running)

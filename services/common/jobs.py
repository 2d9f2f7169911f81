"""The processing job ledger: the database's record of every piece of background media work.

Brokers lose messages (measured: Celery's embedded filesystem and SQLAlchemy transports drop an
unacknowledged message when its worker is killed; Redis restores it only after its visibility
timeout), so the ledger, not the broker, is the truth about a job:

* the API writes a `queued` row in the transaction that creates the work; `dispatch` sends
  the task for every row not yet sent (the row is its own outbox: a crash between commit and
  send loses nothing);
* a worker *claims* the row (queued → running, attempt + 1) before doing anything, heartbeats
  while it works, and finishes it with its result; every write names the attempt, so a worker
  that lost its claim (it stalled and the job went to another) can no longer change the row;
* a sweeper re-queues jobs whose worker stopped heartbeating, and re-sends jobs queued for a
  long time (their message may be gone); a duplicate message is harmless, since only one
  claim succeeds.

It is shared kernel: the API creates and sweeps jobs and folds their results into resources; the
transcoder claims and finishes them. Neither imports the other.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    String,
    Table,
    insert,
    select,
    update,
)

from services.common.db import EnumText, UTCDateTime, new_metadata, utcnow
from services.common.ids import ID_LENGTH, new_id
from services.common.renditions import Stored
from services.common.tasks import TaskContract

metadata = new_metadata()

HEARTBEAT_S = 5.0
# A running job whose worker has not beaten for this long is taken to be lost.
STALE_AFTER_S = 45.0
# A queued job no worker has claimed for this long has its message sent again.
RESEND_AFTER_S = 15 * 60.0
MAX_ATTEMPTS = 3


class JobKind(StrEnum):
    first_playable = "first_playable"  # probe and package an H.264 source as HLS by stream copy
    ladder = "ladder"                  # the full HLS ladder, images and the download MP4
    document = "document"              # PDF preview, page images and per-page text of an office file
    image = "image"                    # preview and thumbnail of a picture
    audio = "audio"                    # an AAC rendition of a recording


class JobState(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


processing_jobs = Table(
    "processing_jobs", metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("resource_id", String(ID_LENGTH), nullable=False, index=True),
    Column("asset_id", String(ID_LENGTH), nullable=False, index=True),
    Column("kind", EnumText(JobKind, 32), nullable=False),
    Column("state", EnumText(JobState, 16), nullable=False),
    # What the worker reads: the source blob's key in the configured store, and its type.
    Column("source_key", String(512), nullable=False),
    Column("source_media_type", String(100), nullable=False, default=""),
    Column("attempts", Integer, nullable=False, default=0),
    Column("max_attempts", Integer, nullable=False, default=MAX_ATTEMPTS),
    Column("worker", String(200)),
    Column("progress", Integer, nullable=False, default=0),
    Column("error", String(500)),
    Column("result", JSON),  # renditions.Output or Skipped, as JSON (read with renditions.read_result)
    # Set by the API once it has folded a finished job into its resource.
    Column("applied", Boolean, nullable=False, default=False),
    Column("heartbeat_at", UTCDateTime()),
    # When the task message was last sent; NULL: due to be sent by `dispatch`.
    Column("sent_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime()),
    Index("ix_processing_jobs_state_updated_at", "state", "updated_at"),
)


# Every job's outputs live under media/{asset_id}/{kind}/: the transcoder writes there, and the
# API's garbage collection keeps what belongs to an existing asset.
MEDIA_PREFIX = "media"


def output_prefix(asset_id: str, kind: JobKind) -> str:
    return f"{MEDIA_PREFIX}/{asset_id}/{kind.value}"


class JobRef(BaseModel):
    job_id: str


# One queue per kind of work, so a short job never waits behind a 45-minute lesson: `probe` for
# what takes seconds, `video` for encoding, `documents` for LibreOffice.
CONTRACTS: dict[JobKind, TaskContract[JobRef]] = {
    JobKind.first_playable: TaskContract(name="media.first_playable", queue="probe", payload=JobRef),
    JobKind.image: TaskContract(name="media.image", queue="probe", payload=JobRef),
    JobKind.ladder: TaskContract(name="media.ladder", queue="video", payload=JobRef),
    JobKind.audio: TaskContract(name="media.audio", queue="video", payload=JobRef),
    JobKind.document: TaskContract(name="media.document", queue="documents", payload=JobRef),
}


@dataclass(frozen=True)
class Claim:
    """A worker's hold on one attempt of a job."""

    job_id: str
    attempt: int
    kind: JobKind
    resource_id: str
    asset_id: str
    source_key: str
    source_media_type: str
    max_attempts: int


class JobFailed(Exception):
    """A job that cannot succeed, whatever the retries: `reason` is shown to people."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason[:500]


# --------------------------------------------------------------------------- API side

def create_job(connection: Connection, *, resource_id: str, asset_id: str, kind: JobKind, source_key: str,
               source_media_type: str = "") -> str:
    now = utcnow()
    job_id = new_id()
    connection.execute(insert(processing_jobs).values(
        id=job_id, resource_id=resource_id, asset_id=asset_id, kind=kind, state=JobState.queued,
        source_key=source_key, source_media_type=source_media_type, attempts=0, max_attempts=MAX_ATTEMPTS, progress=0, applied=False,
        created_at=now, updated_at=now))
    return job_id


def send(celery: Any, *, job_id: str, kind: JobKind, countdown_s: float | None = None) -> None:
    CONTRACTS[kind].send(celery, JobRef(job_id=job_id), countdown_s=countdown_s)


def dispatch(engine: Engine, celery: Any) -> int:
    """Sends the task of every queued job not sent yet; returns how many went."""
    with engine.connect() as connection:
        due = connection.execute(select(processing_jobs.c.id, processing_jobs.c.kind).where(
            processing_jobs.c.state == JobState.queued, processing_jobs.c.sent_at.is_(None))
            .order_by(processing_jobs.c.created_at)).all()
    sent = 0
    for job in due:
        with engine.begin() as connection:
            # Marked first, so two dispatchers never both send it.
            taken = connection.execute(update(processing_jobs).where(
                processing_jobs.c.id == job.id, processing_jobs.c.sent_at.is_(None)).values(sent_at=utcnow())).rowcount
        if taken:
            send(celery, job_id=job.id, kind=job.kind)
            sent += 1
    return sent


def sweep(engine: Engine, celery: Any, *, now: datetime | None = None, stale_after_s: float = STALE_AFTER_S,
          resend_after_s: float = RESEND_AFTER_S) -> dict[str, int]:
    """Re-queues jobs whose worker died, re-sends long-unclaimed ones and fails jobs out of
    attempts, then dispatches. Safe to run anywhere, any number of times at once."""
    now = now or utcnow()
    requeued = failed = 0
    # Read first, then write each change in a transaction of its own that begins with the write.
    # On SQLite a transaction that reads and then writes fails at once with "database is locked"
    # if a worker's heartbeat committed in between (its read snapshot is stale; the busy timeout
    # does not apply). Every UPDATE re-checks what it read, so nothing relies on the snapshot.
    with engine.connect() as connection:
        lost = connection.execute(select(processing_jobs.c.id, processing_jobs.c.kind, processing_jobs.c.attempts,
                                         processing_jobs.c.max_attempts)
                                  .where(processing_jobs.c.state == JobState.running,
                                         processing_jobs.c.heartbeat_at < now - timedelta(seconds=stale_after_s))).all()
    for job in lost:
        out_of_attempts = job.attempts >= job.max_attempts
        with engine.begin() as connection:
            changed = connection.execute(
                update(processing_jobs)
                .where(processing_jobs.c.id == job.id, processing_jobs.c.state == JobState.running,
                       processing_jobs.c.attempts == job.attempts)
                .values(state=JobState.failed if out_of_attempts else JobState.queued, worker=None, updated_at=now,
                        sent_at=None,
                        error=(f"the worker stopped answering on each of {job.attempts} attempts"
                               if out_of_attempts else None),
                        finished_at=now if out_of_attempts else None)).rowcount
        if changed and out_of_attempts:
            failed += 1
        elif changed:
            requeued += 1  # sent again by dispatch below
    # Sent long ago and still unclaimed: the message may be gone with a dead worker.
    with engine.begin() as connection:
        resent = connection.execute(update(processing_jobs).where(
            processing_jobs.c.state == JobState.queued,
            processing_jobs.c.sent_at < now - timedelta(seconds=resend_after_s)).values(sent_at=None)).rowcount
    dispatch(engine, celery)
    return {"requeued": requeued, "resent": resent, "failed": failed}


# --------------------------------------------------------------------------- worker side

def claim(engine: Engine, job_id: str, *, worker: str) -> Claim | None:
    """Takes a queued job for this worker, or None when it is running elsewhere, finished, or
    unknown (a duplicate or stale message: nothing to do)."""
    now = utcnow()
    with engine.begin() as connection:
        changed = connection.execute(
            update(processing_jobs)
            .where(processing_jobs.c.id == job_id, processing_jobs.c.state == JobState.queued)
            .values(state=JobState.running, attempts=processing_jobs.c.attempts + 1, worker=worker[:200],
                    heartbeat_at=now, updated_at=now, error=None)).rowcount
        if not changed:
            return None
        row = connection.execute(select(processing_jobs).where(processing_jobs.c.id == job_id)).one()
    return Claim(job_id=row.id, attempt=row.attempts, kind=row.kind, resource_id=row.resource_id,
                 asset_id=row.asset_id, source_key=row.source_key, source_media_type=row.source_media_type,
                 max_attempts=row.max_attempts)


def is_running(engine: Engine, job_id: str, *, attempt: int) -> bool:
    with engine.connect() as connection:
        return connection.execute(select(processing_jobs.c.id).where(
            processing_jobs.c.id == job_id, processing_jobs.c.attempts == attempt,
            processing_jobs.c.state == JobState.running)).first() is not None


def heartbeat(engine: Engine, held: Claim, *, progress: int | None = None) -> bool:
    """Records that the worker is alive (and its progress); False once the claim is lost."""
    values: dict[str, Any] = {"heartbeat_at": utcnow()}
    if progress is not None:
        values["progress"] = max(0, min(int(progress), 99))
    return _update_held(engine, held, **values)


def complete(engine: Engine, held: Claim, *, result: Stored) -> bool:
    """Ends an attempt with its result (services/common/renditions.py), as the API will read it."""
    now = utcnow()
    return _update_held(engine, held, state=JobState.done, result=result.stored(), progress=100, finished_at=now,
                        heartbeat_at=now)


def fail(engine: Engine, held: Claim, *, reason: str, retry: bool) -> JobState | None:
    """Ends an attempt that raised: back to `queued` while attempts remain and `retry`, else
    `failed` with the reason people will read. None when the claim was already lost."""
    state = JobState.queued if retry and held.attempt < held.max_attempts else JobState.failed
    now = utcnow()
    # A retry is sent by the worker itself, with its back-off delay: marked sent now.
    values: dict[str, Any] = {"state": state, "error": reason[:500], "worker": None, "sent_at": now}
    if state is JobState.failed:
        values["finished_at"] = now
    return state if _update_held(engine, held, **values) else None


def _update_held(engine: Engine, held: Claim, **values: Any) -> bool:
    with engine.begin() as connection:
        return bool(connection.execute(
            update(processing_jobs)
            .where(processing_jobs.c.id == held.job_id, processing_jobs.c.attempts == held.attempt,
                   processing_jobs.c.state == JobState.running)
            .values(updated_at=utcnow(), **values)).rowcount)

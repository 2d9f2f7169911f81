"""The transcoder's Celery application, built from settings (tests build their own).

Every media task goes through `process_job`: claim the job in the ledger, heartbeat while the
runner works, then finish it. The broker only says "look at job X"; the ledger decides whether
there is anything to do (services/common/jobs.py).
"""
from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import structlog
from celery import Celery
from sqlalchemy import Engine

from services.common import jobs, sandbox
from services.common.db import create_db_engine
from services.common.jobs import JobFailed, JobState
from services.common.settings import Settings
from services.common.storage import BlobStore
from services.common.storage.factory import create_blob_store
from services.common.tasks import PING, TaskContract, create_celery
from services.transcoder.ffmpeg_run import Cancelled
from services.transcoder.pipeline import RUNNERS, Work, clear_scratch, remove_outputs

log = structlog.get_logger("transcoder")

RETRY_BASE_S = 10.0


@dataclass(frozen=True)
class Transcoder:
    """What a job needs from its process."""

    engine: Engine
    store: BlobStore
    celery: Celery
    scratch_root: Path
    name: str
    heartbeat_s: float = jobs.HEARTBEAT_S


def create_worker(settings: Settings) -> Celery:
    celery = create_celery(settings, name="lessonbridge-transcoder")
    transcoder = Transcoder(engine=create_db_engine(settings.database_url, pool_size=32,
                                                     check_writers=settings.database.check_writers),
                            store=create_blob_store(settings), celery=celery,
                            scratch_root=settings.core.data_dir / "scratch" / "transcoder",
                            name=f"{socket.gethostname()}:{os.getpid()}", heartbeat_s=settings.transcoder.heartbeat_s)
    remove_stale_scratch(transcoder)
    # Said at start, not at the first hostile file: how converters are kept off the network here.
    log.info("converter_sandbox", isolation=sandbox.isolation().method)
    celery.conf.task_routes = {contract.name: {"queue": contract.queue} for contract in jobs.CONTRACTS.values()}

    @celery.task(name=PING.name, shared=False)  # per app: tests build several
    def ping(payload: dict) -> str:
        nonce = PING.parse(payload).nonce
        log.info("ping", nonce=nonce)
        return nonce

    for kind, contract in jobs.CONTRACTS.items():
        def run(payload: dict, _contract: TaskContract = contract) -> str:
            return process_job(transcoder, _contract.parse(payload).job_id)

        celery.task(name=contract.name, shared=False)(run)
        log.debug("task_registered", kind=kind.value, queue=contract.queue)
    return celery


def remove_stale_scratch(transcoder: Transcoder) -> int:
    """Deletes the scratch directories of attempts no longer running: those of a worker that
    was killed. Workers may share the scratch volume, so a live attempt's directory stays."""
    if not transcoder.scratch_root.is_dir():
        return 0
    removed = 0
    for directory in transcoder.scratch_root.iterdir():
        job_id, _, attempt = directory.name.rpartition("-")
        if not jobs.is_running(transcoder.engine, job_id, attempt=int(attempt) if attempt.isdigit() else -1):
            clear_scratch(directory)
            removed += 1
    return removed


def process_job(transcoder: Transcoder, job_id: str) -> str:
    """Runs one attempt of a job if this worker can claim it; returns what happened."""
    held = jobs.claim(transcoder.engine, job_id, worker=transcoder.name)
    if held is None:
        log.info("job_not_claimed", job_id=job_id)  # finished, running elsewhere, or unknown
        return "not_claimed"
    log.info("job_started", job_id=job_id, kind=held.kind.value, attempt=held.attempt, asset_id=held.asset_id)
    progress = [0.0]
    stop, lost = threading.Event(), threading.Event()

    def beat() -> None:
        while not stop.wait(transcoder.heartbeat_s):
            if not jobs.heartbeat(transcoder.engine, held, progress=int(progress[0] * 100)):
                lost.set()
                return

    beater = threading.Thread(target=beat, name=f"heartbeat-{job_id}", daemon=True)
    beater.start()
    scratch = transcoder.scratch_root / f"{job_id}-{held.attempt}"
    for earlier in transcoder.scratch_root.glob(f"{job_id}-*"):  # left by a worker that died
        clear_scratch(earlier)
    prefix = jobs.output_prefix(held.asset_id, held.kind)
    try:
        work = Work(claim=held, store=transcoder.store, scratch=scratch,
                    report=lambda fraction: progress.__setitem__(0, fraction), should_stop=lost.is_set)
        result = RUNNERS[held.kind](work)
        if not jobs.complete(transcoder.engine, held, result=result):
            log.warning("job_claim_lost", job_id=job_id)  # another worker owns it now
            return "claim_lost"
        log.info("job_done", job_id=job_id, kind=held.kind.value)
        return "done"
    except Cancelled:
        log.warning("job_cancelled", job_id=job_id)
        return "claim_lost"
    except JobFailed as failure:
        if jobs.fail(transcoder.engine, held, reason=failure.reason, retry=False):
            remove_outputs(transcoder.store, prefix)
        log.info("job_failed", job_id=job_id, reason=failure.reason)
        return "failed"
    except Exception as error:  # any other error is retried with back-off, then fails
        log.exception("job_error", job_id=job_id, attempt=held.attempt)
        state = jobs.fail(transcoder.engine, held, reason=f"internal error ({type(error).__name__}) / 内部错误",
                          retry=True)
        if state is JobState.queued:
            jobs.send(transcoder.celery, job_id=job_id, kind=held.kind,
                      countdown_s=RETRY_BASE_S * 3 ** (held.attempt - 1))
            return "retrying"
        if state is JobState.failed:
            remove_outputs(transcoder.store, prefix)
        return "failed"
    finally:
        stop.set()
        clear_scratch(scratch)


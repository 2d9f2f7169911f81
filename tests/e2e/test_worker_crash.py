"""A transcoder worker killed with SIGKILL mid-transcode, on the embedded broker and on Redis:
the sweeper re-queues the job, a new worker finishes it exactly once, and storage holds nothing
but the committed outputs."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from services.common import jobs
from services.common.db import create_db_engine
from services.common.settings import BrokerSettings
from services.common.storage import create_blob_store
from services.common.tasks import create_celery
from services.transcoder.pipeline import MANIFEST
from tests import media
from tests.conftest import SECRET, make_settings, server_url
from tests.live import assert_no_read_then_write, free_port, fresh_database

ROOT = Path(__file__).resolve().parents[2]
table = jobs.processing_jobs


@pytest.fixture(params=["embedded", "redis"])
def broker_url(request):
    return None if request.param == "embedded" else server_url("LB_TEST_REDIS_URL", "Redis")


class Worker:
    """`celery worker` as deployed (threads pool), in its own process group."""

    def __init__(self, *, database_url: str, data_dir: Path, broker_url: str | None) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LB_")}
        env.update(LB_ENV="test", LB_DATABASE_URL=database_url, LB_DATA_DIR=str(data_dir), LB_SECRET_KEY=SECRET,
                   LB_TRANSCODER_PORT=str(free_port()), LB_TRANSCODER_HEARTBEAT_S="0.5", LB_LOG_LEVEL="INFO",
                   LB_DATABASE_CHECK_WRITERS="1")
        if broker_url:
            env["LB_BROKER_URL"] = broker_url
        self.log = (data_dir.parent / f"worker-{time.monotonic_ns()}.log").open("ab")
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "celery"), "-A", "services.transcoder.worker:celery", "worker",
             "--queues", "probe,video", "--pool", "threads", "--concurrency", "1", "--loglevel", "INFO",
             "--without-heartbeat", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()
        assert_no_read_then_write(Path(self.log.name))


def job_row(engine, job_id):
    with engine.connect() as connection:
        return connection.execute(select(table).where(table.c.id == job_id)).one()


def wait_until(predicate, *, timeout: float, every: float = 0.2, on_wait=lambda: None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        on_wait()
        time.sleep(every)
    raise AssertionError("timed out")


def test_a_worker_killed_mid_transcode_loses_nothing_and_leaves_nothing(broker_url, database_url, tmp_path):
    live_db = fresh_database(database_url, tmp_path)
    data_dir = tmp_path / "data"
    settings = make_settings(data_dir, live_db)
    if broker_url:
        settings = settings.model_copy(update={"broker": BrokerSettings(url=broker_url)})
    engine = create_db_engine(live_db)
    store = create_blob_store(settings)
    api_side = create_celery(settings, name="api")
    if broker_url:  # a clean queue, whatever an earlier run left
        with api_side.connection_for_write() as connection:
            for contract in jobs.CONTRACTS.values():
                connection.default_channel.queue_declare(contract.queue, durable=True)
                connection.default_channel.queue_purge(contract.queue)

    source = media.lesson_mp4(tmp_path / "lesson.mp4", seconds=40, size="854x480")
    store.put_file("sources/lesson.mp4", source, content_type="video/mp4")
    asset_id = "A" * 26
    with engine.begin() as connection:
        job_id = jobs.create_job(connection, resource_id="R" * 26, asset_id=asset_id, kind=jobs.JobKind.ladder,
                                 source_key="sources/lesson.mp4")
    prefix = jobs.output_prefix(asset_id, jobs.JobKind.ladder)
    # What an attempt killed while publishing would leave behind.
    store.put_file(f"{prefix}/t0/240p/seg_99999.ts", source, content_type="video/mp2t")

    first = Worker(database_url=live_db, data_dir=data_dir, broker_url=broker_url)
    try:
        assert jobs.dispatch(engine, api_side) == 1
        running = wait_until(lambda: (row := job_row(engine, job_id)).state is jobs.JobState.running
                             and row.progress >= 5 and row, timeout=90)
        assert running.attempts == 1
        first.kill()
    finally:
        first.stop()
    assert job_row(engine, job_id).state is jobs.JobState.running  # nobody told the ledger

    second = Worker(database_url=live_db, data_dir=data_dir, broker_url=broker_url)
    try:
        # The API's media janitor runs this every few seconds; stale after 2 s here.
        done = wait_until(lambda: (row := job_row(engine, job_id)).state is jobs.JobState.done and row,
                          timeout=180, every=0.5, on_wait=lambda: jobs.sweep(engine, api_side, stale_after_s=2))
    finally:
        second.stop()
    assert done.attempts == 2 and done.error is None
    manifest = done.result
    expected = {f"{prefix}/{name}" for name in [*manifest["files"], MANIFEST]}
    stored = {info.key for info in store.list("media/")}
    assert stored == expected  # every committed output, and nothing else
    assert {v["name"] for v in manifest["tracks"][0]["variants"]} == {"480p", "360p", "240p"}
    # The killed attempt's scratch space went when the next worker started.
    assert [p.name for p in (data_dir / "scratch" / "transcoder").iterdir()] == []
    engine.dispose()

"""The processing job ledger on SQLite and PostgreSQL: one claim per attempt, writes refused to
a worker that lost its claim, the sweeper's rescue and retirement of jobs, and the outbox-style
dispatch that sends each queued job once."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from services.common import jobs
from services.common.db import create_db_engine, utcnow
from services.common.jobs import JobKind, JobState, processing_jobs
from services.common.renditions import OtherOutput
from services.common.ids import new_id
from tests.helpers import RecordingBroker
from tests.live import fresh_database


@pytest.fixture(scope="module")
def engine(database_url, tmp_path_factory):
    engine = create_db_engine(fresh_database(database_url, tmp_path_factory.mktemp("ledger")))
    yield engine
    engine.dispose()


@pytest.fixture
def job_id(engine):
    with engine.begin() as connection:
        return jobs.create_job(connection, resource_id=new_id(), asset_id=new_id(), kind=JobKind.ladder,
                               source_key="sources/x.mp4")


def row(engine, job_id):
    with engine.connect() as connection:
        return connection.execute(select(processing_jobs).where(processing_jobs.c.id == job_id)).one()


def age(engine, job_id, **columns_seconds):
    with engine.begin() as connection:
        connection.execute(update(processing_jobs).where(processing_jobs.c.id == job_id).values(
            **{column: utcnow() - timedelta(seconds=s) for column, s in columns_seconds.items()}))


def test_dispatch_sends_each_queued_job_once(engine, job_id):
    broker = RecordingBroker()
    jobs.dispatch(engine, broker)
    jobs.dispatch(engine, broker)
    assert [(j, q) for j, q, _ in broker.sent if j == job_id] == [(job_id, "video")]


def test_only_one_claim_per_attempt_and_a_finished_job_is_not_claimed_again(engine, job_id):
    held = jobs.claim(engine, job_id, worker="w1")
    assert held is not None and held.attempt == 1 and held.kind is JobKind.ladder
    assert jobs.claim(engine, job_id, worker="w2") is None  # a duplicate message
    assert jobs.heartbeat(engine, held, progress=40)
    assert row(engine, job_id).progress == 40
    assert jobs.complete(engine, held, result=OtherOutput(files=[]))
    assert jobs.claim(engine, job_id, worker="w3") is None
    done = row(engine, job_id)
    assert (done.state, done.progress, done.attempts) == (JobState.done, 100, 1)


def test_a_stalled_worker_loses_its_claim_and_can_no_longer_write(engine, job_id):
    broker = RecordingBroker()
    stalled = jobs.claim(engine, job_id, worker="w1")
    age(engine, job_id, heartbeat_at=60)
    assert jobs.sweep(engine, broker, stale_after_s=45)["requeued"] >= 1
    assert row(engine, job_id).state is JobState.queued
    assert any(sent[0] == job_id for sent in broker.sent)  # dispatched again
    second = jobs.claim(engine, job_id, worker="w2")
    assert second is not None and second.attempt == 2
    # The first worker wakes up: every write it tries is refused.
    assert not jobs.heartbeat(engine, stalled, progress=90)
    assert not jobs.complete(engine, stalled, result=OtherOutput(files=["stale"]))
    assert jobs.fail(engine, stalled, reason="late", retry=True) is None
    assert jobs.complete(engine, second, result=OtherOutput(files=[]))
    assert row(engine, job_id).result == {"files": []}


def test_retries_then_a_final_failure_with_its_reason(engine, job_id):
    for attempt in range(1, jobs.MAX_ATTEMPTS + 1):
        held = jobs.claim(engine, job_id, worker="w")
        assert held is not None and held.attempt == attempt
        state = jobs.fail(engine, held, reason="ffmpeg crashed / 转码失败", retry=True)
        assert state is (JobState.queued if attempt < jobs.MAX_ATTEMPTS else JobState.failed)
    failed = row(engine, job_id)
    assert failed.state is JobState.failed and failed.error == "ffmpeg crashed / 转码失败"
    assert failed.finished_at is not None


def test_a_job_whose_workers_keep_dying_is_retired_by_the_sweeper(engine, job_id):
    broker = RecordingBroker()
    for _ in range(jobs.MAX_ATTEMPTS):
        assert jobs.claim(engine, job_id, worker="doomed") is not None
        age(engine, job_id, heartbeat_at=120)
        jobs.sweep(engine, broker, stale_after_s=45)
    retired = row(engine, job_id)
    assert retired.state is JobState.failed and "stopped answering" in retired.error


def test_a_long_unclaimed_job_is_sent_again(engine, job_id):
    broker = RecordingBroker()
    jobs.dispatch(engine, broker)
    age(engine, job_id, sent_at=3600)
    jobs.sweep(engine, broker, resend_after_s=900)
    assert [sent[0] for sent in broker.sent].count(job_id) == 2
    jobs.sweep(engine, broker, resend_after_s=900)  # just sent: not again
    assert [sent[0] for sent in broker.sent].count(job_id) == 2

"""The task queue contract, run over the embedded broker and over Redis: a task sent by the API
side reaches a transcoder worker, and only once the transaction that asked for it commits."""
from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from services.common.db import run_after_commit
from services.common.settings import BrokerSettings
from services.common.tasks import PING, Ping, check_broker, create_celery
from services.transcoder.app import create_worker
from tests.conftest import make_settings, server_url


@pytest.fixture(params=["embedded", "redis"])
def settings(request, tmp_path):
    base = make_settings(tmp_path / "data", "sqlite://")
    if request.param == "embedded":
        return base
    return base.model_copy(update={"broker": BrokerSettings(url=server_url("LB_TEST_REDIS_URL", "Redis"))})


@pytest.fixture
def handled(settings):
    """Nonces the worker finished, as they finish."""
    done: dict[str, threading.Event] = {}
    results: list[str] = []

    def record(retval=None, **_kwargs):
        results.append(retval)
        done.setdefault(retval, threading.Event()).set()

    task_postrun.connect(record, weak=False)
    worker_app = create_worker(settings)
    with worker_app.connection_for_write() as connection:  # a clean queue, whatever ran before
        connection.default_channel.queue_purge(PING.queue) if settings.broker.url else None
    with start_worker(worker_app, pool="solo", concurrency=1, perform_ping_check=False, queues=[PING.queue],
                      shutdown_timeout=10):
        yield done, results
    task_postrun.disconnect(record)


def wait_for(done, nonce, timeout=20.0) -> bool:
    return done.setdefault(nonce, threading.Event()).wait(timeout)


def test_broker_answers_readiness(settings):
    check_broker(create_celery(settings, name="api"))


def test_a_sent_task_reaches_the_worker(settings, handled):
    done, results = handled
    api_side = create_celery(settings, name="api")
    nonce = uuid.uuid4().hex
    PING.send(api_side, Ping(nonce=nonce))
    assert wait_for(done, nonce), f"worker never handled {nonce}; saw {results}"
    # The embedded broker keeps all its files in the data dir, none in the working directory.
    assert not (Path.cwd() / "control").exists()


def test_tasks_are_sent_only_after_commit(settings, handled):
    done, results = handled
    api_side = create_celery(settings, name="api")
    engine = create_engine("sqlite://")
    rolled_back, committed = uuid.uuid4().hex, uuid.uuid4().hex
    with Session(engine) as session:
        session.begin()
        run_after_commit(session, lambda: PING.send(api_side, Ping(nonce=rolled_back)))
        session.rollback()
        session.begin()
        run_after_commit(session, lambda: PING.send(api_side, Ping(nonce=committed)))
        assert not wait_for(done, committed, timeout=1.5), "sent before the commit"
        session.commit()
    assert wait_for(done, committed)
    assert rolled_back not in results


def test_a_contract_refuses_the_wrong_payload(settings):
    with pytest.raises(TypeError):
        PING.send(create_celery(settings, name="api"), BrokerSettings())

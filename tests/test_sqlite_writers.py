"""A SQLite transaction that reads, then writes, survives another writer committing in between
when its session is a `writer_session` (and fails at once without it: the hazard seen in CI);
the API gives one to every request that may write."""
from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, select, update
from sqlalchemy.exc import OperationalError
from structlog.testing import capture_logs

from services.api.db import get_session
from services.common.db import create_db_engine, create_sessionmaker, writer_session

_metadata = MetaData()
_counters = Table("counters", _metadata, Column("id", Integer, primary_key=True), Column("value", Integer))


@pytest.fixture
def sessions(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = create_db_engine(f"sqlite:///{tmp_path / 'writers.db'}")
    _metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(_counters.insert(), [{"id": 1, "value": 0}, {"id": 2, "value": 0}])
    yield create_sessionmaker(engine)
    engine.dispose()


def _bump_other_row(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as other:
        other.execute(update(_counters).where(_counters.c.id == 2).values(value=_counters.c.value + 1))
        other.commit()


def test_a_plain_read_then_write_fails_when_another_writer_commits_in_between(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        session.scalar(select(_counters.c.value).where(_counters.c.id == 1))
        _bump_other_row(sessions)
        with pytest.raises(OperationalError, match="locked"):
            session.execute(update(_counters).where(_counters.c.id == 1).values(value=1))


def test_a_writer_session_makes_the_other_writer_wait_instead(sessions) -> None:  # type: ignore[no-untyped-def]
    with writer_session(sessions) as session:
        value = session.scalar(select(_counters.c.value).where(_counters.c.id == 1))
        other = threading.Thread(target=_bump_other_row, args=(sessions,))
        other.start()
        other.join(timeout=0.5)
        assert other.is_alive(), "the other writer should wait for the write lock"
        session.execute(update(_counters).where(_counters.c.id == 1).values(value=value + 1))
        session.commit()
        other.join(timeout=10)
        assert not other.is_alive()
        # Its next transaction is a writer's too.
        session.scalar(select(_counters.c.value).where(_counters.c.id == 1))
        other = threading.Thread(target=_bump_other_row, args=(sessions,))
        other.start()
        other.join(timeout=0.3)
        session.execute(update(_counters).where(_counters.c.id == 1).values(value=_counters.c.value + 1))
        session.commit()
        other.join(timeout=10)
    with sessions() as session:
        assert session.execute(select(_counters.c.value).order_by(_counters.c.id)).scalars().all() == [2, 2]


def test_readers_are_not_made_writers(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as reader, writer_session(sessions) as writer:
        reader.scalar(select(_counters.c.value))  # an open plain transaction holds no write lock
        writer.execute(update(_counters).where(_counters.c.id == 1).values(value=5))
        writer.commit()
        reader.commit()


@pytest.mark.parametrize(("method", "writes"), [("GET", False), ("HEAD", False), ("POST", True),
                                               ("PATCH", True), ("PUT", True), ("DELETE", True)])
def test_the_api_gives_requests_that_may_write_a_writer_session(sessions, method, writes) -> None:  # type: ignore[no-untyped-def]
    request = SimpleNamespace(method=method, app=SimpleNamespace(state=SimpleNamespace(sessionmaker=sessions)))

    async def writer_or_not() -> bool:
        dependency = get_session(request)  # type: ignore[arg-type]
        session = await anext(dependency)
        try:
            session.scalar(select(_counters.c.value))
            return session.connection().get_execution_options().get("lessonbridge_writer", False)
        finally:
            await dependency.aclose()

    assert asyncio.run(writer_or_not()) is writes


def test_the_writer_check_reports_a_plain_read_then_write_and_nothing_else(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'checked.db'}", check_writers=True)
    _metadata.create_all(engine)
    sessions = create_sessionmaker(engine)
    bump = update(_counters).where(_counters.c.id == 1).values(value=_counters.c.value + 1)
    with capture_logs() as logs:
        with engine.begin() as connection:  # begins with the write: fine
            connection.execute(_counters.insert(), [{"id": 1, "value": 0}])
            connection.execute(select(_counters.c.value)).all()
            connection.execute(bump)
        with writer_session(sessions) as session:  # a writer: fine
            session.scalar(select(_counters.c.value))
            session.execute(bump)
            session.commit()
        with sessions() as session:  # only reads: fine
            session.scalar(select(_counters.c.value))
        assert logs == []
        with sessions() as session:
            session.scalar(select(_counters.c.value))
            session.execute(bump)
            session.execute(bump)  # reported once per transaction
            session.commit()
    engine.dispose()
    assert [entry["event"] for entry in logs] == ["sqlite_read_then_write"]
    assert logs[0]["read"].startswith("SELECT") and logs[0]["write"].startswith("UPDATE counters")

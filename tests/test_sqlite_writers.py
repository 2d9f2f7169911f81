"""A SQLite transaction that reads, then writes, survives another writer committing in between
when it begins with `begin_write` (and fails at once without it: the hazard seen in CI)."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from services.common.db import begin_write, create_db_engine, create_sessionmaker

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


def test_begin_write_makes_the_other_writer_wait_instead(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        begin_write(session)
        value = session.scalar(select(_counters.c.value).where(_counters.c.id == 1))
        other = threading.Thread(target=_bump_other_row, args=(sessions,))
        other.start()
        other.join(timeout=0.5)
        assert other.is_alive(), "the other writer should wait for the write lock"
        session.execute(update(_counters).where(_counters.c.id == 1).values(value=value + 1))
        session.commit()
        other.join(timeout=10)
        assert not other.is_alive()
    with sessions() as session:
        assert session.execute(select(_counters.c.value).order_by(_counters.c.id)).scalars().all() == [1, 1]


def test_readers_are_not_made_writers(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as reader, sessions() as writer:
        reader.scalar(select(_counters.c.value))  # an open plain transaction holds no write lock
        begin_write(writer)
        writer.execute(update(_counters).where(_counters.c.id == 1).values(value=5))
        writer.commit()
        reader.commit()


def test_begin_write_must_start_the_transaction(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        session.scalar(select(_counters.c.value))
        with pytest.raises(RuntimeError, match="start the transaction"):
            begin_write(session)

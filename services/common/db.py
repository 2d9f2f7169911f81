"""Relational database plumbing shared by services: engines, naming conventions, UTC times,
and after-commit hooks (work is queued only once the transaction that caused it commits)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, String, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeDecorator

# Deterministic constraint names, so Alembic migrations can name (and drop) them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; always hands back timezone-aware UTC datetimes (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class EnumText(TypeDecorator[StrEnum]):
    """A StrEnum stored as its plain value in a VARCHAR: readable in SQL, no native enum types
    to migrate on PostgreSQL, and the enum member (not a bare str) when read back."""

    impl = String
    cache_ok = True

    def __init__(self, enum_type: type[StrEnum], length: int = 32) -> None:
        super().__init__(length)
        self.enum_type = enum_type

    def process_bind_param(self, value: StrEnum | str | None, dialect: Any) -> str | None:
        return None if value is None else self.enum_type(value).value

    def process_result_value(self, value: str | None, dialect: Any) -> StrEnum | None:
        return None if value is None else self.enum_type(value)


# As many pooled connections as the API has worker threads (AnyIO's default 40): fewer makes
# the pool open and close overflow connections all the time (each paying its setup), measured
# as a large share of a read request's cost.
POOL_SIZE = 40  # LB_DATABASE_POOL_SIZE


def create_db_engine(url: str, *, echo: bool = False, pool_size: int = POOL_SIZE) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _create_sqlite_engine(url, echo=echo, pool_size=pool_size)
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=pool_size, max_overflow=10)


def _create_sqlite_engine(url: str, *, echo: bool, pool_size: int) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        pooling: dict[str, Any] = {"pool_size": pool_size, "max_overflow": 10}
    else:
        pooling = {}  # in-memory databases get SQLAlchemy's single-connection pool
    engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 15}, **pooling)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; take control of
        # it (the recipe in SQLAlchemy's SQLite docs) and emit BEGIN ourselves below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL lets readers run while a writer commits; NORMAL sync is durable across crashes of
        # the process (not of the OS) and is the usual pairing with WAL.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Straight to the driver: through exec_driver_sql this one statement cost as much
        # Python as a request's real queries (measured with py-spy on GET /resources/{id}).
        connection.connection.driver_connection.execute("BEGIN")

    return engine


def create_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


_AFTER_COMMIT_KEY = "lessonbridge.after_commit"


def run_after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once the session's current transaction commits; drop it on rollback."""
    session.info.setdefault(_AFTER_COMMIT_KEY, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit_callbacks(session: Session) -> None:
    callbacks = session.info.pop(_AFTER_COMMIT_KEY, [])
    for callback in callbacks:
        callback()


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_commit_callbacks(session: Session, _previous: Any) -> None:
    session.info.pop(_AFTER_COMMIT_KEY, None)

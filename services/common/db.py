"""Relational database plumbing shared by services: engines, naming conventions, UTC times,
and after-commit hooks (work is queued only once the transaction that caused it commits)."""
from __future__ import annotations

import traceback
from collections import namedtuple
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import structlog

from sqlalchemy import Connection, DateTime, Dialect, Engine, MetaData, Select, String, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeDecorator

_log = structlog.get_logger("db")

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


def create_db_engine(url: str, *, echo: bool = False, pool_size: int = POOL_SIZE, check_writers: bool = False) -> Engine:
    """`check_writers`: on SQLite, report plain transactions that read and then write (`WriterCheck`)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _create_sqlite_engine(url, echo=echo, pool_size=pool_size, check_writers=check_writers)
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=pool_size, max_overflow=10)


def _create_sqlite_engine(url: str, *, echo: bool, pool_size: int, check_writers: bool) -> Engine:
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
        if check_writers:
            dbapi_connection.set_trace_callback(WriterCheck().statement)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Straight to the driver: through exec_driver_sql this one statement cost as much
        # Python as a request's real queries (measured with py-spy on GET /resources/{id}).
        writer = connection.get_execution_options().get(_WRITER, False)
        connection.connection.driver_connection.execute("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine


_WRITER = "lessonbridge_writer"


def writer_session(sessions: sessionmaker[Session]) -> Session:
    """A session each of whose transactions begins as a writer: for work that reads and then writes.

    On SQLite a plain transaction that has read fails at once with 'database is locked' when it
    goes on to write after another connection committed: its snapshot is stale, and the busy
    timeout does not apply (seen in CI, between a request's token check and its first write).
    A writer's BEGIN IMMEDIATE takes the write lock first, waiting for it up to the busy timeout.
    Only writers: readers stay concurrent under WAL, and the API's read speed depends on it. So a
    writer must not hold a transaction open across slow work. Elsewhere (PostgreSQL) the option
    does nothing. A session bound to one connection (tests) is returned as it is."""
    bind = sessions.kw["bind"]
    if isinstance(bind, Engine):
        return sessions(bind=bind.execution_options(**{_WRITER: True}))  # ~11 µs: a view, not a new pool
    return sessions()


def write_apart(session: Session, statement: Any) -> None:
    """Commits what the session has read, then runs `statement` (a write) in a transaction of its
    own that begins with it, and commits: for the one write a reading request makes (a view
    count, a last-seen time). A plain transaction must not read and then write (SQLite: see
    `writer_session`), and making every such request a writer would serialise the reads."""
    session.commit()
    session.execute(statement.execution_options(synchronize_session=False))
    session.commit()


class WriterCheck:
    """Watches one SQLite connection's statements, as SQLite runs them (PreparedQuery's too), and
    logs `sqlite_read_then_write` when a plain transaction reads and then writes: the pattern
    that fails at once when another writer commits in between (see `writer_session`), which CI
    met only now and then. The tests that run the API as a process turn it on and fail on the
    log line, so the pattern shows up every time its code runs rather than under load."""

    def __init__(self) -> None:
        self.plain = False
        self.first_read: str | None = None

    def statement(self, sql: str) -> None:
        verb = sql.lstrip()[:10].upper()
        if verb.startswith("BEGIN"):
            self.plain, self.first_read = "IMMEDIATE" not in sql.upper(), None
        elif verb.startswith(("COMMIT", "ROLLBACK", "END")):
            self.plain = False
        elif not self.plain:
            return
        elif verb.startswith(("SELECT", "WITH")):
            self.first_read = self.first_read or sql
        elif verb.startswith(("INSERT", "UPDATE", "DELETE", "REPLACE")):
            if self.first_read:
                code = [f"{frame.filename.rsplit('/services/', 1)[-1]}:{frame.lineno} {frame.name}"
                        for frame in traceback.extract_stack() if "/services/" in frame.filename][:-1]
                _log.error("sqlite_read_then_write", read=self.first_read[:300], write=sql[:300], code=code)
            self.plain = False  # holds the write lock from here on (and is reported once)


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


@dataclass(frozen=True)
class _CompiledQuery:
    sql: str
    positions: tuple[str, ...] | None  # parameter names in order, for positional drivers (SQLite)
    defaults: dict[str, Any]  # values written into the statement (enum members...), processed once
    bind: dict[str, Callable[[Any], Any]]  # for the caller's parameters
    row: type
    # Filled from the first cursor's description: some drivers' processors need its type codes.
    results: tuple[Callable[[Any], Any] | None, ...] | None = None


class PreparedQuery:
    """A Core SELECT compiled once per dialect and run straight on the DB-API cursor.

    For the hottest reads only. SQLAlchemy's per-execution work (cache key, execution context,
    result metadata) cost 0.04–0.14 ms per statement, 10–30× the SQLite lookup itself
    (docs/benchmarks.md, API read). The statement is still written once, in Core, and its
    column types still convert parameters and values through their own bind and result
    processors; only the per-execution machinery is skipped. It cannot take expanding (IN-list)
    parameters, which need compiling per execution: write `or_(a == x, a == y)` instead.
    """

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._compiled: dict[str, _CompiledQuery] = {}

    def rows(self, connection: Connection, params: dict[str, Any]) -> list[Any]:
        """Named-tuple rows. Runs on the connection's DB-API connection, so inside the
        transaction a Session's connection already has, and in none on a fresh `engine.connect()`."""
        compiled = self._compiled.get(connection.dialect.name) or self._compile(connection.dialect)
        values = compiled.defaults | params
        for name in params.keys() & compiled.bind.keys():
            values[name] = compiled.bind[name](values[name])
        arguments = values if compiled.positions is None else tuple(values[n] for n in compiled.positions)
        cursor = connection.connection.cursor()
        try:
            cursor.execute(compiled.sql, arguments)
            fetched = cursor.fetchall()
            if compiled.results is None:
                compiled = self._with_results(connection.dialect, compiled, cursor.description)
        finally:
            cursor.close()
        results, row = compiled.results, compiled.row
        return [row(*[v if f is None or v is None else f(v) for f, v in zip(results, raw, strict=True)])
                for raw in fetched]

    def one_or_none(self, connection: Connection, params: dict[str, Any]) -> Any:
        rows = self.rows(connection, params)
        return rows[0] if rows else None

    def _compile(self, dialect: Dialect) -> _CompiledQuery:
        compiled = self.statement.compile(dialect=dialect)
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("expanding parameters need compiling per execution; see PreparedQuery")
        bind = {name: process for name, parameter in compiled.binds.items()
                if (process := parameter.type.dialect_impl(dialect).bind_processor(dialect)) is not None}
        defaults = {name: bind[name](p.value) if name in bind else p.value
                    for name, p in compiled.binds.items() if not p.required}
        columns = list(self.statement.selected_columns)
        query = _CompiledQuery(
            sql=compiled.string,
            positions=tuple(compiled.positiontup) if dialect.positional else None,
            defaults=defaults,
            bind={name: process for name, process in bind.items() if name not in defaults},
            row=namedtuple("Row", [c.key for c in columns]))  # type: ignore[misc]  # noqa: PYI024
        self._compiled[dialect.name] = query
        return query

    def _with_results(self, dialect: Dialect, compiled: _CompiledQuery, description: Any) -> _CompiledQuery:
        columns = list(self.statement.selected_columns)
        results = tuple(c.type.dialect_impl(dialect).result_processor(dialect, d[1])
                        for c, d in zip(columns, description, strict=True))
        compiled = replace(compiled, results=results)
        self._compiled[dialect.name] = compiled
        return compiled

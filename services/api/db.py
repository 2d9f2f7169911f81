"""The API's relational database: the declarative base and the per-request session."""
from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import nullcontext
from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Connection, Engine, String
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from services.common.db import UTCDateTime, new_metadata, utcnow, writer_session
from services.common.ids import ID_LENGTH, new_id


class Base(DeclarativeBase):
    metadata = new_metadata()
    type_annotation_map = {datetime: UTCDateTime()}


def id_column() -> Mapped[str]:
    return mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)


def created_at_column() -> Mapped[datetime]:
    return mapped_column(default=utcnow)


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_session(request: Request) -> AsyncIterator[Session]:
    # Async on purpose: making and closing a session needs no worker thread, and each thread
    # hop costs a request ~0.2 ms. The session does its I/O in the route's own thread.
    # A request that may write gets a writer session: see `writer_session` for why.
    sessions = request.app.state.sessionmaker
    session = sessions() if request.method in READ_METHODS else writer_session(sessions)
    try:
        yield session
    finally:
        session.close()


# At most this many requests hold a session at once; the rest wait in the event loop, holding
# neither a thread nor a connection. Without the cap, requests holding connections waited for a
# worker thread (FastAPI validates a sync route's response on one) while every thread waited
# for a connection: the API stopped answering at ~40+ concurrent requests (measured). The
# pool (services.common.db.POOL_SIZE, at least this) can then never run dry.
SESSIONS_AT_ONCE = 32
SessionDep = Annotated[Session, Depends(get_session, scope="function", max_concurrency=SESSIONS_AT_ONCE)]


T = TypeVar("T")


async def read_on_connection(request: Request, read: Callable[[Connection], T]) -> T:
    """Runs a read-only `read(connection)` for a hot route, with no dependency machinery and no
    ORM session (opening and closing one cost ~15 % of the hottest read, measured).

    On SQLite it runs right here on the event loop: SQLite is a library in this process, so its
    calls are CPU work under the GIL either way, and a worker thread adds only hand-offs (WAL
    readers never wait for writers). On a database server it runs on a worker thread, as sync
    routes do, so network waits never block the loop.
    """
    # The sessions' own bind: the engine in service (a pooled connection per read), or the one
    # connection a test runs in, so reads see what the test's sessions wrote.
    bind = request.app.state.sessionmaker.kw["bind"]

    def run() -> T:
        with bind.connect() if isinstance(bind, Engine) else nullcontext(bind) as connection:
            return read(connection)

    if request.app.state.engine.dialect.name == "sqlite":
        return run()
    return await run_in_threadpool(run)

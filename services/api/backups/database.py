"""Dumping and restoring the relational database: SQLite through its online backup API (a
consistent copy while the API keeps writing), PostgreSQL through `pg_dump -Fc` / `pg_restore`."""
from __future__ import annotations

import glob
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

from services.api.backups.errors import DatabaseToolFailed

# Pages per step when restoring. A dump copies in one step instead: under WAL its read
# transaction blocks no writer, while a write by the API between steps would restart the copy.
SQLITE_PAGES_PER_STEP = 4096
# Tables whose rows mean the database is in use (a freshly migrated one has only the taxonomy).
DATA_TABLES = ("districts", "users", "resources", "blobs", "uploads")


def kind_of(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ValueError(f"backups support SQLite and PostgreSQL, not {backend}")
    return backend


def dump_file_name(kind: str) -> str:
    return "database.sqlite" if kind == "sqlite" else "database.pgdump"


def dump(url: str, destination: Path, *, progress: Callable[[int, int], None]) -> None:
    """Writes a consistent copy of the database at `url` to `destination`."""
    if kind_of(url) == "sqlite":
        _sqlite_copy(_sqlite_path(url), destination, pages=-1, progress=progress)
    else:
        _run_pg_tool("pg_dump", ["--format=custom", f"--file={destination}", f"--dbname={_libpq_uri(url)}"], url)


def restore(url: str, source: Path, *, engine: Engine, progress: Callable[[int, int], None]) -> None:
    """Replaces the database at `url` with the dump at `source`."""
    if kind_of(url) == "sqlite":
        path = _sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        engine.dispose()  # no pooled connection may outlive the pages it read
        # Through the backup API too: it replaces every page under SQLite's own locks, WAL included.
        _sqlite_copy(source, path, pages=SQLITE_PAGES_PER_STEP, progress=progress)
        return
    with engine.begin() as connection:
        # Whatever a migration made (an empty schema from `lb db upgrade`) or a forced restore
        # overwrites goes first; pg_restore then recreates it all in one transaction.
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    _run_pg_tool("pg_restore", ["--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
                                f"--dbname={_libpq_uri(url)}", str(source)], url)


def ensure_exists(url: str) -> None:
    """Creates a missing PostgreSQL database (lost with its server, say) for a restore to fill."""
    if kind_of(url) != "postgresql":
        return  # SQLite makes its file on first connection
    probe = create_engine(url)
    try:
        with probe.connect():
            return
    except OperationalError as error:
        if "does not exist" not in str(error):
            raise
    finally:
        probe.dispose()
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            name = connection.dialect.identifier_preparer.quote(parsed.database)
            connection.execute(text(f"CREATE DATABASE {name}"))
    finally:
        admin.dispose()


def holds_data(engine: Engine) -> bool:
    """Whether any table that users fill has rows (a migrated, unused database does not)."""
    present = set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        return any(connection.execute(text(f'SELECT 1 FROM "{table}" LIMIT 1')).first() is not None
                   for table in DATA_TABLES if table in present)


def schema_revision(connection: Connection) -> str | None:
    if "alembic_version" not in inspect(connection).get_table_names():
        return None
    return connection.scalar(text("SELECT version_num FROM alembic_version"))


def sqlite_schema_revision(path: Path) -> str | None:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        connection.close()
    return row[0] if row else None


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise ValueError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _sqlite_copy(source: Path, destination: Path, *, pages: int, progress: Callable[[int, int], None]) -> None:
    reader = sqlite3.connect(source, timeout=30)
    writer = sqlite3.connect(destination, timeout=30)
    try:
        reader.execute("PRAGMA busy_timeout=30000")

        def step(_status: int, remaining: int, total: int) -> None:
            progress(total - remaining, total)

        reader.backup(writer, pages=pages, progress=step)
        writer.commit()
    finally:
        writer.close()
        reader.close()


def find_pg_tool(name: str) -> str:
    """The newest `name` (pg_dump must be at least the server's version): Debian installs each
    major version's client under /usr/lib/postgresql/<major>/bin, and /usr/bin holds only a
    wrapper that needs a configured cluster; then whatever PATH has."""
    found = [path for path in glob.glob(f"/usr/lib/postgresql/*/bin/{name}") if os.access(path, os.X_OK)]
    if found:
        return max(found, key=lambda path: [int(n) for n in re.findall(r"\d+", Path(path).parent.parent.name)] or [0])
    on_path = shutil.which(name)
    if on_path:
        return on_path
    raise DatabaseToolFailed(tool=name, message="not installed (Debian: apt-get install postgresql-client, "
                                                "or infra/postgres.sh install)")


def _libpq_uri(url: str) -> str:
    """The SQLAlchemy URL as libpq takes it, without the password (passed in PGPASSWORD instead,
    so it shows in no process list)."""
    parsed = make_url(url)
    return URL.create("postgresql", username=parsed.username, host=parsed.host, port=parsed.port,
                      database=parsed.database, query=parsed.query).render_as_string(hide_password=False)


def _run_pg_tool(name: str, arguments: list[str], url: str) -> None:
    env = dict(os.environ)
    password = make_url(url).password
    if password:
        env["PGPASSWORD"] = str(password)
    result = subprocess.run([find_pg_tool(name), *arguments], env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise DatabaseToolFailed(tool=name, message=(result.stderr or result.stdout).strip()[-2000:])

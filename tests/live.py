"""Real processes for tests that need more than TestClient: a migrated database that commits,
the API as its own process (so it can be killed), and a TCP proxy that injects faults."""
from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import httpx
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from services.api.migrate import upgrade
from services.api.taxonomy import service as taxonomy
from services.common.db import create_db_engine

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_database(base_url: str, directory: Path) -> str:
    """A new, migrated database beside the suite's: SQLite file, or a new PostgreSQL database."""
    if base_url.startswith("sqlite"):
        url = f"sqlite:///{directory / f'live-{uuid.uuid4().hex[:8]}.db'}"
    else:
        name = f"lb_live_{uuid.uuid4().hex[:10]}"
        admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
    engine = create_db_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        taxonomy.import_document(session, taxonomy.seed_document(), actor_id=None, district_id=None)
        session.commit()
    engine.dispose()
    return url


@contextmanager
def committing_engine(base_url: str, directory: Path) -> Iterator[Engine]:
    """An engine on a `fresh_database` of its own, dropped afterwards (PostgreSQL): for tests
    whose rows must really commit, to be seen by other connections, threads or processes."""
    url = fresh_database(base_url, directory)
    engine = create_db_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        if engine.dialect.name == "postgresql":
            admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE "{make_url(url).database}" WITH (FORCE)'))
            admin.dispose()


def s3_environment(s3_url: str, bucket: str) -> dict[str, str]:
    parsed = urlparse(s3_url)
    return {"LB_S3_ENDPOINT": f"{parsed.hostname}:{parsed.port}", "LB_S3_ACCESS_KEY": parsed.username or "",
            "LB_S3_SECRET_KEY": parsed.password or "", "LB_S3_BUCKET": bucket}


API_APP = "services.api.app:create_app_from_env"
SEARCH_APP = "services.search.app:create_app_from_env"


@dataclass
class ApiProcess:
    """The API (or, with `app=SEARCH_APP`, the search service) under uvicorn in its own process
    group, as deployed."""

    database_url: str
    data_dir: Path
    secret: str
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    app: str = API_APP

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> ApiProcess:
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("LB_")}, "LB_ENV": "test",
               "LB_DATABASE_URL": self.database_url, "LB_DATA_DIR": str(self.data_dir), "LB_SECRET_KEY": self.secret,
               "LB_API_PORT": str(self.port), "LB_LOG_LEVEL": os.environ.get("LB_TEST_API_LOG_LEVEL", "WARNING"),
               "LB_DATABASE_CHECK_WRITERS": "1", **self.extra_env}
        self.log = (self.data_dir.parent / f"{self.app.split('.')[1]}-{self.port}.log").open("ab")
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "uvicorn"), "--factory", self.app,
             "--host", "127.0.0.1", "--port", str(self.port), "--no-access-log", "--no-proxy-headers"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.app} exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.app} never became ready")

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, as when a machine loses power or the OOM killer strikes."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        if getattr(self, "log", None):
            self.log.close()
            assert_no_read_then_write(Path(self.log.name))


def assert_no_read_then_write(log: Path) -> None:
    """SQLite: no plain transaction of a process read and then wrote (services.common.db.WriterCheck,
    on with LB_DATABASE_CHECK_WRITERS)."""
    found = [line for line in log.read_text(errors="replace").splitlines() if "sqlite_read_then_write" in line]
    assert not found, "a plain transaction read, then wrote:\n" + "\n".join(found[:5])


class FaultyProxy:
    """Forwards 127.0.0.1:port to a target, and on request breaks things on the way:
    drops the connection after a number of client bytes, or flips one byte of a request body."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.cut_after: list[int] = []     # total client→server byte counts to drop a connection at
        self.corrupt_next_body = False     # flip one byte in the next request body seen
        self.client_bytes = 0              # all client→server bytes forwarded
        self.cuts_done = 0
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._stop.set()
        self.listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._pipe, args=(client,), daemon=True).start()

    def _pipe(self, client: socket.socket) -> None:
        server = socket.create_connection(("127.0.0.1", self.target_port))
        header_buffer, corrupting = b"", self.corrupt_next_body
        try:
            while not self._stop.is_set():
                readable, _, _ = select.select([client, server], [], [], 0.5)
                for sock in readable:
                    data = sock.recv(256 * 1024)
                    if not data:
                        return
                    if sock is server:
                        client.sendall(data)
                        continue
                    if self.cut_after and self.client_bytes + len(data) >= self.cut_after[0]:
                        keep = self.cut_after.pop(0) - self.client_bytes
                        server.sendall(data[:max(keep, 0)])
                        self.client_bytes += max(keep, 0)
                        self.cuts_done += 1
                        return  # both sides see the connection die mid-request
                    if corrupting:
                        header_buffer += data
                        boundary = header_buffer.find(b"\r\n\r\n")
                        if header_buffer.startswith(b"PATCH") and boundary != -1 and len(header_buffer) > boundary + 100:
                            position = len(data) - (len(header_buffer) - (boundary + 50))
                            if 0 <= position < len(data):
                                data = data[:position] + bytes([data[position] ^ 0xFF]) + data[position + 1:]
                                corrupting = self.corrupt_next_body = False
                    server.sendall(data)
                    self.client_bytes += len(data)
        except OSError:
            return
        finally:
            client.close()
            server.close()

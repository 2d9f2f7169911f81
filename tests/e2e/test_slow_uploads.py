"""Slow uploads cannot stall the API (issue 17): more PATCH bodies trickling in at once than the
API has database sessions and pooled connections, while sign-in and GET /me still answer; the
uploads in flight are capped per user and per school (429); and a body that stops is ended by
the idle timeout with what it sent kept.

A real API process: only real sockets give true concurrency (a TestClient runs one request
at a time), and only a real uvicorn shows what a half-sent body does to it."""
from __future__ import annotations

import base64
import json
import socket
import threading
import time
from urllib.parse import urlparse

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.api.uploads.models import Upload
from services.common.db import create_db_engine
from tests.conftest import SECRET
from tests.factories import PASSWORD, Factory
from tests.live import ApiProcess, fresh_database

PER_USER = 4
USERS = 11
STALLED = PER_USER * USERS  # 44: above the API's 32 sessions and its 32 + 10 pooled connections
IDLE_TIMEOUT_S = 5
TRICKLE_EVERY_S = 0.5
LENGTH = 1000
TUS = {"Tus-Resumable": "1.0.0"}
FILENAME = "filename " + base64.b64encode("讲义.pdf".encode()).decode()


def wait_for(condition, what, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


class TricklingPatch:
    """A PATCH whose body comes a byte at a time, over its own socket."""

    def __init__(self, api_url: str, location: str, headers: dict[str, str]) -> None:
        address = urlparse(api_url)
        self.path = urlparse(location).path
        self.sock = socket.create_connection((address.hostname, address.port))
        lines = [f"PATCH {self.path} HTTP/1.1", f"Host: {address.hostname}:{address.port}",
                 "Content-Type: application/offset+octet-stream", "Upload-Offset: 0", "Tus-Resumable: 1.0.0",
                 f"Content-Length: {LENGTH}", *(f"{k}: {v}" for k, v in headers.items())]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + b"%PDF-")
        self.sent = 5
        self.open = True

    def trickle(self) -> None:
        if self.open and self.sent < LENGTH - 1:
            try:
                self.sock.sendall(b"x")
                self.sent += 1
            except OSError:
                self.open = False  # the server answered and closed: the test reads why below

    def response(self) -> tuple[int, dict]:
        self.sock.settimeout(60)
        raw = b""
        while chunk := self.sock.recv(65536):
            raw += chunk
        self.sock.close()
        head, _, body = raw.partition(b"\r\n\r\n")
        return int(head.split(b" ", 2)[1]), json.loads(body) if body else {}


def test_slow_uploads_leave_sign_in_and_reads_answering(database_url, tmp_path):
    url = fresh_database(database_url, tmp_path)
    engine = create_db_engine(url)
    with Session(engine) as session:
        factory = Factory(session=session, secret=SECRET)
        school = factory.school()
        users = [factory.user(school=school) for _ in range(USERS + 1)]
        session.commit()
        headers = [factory.headers(user) for user in users]
        first_username = users[0].username
    api = ApiProcess(database_url=url, data_dir=tmp_path / "data", secret=SECRET, extra_env={
        "LB_DATABASE_POOL_SIZE": "32", "LB_UPLOAD_IDLE_TIMEOUT_S": str(IDLE_TIMEOUT_S),
        "LB_UPLOADS_PER_USER": str(PER_USER), "LB_UPLOADS_PER_SCHOOL": str(STALLED)}).start()
    stop = threading.Event()
    patches: list[TricklingPatch] = []

    def trickler() -> None:
        while not stop.wait(TRICKLE_EVERY_S):
            for patch in list(patches):
                patch.trickle()

    def create(user_headers: dict[str, str]) -> str:
        response = httpx.post(f"{api.url}/api/v1/uploads/", headers={
            **user_headers, **TUS, "Upload-Length": str(LENGTH), "Upload-Metadata": FILENAME}, timeout=30)
        assert response.status_code == 201, response.text
        return response.headers["location"]

    def leases() -> int:
        with engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(Upload).where(Upload.lock_token.is_not(None)))

    thread = threading.Thread(target=trickler, daemon=True)
    try:
        locations = [create(headers[i // PER_USER]) for i in range(STALLED)]
        one_too_many, other_user = create(headers[0]), create(headers[USERS])
        thread.start()
        for i, location in enumerate(locations):
            patches.append(TricklingPatch(api.url, location, headers[i // PER_USER]))
        # More bodies streaming than the API has sessions: before the fix each held one.
        wait_for(lambda: leases() >= 32, "32 PATCHes holding their upload's lease")

        started = time.monotonic()
        signed_in = httpx.post(f"{api.url}/api/v1/auth/token", data={"username": first_username,
                                                                      "password": PASSWORD}, timeout=15)
        assert signed_in.status_code == 200, signed_in.text
        me = httpx.get(f"{api.url}/api/v1/me", timeout=15,
                       headers={"Authorization": f"Bearer {signed_in.json()['access_token']}"})
        assert me.status_code == 200, me.text
        assert time.monotonic() - started < 15
        wait_for(lambda: leases() == STALLED, "every PATCH streaming at once")

        # The caps: a fifth upload of one user, and the first of a user whose school is full.
        for location, user_headers, scope in ((one_too_many, headers[0], "user"),
                                              (other_user, headers[USERS], "school")):
            refused = httpx.patch(location, content=b"%PDF-", timeout=15, headers={
                **user_headers, **TUS, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"})
            assert refused.status_code == 429, (scope, refused.text)
            assert refused.json()["code"] == "upload.too_many_in_flight"
            assert int(refused.headers["retry-after"]) > 0
        assert all(patch.open for patch in patches)  # the trickle kept every one alive

        # The clients go quiet: each request ends after the idle timeout, its bytes kept.
        stop.set()
        thread.join()
        for i, patch in enumerate(patches):
            status, problem = patch.response()
            assert status == 408 and problem["code"] == "upload.idle_timeout", (status, problem)
            head = httpx.head(locations[i], headers={**headers[i // PER_USER], **TUS}, timeout=15)
            assert head.headers["upload-offset"] == str(patch.sent)
        assert leases() == 0
        # Their places are free again.
        again = httpx.patch(one_too_many, content=b"%PDF-", timeout=15, headers={
            **headers[0], **TUS, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"})
        assert again.status_code == 204, again.text
    finally:
        stop.set()
        for patch in patches:
            patch.sock.close()
        api.stop()
        engine.dispose()

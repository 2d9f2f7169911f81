"""On S3 (real MinIO), parts go from memory to blob storage: a client slower than storage (a
school's link) never makes the API write a part to disk, and a client faster than storage does not
fill the API's disk either: the spool holds at most SPOOL_BACKLOG (plus what is in flight), and the
request waits for parts to be sent. A spool that is lost sends the client back to the last part."""
from __future__ import annotations

import asyncio
import base64
import hashlib
import shutil
import threading
import time
import uuid
from typing import Self
from urllib.parse import urlparse

import httpx
import pytest

from services.api.uploads import router, spool
from services.api.uploads.limits import PART_SIZE
from services.common.settings import StorageSettings
from tests import media
from tests.api.uploads.test_tus import CHUNK, TUS, create, patch
from tests.helpers import assert_problem
from tests.conftest import make_settings, server_url

MiB = 1024 * 1024
BACKLOG = 16 * MiB  # small, so the test is quick; the rule is the same at any size
LENGTH = 96 * MiB


@pytest.fixture
def settings(tmp_path, database_url):
    url = urlparse(server_url("LB_TEST_S3_URL", "S3 (MinIO)"))
    return make_settings(tmp_path / "data", database_url).model_copy(update={"storage": StorageSettings(
        s3_endpoint=f"{url.hostname}:{url.port}", s3_access_key=url.username, s3_secret_key=url.password,
        s3_bucket=f"backlog-{uuid.uuid4().hex[:12]}")})


def spooled_bytes(directory):
    try:
        return sum(path.stat().st_size for path in directory.glob("*/part-*"))
    except FileNotFoundError:  # a segment sent and unlinked while we looked
        return spooled_bytes(directory)


async def stream_patch(app, location, headers, *, pause_s: float = 0) -> httpx.Response:
    """All but the last MiB (no completion), 1 MiB per ASGI message, read as the app asks for it.
    (TestClient joins a streamed body into one message, which would leave nothing to wait for.)"""
    async def body():
        for _ in range(LENGTH // MiB - 1):
            if pause_s:
                await asyncio.sleep(pause_s)
            yield bytes(MiB)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        return await http.patch(location, content=body(), headers={**headers, **CHUNK, "Upload-Offset": "0"})


class SpoolWatch:
    """The most bytes the spools held on disk at any moment, sampled every 5 ms."""

    def __init__(self, spools) -> None:
        self.spools, self.peak, self._done = spools, 0, threading.Event()
        self._thread = threading.Thread(target=self._watch)

    def _watch(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, spooled_bytes(self.spools))
            time.sleep(0.005)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._done.set()
        self._thread.join()


def test_a_client_slower_than_storage_never_puts_a_part_on_disk(client, app, factory, settings):
    teacher = factory.user()
    factory.commit()
    headers = {**factory.headers(teacher), **TUS}
    location = create(client, headers, LENGTH)
    with SpoolWatch(settings.core.data_dir / "uploads") as watch:  # 50 MB/s: MinIO keeps up
        response = asyncio.run(stream_patch(app, location, headers, pause_s=0.02))
    assert response.status_code == 204, response.text
    # Only the end of the request's bytes, short of a part, went to disk (to be committed).
    assert watch.peak <= (LENGTH - MiB) % PART_SIZE, watch.peak / MiB
    assert client.head(location, headers=headers).headers["upload-offset"] == str(LENGTH - MiB)
    assert client.delete(location, headers=headers).status_code == 204


def test_a_client_faster_than_storage_waits_instead_of_filling_the_spool(client, app, factory, settings,
                                                                          monkeypatch):
    teacher = factory.user()
    factory.commit()
    headers = {**factory.headers(teacher), **TUS}
    monkeypatch.setattr(router, "SPOOL_BACKLOG", BACKLOG)
    monkeypatch.setattr(spool, "PARTS_IN_MEMORY", 1)  # only the part filling: a waiting one goes to disk
    store = app.state.blob_store
    send = store.upload_parts

    def slow_storage(key, upload_id, parts):  # real MinIO, reached over a slow link (40 MB/s)
        time.sleep(0.2 * len(parts))
        return send(key, upload_id, parts)

    monkeypatch.setattr(store, "upload_parts", slow_storage)
    most = 0  # the most bytes the spool held, in memory and on disk
    write = spool.Spool.write

    def write_and_measure(self, data) -> None:
        nonlocal most
        write(self, data)
        most = max(most, self.size)

    monkeypatch.setattr(spool.Spool, "write", write_and_measure)
    location = create(client, headers, LENGTH)
    with SpoolWatch(settings.core.data_dir / "uploads") as watch:
        response = asyncio.run(stream_patch(app, location, headers))
    assert response.status_code == 204, response.text
    assert response.headers["upload-offset"] == str(LENGTH - MiB)
    # The backlog was reached, and no more than it, the part that filled past it and the batch
    # being written meanwhile was ever held.
    bound = BACKLOG + PART_SIZE + 2 * router.BATCH_BYTES
    assert BACKLOG <= most <= bound, most / MiB
    assert watch.peak <= bound, watch.peak / MiB
    assert client.head(location, headers=headers).headers["upload-offset"] == str(LENGTH - MiB)
    assert client.delete(location, headers=headers).status_code == 204


def test_a_lost_spool_sends_the_client_back_to_the_last_part_and_nothing_else_is_lost(
        client, app, factory, settings, tmp_path):
    """The API's data directory replaced mid-upload (a container recreated without its volume):
    the bytes after the last part are gone, but the upload is not. It rewinds to the part."""
    teacher = factory.user()
    factory.commit()
    headers = {**factory.headers(teacher), **TUS}
    data = media.padded_mp4(media.lesson_mp4(tmp_path / "clip.mp4"), tmp_path / "录播.mp4",
                            total_bytes=2 * PART_SIZE + 300_000).read_bytes()
    location = create(client, headers, len(data), "录播.mp4")
    received = PART_SIZE + 5000  # one part in S3, 5,000 bytes in the spool
    assert patch(client, headers, location, 0, data[:received]).status_code == 204
    shutil.rmtree(settings.core.data_dir / "uploads")

    problem = assert_problem(patch(client, headers, location, received, data[received:]), 409, "upload.rewound")
    assert str(PART_SIZE) in problem["detail"]
    assert client.head(location, headers=headers).headers["upload-offset"] == str(PART_SIZE)
    assert patch(client, headers, location, PART_SIZE, data[PART_SIZE:]).status_code == 204
    view = client.get(location.rstrip("/"), headers=headers).json()
    assert view["status"] == "complete", view
    assert view["sha256"] == hashlib.sha256(data).hexdigest()


async def stream_bytes(app, location, headers, data: bytes, *, offset: int, checksum: bytes) -> httpx.Response:
    """`data` as one PATCH with `Upload-Checksum: sha256 <checksum>`, 1 MiB per ASGI message."""
    async def body():
        for start in range(0, len(data), MiB):
            yield data[start:start + MiB]

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        return await http.patch(location, content=body(), headers={
            **headers, **CHUNK, "Upload-Offset": str(offset),
            "Upload-Checksum": "sha256 " + base64.b64encode(checksum).decode()})


def test_a_chunk_with_a_checksum_goes_to_storage_as_it_streams(client, app, factory, settings, monkeypatch):
    """Issue 17: the whole chunk waited for its checksum in the spool, on the API's disk."""
    teacher = factory.user()
    factory.commit()
    headers = {**factory.headers(teacher), **TUS}
    monkeypatch.setattr(router, "SPOOL_BACKLOG", BACKLOG)
    monkeypatch.setattr(spool, "PARTS_IN_MEMORY", 1)  # a part that must wait goes to disk at once
    location = create(client, headers, LENGTH)
    data = bytes(LENGTH - MiB)
    with SpoolWatch(settings.core.data_dir / "uploads") as watch:
        response = asyncio.run(stream_bytes(app, location, headers, data, offset=0,
                                            checksum=hashlib.sha256(data).digest()))
    assert response.status_code == 204, response.text
    assert response.headers["upload-offset"] == str(LENGTH - MiB)
    assert watch.peak <= BACKLOG + PART_SIZE + 2 * router.BATCH_BYTES, watch.peak / MiB
    assert client.delete(location, headers=headers).status_code == 204


def test_a_chunk_that_fails_its_checksum_after_sending_parts_leaves_the_upload_as_it_was(
        client, app, factory, settings, tmp_path):
    teacher = factory.user()
    factory.commit()
    headers = {**factory.headers(teacher), **TUS}
    data = media.padded_mp4(media.lesson_mp4(tmp_path / "clip.mp4"), tmp_path / "录播.mp4",
                            total_bytes=3 * PART_SIZE + 300_000).read_bytes()
    location = create(client, headers, len(data), "录播.mp4")
    received = 5000  # committed, short of a part: in the spool only
    assert patch(client, headers, location, 0, data[:received]).status_code == 204
    rest = data[received:]
    wrong = asyncio.run(stream_bytes(app, location, headers, rest, offset=received,
                                     checksum=hashlib.sha256(b"another chunk").digest()))
    assert_problem(wrong, 460, "upload.checksum_mismatch")
    assert client.head(location, headers=headers).headers["upload-offset"] == str(received)
    right = asyncio.run(stream_bytes(app, location, headers, rest, offset=received,
                                     checksum=hashlib.sha256(rest).digest()))
    assert right.status_code == 204, right.text
    view = client.get(location.rstrip("/"), headers=headers).json()
    assert view["status"] == "complete", view
    assert view["sha256"] == hashlib.sha256(data).hexdigest()

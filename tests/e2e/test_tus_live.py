"""tus with the official client (tuspy, unmodified) against the API as a real process, over
local disk and a real S3 server: cut connections, a killed server, corrupted bytes, quotas."""
from __future__ import annotations

import hashlib
import random
import time

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError

from services.api.orgs.models import School
from services.api.uploads.models import Upload
from services.common.db import create_db_engine
from tests import media
from tests.conftest import SECRET
from tests.factories import Factory
from tests.live import ApiProcess, FaultyProxy, fresh_database

MB = 1024 * 1024


@pytest.fixture(scope="module")
def live_db(database_url, tmp_path_factory):
    return fresh_database(database_url, tmp_path_factory.mktemp("live-db"))


@pytest.fixture
def api(live_db, storage_env, tmp_path):
    process = ApiProcess(database_url=live_db, data_dir=tmp_path / "data", secret=SECRET, extra_env=storage_env)
    process.start()
    yield process
    process.stop()


@pytest.fixture
def teacher(live_db):
    engine = create_db_engine(live_db)
    with Session(engine) as session:
        factory = Factory(session=session, secret=SECRET)
        user = factory.user()
        session.commit()
        headers = factory.headers(user)
        school_id = user.school_id
    yield {"headers": headers, "school_id": school_id, "engine": engine}
    engine.dispose()


@pytest.fixture(scope="module")
def big_lesson(tmp_path_factory):
    directory = tmp_path_factory.mktemp("media")
    path = media.padded_mp4(media.lesson_mp4(directory / "clip.mp4"), directory / "课堂实录.mp4", total_bytes=200 * MB)
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def uploader(base_url, headers, path, **options):
    client = tus_client.TusClient(f"{base_url}/api/v1/uploads/", headers=headers)
    return client.uploader(str(path), metadata={"filename": path.name, "content_type": "video/mp4"}, **options)


def server_view(api, teacher, url):
    return httpx.get(url.replace("/uploads/", "/uploads/").rstrip("/").replace(
        url.split("/api/")[0], api.url), headers=teacher["headers"]).json()


def test_an_upload_cut_three_times_at_random_points_resumes_to_the_right_sha256(api, teacher, big_lesson):
    path, digest = big_lesson
    proxy = FaultyProxy(api.port)
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    proxy.cut_after = sorted(rng.sample(range(1 * MB, 195 * MB), 3))
    try:
        first = uploader(proxy.url, teacher["headers"], path)
        url, attempts = None, 0
        while True:
            attempts += 1
            assert attempts <= 20, f"seed {seed}: no progress"
            current = first if url is None else uploader(proxy.url, teacher["headers"], path, url=url)
            try:
                current.upload()
                break
            except Exception:  # noqa: BLE001 - the proxy cut the connection (or a resume raced it): back off, resume
                url = current.url or first.url
                time.sleep(0.2)
        assert proxy.cuts_done == 3, f"seed {seed}"
        view = server_view(api, teacher, current.url)
        assert view["status"] == "complete", (seed, view)
        assert view["sha256"] == digest, f"seed {seed}"
        # Resuming re-sent little: what the server had was kept, not restarted from zero.
        assert proxy.client_bytes < path.stat().st_size * 1.5, f"seed {seed}: {proxy.client_bytes}"
    finally:
        proxy.close()


def test_an_upload_survives_the_api_being_killed_mid_way(api, teacher, big_lesson):
    path, digest = big_lesson
    first = uploader(api.url, teacher["headers"], path, chunk_size=8 * MB)
    for _ in range(5):
        first.upload_chunk()
    assert first.offset == 40 * MB
    api.kill()
    api.start()
    resumed = uploader(api.url, teacher["headers"], path, url=first.url, chunk_size=8 * MB)
    assert resumed.offset == 40 * MB  # every acknowledged byte outlived the SIGKILL
    resumed.upload()
    view = server_view(api, teacher, resumed.url)
    assert view["status"] == "complete" and view["sha256"] == digest


def test_a_corrupted_chunk_gets_460_and_is_sent_again(api, teacher, tmp_path):
    path = media.padded_mp4(media.lesson_mp4(tmp_path / "c.mp4"), tmp_path / "微课.mp4", total_bytes=6 * MB)
    proxy = FaultyProxy(api.port)
    try:
        first = uploader(proxy.url, teacher["headers"], path, chunk_size=2 * MB, upload_checksum=True)
        first.upload_chunk()
        proxy.corrupt_next_body = True
        with pytest.raises(TusCommunicationError) as refused:
            first.upload_chunk()
        assert refused.value.status_code == 460
        again = uploader(proxy.url, teacher["headers"], path, url=first.url, chunk_size=2 * MB, upload_checksum=True)
        again.upload()
        view = server_view(api, teacher, again.url)
        assert view["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    finally:
        proxy.close()


def test_an_upload_over_quota_is_refused_before_any_byte_is_sent(api, teacher, big_lesson):
    path, _ = big_lesson
    with teacher["engine"].begin() as connection:
        connection.execute(update(School).where(School.id == teacher["school_id"])
                           .values(storage_quota_bytes=100 * MB))
    proxy = FaultyProxy(api.port)
    try:
        with pytest.raises(TusCommunicationError) as refused:
            uploader(proxy.url, teacher["headers"], path).upload()
        assert refused.value.status_code == 413
        assert proxy.client_bytes < 4096  # the creation request's headers, and not one byte of the file
        with teacher["engine"].connect() as connection:
            assert connection.scalar(select(func.count()).select_from(Upload).where(
                Upload.school_id == teacher["school_id"])) == 0
    finally:
        proxy.close()

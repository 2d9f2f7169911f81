"""The restore drill, end to end: a district with uploads, a lesson transcoded by the real
pipeline and a document, published and found by search; `lb backup create` while the API runs;
then the data directory is destroyed (and on the scale-out leg the PostgreSQL database and the
MinIO bucket too); `lb backup restore` brings it back, with a new, empty search index rebuilt.
Afterwards every stored file has its sha256, the lesson plays (master, variant playlists and
every segment are served) and search answers as before. Legs: SQLite + local disk, and
PostgreSQL + MinIO."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest
from minio import Minio
from minio.deleteobjects import DeleteObject
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from services.api.migrate import upgrade
from services.api.orgs.models import Role
from services.api.taxonomy import service as taxonomy
from services.common.db import create_db_engine
from services.common.storage import create_blob_store
from services.transcoder.app import Transcoder
from tests import media
from tests.conftest import REQUIRE_SERVERS, SECRET, server_url
from tests.e2e.test_playback import _settings, run_jobs, upload, wait_for_status
from tests.factories import Factory
from tests.helpers import RecordingBroker
from tests.live import SEARCH_APP, ApiProcess, s3_environment

QUERIES = ("认识钟表", "配方法", "一元二次方程")
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


@pytest.fixture(params=["sqlite+local", "postgresql+minio"])
def leg(request, tmp_path):
    """The database URL, storage variables and data directory of one deployment, and how to
    destroy its database and bucket."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    if request.param == "sqlite+local":
        # As `make run` keeps it: the database in the data directory, destroyed with it.
        url, storage_env = f"sqlite:///{data_dir / 'lessonbridge.db'}", {}
    else:
        base = server_url("LB_TEST_POSTGRES_URL", "PostgreSQL")
        url = make_url(base).set(database=f"{make_url(base).database}_drill_{uuid.uuid4().hex[:8]}") \
            .render_as_string(hide_password=False)
        storage_env = s3_environment(server_url("LB_TEST_S3_URL", "S3 (MinIO)"),
                                     bucket=f"drill-{uuid.uuid4().hex[:10]}")
        _recreate_database(url)
    engine = create_db_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        taxonomy.import_document(session, taxonomy.seed_document(), actor_id=None, district_id=None)
        session.commit()
    engine.dispose()
    yield {"name": request.param, "url": url, "storage_env": storage_env, "data_dir": data_dir, "root": tmp_path}
    if not url.startswith("sqlite"):
        _drop_database(url)
        _destroy_bucket(storage_env)


def _admin(url: str):
    return create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def _drop_database(url: str) -> None:
    admin = _admin(url)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def _recreate_database(url: str) -> None:
    """An empty database of that name, as `createdb` (or the compose postgres container) makes one."""
    _drop_database(url)
    admin = _admin(url)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{make_url(url).database}"'))
    admin.dispose()


def _destroy_bucket(storage_env: dict[str, str]) -> None:
    client = Minio(storage_env["LB_S3_ENDPOINT"], access_key=storage_env["LB_S3_ACCESS_KEY"],
                   secret_key=storage_env["LB_S3_SECRET_KEY"], secure=False)
    bucket = storage_env["LB_S3_BUCKET"]
    if not client.bucket_exists(bucket):
        return
    doomed = [DeleteObject(o.object_name) for o in client.list_objects(bucket, recursive=True)]
    assert not list(client.remove_objects(bucket, doomed))
    client.remove_bucket(bucket)


def _lb(leg, *args: str, search_url: str = "http://127.0.0.1:9") -> subprocess.CompletedProcess:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("LB_")}, "LB_ENV": "test",
           "LB_DATABASE_URL": leg["url"], "LB_SECRET_KEY": SECRET, "LB_DATA_DIR": str(leg["data_dir"]),
           "LB_SEARCH_URL": search_url, **leg["storage_env"]}
    return subprocess.run([str(Path(sys.executable).parent / "lb"), *args], env=env, capture_output=True, text=True,
                          timeout=600, check=False)


def _processes(leg):
    search = ApiProcess(database_url=leg["url"], data_dir=leg["data_dir"], secret=SECRET, app=SEARCH_APP)
    api = ApiProcess(database_url=leg["url"], data_dir=leg["data_dir"], secret=SECRET,
                     extra_env={**leg["storage_env"], "LB_SEARCH_URL": search.url, "LB_SEARCH_RELAY_S": "0.5",
                                "LB_MEDIA_POLL_S": "0.5"})
    return search, api


def test_restore_drill(leg, tmp_path):
    if not shutil.which("soffice"):
        if REQUIRE_SERVERS:
            pytest.fail("LibreOffice missing: run infra/libreoffice.sh install")
        pytest.skip("restore drill skipped: LibreOffice missing for the document (run infra/libreoffice.sh install)")
    search, api = _processes(leg)
    search.start()
    api.start()
    settings = _settings(leg["root"], leg["url"], leg["storage_env"])
    engine = create_db_engine(leg["url"])
    store = create_blob_store(settings)
    stack = {"api": api, "engine": engine, "transcoder": Transcoder(
        engine=engine, store=store, celery=RecordingBroker(), scratch_root=tmp_path / "scratch", name="drill")}
    try:
        with Session(engine) as session:
            factory = Factory(session=session, secret=SECRET)
            school = factory.school(bandwidth_kbps=4000)
            teacher, moderator = factory.user(school=school), factory.user(roles=(Role.moderator,))
            session.commit()
            headers, reviewer = factory.headers(teacher, ttl_s=3600), factory.headers(moderator, ttl_s=3600)

        lesson = _publish(stack, headers, reviewer, media.lesson_mp4(tmp_path / "认识钟表.mp4", seconds=6,
                                                                   size="640x360"),
                          "video/mp4", title="认识钟表 微课", kind="micro_lesson", jobs=["done", "done"])
        document = _publish(stack, headers, reviewer, media.chinese_pptx(tmp_path / "配方法.pptx"), PPTX,
                            title="配方法 课件", kind="courseware", jobs=["done"])
        found = _wait_for_search(api, headers, {"认识钟表": {lesson}, "配方法": {document}})
        files = _contents(store)
        downloads = {rid: _download_hashes(api, headers, rid) for rid in (lesson, document)}
        assert len(files) > 10  # sources, the ladder's playlists and segments, posters, previews
        for hashes in downloads.values():
            assert all(expected == got for expected, got in hashes.values()), hashes

        # Online: the API keeps running while the backup is taken.
        target = leg["root"] / "backups"
        made = _lb(leg, "backup", "create", str(target))
        assert made.returncode == 0, made.stderr
        checked = _lb(leg, "backup", "verify", str(target))
        assert checked.returncode == 0, checked.stdout + checked.stderr
    finally:
        api.stop()
        search.stop()
        engine.dispose()

    # Disaster: everything the deployment kept is gone.
    shutil.rmtree(leg["data_dir"])
    leg["data_dir"].mkdir()
    if leg["storage_env"]:
        _drop_database(leg["url"])  # the restore creates it again
        _destroy_bucket(leg["storage_env"])
    assert _contents(create_blob_store(settings)) == {}

    search, api = _processes(leg)
    search.start()  # a new search service, with an empty index
    try:
        restored = _lb(leg, "backup", "restore", str(target), search_url=search.url)
        assert restored.returncode == 0, restored.stderr
        assert "rebuilt the search index: 2 resources" in restored.stderr
        again = _lb(leg, "backup", "restore", str(target), search_url=search.url)
        assert again.returncode == 1 and "--force" in again.stderr  # the platform holds data now
        api.start()

        assert _contents(create_blob_store(settings)) == files
        for resource_id, hashes in downloads.items():
            assert _download_hashes(api, headers, resource_id) == hashes
        _assert_plays(api, headers, lesson)
        assert _search(api, headers) == found
    finally:
        api.stop()
        search.stop()


def _publish(stack, headers, reviewer, path: Path, content_type: str, *, title: str, kind: str, jobs: list[str]) -> str:
    api = stack["api"]
    upload_id = upload(api, headers, path, content_type=content_type)
    created = httpx.post(f"{api.url}/api/v1/resources", headers=headers, json={
        "title": title, "kind": kind, "visibility": "school", "license": "cc-by-4.0", "upload_ids": [upload_id]})
    assert created.status_code == 201, created.text
    resource_id = created.json()["id"]
    assert run_jobs(stack, resource_id) == jobs
    wait_for_status(api, headers, resource_id, "pending_review", timeout=60)
    decided = httpx.post(f"{api.url}/api/v1/moderation/resources/{resource_id}/decision", json={"action": "approve"},
                         headers=reviewer)
    assert decided.status_code == 200 and decided.json()["status"] == "published", decided.text
    return resource_id


def _search(api, headers) -> dict[str, list[str]]:
    answers = {}
    for query in QUERIES:
        response = httpx.get(f"{api.url}/api/v1/search", params={"q": query}, headers=headers, timeout=30)
        assert response.status_code == 200, response.text
        answers[query] = [hit["id"] for hit in response.json()["hits"]]
    return answers


def _wait_for_search(api, headers, wanted: dict[str, set[str]], timeout: float = 60) -> dict[str, list[str]]:
    import time

    deadline = time.monotonic() + timeout
    while True:
        answers = _search(api, headers)
        if all(ids <= set(answers[query]) for query, ids in wanted.items()):
            return answers
        if time.monotonic() > deadline:
            raise AssertionError(f"search never found {wanted}: {answers}")
        time.sleep(0.5)


def _contents(store) -> dict[str, tuple[str, str]]:
    """Every stored object's sha256 and content type (players need the playlists' and segments')."""
    return {info.key: (hashlib.sha256(b"".join(store.open(info.key))).hexdigest(), store.stat(info.key).content_type)
            for info in store.list("")}


def _download_hashes(api, headers, resource_id: str) -> dict[str, tuple[str, str]]:
    """Per asset: (the sha256 the API records, the sha256 of the bytes its download serves)."""
    detail = httpx.get(f"{api.url}/api/v1/resources/{resource_id}", headers=headers).json()
    assert detail["status"] == "published", detail
    hashes = {}
    for asset in detail["assets"]:
        served = httpx.get(f"{api.url}/api/v1/resources/{resource_id}/assets/{asset['id']}/download",
                           headers=headers, follow_redirects=True, timeout=60)
        assert served.status_code == 200, served.text
        hashes[asset["id"]] = (asset["sha256"], hashlib.sha256(served.content).hexdigest())
    return hashes


def _assert_plays(api, headers, resource_id: str) -> None:
    play = httpx.get(f"{api.url}/api/v1/resources/{resource_id}/play", headers=headers)
    assert play.status_code == 200 and play.json()["complete"] is True, play.text
    master_url = play.json()["hls_url"]
    master = httpx.get(master_url)
    assert master.status_code == 200 and "#EXT-X-STREAM-INF" in master.text
    variants = [line for line in master.text.splitlines() if line and not line.startswith("#")]
    assert len(variants) >= 2
    segments = 0
    for variant in variants:
        variant_url = urljoin(master_url, variant)
        playlist = httpx.get(variant_url, follow_redirects=True)
        assert playlist.status_code == 200, variant_url
        uris = [line for line in playlist.text.splitlines() if line and not line.startswith("#")]
        uris += re.findall(r'#EXT-X-MAP:URI="([^"]+)"', playlist.text)
        assert uris, playlist.text
        for uri in uris:
            segment = httpx.get(urljoin(str(playlist.url), uri), follow_redirects=True)
            assert segment.status_code == 200 and segment.content, uri
            segments += 1
    assert segments >= 2 * len(variants)

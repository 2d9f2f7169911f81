"""Outages on private servers this test starts and stops (never the shared ones): with the
database or object storage down, the API answers 503 `service.unavailable` with Retry-After and
the dependency's name, /readyz names what fails without the error's text, and both recover when
the server returns."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session

from services.common.db import create_db_engine
from services.common.keys import derive_keys
from services.common.search import PRINCIPAL_HEADER, SearchPrincipal, sign_principal
from tests.conftest import SECRET
from tests.factories import Factory
from tests.helpers import assert_problem
from tests.live import ROOT, SEARCH_APP, ApiProcess, free_port, fresh_database

MINIO_USER, MINIO_PASSWORD = "outage-test", "outage-test-secret-0123456789"


class PrivateServer:
    """One of the infra scripts' servers in a state directory and on a port of its own."""

    def __init__(self, script: str, port_variable: str, **env: str) -> None:
        # Not under pytest's tmp_path: PostgreSQL runs as its own user, which must reach the data.
        self.directory = Path(tempfile.mkdtemp(prefix="lb-outage-", dir="/tmp"))
        self.directory.chmod(0o755)
        self.port = free_port()
        self.script = str(ROOT / "infra" / script)
        self.env = {**os.environ, "LB_INFRA_DIR": str(self.directory), port_variable: str(self.port), **env}

    def run(self, command: str) -> None:
        done = subprocess.run([self.script, command], env=self.env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]

    def remove(self) -> None:
        self.run("stop")
        shutil.rmtree(self.directory, ignore_errors=True)


def wait_until(condition, timeout: float = 60) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.2)


def ready(api: ApiProcess) -> bool:
    return httpx.get(f"{api.url}/readyz", timeout=10).status_code == 200


def assert_outage(response: httpx.Response, dependency: str) -> None:
    body = assert_problem(response, 503, "service.unavailable")
    assert body["dependency"] == dependency and response.headers["retry-after"] == "10"


def assert_not_ready_names_only(api: ApiProcess, dependency: str, port: int) -> None:
    response = httpx.get(f"{api.url}/readyz", timeout=30)
    body = assert_problem(response, 503, "service.not_ready")
    assert body["failures"] == {dependency: "unavailable"} and response.headers["retry-after"] == "10"
    assert str(port) not in response.text and "Error" not in response.text


@pytest.fixture
def private_postgres() -> Iterator[PrivateServer]:
    server = PrivateServer("postgres.sh", "LB_PG_PORT")
    server.run("start")
    yield server
    server.remove()


def test_the_database_down_is_a_503_to_retry_and_recovers(private_postgres, tmp_path):
    base = f"postgresql+psycopg://postgres@127.0.0.1:{private_postgres.port}/lessonbridge"
    url = fresh_database(base, tmp_path)
    engine = create_db_engine(url)
    with Session(engine) as session:
        factory = Factory(session=session, secret=SECRET)
        headers = factory.headers(factory.user())
        session.commit()
    engine.dispose()
    api = ApiProcess(database_url=url, data_dir=tmp_path / "data", secret=SECRET).start()
    try:
        assert httpx.get(f"{api.url}/api/v1/me", headers=headers).status_code == 200
        private_postgres.run("stop")
        for _ in range(2):  # a pooled connection found dead, then a new one refused
            assert_outage(httpx.get(f"{api.url}/api/v1/me", headers=headers, timeout=30), "database")
        assert_not_ready_names_only(api, "database", private_postgres.port)
        private_postgres.run("start")
        wait_until(lambda: ready(api))
        assert httpx.get(f"{api.url}/api/v1/me", headers=headers).status_code == 200
    finally:
        api.stop()


@pytest.fixture
def private_minio() -> Iterator[PrivateServer]:
    server = PrivateServer("minio.sh", "LB_MINIO_PORT", LB_MINIO_ROOT_USER=MINIO_USER,
                           LB_MINIO_ROOT_PASSWORD=MINIO_PASSWORD)
    server.run("start")
    yield server
    server.remove()


def test_object_storage_down_is_a_503_to_retry_and_recovers(private_minio, database_url, tmp_path):
    url = fresh_database(database_url, tmp_path)
    engine = create_db_engine(url)
    with Session(engine) as session:
        factory = Factory(session=session, secret=SECRET)
        headers = factory.headers(factory.user())
        session.commit()
    engine.dispose()
    storage = {"LB_S3_ENDPOINT": f"127.0.0.1:{private_minio.port}", "LB_S3_ACCESS_KEY": MINIO_USER,
               "LB_S3_SECRET_KEY": MINIO_PASSWORD, "LB_S3_BUCKET": "outage"}
    api = ApiProcess(database_url=url, data_dir=tmp_path / "data", secret=SECRET, extra_env=storage).start()
    tus = {**headers, "Tus-Resumable": "1.0.0", "Upload-Length": "5",
           "Upload-Metadata": "filename YS5wZGY="}  # a.pdf

    def create_upload() -> httpx.Response:
        return httpx.post(f"{api.url}/api/v1/uploads/", headers=tus, timeout=60)

    try:
        assert create_upload().status_code == 201
        private_minio.run("stop")
        assert_outage(create_upload(), "storage")
        assert_not_ready_names_only(api, "storage", private_minio.port)
        private_minio.run("start")
        wait_until(lambda: ready(api))
        assert create_upload().status_code == 201
    finally:
        api.stop()


@pytest.fixture
def private_redis() -> Iterator[PrivateServer]:
    server = PrivateServer("redis.sh", "LB_REDIS_PORT")
    server.run("start")
    yield server
    server.remove()


def test_the_broker_down_is_named_by_readyz_and_recovers(private_redis, tmp_path):
    url = fresh_database(f"sqlite:///{tmp_path / 'unused.db'}", tmp_path)
    api = ApiProcess(database_url=url, data_dir=tmp_path / "data", secret=SECRET,
                     extra_env={"LB_BROKER_URL": f"redis://127.0.0.1:{private_redis.port}/0"}).start()
    try:
        private_redis.run("stop")
        assert_not_ready_names_only(api, "broker", private_redis.port)
        private_redis.run("start")
        wait_until(lambda: ready(api))
    finally:
        api.stop()


@pytest.fixture
def private_elasticsearch() -> Iterator[PrivateServer]:
    server = PrivateServer("elasticsearch.sh", "LB_ES_PORT", LB_ES_TRANSPORT_PORT=str(free_port()), LB_ES_HEAP="256m")
    server.run("start")
    yield server
    server.remove()


def test_the_index_down_is_a_503_to_retry_from_the_search_service(private_elasticsearch, tmp_path):
    search = ApiProcess(database_url="sqlite://", data_dir=tmp_path / "search-data", secret=SECRET, app=SEARCH_APP,
                        extra_env={"LB_ES_URL": f"http://127.0.0.1:{private_elasticsearch.port}",
                                   "LB_ES_ALIAS": "outage"}).start(timeout=180)
    key = derive_keys(SECRET).search_principal
    teacher = SearchPrincipal(user_id="u", district_id="d", school_id="s")

    def search_once() -> httpx.Response:
        return httpx.get(f"{search.url}/search", params={"q": "数学"}, timeout=60,
                         headers={PRINCIPAL_HEADER: sign_principal(teacher, secret=key)})

    try:
        assert search_once().status_code == 200
        private_elasticsearch.run("stop")
        assert_outage(search_once(), "index")
        assert_not_ready_names_only(search, "index", private_elasticsearch.port)
        private_elasticsearch.run("start")
        wait_until(lambda: ready(search), timeout=180)
        assert search_once().status_code == 200
    finally:
        search.stop()

"""The API as deployed (uvicorn, its own process) believes X-Forwarded-For only from the proxies
LB_TRUSTED_PROXIES names: sign-in throttling per client address cannot be dodged by writing the
header, and behind a trusted proxy tus Locations carry the public scheme and host."""
from __future__ import annotations

import io
import uuid

import httpx
import pytest
from sqlalchemy.orm import Session

from services.common.db import create_db_engine
from services.common.settings import Settings, StorageSettings
from services.common.storage import create_blob_store
from tests.api.uploads.test_tus import TUS, metadata
from tests.conftest import SECRET, server_url
from tests.factories import Factory
from tests.live import ApiProcess, fresh_database, s3_environment

@pytest.fixture(scope="module")
def live_db(database_url, tmp_path_factory):
    return fresh_database(database_url, tmp_path_factory.mktemp("live-db"))


THROTTLE = {"LB_LOGIN_MAX_FAILURES": "100", "LB_LOGIN_MAX_FAILURES_PER_IP": "3"}


def failed_sign_ins(api: ApiProcess, count: int) -> list[int]:
    """Wrong passwords for an unknown user, each claiming another client address."""
    return [httpx.post(f"{api.url}/api/v1/auth/token", data={"username": "nobody", "password": "wrong"},
                       headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code for n in range(count)]


def test_forwarded_for_from_an_untrusted_peer_does_not_dodge_the_throttle(live_db, tmp_path):
    api = ApiProcess(database_url=live_db, data_dir=tmp_path / "data", secret=SECRET, extra_env=THROTTLE).start()
    try:
        # Every attempt comes from 127.0.0.1, whatever the header says: the fourth is throttled.
        assert failed_sign_ins(api, 4) == [401, 401, 401, 429]
    finally:
        api.stop()


def test_behind_a_trusted_proxy_clients_are_told_apart_and_urls_are_public(live_db, tmp_path):
    api = ApiProcess(database_url=live_db, data_dir=tmp_path / "data", secret=SECRET,
                     extra_env={**THROTTLE, "LB_TRUSTED_PROXIES": "127.0.0.1/32"}).start()
    try:
        assert failed_sign_ins(api, 5) == [401] * 5  # five clients, one failure each
        engine = create_db_engine(live_db)
        with Session(engine) as session:
            factory = Factory(session=session, secret=SECRET)
            headers = factory.headers(factory.user())
            session.commit()
        engine.dispose()
        created = httpx.post(f"{api.url}/api/v1/uploads/", headers={
            **headers, **TUS, "Upload-Length": "1", "Upload-Metadata": metadata(filename="a.pdf"),
            "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "lb.example.edu"})
        assert created.status_code == 201, created.text
        assert created.headers["location"].startswith("https://lb.example.edu/api/v1/uploads/")
    finally:
        api.stop()


def test_presigned_urls_use_the_public_s3_endpoint(tmp_path):
    """Signed for the address clients use, and valid there (the real S3 server checks the Host)."""
    s3 = s3_environment(server_url("LB_TEST_S3_URL", "S3 (MinIO)"), bucket=f"public-{uuid.uuid4().hex[:10]}")
    host, port = s3["LB_S3_ENDPOINT"].split(":")
    public = f"http://localhost:{port}" if host == "127.0.0.1" else f"http://127.0.0.1:{port}"
    storage = StorageSettings(s3_endpoint=s3["LB_S3_ENDPOINT"], s3_access_key=s3["LB_S3_ACCESS_KEY"],
                              s3_secret_key=s3["LB_S3_SECRET_KEY"], s3_bucket=s3["LB_S3_BUCKET"],
                              s3_public_endpoint=public)
    store = create_blob_store(Settings(core={"env": "test", "data_dir": tmp_path}, storage=storage))
    store.put("public/probe.txt", io.BytesIO(b"hello"), length=5, content_type="text/plain")
    url = store.presigned_get_url("public/probe.txt", expires_s=60)
    assert url.startswith(f"{public}/{s3['LB_S3_BUCKET']}/public/probe.txt?")
    assert httpx.get(url).content == b"hello"
    # ffmpeg beside the API still reads through the internal address.
    assert store.tool_source("public/probe.txt").startswith(f"http://{s3['LB_S3_ENDPOINT']}/")
    store.delete("public/probe.txt")
    store.client.remove_bucket(s3["LB_S3_BUCKET"])

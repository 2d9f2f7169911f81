"""Packs on S3 (real MinIO): built from the rungs and documents in the bucket, kept there, and
downloaded from the presigned URL with Range, resumed after a break."""
from __future__ import annotations

import hashlib
import uuid
import zipfile
from urllib.parse import urlparse

import httpx
import pytest

from services.api.packs import reader, signing
from services.common.settings import StorageSettings
from tests.api.packs.conftest import CLIP_S, document, lesson, published
from tests.conftest import SECRET, make_settings, server_url


@pytest.fixture
def settings(tmp_path, database_url):
    url = urlparse(server_url("LB_TEST_S3_URL", "S3 (MinIO)"))
    return make_settings(tmp_path / "data", database_url).model_copy(update={"storage": StorageSettings(
        s3_endpoint=f"{url.hostname}:{url.port}", s3_access_key=url.username, s3_secret_key=url.password,
        s3_bucket=f"packs-{uuid.uuid4().hex[:12]}")})


def test_a_pack_on_s3_is_built_once_and_resumes_from_the_bucket(client, app, factory, ladder_files, tmp_path):
    assert app.state.blob_store.backend == "s3"
    teacher = factory.user()
    resource = published(factory, teacher, title="数一数")
    lesson(factory, app.state.blob_store, resource, ladder_files, duration_s=CLIP_S, download=bytes(1_000_000))
    document(factory, app.state.blob_store, resource)
    factory.commit()

    response = client.post("/api/v1/packs", json={"resource_ids": [resource.id]}, headers=factory.headers(teacher))
    assert response.status_code == 201, response.text
    body = response.json()
    url = body["download_url"]
    assert urlparse(url).port == urlparse(server_url("LB_TEST_S3_URL", "S3")).port  # straight from the bucket
    half = body["size"] // 2
    with httpx.Client(timeout=60) as http:
        first = http.get(url, headers={"Range": f"bytes=0-{half - 1}"})
        rest = http.get(url, headers={"Range": f"bytes={half}-", "If-Range": first.headers["etag"]})
    assert (first.status_code, rest.status_code) == (206, 206)
    data = first.content + rest.content
    assert len(data) == body["size"] and hashlib.sha256(data).hexdigest() == body["sha256"]
    path = tmp_path / "pack.zip"
    path.write_bytes(data)
    key = signing.pack_signing_key(SECRET).public_key()
    manifest = reader.verify_pack(path, public_key=key)
    assert sorted(m.role for m in manifest.members()) == ["document", "lesson"]
    with zipfile.ZipFile(path) as archive:
        lesson_member = next(m for m in manifest.members() if m.role == "lesson")
        assert archive.read(lesson_member.path)[4:8] == b"ftyp" and lesson_member.height == 240

    again = client.post("/api/v1/packs", json={"resource_ids": [resource.id]}, headers=factory.headers(teacher))
    assert again.status_code == 201
    assert (again.json()["id"], again.json()["sha256"], again.json()["manifest"]["created_at"]) == (
        body["id"], body["sha256"], body["manifest"]["created_at"])  # the stored pack, not a new one

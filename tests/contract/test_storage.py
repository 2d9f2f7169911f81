"""The blob storage contract, run over local disk and a real S3 server (MinIO): the same
behaviour, including presigned URLs that expire and refuse tampering."""
from __future__ import annotations

import io
import os
import time
import uuid
from urllib.parse import urlparse

import httpx
import pytest
from fastapi.testclient import TestClient
from minio.error import S3Error

from services.api.app import create_app
from services.common.settings import StorageSettings
from services.common.storage import BlobNotFound, InvalidKey, create_blob_store, s3
from services.common.storage.base import MIN_PART_SIZE
from tests.conftest import make_settings, server_url


def _settings(backend: str, tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("storage"), "sqlite://")
    if backend == "s3":
        url = urlparse(server_url("LB_TEST_S3_URL", "S3 (MinIO)"))
        settings = settings.model_copy(update={"storage": StorageSettings(
            s3_endpoint=f"{url.hostname}:{url.port}", s3_access_key=url.username, s3_secret_key=url.password,
            s3_bucket=f"contract-{uuid.uuid4().hex[:12]}")})
    return settings


@pytest.fixture(scope="module", params=["local", "s3"])
def backend(request, tmp_path_factory):
    return _settings(request.param, tmp_path_factory)


@pytest.fixture(scope="module")
def store(backend):
    return create_blob_store(backend)


@pytest.fixture(scope="module")
def fetch(backend, store):
    """GETs a presigned URL the way a client would: from S3 itself, or from our API for local disk."""
    if store.backend == "s3":
        with httpx.Client() as client:
            yield client.get
    else:
        with TestClient(create_app(backend)) as client:
            yield lambda url, **kw: client.get(url.replace(backend.public_api_url, ""), **kw)


@pytest.fixture
def prefix():
    return f"test/{uuid.uuid4().hex}"


def put_bytes(store, key, data, content_type="application/octet-stream"):
    return store.put(key, io.BytesIO(data), length=len(data), content_type=content_type)


def test_put_stat_open_and_ranges(store, prefix):
    data = os.urandom(3 * 1024 * 1024 + 17)
    info = put_bytes(store, f"{prefix}/blob", data, "video/mp4")
    assert info.size == len(data) and info.etag
    assert store.stat(f"{prefix}/blob").content_type == "video/mp4"
    assert b"".join(store.open(f"{prefix}/blob")) == data
    assert b"".join(store.open(f"{prefix}/blob", start=100, end=199)) == data[100:200]
    assert b"".join(store.open(f"{prefix}/blob", start=len(data) - 5)) == data[-5:]
    assert store.exists(f"{prefix}/blob") and not store.exists(f"{prefix}/other")


def test_missing_blobs_and_idempotent_delete(store, prefix):
    with pytest.raises(BlobNotFound):
        store.stat(f"{prefix}/absent")
    with pytest.raises(BlobNotFound):
        b"".join(store.open(f"{prefix}/absent"))
    put_bytes(store, f"{prefix}/gone", b"x")
    store.delete(f"{prefix}/gone")
    store.delete(f"{prefix}/gone")
    assert not store.exists(f"{prefix}/gone")


def test_short_stream_stores_nothing(store, prefix):
    with pytest.raises(Exception):
        store.put(f"{prefix}/short", io.BytesIO(b"only ten b"), length=100, content_type="text/plain")
    assert not store.exists(f"{prefix}/short")


def test_copy_and_list_by_prefix(store, prefix):
    put_bytes(store, f"{prefix}/a/1", b"one")
    put_bytes(store, f"{prefix}/a/2", b"two")
    put_bytes(store, f"{prefix}/b/1", b"three")
    store.copy(f"{prefix}/a/1", f"{prefix}/b/copy")
    assert b"".join(store.open(f"{prefix}/b/copy")) == b"one"
    assert sorted(i.key for i in store.list(f"{prefix}/a/")) == [f"{prefix}/a/1", f"{prefix}/a/2"]
    assert sorted(i.key for i in store.list(f"{prefix}/b/")) == [f"{prefix}/b/1", f"{prefix}/b/copy"]
    assert list(store.list(f"{prefix}/nothing/")) == []


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a/../../b", "a//b", "", "a/./b", "..", "a\\b", "a b"])
def test_hostile_keys_are_refused(store, key):
    with pytest.raises(InvalidKey):
        put_bytes(store, key, b"x")


def test_multipart_assembles_parts_in_order_and_a_retried_part_replaces(store, prefix, tmp_path):
    first, second, last = os.urandom(MIN_PART_SIZE), os.urandom(MIN_PART_SIZE), os.urandom(1234)
    upload_id = store.create_multipart(f"{prefix}/mp", content_type="video/mp4")
    (tmp_path / "part1").write_bytes(first)
    batch = [(1, tmp_path / "part1"), (2, memoryview(bytearray(second)))]  # from a file, and from memory
    parts = store.upload_parts(f"{prefix}/mp", upload_id, batch)  # a batch, in order
    assert [(p.number, p.size) for p in parts] == [(1, MIN_PART_SIZE), (2, MIN_PART_SIZE)]
    retry = tmp_path / "part3"
    retry.write_bytes(b"garbage that a retry will replace")
    store.upload_parts(f"{prefix}/mp", upload_id, [(3, retry)])
    retry.write_bytes(last)
    parts += store.upload_parts(f"{prefix}/mp", upload_id, [(3, retry)])
    info = store.complete_multipart(f"{prefix}/mp", upload_id, parts)
    assert info.size == 2 * MIN_PART_SIZE + 1234
    assert b"".join(store.open(f"{prefix}/mp")) == first + second + last


def test_aborted_multipart_leaves_nothing(store, prefix, tmp_path):
    upload_id = store.create_multipart(f"{prefix}/aborted", content_type="video/mp4")
    path = tmp_path / "part"
    path.write_bytes(os.urandom(MIN_PART_SIZE))
    store.upload_parts(f"{prefix}/aborted", upload_id, [(1, path)])
    store.abort_multipart(f"{prefix}/aborted", upload_id)
    assert not store.exists(f"{prefix}/aborted")


def test_presigned_url_serves_ranges_then_expires(store, fetch, prefix):
    data = os.urandom(100_000)
    put_bytes(store, f"{prefix}/signed", data, "application/pdf")
    url = store.presigned_get_url(f"{prefix}/signed", expires_s=2, filename="第一课 课件.pdf")
    whole = fetch(url)
    assert whole.status_code == 200 and whole.content == data
    assert "filename*=UTF-8''%E7%AC%AC%E4%B8%80%E8%AF%BE" in whole.headers["content-disposition"]
    part = fetch(url, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == data[10:20]
    time.sleep(3.5)
    assert fetch(url).status_code == 403


def test_presigned_url_with_a_tampered_signature_is_refused(store, fetch, prefix):
    put_bytes(store, f"{prefix}/tamper", b"secret lesson")
    url = store.presigned_get_url(f"{prefix}/tamper", expires_s=300)
    field = "X-Amz-Signature=" if store.backend == "s3" else "signature="
    head, _, signature = url.partition(field)
    rest = ""
    if "&" in signature:
        signature, _, rest = signature.partition("&")
        rest = "&" + rest
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    assert fetch(f"{head}{field}{flipped}{rest}").status_code == 403
    other_key = url.replace("/tamper", "/tamper2")
    assert fetch(other_key).status_code in (403, 404)
    assert fetch(url).status_code == 200


def test_ping(store):
    store.ping()


def test_move_local_file_and_tool_source(store, prefix):
    data = os.urandom(70_000)
    put_bytes(store, f"{prefix}/staged", data, "video/mp4")
    moved = store.move(f"{prefix}/staged", f"{prefix}/final")
    assert moved.size == len(data) and moved.content_type == "video/mp4"
    assert not store.exists(f"{prefix}/staged")
    with store.local_file(f"{prefix}/final") as path:
        assert path.read_bytes() == data
    source = store.tool_source(f"{prefix}/final")
    # A tool reads it: a path it can open, or a URL it can GET.
    read = (open(source, "rb").read() if not source.startswith("http") else httpx.get(source).content)
    assert read == data
    with pytest.raises(BlobNotFound):
        store.tool_source(f"{prefix}/absent")


def test_keep_puts_finished_content_where_it_costs_no_copy(store, prefix):
    data = os.urandom(70_000)
    put_bytes(store, f"{prefix}/staged", data, "video/mp4")
    kept = store.keep(f"{prefix}/staged", f"{prefix}/by-content")
    if store.backend == "local":  # a rename into the content-addressed layout
        assert kept == f"{prefix}/by-content" and not store.exists(f"{prefix}/staged")
    else:  # S3 has no rename: the object stays where it was assembled
        assert kept == f"{prefix}/staged" and not store.exists(f"{prefix}/by-content")
    assert b"".join(store.open(kept)) == data


def test_s3_refuses_a_part_whose_bytes_do_not_match_their_checksum(tmp_path_factory, prefix, tmp_path, monkeypatch):
    """Parts go with an unsigned payload (see S3BlobStore._put_part): the CRC-32 is what stops
    bytes changed on the way, so the server must check it. (S3 only: the local store copies
    parts within one machine.)"""
    store = create_blob_store(_settings("s3", tmp_path_factory))
    upload_id = store.create_multipart(f"{prefix}/crc", content_type="video/mp4")
    path = tmp_path / "part"
    path.write_bytes(os.urandom(MIN_PART_SIZE))
    monkeypatch.setattr(s3.zlib, "crc32", lambda data: 12345)  # as if a bit flipped on the way
    with pytest.raises(S3Error) as refused:
        store.upload_parts(f"{prefix}/crc", upload_id, [(1, path)])
    assert refused.value.code in ("XAmzContentChecksumMismatch", "BadDigest", "InvalidDigest")
    monkeypatch.undo()
    part = store.upload_parts(f"{prefix}/crc", upload_id, [(1, path)])
    assert store.complete_multipart(f"{prefix}/crc", upload_id, part).size == MIN_PART_SIZE

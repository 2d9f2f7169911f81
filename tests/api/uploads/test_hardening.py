"""Issue 17 (hardening) for uploads: hostile headers, bounded checksum spools, quotas that hold
under concurrency and for users without a school."""
from __future__ import annotations

import contextlib
import hashlib
import io
import threading
import time
from datetime import timedelta

import anyio
import httpx
import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from services.api.orgs.models import Role, School
from services.api.uploads import gc, service
from services.api.uploads.errors import QuotaExceeded
from services.api.uploads.models import Blob, Upload
from services.api.uploads.uploader import Uploader
from services.common.db import create_db_engine, create_sessionmaker, utcnow, writer_session
from services.common.settings import UploadSettings
from services.common.storage import create_blob_store
from tests.conftest import SECRET, make_settings
from tests.factories import Factory
from tests.live import fresh_database
from tests import media
from tests.api.uploads.test_tus import CHUNK, TUS, UPLOADS, create, metadata, upload_file
from tests.helpers import assert_problem

MiB = 1024 * 1024

# Python's int() and str.isdigit() take these; tus allows only ASCII digits. Headers arrive as
# latin-1 text, so '²' (0xB2) reaches the parser as a "digit" int() refuses; the others as UTF-8
# bytes; and 5000 ASCII digits pass isdigit() but not int() (its 4300-digit limit).
NOT_ASCII_DIGITS = ["²".encode("latin-1"), "١٢٣".encode(), "１２３".encode(), "¹0".encode("latin-1"),
                    b"9" * 5000]


@pytest.fixture
def teacher(factory):
    user = factory.user()
    factory.commit()
    return user


@pytest.fixture
def headers(factory, teacher):
    return {**factory.headers(teacher), **TUS}


def send_raw(app, method, url, headers, content=b""):
    """Through httpx's ASGI transport, which hands header bytes to the app as they are (the test
    client re-encodes them as UTF-8, so a latin-1 '²' never arrives as one)."""
    async def send():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
            return await http.request(method, url, headers=headers, content=content)
    return anyio.run(send)


@pytest.mark.parametrize("value", NOT_ASCII_DIGITS, ids=["superscript", "arabic-indic", "full-width",
                                                         "superscript-one", "too-many-digits"])
def test_lengths_and_offsets_take_ascii_digits_only(client, app, headers, value):
    response = send_raw(app, "POST", UPLOADS, {**headers, "Upload-Length": value,
                                               "Upload-Metadata": metadata(filename="notes.pdf")})
    assert_problem(response, 400, "upload.bad_request")
    location = create(client, headers, 1000, "notes.pdf", "application/pdf")
    response = send_raw(app, "PATCH", location, {**headers, **CHUNK, "Upload-Offset": value}, b"%PDF-")
    assert_problem(response, 400, "upload.bad_request")
    assert client.head(location, headers=headers).headers["upload-offset"] == "0"


@pytest.fixture
def settings(tmp_path, database_url):
    return make_settings(tmp_path / "data", database_url).model_copy(
        update={"uploads": UploadSettings(user_quota_bytes=5 * MiB)})


def test_a_user_without_a_school_has_a_quota_too(client, factory, session):
    official = factory.user(roles=(Role.district_admin,))
    factory.commit()
    assert official.school_id is None
    headers = {**factory.headers(official), **TUS}
    create(client, headers, 3 * MiB, "区教研.mp4")
    over = client.post(UPLOADS, headers={**headers, "Upload-Length": str(3 * MiB),
                                         "Upload-Metadata": metadata(filename="第二段.mp4")})
    assert_problem(over, 413, "upload.quota_exceeded")
    assert session.scalar(select(func.count()).select_from(Upload).where(Upload.owner_id == official.id)) == 1
    create(client, headers, 2 * MiB, "刚好.mp4")  # what is left still fits


@pytest.mark.parametrize("without_school", [False, True], ids=["school", "user"])
def test_concurrent_creates_cannot_both_fit_the_quota(database_url, tmp_path, monkeypatch, without_school):
    """Two creates check the quota at the same moment; before the fix, on PostgreSQL, both read
    the same sums and both were reserved. A committing database: the race is between transactions."""
    url = fresh_database(database_url, tmp_path)
    engine = create_db_engine(url)
    sessions = create_sessionmaker(engine)
    with Session(engine) as session:
        factory = Factory(session=session, secret=SECRET)
        user = factory.user(roles=(Role.district_admin,)) if without_school else factory.user()
        if not without_school:
            session.get(School, user.school_id).storage_quota_bytes = 5 * MiB
        session.commit()
        owner = Uploader(user_id=user.id, device_id=None, school_id=user.school_id)
    store = create_blob_store(make_settings(tmp_path / "data", url))
    checked = threading.Barrier(2)
    check = service._check_user_quota if without_school else service._check_quota

    def check_then_wait(*args, **kwargs):
        check(*args, **kwargs)
        # Both checked before either reserved: the race. With the row lock the second check
        # cannot end before the first create commits, so the first one waits here in vain.
        with contextlib.suppress(threading.BrokenBarrierError):
            checked.wait(timeout=3)

    monkeypatch.setattr(service, "_check_user_quota" if without_school else "_check_quota", check_then_wait)
    outcomes: list[str] = []

    def create_one(name: str) -> None:
        with writer_session(sessions) as session:
            try:
                service.create_upload(session, store=store, owner=owner, length=3 * MiB,
                                      metadata={"filename": name}, user_quota_bytes=5 * MiB)
                session.commit()
                outcomes.append("created")
            except QuotaExceeded:
                outcomes.append("refused")

    threads = [threading.Thread(target=create_one, args=(f"{n}.mp4",)) for n in ("一", "二")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert sorted(outcomes) == ["created", "refused"]
        with engine.connect() as connection:
            assert connection.scalar(select(func.count()).select_from(Upload)) == 1
    finally:
        engine.dispose()


def test_gc_keeps_an_orphan_blob_that_an_upload_reuses_between_its_scan_and_its_delete(
        client, app, session, headers, tmp_path):
    data = media.png(tmp_path / "板书.png").read_bytes()
    upload_file(client, headers, data, "板书.png")
    blob = session.scalars(select(Blob)).one()
    session.execute(update(Upload).values(updated_at=utcnow() - timedelta(days=8)))  # unattached, long ago
    session.commit()
    store = app.state.blob_store
    again: list[str] = []

    def the_same_bytes_arrive_meanwhile(_objects: int) -> None:
        # Called as gc lists storage: after it found the orphan, before it deletes anything.
        if not again:
            location, response = upload_file(client, headers, data, "板书（第二份）.png")
            assert response.status_code == 204, response.text
            again.append(location)

    report = gc.collect_garbage(session, store=store, apply=True, progress=the_same_bytes_arrive_meanwhile)
    assert again
    assert store.exists(blob.key)
    view = client.get(again[0].rstrip("/"), headers=headers).json()
    assert view["status"] == "complete" and view["sha256"] == hashlib.sha256(data).hexdigest()
    assert report.orphan_blobs == [] and report.reused == [blob.key] and report.freed_bytes == 0
    made = client.post("/api/v1/resources", headers=headers, json={
        "title": "板书", "kind": "courseware", "upload_ids": [again[0].rstrip("/").rsplit("/", 1)[1]]})
    assert made.status_code == 201, made.text


def test_a_blob_row_whose_bytes_are_gone_gets_the_new_upload_s_bytes(client, app, session, headers, tmp_path):
    """What a gc killed between deleting a blob's bytes and its row leaves: the next upload of
    the same content does not point at nothing."""
    data = media.png(tmp_path / "板书.png").read_bytes()
    upload_file(client, headers, data, "板书.png")
    blob = session.scalars(select(Blob)).one()
    store = app.state.blob_store
    store.delete(blob.key)
    location, response = upload_file(client, headers, data, "板书（第二份）.png")
    assert response.status_code == 204, response.text
    session.refresh(blob)
    assert store.exists(blob.key)
    assert hashlib.sha256(b"".join(store.open(blob.key))).hexdigest() == hashlib.sha256(data).hexdigest()


def test_a_reuse_that_races_gc_s_delete_waits_for_it_and_keeps_its_own_copy(database_url, tmp_path):
    """The other order, with real transactions: gc holds the orphan's row while it deletes; an
    upload finishing with the same bytes meanwhile waits on that row, finds it gone, and stores
    its bytes afresh (not under gc's delete of the same content key). PostgreSQL: SQLite runs
    the two writers one after the other anyway (BEGIN IMMEDIATE)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("row locks: SQLite serialises writer transactions whole")
    url = fresh_database(database_url, tmp_path)
    engine = create_db_engine(url)
    sessions = create_sessionmaker(engine)
    store = create_blob_store(make_settings(tmp_path / "data", url))
    data = b"%PDF-1.4 the same worksheet twice"
    digest = hashlib.sha256(data).hexdigest()
    key = service.content_key(digest)
    store.put(key, io.BytesIO(data), length=len(data), content_type="application/pdf")
    with Session(engine) as session:
        orphan = Blob(sha256=digest, size=len(data), media_type="application/pdf", backend=store.backend, key=key)
        session.add(orphan)
        session.commit()
        orphan_id = orphan.id
    gc_holds_row, gc_may_go = threading.Event(), threading.Event()
    delete = store.delete

    def delete_when_told(doomed: str) -> None:
        gc_holds_row.set()
        assert gc_may_go.wait(timeout=60)
        delete(doomed)

    store.delete = delete_when_told  # type: ignore[method-assign]
    results: dict[str, object] = {}

    def run_gc() -> None:
        with sessions() as session:
            results["gc"] = gc.collect_garbage(session, store=store, apply=True, stray_grace=timedelta(days=1))

    def reuse() -> None:
        staging = "staging/uploads/racer"
        store.put(staging, io.BytesIO(data), length=len(data), content_type="application/octet-stream")
        with writer_session(sessions) as session:
            blob = service._keep_once(session, store=store, staging_key=staging, sha256=digest, size=len(data),
                                      media_type="application/pdf")
            session.commit()
            results["reuse"] = blob.id

    def waiting_on_a_lock() -> bool:
        with engine.connect() as connection:
            return connection.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                                          " AND wait_event_type = 'Lock'")) > 0

    collector = threading.Thread(target=run_gc)
    collector.start()
    try:
        assert gc_holds_row.wait(timeout=60)
        racer = threading.Thread(target=reuse)
        racer.start()
        deadline = time.monotonic() + 60
        while not waiting_on_a_lock():
            assert time.monotonic() < deadline, "the reuse never waited for gc's row"
            time.sleep(0.05)
    finally:
        gc_may_go.set()
        collector.join()
    racer.join()
    try:
        assert results["gc"].orphan_blobs == [key]
        assert results["reuse"] != orphan_id
        with Session(engine) as session:
            kept = session.scalars(select(Blob).where(Blob.sha256 == digest)).one()
        assert kept.id == results["reuse"]
        assert b"".join(store.open(kept.key)) == data
    finally:
        engine.dispose()

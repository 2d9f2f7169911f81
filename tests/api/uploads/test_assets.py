"""Finished uploads become a resource's assets; identical content is stored once; downloads
keep their Chinese names and resume with Range; garbage collection removes only orphans."""
from __future__ import annotations

import hashlib
from datetime import timedelta
from urllib.parse import unquote

import pytest
from sqlalchemy import func, select, update

from services.api.uploads import gc
from services.api.uploads.models import Blob, Upload
from services.common.db import utcnow
from tests import media
from tests.api.uploads.test_tus import TUS, upload_file
from tests.helpers import assert_problem


@pytest.fixture
def teacher_headers(factory):
    user = factory.user()
    factory.commit()
    return {**factory.headers(user), **TUS}, user


def upload_id_of(location: str) -> str:
    return location.rstrip("/").rsplit("/", 1)[1]


def test_identical_content_is_stored_once_and_survives_one_owner_deleting(client, app, session, teacher_headers,
                                                                         factory, tmp_path):
    headers, _ = teacher_headers
    data = media.lesson_mp4(tmp_path / "l.mp4").read_bytes()
    first, _ = upload_file(client, headers, data, "第一课.mp4")
    second, _ = upload_file(client, headers, data, "第一课（副本）.mp4")
    assert session.scalar(select(func.count()).select_from(Blob)) == 1
    resources = []
    for location in (first, second):
        response = client.post("/api/v1/resources", headers=headers, json={
            "title": "一元一次方程", "kind": "micro_lesson", "upload_ids": [upload_id_of(location)]})
        assert response.status_code == 201, response.text
        resources.append(response.json()["id"])
    detail = client.get(f"/api/v1/resources/{resources[0]}", headers=headers).json()
    [asset] = detail["assets"]
    assert asset["role"] == "main" and asset["category"] == "video" and asset["media_type"] == "video/mp4"
    assert asset["sha256"] == hashlib.sha256(data).hexdigest() and asset["size"] == len(data)
    assert asset["duration_s"] == pytest.approx(3.0, abs=0.2) and asset["width"] == 320
    assert client.delete(f"/api/v1/resources/{resources[0]}", headers=headers).status_code == 204
    report = gc.collect_garbage(session, store=app.state.blob_store, apply=True)
    assert report.orphan_blobs == [] and report.stray_objects == []
    download = client.get(f"/api/v1/resources/{resources[1]}/assets/"
                          f"{client.get(f'/api/v1/resources/{resources[1]}', headers=headers).json()['assets'][0]['id']}"
                          "/download", headers=headers, follow_redirects=False)
    assert download.status_code == 307


def test_download_redirects_to_a_signed_url_with_range_and_the_chinese_name(client, app, settings, teacher_headers,
                                                                           tmp_path):
    headers, _ = teacher_headers
    data = media.docx(tmp_path / "x.docx").read_bytes()
    location, _ = upload_file(client, headers, data, "一元二次方程 配方法 教案.docx")
    resource = client.post("/api/v1/resources", headers=headers, json={
        "title": "配方法", "kind": "lesson_plan", "upload_ids": [upload_id_of(location)]}).json()["id"]
    asset_id = client.get(f"/api/v1/resources/{resource}", headers=headers).json()["assets"][0]["id"]
    redirect = client.get(f"/api/v1/resources/{resource}/assets/{asset_id}/download", headers=headers,
                          follow_redirects=False)
    assert redirect.status_code == 307
    signed = redirect.headers["location"].replace(settings.public_api_url, "")
    whole = client.get(signed)  # no Authorization: the signature is the permission
    assert whole.status_code == 200 and whole.content == data
    disposition = whole.headers["content-disposition"]
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "一元二次方程 配方法 教案.docx"
    part = client.get(signed, headers={"Range": "bytes=5-14"})
    assert part.status_code == 206 and part.content == data[5:15]
    assert part.headers["content-range"] == f"bytes 5-14/{len(data)}"
    assert client.get(signed, headers={"If-None-Match": whole.headers["etag"]}).status_code == 304
    resumed = client.get(signed, headers={"Range": "bytes=5-14", "If-Range": whole.headers["etag"]})
    assert resumed.status_code == 206 and resumed.content == data[5:15]
    for changed in ('"another-etag"', "Wed, 21 Oct 2015 07:28:00 GMT", "garbage"):  # not these bytes: all of them
        restarted = client.get(signed, headers={"Range": "bytes=5-14", "If-Range": changed})
        assert restarted.status_code == 200 and restarted.content == data
    assert_problem(client.get(signed.replace("signature=", "signature=%C3%A9")), 403, "blob.invalid_signature")
    assert_problem(client.get(signed, headers={"Range": f"bytes={len(data) + 10}-"}), 416, "blob.range_not_satisfiable")
    assert_problem(client.get(signed.replace("signature=", "signature=x")), 403, "blob.invalid_signature")


def test_attaching_checks_owner_state_and_kind(client, factory, teacher_headers, tmp_path):
    headers, _ = teacher_headers
    picture, _ = upload_file(client, headers, media.png(tmp_path / "p.png").read_bytes(), "板书.png")
    recording = client.post("/api/v1/resources", headers=headers, json={
        "title": "课堂实录", "kind": "lesson_recording", "upload_ids": [upload_id_of(picture)]})
    assert_problem(recording, 422, "resource.asset_kind_not_allowed")
    other = factory.user()
    factory.commit()
    stolen = client.post("/api/v1/resources", headers={**factory.headers(other), **TUS}, json={
        "title": "x", "kind": "courseware", "upload_ids": [upload_id_of(picture)]})
    assert_problem(stolen, 422, "resource.upload_not_usable")
    unfinished = client.post("/api/v1/uploads/", headers={**headers, "Upload-Length": "100",
                                                          "Upload-Metadata": "filename YS5wZGY="}).headers["location"]
    pending = client.post("/api/v1/resources", headers=headers, json={
        "title": "x", "kind": "courseware", "upload_ids": [upload_id_of(unfinished)]})
    assert_problem(pending, 422, "resource.upload_not_usable")
    made = client.post("/api/v1/resources", headers=headers, json={"title": "板书", "kind": "courseware"}).json()["id"]
    added = client.post(f"/api/v1/resources/{made}/assets", headers=headers,
                        json={"upload_ids": [upload_id_of(picture)], "roles": ["presentation"]})
    assert added.status_code == 201 and added.json()[0]["role"] == "presentation"
    again = client.post(f"/api/v1/resources/{made}/assets", headers=headers, json={"upload_ids": [upload_id_of(picture)]})
    assert_problem(again, 422, "resource.upload_not_usable")


def test_garbage_collection_is_a_dry_run_unless_applied(client, app, session, teacher_headers, tmp_path):
    headers, _ = teacher_headers
    location, _ = upload_file(client, headers, media.png(tmp_path / "p.png").read_bytes(), "p.png")
    blob = session.scalars(select(Blob)).one()
    # Young and unattached: kept for its owner to use.
    assert gc.collect_garbage(session, store=app.state.blob_store, apply=False).orphan_blobs == []
    session.execute(update(Upload).values(updated_at=utcnow() - timedelta(days=8)))
    session.commit()
    stray = "sha256/ff/ff/" + "f" * 64
    import io
    app.state.blob_store.put(stray, io.BytesIO(b"left by a crash"), length=15, content_type="text/plain")
    # A stray this young is left alone: its row may not have committed yet.
    assert gc.collect_garbage(session, store=app.state.blob_store, apply=False).stray_objects == []
    dry = gc.collect_garbage(session, store=app.state.blob_store, apply=False, stray_grace=timedelta(0))
    assert dry.orphan_blobs == [blob.key] and dry.stray_objects == [stray] and not dry.applied
    assert app.state.blob_store.exists(blob.key)
    applied = gc.collect_garbage(session, store=app.state.blob_store, apply=True, stray_grace=timedelta(0))
    assert applied.freed_bytes == blob.size + 15
    assert list(app.state.blob_store.list("")) == []
    assert session.scalar(select(func.count()).select_from(Blob)) == 0


def test_the_janitor_expires_abandoned_uploads(client, app, session, teacher_headers):
    headers, _ = teacher_headers
    location = client.post("/api/v1/uploads/", headers={**headers, "Upload-Length": "100",
                                                        "Upload-Metadata": "filename YS5wZGY="}).headers["location"]
    session.execute(update(Upload).values(expires_at=utcnow() - timedelta(minutes=1)))
    session.commit()
    app.state.janitor.run_once()
    assert client.head(location, headers=headers).status_code == 410

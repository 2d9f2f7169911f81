"""The tus 1.0.0 server, request by request: creation, offsets, checksums, termination,
expiration, limits and quotas, and the checks every finished file must pass."""
from __future__ import annotations

import base64
import hashlib
import os
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from services.api.orgs.models import School
from services.api.uploads import service
from services.api.uploads.limits import PART_SIZE
from services.api.uploads.models import Blob, Upload, UploadStatus
from services.api.uploads.uploader import Uploader
from services.common.db import utcnow
from tests import media
from tests.helpers import assert_problem

UPLOADS = "/api/v1/uploads/"
TUS = {"Tus-Resumable": "1.0.0"}
CHUNK = {"Content-Type": "application/offset+octet-stream"}


def metadata(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


@pytest.fixture
def teacher(factory):
    user = factory.user()
    factory.commit()
    return user


@pytest.fixture
def headers(factory, teacher):
    return {**factory.headers(teacher), **TUS}


def create(client, headers, length, filename="第一课.mp4", content_type="video/mp4"):
    response = client.post(UPLOADS, headers={**headers, "Upload-Length": str(length),
                                             "Upload-Metadata": metadata(filename=filename, content_type=content_type)})
    assert response.status_code == 201, response.text
    return response.headers["location"]


def patch(client, headers, location, offset, data, **extra):
    return client.patch(location, content=data, headers={**headers, **CHUNK, "Upload-Offset": str(offset), **extra})


def upload_file(client, headers, data, filename, content_type="application/octet-stream", chunk=256 * 1024):
    location = create(client, headers, len(data), filename, content_type)
    offset = 0
    while offset < len(data):
        response = patch(client, headers, location, offset, data[offset:offset + chunk])
        if response.status_code != 204:
            return location, response
        offset = int(response.headers["upload-offset"])
    return location, response


def stored_keys(app):
    return [info.key for info in app.state.blob_store.list("")]


def test_options_advertise_the_protocol(client):
    response = client.options(UPLOADS)
    assert response.status_code == 204
    assert response.headers["tus-version"] == "1.0.0"
    assert set(response.headers["tus-extension"].split(",")) == {
        "creation", "creation-with-upload", "termination", "checksum", "expiration"}
    assert {"sha1", "md5", "sha256"} <= set(response.headers["tus-checksum-algorithm"].split(","))


def test_chunks_resume_from_the_offset_and_the_file_is_kept_by_content(client, app, headers, session, tmp_path):
    data = media.lesson_mp4(tmp_path / "lesson.mp4").read_bytes()
    location = create(client, headers, len(data))
    head = client.head(location, headers=headers)
    assert head.headers["upload-offset"] == "0" and head.headers["upload-length"] == str(len(data))
    assert head.headers["cache-control"] == "no-store" and "upload-expires" in head.headers
    half = len(data) // 2
    assert patch(client, headers, location, 0, data[:half]).headers["upload-offset"] == str(half)
    assert client.head(location, headers=headers).headers["upload-offset"] == str(half)
    done = patch(client, headers, location, half, data[half:])
    assert done.status_code == 204 and done.headers["upload-offset"] == str(len(data))
    status = client.get(location.rstrip("/"), headers=headers).json()
    assert status["status"] == "complete" and status["media_type"] == "video/mp4" and status["category"] == "video"
    assert status["probe"]["width"] == 320 and status["probe"]["duration_s"] == pytest.approx(3.0, abs=0.2)
    assert status["filename"] == "第一课.mp4"
    digest = hashlib.sha256(data).hexdigest()
    blob = session.scalars(select(Blob).where(Blob.sha256 == digest)).one()
    assert blob.key == f"sha256/{digest[:2]}/{digest[2:4]}/{digest}" and blob.size == len(data)
    assert b"".join(app.state.blob_store.open(blob.key)) == data
    assert stored_keys(app) == [blob.key]  # the staging object is gone


def test_protocol_errors(client, headers, factory):
    location = create(client, headers, 1000, "notes.pdf", "application/pdf")
    assert_problem(patch(client, headers, location, 10, b"x" * 10), 409, "upload.offset_mismatch")
    no_version = {k: v for k, v in headers.items() if k != "Tus-Resumable"}
    response = patch(client, no_version, location, 0, b"%PDF-")
    assert_problem(response, 412, "upload.unsupported_tus_version")
    assert response.headers["tus-version"] == "1.0.0"
    wrong_type = client.patch(location, content=b"x", headers={**headers, "Upload-Offset": "0",
                                                               "Content-Type": "application/json"})
    assert_problem(wrong_type, 415, "upload.wrong_content_type")
    assert_problem(patch(client, headers, location, 0, b"x" * 1001), 400, "upload.bad_request")
    assert client.head(location, headers=headers).headers["upload-offset"] == "0"
    assert_problem(client.post(UPLOADS, headers={**headers, "Upload-Defer-Length": "1"}), 400, "upload.bad_request")
    assert_problem(client.post(UPLOADS, headers={**headers, "Upload-Length": "10", "Upload-Metadata": "filename ***"}),
                   400, "upload.bad_request")
    stranger = factory.user()
    factory.commit()
    assert client.head(location, headers={**factory.headers(stranger), **TUS}).status_code == 404  # HEAD: no body
    assert_problem(patch(client, {**factory.headers(stranger), **TUS}, location, 0, b"%PDF-"), 404, "upload.not_found")
    assert_problem(client.post(UPLOADS, headers={**TUS, "Upload-Length": "10"}), 401, "auth.not_authenticated")


def test_checksums_are_verified_per_chunk(client, headers, tmp_path):
    # A real PDF (the finished file is checked too) with random bytes in it.
    body = media.lesson_pdf(tmp_path / "卷子.pdf", more={6: media.stream(b"", os.urandom(3000))}).read_bytes()
    location = create(client, headers, len(body), "卷子.pdf", "application/pdf")
    first = body[:1000]
    for algorithm in ("sha1", "md5", "sha256"):
        wrong = base64.b64encode(hashlib.new(algorithm, b"something else").digest()).decode()
        response = patch(client, headers, location, 0, first, **{"Upload-Checksum": f"{algorithm} {wrong}"})
        assert_problem(response, 460, "upload.checksum_mismatch")
        assert client.head(location, headers=headers).headers["upload-offset"] == "0"
    right = base64.b64encode(hashlib.sha1(first).digest()).decode()
    assert patch(client, headers, location, 0, first, **{"Upload-Checksum": f"sha1 {right}"}).status_code == 204
    assert_problem(patch(client, headers, location, 1000, body[1000:], **{"Upload-Checksum": "crc32 AAAA"}),
                   400, "upload.unsupported_checksum")
    rest = base64.b64encode(hashlib.sha256(body[1000:]).digest()).decode()
    done = patch(client, headers, location, 1000, body[1000:], **{"Upload-Checksum": f"sha256 {rest}"})
    assert done.status_code == 204 and done.headers["upload-offset"] == str(len(body))


def test_creation_with_upload(client, headers, tmp_path):
    data = media.png(tmp_path / "板书.png").read_bytes()
    response = client.post(UPLOADS, content=data, headers={
        **headers, **CHUNK, "Upload-Length": str(len(data)), "Upload-Metadata": metadata(filename="板书.png")})
    assert response.status_code == 201, response.text
    assert response.headers["upload-offset"] == str(len(data))
    assert client.get(response.headers["location"].rstrip("/"), headers=headers).json()["status"] == "complete"


def leftovers(app, settings, upload_id):
    """Where an unfinished upload's bytes can be: its spool (S3 parts) or its staging file (local disk)."""
    spool = settings.core.data_dir / "uploads" / upload_id
    return ([str(spool)] if spool.exists() else []) + stored_keys(app)


def test_termination_discards_everything(client, app, headers, session, settings):
    location = create(client, headers, 10 * 1024 * 1024, "lesson.mp4")
    assert patch(client, headers, location, 0, os.urandom(1024)).status_code == 204
    upload_id = location.rstrip("/").rsplit("/", 1)[1]
    assert leftovers(app, settings, upload_id)
    assert client.delete(location, headers=headers).status_code == 204
    assert client.head(location, headers=headers).status_code == 410
    assert_problem(patch(client, headers, location, 1024, b"x"), 410, "upload.gone")
    assert leftovers(app, settings, upload_id) == []


def test_local_disk_writes_received_bytes_once_into_the_staging_file(client, app, headers, session, settings):
    data = os.urandom(PART_SIZE + 12345)
    location = create(client, headers, 40 * 1024 * 1024, "long.mp4")
    assert patch(client, headers, location, 0, data[:5000]).status_code == 204  # ends mid-block
    assert patch(client, headers, location, 5000, data[5000:]).status_code == 204  # resumes mid-block
    upload_id = location.rstrip("/").rsplit("/", 1)[1]
    upload = session.get(Upload, upload_id)
    assert (upload.multipart_id, upload.parts) == (None, [])
    assert not (settings.core.data_dir / "uploads" / upload_id).exists()  # no spool, no second copy
    assert b"".join(app.state.blob_store.open(upload.staging_key)) == data


def test_an_upload_begun_as_multipart_on_local_disk_finishes_through_its_spool(
        client, app, headers, session, settings, tmp_path):
    """Uploads that were receiving when in-place writing arrived keep their multipart upload."""
    data = media.padded_mp4(media.lesson_mp4(tmp_path / "clip.mp4"), tmp_path / "旧.mp4",
                            total_bytes=PART_SIZE + 300_000).read_bytes()
    location = create(client, headers, len(data), "旧.mp4")
    upload_id = location.rstrip("/").rsplit("/", 1)[1]
    upload = session.get(Upload, upload_id)
    upload.multipart_id = app.state.blob_store.create_multipart(upload.staging_key, content_type="video/mp4")
    session.commit()
    assert patch(client, headers, location, 0, data[:PART_SIZE + 5000]).status_code == 204
    assert (settings.core.data_dir / "uploads" / upload_id).exists()  # the leftover is spooled
    assert patch(client, headers, location, PART_SIZE + 5000, data[PART_SIZE + 5000:]).status_code == 204
    view = client.get(location.rstrip("/"), headers=headers).json()
    assert view["status"] == "complete", view
    assert view["sha256"] == hashlib.sha256(data).hexdigest()


def test_expired_uploads_are_cleaned_up_with_their_parts(client, app, headers, session, settings, teacher):
    location = create(client, headers, 40 * 1024 * 1024, "long.mp4")
    assert patch(client, headers, location, 0, os.urandom(PART_SIZE + 1024)).status_code == 204
    upload_id = location.rstrip("/").rsplit("/", 1)[1]
    upload = session.get(Upload, upload_id)
    assert leftovers(app, settings, upload_id)
    expired = service.expire_uploads(session, store=app.state.blob_store, spool_root=settings.core.data_dir / "uploads",
                                     now=utcnow() + timedelta(days=2))
    assert expired == 1
    session.refresh(upload)
    assert upload.status is UploadStatus.expired
    assert leftovers(app, settings, upload_id) == []
    assert client.head(location, headers=headers).status_code == 410


def test_a_second_writer_is_refused_while_one_writes(client, headers, session, teacher):
    location = create(client, headers, 1000, "a.pdf")
    upload_id = location.rstrip("/").rsplit("/", 1)[1]
    owner = Uploader(user_id=teacher.id, device_id=None, school_id=teacher.school_id)
    lease = service.acquire(session, owner=owner, upload_id=upload_id, offset=0)
    assert_problem(patch(client, headers, location, 0, b"%PDF-"), 423, "upload.locked")
    service.release(session, lease)
    assert patch(client, headers, location, 0, b"%PDF-").status_code == 204


def test_size_limits_and_quota_are_enforced_before_any_byte(client, headers, session, teacher):
    too_big_pdf = client.post(UPLOADS, headers={**headers, "Upload-Length": str(301 * 1024 * 1024),
                                                "Upload-Metadata": metadata(filename="scan.pdf")})
    body = assert_problem(too_big_pdf, 413, "upload.too_large")
    assert "300 MiB" in body["detail"]
    school = session.get(School, teacher.school_id)
    school.storage_quota_bytes = 5 * 1024 * 1024
    session.commit()
    create(client, headers, 3 * 1024 * 1024, "one.mp4")
    over = client.post(UPLOADS, headers={**headers, "Upload-Length": str(3 * 1024 * 1024),
                                         "Upload-Metadata": metadata(filename="two.mp4")})
    assert_problem(over, 413, "upload.quota_exceeded")
    assert session.scalar(select(func.count()).select_from(Upload)) == 1
    exe = client.post(UPLOADS, headers={**headers, "Upload-Length": "100",
                                        "Upload-Metadata": metadata(filename="setup.exe")})
    assert_problem(exe, 415, "upload.unsupported_type")


@pytest.mark.parametrize(("name", "make", "status", "code"), [
    ("宣讲.pptx", lambda d: media.zip_bomb_pptx(d / "bomb.pptx"), 422, "upload.unsafe_file"),
    ("教案.docx", lambda d: media.entity_expansion_docx(d / "lol.docx"), 422, "upload.unsafe_file"),
    ("课堂实录.mp4", lambda d: media.text_posing_as(d / "fake.mp4"), 415, "upload.unsupported_type"),
    ("课堂实录.mp4", lambda d: media.truncated(media.lesson_mp4(d / "whole.mp4"), d / "cut.mp4"), 422,
     "upload.unreadable_media"),
    ("板书.png", lambda d: media.png(d / "tall.png", size=(1, 60000)), 422, "upload.unsafe_file"),
    ("讲义.pdf", lambda d: media.lesson_mp4(d / "video.mp4"), 415, "upload.type_mismatch"),
])
def test_hostile_files_are_refused_and_nothing_is_kept(client, app, headers, session, settings, tmp_path,
                                                       name, make, status, code):
    data = make(tmp_path).read_bytes()
    location, response = upload_file(client, headers, data, name)
    assert_problem(response, status, code)
    assert stored_keys(app) == []
    assert session.scalar(select(func.count()).select_from(Blob)) == 0
    spools = settings.core.data_dir / "uploads"
    assert not spools.exists() or list(spools.iterdir()) == []
    upload = client.get(location.rstrip("/"), headers=headers).json()
    assert upload["status"] == "refused" and upload["refusal_code"] == code


def test_a_path_for_a_name_is_refused_at_creation(client, headers, session):
    response = client.post(UPLOADS, headers={**headers, "Upload-Length": "100",
                                             "Upload-Metadata": metadata(filename="../../etc/passwd")})
    assert_problem(response, 400, "upload.bad_request")
    assert session.scalar(select(func.count()).select_from(Upload)) == 0


def test_names_keep_their_unicode_and_lose_separators_and_controls(client, headers, tmp_path):
    data = media.png(tmp_path / "p.png").read_bytes()
    location, _ = upload_file(client, headers, data, "第1单元/导入\x07课件 .png")
    assert client.get(location.rstrip("/"), headers=headers).json()["filename"] == "第1单元_导入_课件 .png"

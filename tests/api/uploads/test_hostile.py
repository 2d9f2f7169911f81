"""Hostile files at the end of an upload (issue 17): each class is refused with a problem detail
and a stable code at the last PATCH — never a 500, never kept — and the API goes on answering
while the checks that parse documents and pictures run in their sandboxed child process."""
from __future__ import annotations

import zlib

import pytest
from sqlalchemy import func, select

from services.api.uploads.models import Blob
from tests import media
from tests.api.uploads.test_tus import TUS, stored_keys, upload_file
from tests.helpers import assert_problem

CONTENT_TYPES = media.CONTENT_TYPES.encode()
DOCUMENT = b'<?xml version="1.0" encoding="UTF-8"?><w:document>' + "第一课".encode() * 2000 + b"</w:document>"


@pytest.fixture
def headers(factory):
    user = factory.user()
    factory.commit()
    return {**factory.headers(user), **TUS}


def _pdf(d, name, **options):
    return media.lesson_pdf(d / name, **options)


HOSTILE = [
    # Office files
    ("zipcrypto", "教案.docx", lambda d: media.raw_zip(
        d / "enc.docx", [("[Content_Types].xml", CONTENT_TYPES), ("word/document.xml", DOCUMENT)], encrypt=True),
     "upload.encrypted_file"),
    ("lying sizes", "教案.docx", lambda d: media.raw_zip(
        d / "lie.docx", [("[Content_Types].xml", CONTENT_TYPES), ("word/document.xml", DOCUMENT)],
        declared_sizes={"word/document.xml": 100}), "upload.damaged_document"),
    ("lying sizes, larger", "教案.docx", lambda d: media.raw_zip(
        d / "lie2.docx", [("[Content_Types].xml", CONTENT_TYPES), ("word/document.xml", DOCUMENT)],
        declared_sizes={"word/document.xml": len(DOCUMENT) + 5000}), "upload.damaged_document"),
    ("zip bomb inside", "教案.docx", lambda d: media.docx_parts(
        d / "inner.docx", ("word/embeddings/data.zip", media.zip_bomb_bytes())), "upload.unsafe_file"),
    ("archives nested deep", "教案.docx", lambda d: media.docx_parts(
        d / "deep.docx", ("word/embeddings/pack.zip", media.nested_zip(4))), "upload.too_complex"),
    ("macros", "教案.docx", lambda d: media.docx_parts(
        d / "macro.docx", ("word/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))),
     "upload.active_content"),
    ("remote template", "教案.docx", lambda d: media.docx_parts(
        d / "template.docx", rels=media.remote_template_rels("http://198.51.100.7/template.dotm")),
     "upload.active_content"),
    ("legacy macros", "教案.doc", lambda d: media.compound_file(d / "macro.doc", ["WordDocument", "Macros",
                                                                                "_VBA_PROJECT"]),
     "upload.active_content"),
    ("legacy embedded package", "课件.ppt", lambda d: media.compound_file(
        d / "package.ppt", ["PowerPoint Document", "\x01Ole10Native"]), "upload.active_content"),
    ("encrypted ooxml", "教案.docx", lambda d: media.compound_file(
        d / "locked.docx", ["EncryptionInfo", "EncryptedPackage"]), "upload.encrypted_file"),
    # PDFs: active content
    ("pdf javascript", "讲义.pdf", lambda d: _pdf(
        d, "js.pdf", catalog_extra=b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>"), "upload.active_content"),
    ("pdf launch", "讲义.pdf", lambda d: _pdf(
        d, "launch.pdf", page_extra=b"/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 99 99] "
                                    b"/A << /S /Launch /F (calc.exe) >> >>]"), "upload.active_content"),
    ("pdf embedded file", "讲义.pdf", lambda d: _pdf(
        d, "attached.pdf", catalog_extra=b"/Names << /EmbeddedFiles << /Names [(a.exe) 6 0 R] >> >>",
        more={6: b"<< /Type /Filespec /F (a.exe) /EF << /F 7 0 R >> >>",
              7: media.stream(b"/Type /EmbeddedFile", b"MZ")}), "upload.active_content"),
    # PDFs: malformed or resource-exhausting
    ("pdf cyclic xref", "讲义.pdf", lambda d: _pdf(d, "cyclic.pdf", prev_xref=True), "upload.damaged_document"),
    ("pdf self-referencing length", "讲义.pdf", lambda d: _pdf(
        d, "length.pdf", content=media.stream(b"", b"BT ET", length=b"4 0 R")), "upload.damaged_document"),
    ("pdf enormous page tree", "讲义.pdf", lambda d: media.pdf_objects(d / "pages.pdf", {
        1: b"<< /Type /Catalog /Pages 2 0 R >>", 2: b"<< /Type /Pages /Kids [3 0 R] /Count 1000000000 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"}), "upload.too_complex"),
    ("pdf decompression bomb", "讲义.pdf", lambda d: _pdf(
        d, "bomb.pdf", content=media.stream(b"/Filter /FlateDecode", zlib.compress(b" " * (200 * 1024 * 1024), 9))),
     "upload.too_complex"),
    ("pdf image bomb", "讲义.pdf", lambda d: _pdf(
        d, "image.pdf", page_extra=b"/XObject << /Im1 6 0 R >>",
        more={6: media.stream(b"/Type /XObject /Subtype /Image /Width 100000 /Height 100000 /ColorSpace /DeviceGray"
                              b" /BitsPerComponent 8 /Filter /FlateDecode", zlib.compress(bytes(1000)))}),
     "upload.too_complex"),
    ("pdf absurd page", "讲义.pdf", lambda d: _pdf(d, "tall.pdf", media_box=b"[0 0 1 200000]"), "upload.too_complex"),
    # Pictures and videos
    ("thousands of frames", "动画.gif", lambda d: media.animated_gif(d / "frames.gif", frames=2000),
     "upload.too_complex"),
    ("dozens of audio tracks", "课堂实录.mp4", lambda d: media.many_audio_tracks(d / "tracks.mp4"),
     "upload.media_out_of_limits"),
    ("frames past 8K", "课堂实录.mp4", lambda d: media.oversized_frames(d / "huge.mp4"),
     "upload.media_out_of_limits"),
]


@pytest.mark.parametrize(("name", "make", "code"), [(c[1], c[2], c[3]) for c in HOSTILE],
                         ids=[c[0] for c in HOSTILE])
def test_each_class_of_hostile_file_is_refused_with_its_code(client, app, headers, session, tmp_path, name, make,
                                                             code):
    data = make(tmp_path).read_bytes()
    location, response = upload_file(client, headers, data, name)
    assert_problem(response, 422, code)
    assert stored_keys(app) == []
    assert session.scalar(select(func.count()).select_from(Blob)) == 0
    upload = client.get(location.rstrip("/"), headers=headers).json()
    assert upload["status"] == "refused" and upload["refusal_code"] == code
    assert client.get("/readyz").status_code == 200


@pytest.mark.parametrize(("name", "make", "media_type"), [
    ("讲义.pdf", lambda d: media.lesson_pdf(d / "ok.pdf"), "application/pdf"),
    ("教案.docx", lambda d: media.chinese_docx(d / "ok.docx"),
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("教案.docx", lambda d: media.docx_parts(d / "chart.docx", ("word/embeddings/Workbook.xlsx", media.nested_zip(1))),
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("动画.gif", lambda d: media.animated_gif(d / "short.gif", frames=12), "image/gif"),
])
def test_ordinary_files_still_pass(client, headers, tmp_path, name, make, media_type):
    data = make(tmp_path).read_bytes()
    location, response = upload_file(client, headers, data, name)
    assert response.status_code == 204, response.text
    assert client.get(location.rstrip("/"), headers=headers).json()["media_type"] == media_type


def test_a_check_that_needs_too_much_is_refused_and_the_api_keeps_answering(client, app, headers, tmp_path,
                                                                           monkeypatch):
    from services.api.uploads import limits

    # The same check with a budget far too small: the child is killed by its limit, not the API.
    monkeypatch.setattr(limits, "INSPECT_MEMORY", 64 * 1024 * 1024)
    data = media.lesson_pdf(tmp_path / "ok.pdf").read_bytes()
    location, response = upload_file(client, headers, data, "讲义.pdf")
    assert_problem(response, 422, "upload.too_complex")
    assert client.get("/readyz").status_code == 200

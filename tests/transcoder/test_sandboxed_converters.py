"""Converters run on hostile files inside the sandbox (services/common/sandbox.py), proved with
files that leak or hang without it: a playlist posing as a video that names another address, a
document whose picture is linked from a server, a page of absurd size, and a converter whose
child outlives it."""
from __future__ import annotations

import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from services.common import jobs
from services.common.db import create_db_engine
from services.common.ids import new_id
from services.common.jobs import JobFailed
from services.common.storage.local import LocalBlobStore
from services.transcoder.app import Transcoder, process_job
from services.transcoder.ffmpeg_run import run_ffmpeg
from tests import media
from tests.helpers import RecordingBroker
from tests.test_sandbox import _alive_with
from tests.transcoder.test_jobs import libreoffice, run_document, transcoder  # noqa: F401 (fixtures)

PLAYLIST = "/lesson"


@pytest.fixture
def listener():
    """A local web server: it serves a playlist at PLAYLIST and records every path asked for."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            hits.append(self.path.split("?")[0])
            body = (f"#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.0,\n"
                    f"http://127.0.0.1:{self.server.server_address[1]}/internal/secret.ts\n#EXT-X-ENDLIST\n").encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.apple.mpegurl")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], hits
    server.shutdown()
    server.server_close()


class UrlSourceStore(LocalBlobStore):
    """Stand-in for object storage's presigned URLs (what ffmpeg reads on S3), pointing at the
    local listener: the one thing changed is where `tool_source` says the bytes are."""

    source_url = ""

    def tool_source(self, key: str, *, expires_s: int = 3600) -> str:
        return self.source_url


@pytest.mark.parametrize("media_type", ["video/mp4", ""])
def test_a_playlist_posing_as_a_video_fetches_nothing_it_names(tmp_path, listener, media_type):
    port, hits = listener
    engine = create_db_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    jobs.metadata.create_all(engine)
    store = UrlSourceStore(root=tmp_path / "blobs", url_base="http://127.0.0.1/api/v1/blobs", url_secret="s" * 32)
    store.source_url = f"http://127.0.0.1:{port}{PLAYLIST}"
    worker = Transcoder(engine=engine, store=store, celery=RecordingBroker(), scratch_root=tmp_path / "scratch",
                        name="test")
    with engine.begin() as connection:
        job_id = jobs.create_job(connection, resource_id=new_id(), asset_id=new_id(), kind=jobs.JobKind.ladder,
                                 source_key="sources/lesson", source_media_type=media_type)
    assert process_job(worker, job_id) == "failed"
    assert hits and set(hits) == {PLAYLIST}, f"the converter followed the playlist: {hits}"
    engine.dispose()


def test_libreoffice_fetches_nothing_a_document_links_to(transcoder, libreoffice, listener, tmp_path):  # noqa: F811
    port, hits = listener
    document = media.linked_image_docx(tmp_path / "linked.docx", url=f"http://127.0.0.1:{port}/tracking.png")
    outcome, row = run_document(transcoder, document,
                                "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    assert outcome == "done", row.error
    assert hits == []


def test_a_page_of_absurd_size_is_rendered_scaled_down_and_said_so(transcoder, tmp_path):  # noqa: F811
    from PIL import Image

    pdf = media.lesson_pdf(tmp_path / "strip.pdf", media_box=b"[0 0 100 14400]")
    outcome, row = run_document(transcoder, pdf, "application/pdf")
    assert outcome == "done", row.error
    assert row.result["capped_pages"] == [1] and "scaled down" in row.result["note"]
    page = tmp_path / "page.jpg"
    page.write_bytes(b"".join(transcoder.store.open(f"{row.result['prefix']}/pages/0001.jpg")))
    with Image.open(page) as image:
        assert image.height <= 4 * 1280


def test_a_converter_that_hangs_is_killed_with_every_process_it_started(tmp_path):
    marker = f"lb-converter-{uuid.uuid4().hex}"
    orphan = (f"import os, signal, time\n"
              f"signal.signal(signal.SIGHUP, signal.SIG_IGN); signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
              f"os.setsid()\n"
              f"time.sleep(600)\n")
    hanging = (f"import subprocess, sys, time\n"
               f"subprocess.Popen([sys.executable, '-c', {orphan!r}, {marker!r}])\n"
               f"subprocess.Popen(['sleep', '600', {marker!r}])\n"
               f"time.sleep(600)\n")
    started = time.monotonic()
    with pytest.raises(JobFailed, match="longer than its limit"):
        run_ffmpeg([sys.executable, "-c", hanging, marker], scratch=tmp_path / "scratch", duration_s=1,
                   time_limit_s=3)
    assert time.monotonic() - started < 60
    deadline = time.monotonic() + 20
    while _alive_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _alive_with(marker) == []

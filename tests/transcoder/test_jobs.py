"""The transcoder's jobs on hostile and odd media, run as a worker runs them (claim, work,
finish) against a real ledger on SQLite and local storage: each ends `done` or `failed` with a
reason people can read, within its time limit, and leaves no outputs behind when it fails."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from services.common import jobs
from services.common.db import create_db_engine
from services.common.ids import new_id
from services.common.media import MediaFacts, VideoTrack
from services.common.storage.local import LocalBlobStore
from services.transcoder.app import Transcoder, process_job
from services.transcoder.hls import _peak_bit_rate
from services.transcoder.ladder import plan_for
from tests import media
from tests.helpers import RecordingBroker


@pytest.fixture
def transcoder(tmp_path):
    engine = create_db_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    jobs.metadata.create_all(engine)
    store = LocalBlobStore(root=tmp_path / "blobs", url_base="http://127.0.0.1/api/v1/blobs", url_secret="s" * 32)
    yield Transcoder(engine=engine, store=store, celery=RecordingBroker(), scratch_root=tmp_path / "scratch", name="test")
    engine.dispose()


def run(transcoder, path: Path, kind=jobs.JobKind.ladder):
    key = f"sources/{new_id()}{path.suffix}"
    transcoder.store.put_file(key, path, content_type="video/mp4")
    with transcoder.engine.begin() as connection:
        job_id = jobs.create_job(connection, resource_id=new_id(), asset_id=new_id(), kind=kind, source_key=key)
    started = time.monotonic()
    outcome = process_job(transcoder, job_id)
    with transcoder.engine.connect() as connection:
        row = connection.execute(select(jobs.processing_jobs).where(jobs.processing_jobs.c.id == job_id)).one()
    return outcome, row, time.monotonic() - started


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True, timeout=120)


def media_keys(transcoder):
    return [info.key for info in transcoder.store.list("media/")]


def test_a_truncated_recording_fails_with_a_reason_and_leaves_nothing(transcoder, tmp_path):
    whole = media.lesson_mp4(tmp_path / "whole.mp4", seconds=4)
    outcome, row, _ = run(transcoder, media.truncated(whole, tmp_path / "cut.mp4", keep=0.5))
    assert outcome == "failed" and row.state is jobs.JobState.failed
    assert row.error and "internal error" not in row.error
    assert media_keys(transcoder) == []


def test_a_file_without_video_fails_as_such(transcoder, tmp_path):
    ffmpeg("-f", "lavfi", "-i", "sine=duration=2", "-c:a", "aac", str(tmp_path / "audio.mp4"))
    outcome, row, _ = run(transcoder, tmp_path / "audio.mp4", kind=jobs.JobKind.first_playable)
    assert outcome == "failed" and "no video stream" in row.error


def test_ten_hours_of_one_frozen_frame_is_refused_at_once(transcoder, tmp_path):
    # One frame every 10 minutes for 10 hours: a tiny file that claims a 10-hour lesson.
    ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=320x240:r=1/600:d=36000", "-c:v", "libx264", "-preset",
           "ultrafast", "-pix_fmt", "yuv420p", str(tmp_path / "frozen.mp4"))
    outcome, row, elapsed = run(transcoder, tmp_path / "frozen.mp4")
    assert outcome == "failed" and "longer than 6 h" in row.error
    assert elapsed < 30


def test_absurd_frame_rates_and_sizes_are_refused(transcoder, tmp_path):
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x48:r=1000:d=1", "-c:v", "libx264", "-preset", "ultrafast",
           "-pix_fmt", "yuv420p", str(tmp_path / "fast.mp4"))
    outcome, row, _ = run(transcoder, tmp_path / "fast.mp4")
    assert outcome == "failed" and "frames per second" in row.error


def test_a_tiny_odd_sized_video_gets_one_rung_at_its_own_size(transcoder, tmp_path):
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=178x100:r=15:d=3", "-c:v", "libx264", "-preset", "ultrafast",
           "-pix_fmt", "yuv420p", str(tmp_path / "tiny.mp4"))  # no audio either
    outcome, row, _ = run(transcoder, tmp_path / "tiny.mp4")
    assert outcome == "done", row.error
    track = row.result["tracks"][0]
    assert [(v["name"], v["height"]) for v in track["variants"]] == [("100p", 100)]
    assert track["audio"] is None
    stored = set(media_keys(transcoder))
    assert {f"{row.result['prefix']}/{name}" for name in [*row.result["files"], "manifest.json"]} == stored


def test_a_non_h264_source_has_no_first_playable_but_a_ladder(transcoder, tmp_path):
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=3", "-c:v", "mpeg4", str(tmp_path / "old.mp4"))
    outcome, row, _ = run(transcoder, tmp_path / "old.mp4", kind=jobs.JobKind.first_playable)
    assert outcome == "done" and row.result["skipped"].startswith("source video is mpeg4")
    outcome, row, _ = run(transcoder, tmp_path / "old.mp4")
    assert outcome == "done" and [v["name"] for v in row.result["tracks"][0]["variants"]] == ["240p"]


def test_a_ladder_starts_with_short_segments_cut_at_the_same_times_in_every_rung(transcoder, tmp_path):
    # 360p: an encoded ladder (360p and 240p rungs, audio), 14 s long.
    outcome, row, _ = run(transcoder, media.lesson_mp4(tmp_path / "lesson.mp4", seconds=14, size="640x360"))
    assert outcome == "done", row.error
    track = row.result["tracks"][0]
    durations = {}
    for variant in track["variants"]:
        playlist = b"".join(transcoder.store.open(f"{row.result['prefix']}/{variant['uri']}")).decode()
        durations[variant["name"]] = [round(float(line.split(":", 1)[1].split(",")[0]), 2)
                                      for line in playlist.splitlines() if line.startswith("#EXTINF:")]
        assert "#EXT-X-TARGETDURATION:4" in playlist
    assert set(durations) == {"360p", "240p"}
    # Two 2 s segments, then 4 s ones, then the 2 s tail: in every rung alike.
    assert durations["360p"] == durations["240p"] == [2.0, 2.0, 4.0, 4.0, 2.0]
    for variant in track["variants"]:
        assert variant["bandwidth"] >= variant["average_bandwidth"]


def test_the_peak_bit_rate_is_over_runs_of_half_to_one_and_a_half_target_durations():
    # A 1 s first segment heavy with its keyframe is not a peak on its own (400 kbit/s): the
    # runs of 2 to 6 s are, and the heaviest is the first two segments (240 kbit/s).
    sizes = [(1.0, 50_000), (1.0, 10_000), (1.0, 10_000), (4.0, 40_000), (4.0, 60_000), (0.4, 9_000)]
    assert _peak_bit_rate(sizes, sum(d for d, _ in sizes)) == 240_000
    assert _peak_bit_rate([(1.5, 30_000)], 1.5) == 160_000  # shorter than half the target: its average


def facts(height, *, codec="h264", fps=25.0, bit_rate=1_000_000):
    track = VideoTrack(index=0, codec=codec, width=height * 16 // 9, height=height, fps=fps, bit_rate=bit_rate,
                       title=None)
    return MediaFacts(duration_s=60, format_name="mov", bit_rate=bit_rate, video=[track], audio_codec="aac",
                      audio_channels=2, audio_tracks=1), track


@pytest.mark.parametrize(("height", "rungs"), [
    (1080, ["1080p", "720p", "480p", "360p", "240p"]), (720, ["720p", "480p", "360p", "240p"]),
    (576, ["480p", "360p", "240p"]), (240, ["240p"]), (144, ["144p"]),
])
def test_the_ladder_never_upscales(height, rungs):
    source, track = facts(height)
    assert plan_for(source, track, keyframe_interval_s=2.0).names == rungs


def test_the_top_rung_is_copied_only_when_the_source_already_fits_it():
    source, track = facts(720, bit_rate=1_200_000)
    assert plan_for(source, track, keyframe_interval_s=2.0).copy_top
    assert not plan_for(source, track, keyframe_interval_s=10.0).copy_top  # keyframes too far apart
    assert not plan_for(*facts(720, bit_rate=5_000_000), keyframe_interval_s=2.0).copy_top  # over the cap
    assert not plan_for(*facts(720, codec="hevc"), keyframe_interval_s=2.0).copy_top
    assert not plan_for(*facts(576), keyframe_interval_s=2.0).copy_top  # no rung at 576 lines
    high_rate = plan_for(*facts(720, fps=50.0), keyframe_interval_s=2.0)
    assert high_rate.output_fps == 25.0 and not high_rate.copy_top


# --------------------------------------------------------------------------- documents, pictures, sound

def run_document(transcoder, path: Path, media_type: str):
    key = f"sources/{new_id()}"
    transcoder.store.put_file(key, path, content_type=media_type)
    with transcoder.engine.begin() as connection:
        job_id = jobs.create_job(connection, resource_id=new_id(), asset_id=new_id(), kind=jobs.JobKind.document,
                                 source_key=key, source_media_type=media_type)
    outcome = process_job(transcoder, job_id)
    with transcoder.engine.connect() as connection:
        return outcome, connection.execute(select(jobs.processing_jobs).where(
            jobs.processing_jobs.c.id == job_id)).one()


def stored_bytes(transcoder, key: str) -> bytes:
    return b"".join(transcoder.store.open(key))


@pytest.fixture
def libreoffice():
    if not shutil.which("soffice"):
        if os.environ.get("LB_TEST_REQUIRE_SERVERS"):
            pytest.fail("LibreOffice missing: run infra/libreoffice.sh install")
        pytest.skip("document leg skipped: LibreOffice missing (run infra/libreoffice.sh install)")


@pytest.mark.parametrize(("maker", "media_type", "pages"), [
    (media.chinese_pptx, "application/vnd.openxmlformats-officedocument.presentationml.presentation", 2),
    (media.chinese_docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", 1),
])
def test_office_documents_become_pdf_previews_rendered_with_chinese_glyphs(transcoder, libreoffice, tmp_path, maker,
                                                                           media_type, pages):
    import pypdfium2 as pdfium
    from PIL import Image

    outcome, row = run_document(transcoder, maker(tmp_path / f"lesson{maker.__name__.split('.')[-1]}"), media_type)
    assert outcome == "done", row.error
    result = row.result
    assert result["pages"] == pages and result["page_images"] == pages
    pdf_bytes = stored_bytes(transcoder, f"{result['prefix']}/preview.pdf")
    # The rendered PDF, not the source: its text layer says the Chinese words...
    rendered = tmp_path / "rendered.pdf"
    rendered.write_bytes(pdf_bytes)
    document = pdfium.PdfDocument(str(rendered))
    assert media.CHINESE in document[0].get_textpage().get_text_range()
    document.close()
    # ...and the glyphs come from a CJK font embedded in it (without one every glyph is a box).
    assert b"CJK" in pdf_bytes
    texts = json.loads(stored_bytes(transcoder, f"{result['prefix']}/text.json"))
    assert texts[0]["page"] == 1 and media.CHINESE in texts[0]["text"]
    page = tmp_path / "page.jpg"
    page.write_bytes(stored_bytes(transcoder, f"{result['prefix']}/pages/0001.jpg"))
    with Image.open(page) as image:
        assert image.width == 1280
        dark = sum(image.convert("L").histogram()[:128])
        assert dark > 500  # ink on the page


def test_a_damaged_document_fails_with_a_reason_and_keeps_no_outputs(transcoder, libreoffice, tmp_path):
    broken = tmp_path / "broken.pptx"
    broken.write_bytes(b"PK\x03\x04" + b"\x00" * 64 + "不是演示文稿".encode())
    outcome, row = run_document(transcoder, broken,
                                "application/vnd.openxmlformats-officedocument.presentationml.presentation")
    assert outcome == "failed" and "PDF" in row.error
    assert media_keys(transcoder) == []


def test_a_picture_gets_a_preview_and_a_thumbnail(transcoder, tmp_path):
    picture = media.png(tmp_path / "board.png", size=(3000, 2000))
    key = f"sources/{new_id()}"
    transcoder.store.put_file(key, picture, content_type="image/png")
    with transcoder.engine.begin() as connection:
        job_id = jobs.create_job(connection, resource_id=new_id(), asset_id=new_id(), kind=jobs.JobKind.image,
                                 source_key=key, source_media_type="image/png")
    assert process_job(transcoder, job_id) == "done"
    with transcoder.engine.connect() as connection:
        result = connection.execute(select(jobs.processing_jobs.c.result).where(
            jobs.processing_jobs.c.id == job_id)).scalar_one()
    assert (result["width"], result["height"]) == (3000, 2000)
    assert {"preview.jpg", "thumbnail.jpg"} <= set(result["files"])


def test_audio_gets_an_aac_rendition(transcoder, tmp_path):
    ffmpeg("-f", "lavfi", "-i", "sine=duration=3", "-c:a", "libmp3lame", str(tmp_path / "talk.mp3"))
    outcome, row, _ = run(transcoder, tmp_path / "talk.mp3", kind=jobs.JobKind.audio)
    assert outcome == "done", row.error
    assert row.result["rendition"] == "audio.m4a" and 2.5 < row.result["duration_s"] < 3.5

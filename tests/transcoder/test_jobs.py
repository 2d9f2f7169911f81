"""The transcoder's jobs on hostile and odd media, run as a worker runs them (claim, work,
finish) against a real ledger on SQLite and local storage: each ends `done` or `failed` with a
reason people can read, within its time limit, and leaves no outputs behind when it fails."""
from __future__ import annotations

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
from services.transcoder.ladder import plan_for
from tests import media


class NoBroker:
    def send_task(self, *_args, **_kwargs):
        return type("Sent", (), {"id": "none"})()


@pytest.fixture
def transcoder(tmp_path):
    engine = create_db_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    jobs.metadata.create_all(engine)
    store = LocalBlobStore(root=tmp_path / "blobs", url_base="http://127.0.0.1/api/v1/blobs", url_secret="s" * 32)
    yield Transcoder(engine=engine, store=store, celery=NoBroker(), scratch_root=tmp_path / "scratch", name="test")
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

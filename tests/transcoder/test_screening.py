"""Pre-screening in the transcoder: a ladder job reports black, frozen and silent video in its
manifest's `checks`, an audio job silence, a document job a PDF without extractable text; a
normal clip passes them all. Real ffmpeg on clips made here."""
from __future__ import annotations

import time

import pytest

from services.common import jobs
from services.common.checks import read_checks
from tests import media
from tests.transcoder.test_jobs import ffmpeg, run, run_document, transcoder  # noqa: F401 - fixture


def results(row):
    return {check.check: check.result for check in read_checks(row.result)}


@pytest.mark.parametrize(("video", "audio", "expected"), [
    (media.MOVING, media.TONE, {"black_video": "pass", "frozen_video": "pass", "silent_audio": "pass"}),
    (media.BLACK, media.TONE, {"black_video": "flag", "frozen_video": "flag", "silent_audio": "pass"}),
    (media.STILL, media.TONE, {"black_video": "pass", "frozen_video": "flag", "silent_audio": "pass"}),
    (media.MOVING, media.SILENCE, {"black_video": "pass", "frozen_video": "pass", "silent_audio": "flag"}),
    (media.MOVING, None, {"black_video": "pass", "frozen_video": "pass", "silent_audio": "flag"}),
], ids=["normal", "black", "frozen", "silent", "no-audio"])
def test_the_ladder_reports_black_frozen_and_silent_video(transcoder, tmp_path, video, audio, expected):  # noqa: F811
    clip = media.screening_clip(tmp_path / "clip.mp4", video=video, audio=audio)
    outcome, row, _ = run(transcoder, clip)
    assert outcome == "done", row.error
    assert results(row) == expected
    black = next(c for c in read_checks(row.result) if c.check == "black_video")
    assert set(black.facts) == {"seconds", "share", "longest_s"}
    if expected["black_video"] == "flag":
        assert black.facts["share"] > 0.9 and "黑屏" in black.detail


def test_an_audio_job_reports_silence(transcoder, tmp_path):  # noqa: F811
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-t", "6", "-c:a", "libmp3lame", str(tmp_path / "quiet.mp3"))
    outcome, row, _ = run(transcoder, tmp_path / "quiet.mp3", kind=jobs.JobKind.audio)
    assert outcome == "done", row.error
    assert results(row) == {"silent_audio": "flag"}
    ffmpeg("-f", "lavfi", "-i", "sine=duration=6", "-c:a", "libmp3lame", str(tmp_path / "talk.mp3"))
    outcome, row, _ = run(transcoder, tmp_path / "talk.mp3", kind=jobs.JobKind.audio)
    assert results(row) == {"silent_audio": "pass"}


def test_a_document_without_extractable_text_is_flagged(transcoder, tmp_path):  # noqa: F811
    outcome, row = run_document(transcoder, media.text_pdf(tmp_path / "scan.pdf", text=None), "application/pdf")
    assert outcome == "done", row.error
    assert results(row) == {"document_text": "flag"}
    outcome, row = run_document(transcoder, media.text_pdf(tmp_path / "text.pdf", text="Lesson one"),
                                "application/pdf")
    assert outcome == "done", row.error
    assert results(row) == {"document_text": "pass"}
    assert read_checks(row.result)[0].facts["characters"] == len("Lesson one")


def test_the_analysis_costs_little_next_to_the_ladder(transcoder, tmp_path, monkeypatch):  # noqa: F811
    """Prints the seconds the checks add to a ladder job (docs/design.md quotes them)."""
    from services.transcoder import screening

    spent = []
    original = screening.media_checks

    def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
        started = time.monotonic()
        try:
            return original(*args, **kwargs)
        finally:
            spent.append(time.monotonic() - started)

    monkeypatch.setattr(screening, "media_checks", timed)
    clip = media.screening_clip(tmp_path / "lesson.mp4", seconds=60, size="1280x720")
    outcome, row, elapsed = run(transcoder, clip)
    assert outcome == "done", row.error
    print(f"\nladder job {elapsed:.2f} s, of which pre-screening {spent[0]:.2f} s ({spent[0] / elapsed:.1%})")
    assert spent[0] < elapsed * 0.25

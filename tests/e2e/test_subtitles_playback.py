"""A lesson with its SRT sidecar, from upload to hls.js in headless Chromium: the player finds
the subtitle rendition in the signed master, loads the WebVTT through the play route, holds its
cues at their times, and starts where `/play?t=` said."""
from __future__ import annotations

import shutil
from urllib.parse import quote

import httpx

from tests import media
from tests.e2e.test_playback import (CHROMIUM_FLAGS, player_page, run_jobs, stack, teacher,  # noqa: F401 - fixtures
                                     upload, wait_for_status)

SRT = ("1\n00:00:01,000 --> 00:00:03,000\n同学们好，今天学习配方法\n\n"
       "2\n00:00:04,000 --> 00:00:06,500\n先把常数项移到右边\n\n"
       "3\n00:00:07,000 --> 00:00:11,000\n<i>左边就是完全平方式</i>\n")


def test_hls_js_shows_the_subtitle_track_with_its_cues_and_starts_at_t(stack, teacher, tmp_path, player_page):
    from playwright.sync_api import sync_playwright

    api, headers = stack["api"], teacher["headers"]
    video_id = upload(api, headers, media.lesson_mp4(tmp_path / "配方法.mp4", seconds=12, size="640x360"))
    (tmp_path / "配方法.srt").write_text(SRT, encoding="utf-8")
    subtitle_id = upload(api, headers, tmp_path / "配方法.srt", content_type="application/x-subrip")
    created = httpx.post(f"{api.url}/api/v1/resources", headers=headers, json={
        "title": "配方法", "kind": "micro_lesson", "visibility": "school", "license": "cc-by-4.0",
        "upload_ids": [video_id, subtitle_id]})
    assert created.status_code == 201, created.text
    resource_id = created.json()["id"]
    assert run_jobs(stack, resource_id) == ["done", "done"]
    wait_for_status(api, headers, resource_id, "pending_review")
    play = httpx.get(f"{api.url}/api/v1/resources/{resource_id}/play", params={"t": "6.5"}, headers=headers)
    assert play.status_code == 200, play.text
    assert play.json()["start_s"] == 6.5 and play.json()["subtitles"][0]["language"] == "zh"

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            page.goto(f"{player_page}?src={quote(play.json()['hls_url'], safe='')}")
            try:
                page.wait_for_function("window.textTracks().some((t) => t.cues.length >= 3)"
                                       " && window.player.startedAt !== null", timeout=60_000)
            finally:
                state, tracks = page.evaluate("window.player"), page.evaluate("window.textTracks()")
        finally:
            browser.close()
    assert not [e for e in state["errors"] if "fatal" in e], state
    assert state["subtitleTracks"] == [["zh", "中文", True]], state
    [subtitles] = [t for t in tracks if t["cues"]]
    assert subtitles["kind"] == "subtitles" and subtitles["language"] == "zh" and subtitles["mode"] == "showing"
    assert [text for _, _, text in subtitles["cues"]] == ["同学们好，今天学习配方法", "先把常数项移到右边",
                                                          "<i>左边就是完全平方式</i>"]
    # At their times, against the picture: the WebVTT is anchored at the first video frame of the
    # segments (X-TIMESTAMP-MAP). hls.js starts its timeline at the earliest sample, the audio,
    # which the encoder leads by a frame or two, so a cue may sit that much later on the clock.
    expected = [(1.0, 3.0), (4.0, 6.5), (7.0, 11.0)]
    for (start, end, _), (want_start, want_end) in zip(subtitles["cues"], expected, strict=True):
        assert want_start <= start <= want_start + 0.15 and want_end <= end <= want_end + 0.15, subtitles["cues"]
    # EXT-X-START with PRECISE=YES: playback began at t, not at 0 nor at the segment before it.
    assert 6.0 <= state["startedAt"] <= 7.5, state

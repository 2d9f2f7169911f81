"""The platform players' start rule (services/console/static/js/startup.js) holds exactly the
ladder's short first segments, and the weak-link benchmark's model player starts by the same rule
(the browser leg: tests/e2e/test_start_rule.py)."""
from __future__ import annotations

import re
from pathlib import Path

from bench.weaklink import model_player
from services.api.playback import service as playback
from services.transcoder.ladder import INIT_SEGMENT_S, INIT_SEGMENTS, SEGMENT_S

ROOT = Path(__file__).resolve().parents[2]


def _js_start_buffer() -> float:
    source = (ROOT / "services" / "console" / "static" / "js" / "startup.js").read_text(encoding="utf-8")
    return float(re.search(r"export const START_BUFFER_S = ([0-9.]+);", source).group(1))


def test_players_start_once_the_short_first_segments_are_in():
    short_start = INIT_SEGMENT_S * INIT_SEGMENTS
    assert _js_start_buffer() == short_start == model_player.START_BUFFER_S
    # The API chooses the start rung for that much buffer (playback.start_budget).
    assert playback.START_BUFFER_S == short_start
    # Then the first long segment's fetch has as much room as the segment lasts.
    assert short_start >= SEGMENT_S


def test_the_console_player_and_the_benchmark_page_use_the_rule():
    player = (ROOT / "services" / "console" / "static" / "js" / "player.js").read_text(encoding="utf-8")
    page = (ROOT / "bench" / "weaklink" / "player.html").read_text(encoding="utf-8")
    assert "import { loadFromListedRung, startWhenBuffered } from './startup.js';" in player
    assert "startWhenBuffered(hls, video, Hls.Events, { autoplay });" in player
    assert "loadFromListedRung(hls, Hls.Events, { startPosition: start ? Number(start) : -1 });" in player
    assert 'import { loadFromListedRung, startWhenBuffered } from "./startup.js";' in page
    assert "startWhenBuffered(hls, video, Hls.Events, {autoplay: true});" in page
    assert "loadFromListedRung(hls, Hls.Events);" in page
    # Both load from the listed rung only when told to (loadFromListedRung calls startLoad).
    assert "autoStartLoad: false" in player and "autoStartLoad: false" in page
    assert "autoplay" not in page.split("<video", 1)[1].split(">", 1)[0]

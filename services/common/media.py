"""What ffprobe says about a media file, and the limits every service holds media to.

The API probes an upload before keeping it; the transcoder probes again before working on it
(its input may have come from anywhere, and limits may have changed since).
"""
from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

MAX_DURATION_S = 6 * 3600
MAX_SIDE = 7680
MAX_FPS = 120
FFPROBE_TIMEOUT_S = 60


class MediaProblem(Exception):
    """A file that is not usable media; `reason` is shown to people (English / 中文)."""

    def __init__(self, reason: str, *, unreadable: bool) -> None:
        super().__init__(reason)
        self.reason = reason[:300]
        self.unreadable = unreadable  # True: not media at all; False: media outside the limits


@dataclass(frozen=True)
class VideoTrack:
    index: int  # ffprobe's stream index
    codec: str | None
    width: int
    height: int
    fps: float | None
    bit_rate: int | None
    title: str | None  # a recording's camera name, when the muxer kept one


@dataclass(frozen=True)
class MediaFacts:
    duration_s: float
    format_name: str | None
    bit_rate: int | None
    video: list[VideoTrack] = field(default_factory=list)
    audio_codec: str | None = None
    audio_channels: int | None = None
    audio_tracks: int = 0

    def summary(self) -> dict[str, Any]:
        """The flat facts an upload records."""
        facts: dict[str, Any] = {"duration_s": round(self.duration_s, 3), "format": self.format_name,
                                 "audio_codec": self.audio_codec}
        if self.video:
            first = self.video[0]
            facts.update(width=first.width, height=first.height, fps=first.fps, video_codec=first.codec,
                         video_tracks=len(self.video))
        return facts


def probe(source: str, *, need_video: bool = False, need_audio: bool = False) -> MediaFacts:
    """Probes `source` (a path or URL) and holds it to the limits; raises MediaProblem."""
    try:
        result = subprocess.run(
            ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", source],
            capture_output=True, text=True, timeout=FFPROBE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise MediaProblem("ffprobe timed out", unreadable=True) from None
    facts = json.loads(result.stdout or "{}")
    if result.returncode != 0 or not facts.get("streams"):
        last_line = (result.stderr.strip().splitlines() or ["no streams"])[-1]
        # ffprobe names its input; that is a server path or a signed URL, neither for people.
        raise MediaProblem(last_line.replace(f"{source}: ", "")[:200], unreadable=True)
    streams = facts["streams"]
    video = [_video_track(s) for s in streams if s.get("codec_type") == "video" and not _is_cover_art(s)]
    audio = [s for s in streams if s.get("codec_type") == "audio"]
    duration = _duration(facts)
    if need_video and not video:
        raise MediaProblem("no video stream / 没有视频流", unreadable=False)
    if need_audio and not audio:
        raise MediaProblem("no audio stream / 没有音频流", unreadable=False)
    if duration is None or duration <= 0:
        raise MediaProblem("unknown duration", unreadable=True)
    if duration > MAX_DURATION_S:
        raise MediaProblem(f"{duration / 3600:.1f} h is longer than 6 h / 时长超过 6 小时", unreadable=False)
    for track in video:
        if not (0 < track.width <= MAX_SIDE and 0 < track.height <= MAX_SIDE):
            raise MediaProblem(f"{track.width}×{track.height} is outside 1–{MAX_SIDE} pixels / 分辨率超出范围",
                               unreadable=False)
        if track.fps is not None and track.fps > MAX_FPS:
            raise MediaProblem(f"{track.fps:.0f} frames per second / 帧率过高", unreadable=False)
    return MediaFacts(duration_s=duration, format_name=facts.get("format", {}).get("format_name"),
                      bit_rate=_int(facts.get("format", {}).get("bit_rate")), video=video,
                      audio_codec=audio[0].get("codec_name") if audio else None,
                      audio_channels=_int(audio[0].get("channels")) if audio else None, audio_tracks=len(audio))


def _video_track(stream: dict[str, Any]) -> VideoTrack:
    return VideoTrack(index=int(stream.get("index", 0)), codec=stream.get("codec_name"),
                      width=int(stream.get("width") or 0), height=int(stream.get("height") or 0),
                      fps=_frame_rate(stream), bit_rate=_int(stream.get("bit_rate")),
                      title=(stream.get("tags") or {}).get("title"))


def _is_cover_art(stream: dict[str, Any]) -> bool:
    return bool(stream.get("disposition", {}).get("attached_pic"))


def _duration(facts: dict[str, Any]) -> float | None:
    for value in [facts.get("format", {}).get("duration"), *(s.get("duration") for s in facts["streams"])]:
        try:
            return float(value)
        except (TypeError, ValueError):
            continue
    return None


def _frame_rate(stream: dict[str, Any]) -> float | None:
    for name in ("avg_frame_rate", "r_frame_rate"):
        try:
            rate = Fraction(stream.get(name) or "0/0")
        except (ValueError, ZeroDivisionError):
            continue
        if rate > 0:
            return round(float(rate), 3)
    return None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None

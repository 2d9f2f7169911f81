"""What ffprobe says about a media file, and the limits every service holds media to.

The API probes an upload before keeping it; the transcoder probes again before working on it
(its input may have come from anywhere, and limits may have changed since).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from services.common import sandbox

MAX_DURATION_S = 6 * 3600
MAX_SIDE = 7680
MAX_PIXELS = 7680 * 4320      # a frame of 8K UHD: a decoder holds several frames of this size
MAX_FPS = 120
MAX_VIDEO_TRACKS = 8          # a recording classroom's cameras; each gets a ladder of its own
MAX_AUDIO_TRACKS = 8
MAX_STREAMS = 32              # every stream, subtitles and data included
FFPROBE_LIMITS = sandbox.Limits(time_s=60, memory_bytes=1 * sandbox.GiB, file_bytes=16 * sandbox.MiB)

# The demuxer an input is read with, pinned to what sniffing found. Never left to ffmpeg's
# probing: it would pick the HLS or concat demuxer for a playlist, which then opens whatever
# URLs or paths the playlist names.
DEMUXERS = {
    "video/mp4": "mov", "video/quicktime": "mov", "audio/mp4": "mov",
    "video/x-matroska": "matroska", "video/webm": "matroska",
    "video/x-flv": "flv", "video/mp2t": "mpegts", "video/x-msvideo": "avi",
    "audio/mpeg": "mp3", "audio/wav": "wav", "audio/aac": "aac",
}
# When the type is not known (a job queued before types were recorded): probing may choose
# among these only.
ACCEPTED_DEMUXERS = ",".join(sorted(set(DEMUXERS.values())))


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


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def input_args(source: str, media_type: str | None = None, *, demuxer: str | None = None) -> list[str]:
    """What every ffmpeg/ffprobe reading `source` puts before it: the one protocol the source
    needs, and the demuxer pinned (or held to the accepted ones), then `-i source`."""
    protocols = "http,https,tcp,tls" if is_url(source) else "file"
    demuxer = demuxer or DEMUXERS.get(media_type or "")
    formats = ["-f", demuxer] if demuxer else ["-format_whitelist", ACCEPTED_DEMUXERS]
    return ["-protocol_whitelist", protocols, *formats, "-i", source]


def probe(source: str, *, media_type: str | None = None, scratch: Path | None = None, need_video: bool = False,
          need_audio: bool = False) -> MediaFacts:
    """Probes `source` (a path or URL), read as `media_type`, in the sandbox, and holds it to
    the limits; raises MediaProblem."""
    try:
        result = sandbox.run(
            ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json",
             *input_args(source, media_type)],
            scratch=scratch, limits=FFPROBE_LIMITS, network=is_url(source), text=True)
    except sandbox.SandboxTimeout:
        raise MediaProblem("ffprobe timed out", unreadable=True) from None
    try:
        facts = json.loads(result.stdout or "{}")
    except ValueError:
        facts = {}
    if result.returncode != 0 or not facts.get("streams"):
        last_line = (result.stderr.strip().splitlines() or ["no streams"])[-1]
        # ffprobe names its input; that is a server path or a signed URL, neither for people.
        raise MediaProblem(last_line.replace(f"{source}: ", "")[:200], unreadable=True)
    streams = facts["streams"]
    video = [_video_track(s) for s in streams if s.get("codec_type") == "video" and not _is_cover_art(s)]
    audio = [s for s in streams if s.get("codec_type") == "audio"]
    _hold_streams_to_limits(streams, video=video, audio=audio)
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


def _hold_streams_to_limits(streams: list[dict[str, Any]], *, video: list[VideoTrack],
                            audio: list[dict[str, Any]]) -> None:
    if len(streams) > MAX_STREAMS:
        raise MediaProblem(f"{len(streams)} streams in one file / 流数量过多", unreadable=False)
    if len(video) > MAX_VIDEO_TRACKS:
        raise MediaProblem(f"{len(video)} video tracks (at most {MAX_VIDEO_TRACKS}) / 视频轨道过多", unreadable=False)
    if len(audio) > MAX_AUDIO_TRACKS:
        raise MediaProblem(f"{len(audio)} audio tracks (at most {MAX_AUDIO_TRACKS}) / 音轨过多", unreadable=False)
    # Cover art is not transcoded, but a decoder still reads it: held to the same sizes.
    for stream in streams:
        if stream.get("codec_type") != "video":
            continue
        width, height = int(stream.get("width") or 0), int(stream.get("height") or 0)
        if width * height > MAX_PIXELS or (_is_cover_art(stream) and max(width, height) > MAX_SIDE):
            raise MediaProblem(f"{width}×{height} pixels per frame is more than 8K / 画面尺寸超出范围",
                               unreadable=False)


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

"""Facts about finished HLS variants, measured from their real segments (Apple's HLS authoring
spec: BANDWIDTH is the peak segment bit rate, AVERAGE-BANDWIDTH the whole-stream average)."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from services.common import hls, sandbox
from services.common.media import FFPROBE_LIMITS, input_args
from services.common.renditions import Variant

# profile_idc and the constraint byte of the RFC 6381 `avc1.PPCCLL` codec string.
_AVC_PROFILES = {"Constrained Baseline": (0x42, 0xE0), "Baseline": (0x42, 0x00), "Main": (0x4D, 0x40),
                 "High": (0x64, 0x00)}
AAC_LC = "mp4a.40.2"


def media_playlist_segments(playlist: Path) -> list[tuple[float, str]]:
    """(duration, uri) of each segment of a media playlist."""
    return hls.media_segments(playlist.read_text(encoding="utf-8"))


def measure_variant(playlist: Path, *, name: str, uri: str) -> Variant:
    """The variant `name` (at `uri`, relative to its rendition's prefix) with its peak and
    average bit rate (bit/s, container overhead included) and codecs."""
    segments = media_playlist_segments(playlist)
    if not segments:
        raise ValueError(f"{playlist} lists no segments")
    sizes = [(duration, (playlist.parent / uri).stat().st_size) for duration, uri in segments]
    total_s = sum(duration for duration, _ in sizes)
    peak = _peak_bit_rate(sizes, total_s)
    average = sum(size for _, size in sizes) * 8 / total_s
    first = playlist.parent / segments[0][1]
    return Variant(name=name, uri=uri, bandwidth=math.ceil(peak), average_bandwidth=math.ceil(average),
                   duration_s=round(total_s, 3), segments=len(segments), **_stream_facts(first))


def _peak_bit_rate(sizes: list[tuple[float, int]], total_s: float) -> float:
    """The HLS authoring spec's peak segment bit rate: the highest bit rate of any run of
    consecutive segments lasting 0.5 to 1.5 times the target duration. A lone segment under half the
    target duration (the tail; a 1 s segment whose keyframe weighs on one second) is not a peak
    a player sees; as a run with its neighbours it is. A stream shorter than half the target
    duration: its average."""
    target = max(math.ceil(duration) for duration, _ in sizes)
    low, high = 0.5 * target, 1.5 * target
    peak = 0.0
    for start in range(len(sizes)):
        duration = size = 0.0
        for seconds, length in sizes[start:]:
            duration, size = duration + seconds, size + length
            if duration > high:
                break
            if duration >= low:
                peak = max(peak, size * 8 / duration)
    return peak or sum(size for _, size in sizes) * 8 / total_s


def _stream_facts(segment: Path) -> dict[str, Any]:
    # Our own output, but made from a hostile input: read like any other.
    result = sandbox.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json",
                          *input_args(str(segment), demuxer="mpegts")],
                         scratch=None, limits=FFPROBE_LIMITS, text=True)
    if result.returncode != 0:
        raise ValueError(f"ffprobe cannot read {segment.name}: {result.stderr.strip()[-200:]}")
    codecs, facts = [], {}
    for stream in json.loads(result.stdout).get("streams", []):
        if stream.get("codec_type") == "video":
            profile, constraints = _AVC_PROFILES.get(stream.get("profile", ""), (0x64, 0x00))
            codecs.append(f"avc1.{profile:02X}{constraints:02X}{int(stream.get('level', 30)):02X}")
            facts.update(width=int(stream["width"]), height=int(stream["height"]),
                         frame_rate=_rate(stream.get("avg_frame_rate") or stream.get("r_frame_rate")))
        elif stream.get("codec_type") == "audio":
            codecs.append(AAC_LC)
    return {"codecs": ",".join(codecs), **facts}


def _rate(value: str | None) -> float | None:
    try:
        numerator, _, denominator = (value or "").partition("/")
        rate = float(numerator) / float(denominator or 1)
    except (ValueError, ZeroDivisionError):
        return None
    return round(rate, 3) if rate > 0 else None

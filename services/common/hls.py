"""HLS playlists: masters written the same way by the transcoder (stored with each ladder) and
the API (made per caller at playback); media playlists read the same way by both."""
from __future__ import annotations

from collections.abc import Sequence

from services.common.renditions import Variant


def master_playlist(variants: Sequence[Variant]) -> str:
    """A master playlist listing `variants` in the given order (a player starts on the first).
    BANDWIDTH and the URI always; AVERAGE-BANDWIDTH and CODECS when measured (the transcoder
    always measures them), and for video RESOLUTION and FRAME-RATE."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for variant in variants:
        attributes = [f"BANDWIDTH={variant.bandwidth}"]
        if variant.average_bandwidth is not None:
            attributes.append(f"AVERAGE-BANDWIDTH={variant.average_bandwidth}")
        if variant.codecs is not None:
            attributes.append(f'CODECS="{variant.codecs}"')
        if variant.height:
            attributes.append(f"RESOLUTION={variant.width}x{variant.height}")
            if variant.frame_rate:
                attributes.append(f"FRAME-RATE={variant.frame_rate:.3f}")
        lines += ["#EXT-X-STREAM-INF:" + ",".join(attributes), variant.uri]
    return "\n".join(lines) + "\n"


def media_segments(text: str) -> list[tuple[float, str]]:
    """(duration, uri) of each segment of a media playlist, in order."""
    segments, duration = [], None
    for line in text.splitlines():
        if line.startswith("#EXTINF:"):
            duration = float(line[len("#EXTINF:"):].split(",", 1)[0])
        elif line and not line.startswith("#") and duration is not None:
            segments.append((duration, line))
            duration = None
    return segments

"""HLS playlists: masters written the same way by the transcoder (stored with each ladder) and
the API (made per caller at playback); media playlists read the same way by both."""
from __future__ import annotations

import math
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


# The tags of a plain VOD media playlist of MPEG-TS segments, as the transcoder writes them: the
# only ones `held_playlist` joins (an init segment, byte ranges or keys would need more than this).
_PLAIN_TAGS = ("#EXTM3U", "#EXT-X-VERSION:", "#EXT-X-TARGETDURATION:", "#EXT-X-MEDIA-SEQUENCE:0",
               "#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-INDEPENDENT-SEGMENTS", "#EXTINF:", "#EXT-X-ENDLIST")


def held_playlist(start: str, steady: str, *, steady_dir: str, first: int, end: int) -> str | None:
    """One media playlist of two rungs of a ladder: `start`'s segments first..end-1 (where a play
    starts: a low rung, quick to buffer), `steady`'s everywhere else, named from `start`'s
    directory (its own files) and `../{steady_dir}/` (the other's), with a discontinuity where the
    rung changes, so a player resets its decoder there. None unless both are plain VOD playlists
    whose segments line up (same count and durations: the ladder cuts every rung at the same
    times) and the range lies inside them."""
    if not (_plain_vod(start) and _plain_vod(steady)):
        return None
    low, high = media_segments(start), media_segments(steady)
    if (len(low) != len(high) or not 0 <= first < end <= len(low)
            or any(abs(a - b) > 0.001 for (a, _), (b, _) in zip(low, high))):
        return None
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{math.ceil(max(d for d, _ in high))}",
             "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:VOD"]
    for index, ((duration, low_uri), (_, high_uri)) in enumerate(zip(low, high)):
        if index in (first, end) and index > 0:
            lines.append("#EXT-X-DISCONTINUITY")
        lines += [f"#EXTINF:{duration:.6f},", low_uri if first <= index < end else f"../{steady_dir}/{high_uri}"]
    return "\n".join([*lines, "#EXT-X-ENDLIST"]) + "\n"


def _plain_vod(text: str) -> bool:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return (bool(lines) and lines[0] == "#EXTM3U" and lines[-1] == "#EXT-X-ENDLIST"
            and all(line.startswith(_PLAIN_TAGS) for line in lines if line.startswith("#"))
            and all("/" not in line and ":" not in line for line in lines if not line.startswith("#")))

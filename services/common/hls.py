"""HLS master playlists, written the same way by the transcoder (stored with each ladder) and
the API (made per caller at playback)."""
from __future__ import annotations

from typing import Any


def master_playlist(variants: list[dict[str, Any]]) -> str:
    """A master playlist listing `variants` in the given order (a player starts on the first).
    Each variant: uri, bandwidth, average_bandwidth, codecs, and for video width, height and
    frame_rate."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for variant in variants:
        attributes = [f"BANDWIDTH={variant['bandwidth']}", f"AVERAGE-BANDWIDTH={variant['average_bandwidth']}",
                      f'CODECS="{variant["codecs"]}"']
        if variant.get("height"):
            attributes.append(f"RESOLUTION={variant['width']}x{variant['height']}")
            if variant.get("frame_rate"):
                attributes.append(f"FRAME-RATE={variant['frame_rate']:.3f}")
        lines += ["#EXT-X-STREAM-INF:" + ",".join(attributes), variant["uri"]]
    return "\n".join(lines) + "\n"

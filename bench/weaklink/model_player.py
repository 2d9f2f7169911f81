"""A light HLS player for the weak-link benchmark, run INSIDE the school's namespace like
players.py: what the link does to a start, without a browser's CPU cost (on a loaded 2-core
machine ten Chromium pages spend seconds just loading their page). Per classroom, one keep-alive
HTTP connection, as hls.js:

* `GET /play`, the master, the first listed variant's media playlist (hls.js's default start);
* segments one after another (following the play route's redirect), playback starting once
  START_BUFFER_S of media is in (start-up; the platform players' start rule,
  services/console/static/js/startup.js, which players.py's page uses too), a stall whenever
  the play position reaches the end of what has arrived; at most 30 s buffered ahead (hls.js's
  maxBufferLength);
* after each segment, hls.js-like rate adaptation: the next segment from the highest variant whose
  BANDWIDTH is within 0.7 (a higher variant) or 0.95 (this one or lower) of the estimate, or the
  lowest; until playback starts, the first listed (startup.js loadFromListedRung holds hls.js
  there; until session 14 it only capped it). The estimate is hls.js's (1.x,
  EwmaBandWidthEstimator for VoD): the lower of a 3 s and a 9 s EWMA of throughput, each segment
  weighted by its seconds, its time to first byte
  left out (as hls.js leaves out the smaller of it and its TTFB estimate). Until session 13 the
  model timed whole requests in one 3 s EWMA: behind a school edge, the classroom whose requests
  were the cache's misses then measured the village link's round trips, stayed a rung below the
  others and fetched that rung's every segment over the link. Rungs share segment boundaries, so
  segment n covers the same time in every rung.

    python model_player.py --api URL --resource ID --tokens tokens.json --watch-s 20
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from urllib.parse import urljoin

import httpx

MAX_BUFFER_S = 30.0
START_BUFFER_S = 4.0  # services/console/static/js/startup.js START_BUFFER_S (and its slack)
UP_FACTOR = 0.7     # hls.js abrBandWidthUpFactor
SAME_FACTOR = 0.95  # hls.js abrBandWidthFactor


class Ewma:
    """hls.js's EWMA (src/utils/ewma.ts): samples weighted by seconds, unbiased while young."""

    def __init__(self, half_life_s: float) -> None:
        self.alpha, self.estimate, self.weight = 0.5 ** (1 / half_life_s), 0.0, 0.0

    def sample(self, weight: float, value: float) -> None:
        kept = self.alpha ** weight
        self.estimate, self.weight = value * (1 - kept) + kept * self.estimate, self.weight + weight

    def value(self) -> float:
        young = 1 - self.alpha ** self.weight
        return self.estimate / young if young else self.estimate


class Bandwidth:
    """hls.js's EwmaBandWidthEstimator for VoD (abrEwmaFastVoD 3, abrEwmaSlowVoD 9, 50 ms least)."""

    def __init__(self) -> None:
        self.fast, self.slow, self.ttfb = Ewma(3), Ewma(9), Ewma(9)

    def sample(self, *, total_s: float, ttfb_s: float, size: int) -> None:
        # hls.js: processing time less the smaller of this fetch's TTFB and the TTFB estimate.
        seconds = max(total_s - min(ttfb_s, self.ttfb.value() if self.ttfb.weight else ttfb_s), 0.05)
        self.ttfb.sample(1.0, ttfb_s)
        self.fast.sample(seconds, size * 8 / seconds)
        self.slow.sample(seconds, size * 8 / seconds)

    def estimate(self) -> float:
        return min(self.fast.value(), self.slow.value())


def parse_master(text: str) -> list[tuple[int, str, int]]:
    lines = text.splitlines()
    variants = []
    for i, line in enumerate(lines):
        if line.startswith("#EXT-X-STREAM-INF:") and "RESOLUTION=" in line:
            bandwidth = int(line.split("BANDWIDTH=", 1)[1].split(",", 1)[0])
            height = int(line.split("RESOLUTION=", 1)[1].split(",", 1)[0].split("x")[1])
            variants.append((bandwidth, lines[i + 1].strip(), height))
    return variants  # in the master's order: the first is where a player starts


def parse_media(text: str) -> list[tuple[float, str]]:
    segments, duration = [], None
    for line in text.splitlines():
        if line.startswith("#EXTINF:"):
            duration = float(line[8:].split(",", 1)[0])
        elif line and not line.startswith("#") and duration is not None:
            segments.append((duration, line.strip()))
            duration = None
    return segments


async def classroom(*, api: str, resource: str, token: str, watch_s: float, start: asyncio.Event) -> dict:
    async with httpx.AsyncClient(timeout=120, follow_redirects=True,
                                 limits=httpx.Limits(max_connections=1)) as http:
        await start.wait()
        began = time.monotonic()
        played = await http.get(f"{api}/api/v1/resources/{resource}/play", headers={"Authorization": f"Bearer {token}"})
        played.raise_for_status()
        master_url = played.json()["hls_url"]
        master = await http.get(master_url)
        master.raise_for_status()
        variants = parse_master(master.text)
        first = variants[0]
        ladder = sorted(variants)  # low to high
        playlists: dict[str, list[tuple[float, str]]] = {}

        async def playlist(uri: str) -> list[tuple[float, str]]:
            if uri not in playlists:
                got = await http.get(urljoin(master_url, uri))
                got.raise_for_status()
                playlists[uri] = parse_media(got.text)
            return playlists[uri]

        level, bandwidth = first, Bandwidth()
        buffered_to = 0.0  # media seconds that have arrived
        playing_since, position_at = None, 0.0
        stalls, stalled_s, total_bytes, startup, levels_played = 0, 0.0, 0, None, []
        first_in = None
        index = 0
        while True:
            now = time.monotonic()
            position = position_at + (now - playing_since if playing_since is not None else 0.0)
            if playing_since is not None and position >= watch_s:
                break
            if playing_since is not None and buffered_to - position > MAX_BUFFER_S:
                await asyncio.sleep(buffered_to - position - MAX_BUFFER_S)
                continue
            segments = await playlist(level[1])
            if index >= len(segments):
                break
            duration, uri = segments[index]
            fetch_began = time.monotonic()
            first_byte, size = None, 0
            async with http.stream("GET", urljoin(urljoin(master_url, level[1]), uri)) as got:
                got.raise_for_status()
                async for chunk in got.aiter_bytes():
                    first_byte = first_byte or time.monotonic()
                    size += len(chunk)
            arrived = time.monotonic()
            total_bytes += size
            levels_played.append(level[2])
            # A stall: the play position passed what had arrived before this segment came.
            if playing_since is not None:
                position = position_at + (arrived - playing_since)
                if position > buffered_to:
                    stalls += 1
                    stalled_s += position - buffered_to
                    position_at, playing_since = buffered_to, arrived
            buffered_to += duration
            first_in = first_in if first_in is not None else arrived - began
            if playing_since is None and (buffered_to >= START_BUFFER_S - 0.5 or index + 1 >= len(segments)):
                startup, playing_since, position_at = arrived - began, arrived, 0.0
            bandwidth.sample(total_s=arrived - fetch_began, ttfb_s=(first_byte or arrived) - fetch_began, size=size)
            estimate = bandwidth.estimate()
            if playing_since is None:
                level = first  # startup.js loadFromListedRung: the start from the listed rung
            else:
                fitting = [v for v in ladder if v[0] <= (UP_FACTOR if v[0] > level[0] else SAME_FACTOR) * estimate]
                level = fitting[-1] if fitting else ladder[0]
            index += 1
        return {"startup_s": round(startup, 3) if startup is not None else None,
                "first_buffered_s": round(first_in, 3) if first_in is not None else None,
                "stalls": stalls, "stalled_s": round(stalled_s, 3), "bytes": total_bytes,
                "listed_first": {"bandwidth": first[0], "height": first[2]},
                "heights_played": sorted(set(levels_played)), "segments": index}


async def main_async(args: argparse.Namespace) -> dict:
    tokens = json.loads(Path(args.tokens).read_text())
    start = asyncio.Event()
    tasks = [asyncio.create_task(classroom(api=args.api, resource=args.resource, token=token, watch_s=args.watch_s,
                                           start=start)) for token in tokens]
    # With --start-at (a mixed run: players.py starts its classrooms at the same instant), then;
    # else once every classroom's task is made.
    await asyncio.sleep(max(0.5, args.start_at - time.time()) if args.start_at else 0.5)
    start.set()
    done = await asyncio.gather(*tasks, return_exceptions=True)
    return {"classrooms": [d if isinstance(d, dict) else {"error": repr(d)[:500]} for d in done]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", required=True)
    parser.add_argument("--resource", required=True)
    parser.add_argument("--tokens", required=True)
    parser.add_argument("--page-dir", default=None, help="ignored (players.py's)")
    parser.add_argument("--watch-s", type=float, default=20.0)
    parser.add_argument("--start-at", type=float, default=None, help="start every classroom at this time.time()")
    args = parser.parse_args()
    json.dump(asyncio.run(main_async(args)), sys.stdout)


if __name__ == "__main__":
    main()

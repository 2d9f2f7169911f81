"""One hls.js classroom's start, traced: what bench/weaklink.py's stalls were made of (issue 18.4).

Makes the weak-link lesson's ladder with this tree's transcoder command (once, under bench/work),
a master listing `--first` first (as the API does for a school's share of its link), the real
timestamps of each rung's first segments (ffprobe: first video/audio PTS, keyframes), then plays
it in one headless Chromium page whose network Chromium itself throttles (`--kbit`, `--latency-ms`
per request: one classroom's share of a busy link), with `--start old` (play on the first segment,
hls.js left to the <video>) or `--start rule` (the platform's start rule, startup.js). Writes the
hls.js event log (level switches, fragments, buffered ranges and play position at each event,
stalls) as JSON. No root, no namespace.

    python bench/weaklink/start_trace.py --start old --kbit 220 --latency-ms 300 --out old.json
"""
from __future__ import annotations

import argparse
import asyncio
import functools
import importlib.util
import json
import shutil
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from bench.weaklink import players  # noqa: E402

HLS_JS = REPO_ROOT / ".infra" / "browser" / "node_modules" / "hls.js" / "dist" / "hls.js"
STARTUP_JS = REPO_ROOT / "services" / "console" / "static" / "js" / "startup.js"
WORK = REPO_ROOT / "bench" / "work"
RUNGS = ("720p", "480p", "360p", "240p")


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *_args: object) -> None:
        pass


def make_ladder(lesson_s: int) -> Path:
    """The bench lesson's ladder by this tree's ladder command (as the transcoder runs it)."""
    from services.common.media import probe
    from services.transcoder.ladder import ladder_command, plan_for
    from services.transcoder.pipeline import keyframe_interval

    spec = importlib.util.spec_from_file_location("weaklink_bench", REPO_ROOT / "bench" / "weaklink.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    source = bench.lesson_source(lesson_s)
    out = WORK / f"start-trace-ladder-{lesson_s}s"
    if (out / "240p" / "index.m3u8").exists():
        return out
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    (WORK / "scratch").mkdir(exist_ok=True)
    facts = probe(str(source))
    track = facts.video[0]
    plan = plan_for(facts, track, keyframe_interval_s=keyframe_interval(str(source), track, scratch=WORK / "scratch",
                                                                       media_type=None))
    subprocess.run(ladder_command(plan, source=str(source), out_dir=out), check=True, stdout=subprocess.DEVNULL)
    return out


def write_master(ladder: Path, first: str) -> None:
    from services.common.hls import master_playlist
    from services.transcoder.hls import measure_variant

    variants = {name: measure_variant(ladder / name / "index.m3u8", name=name, uri=f"{name}/index.m3u8")
                for name in (*RUNGS, "audio") if (ladder / name / "index.m3u8").exists()}
    video = [variants[name] for name in RUNGS if name in variants]
    ordered = [variants[first], *(v for v in video if v is not variants[first])]
    (ladder / "master.m3u8").write_text(master_playlist(ordered + ([variants["audio"]] if "audio" in variants else [])))


def segment_times(ladder: Path, rung: str, count: int = 5) -> list[dict]:
    """Each of the first segments: its first video and audio PTS, its keyframes, its last PTS."""
    found = []
    for segment in sorted((ladder / rung).glob("seg_*.ts"))[:count]:
        facts = {"segment": segment.name}
        for kind, key in (("v", "video"), ("a", "audio")):
            packets = subprocess.run(["ffprobe", "-v", "error", "-select_streams", kind, "-show_entries",
                                      "packet=pts_time,flags", "-of", "csv=p=0", str(segment)],
                                     capture_output=True, text=True, check=True).stdout.split()
            times = [(float(line.split(",")[0]), "K" in line.split(",")[1]) for line in packets if line.split(",")[0]]
            if times:
                facts[f"{key}_first_pts"] = min(t for t, _ in times)
                facts[f"{key}_last_pts"] = max(t for t, _ in times)
                if kind == "v":
                    facts["keyframes"] = [t for t, key_frame in times if key_frame]
        found.append(facts)
    return found


async def trace(page_dir: Path, *, start: str, kbit: float, latency_ms: float, watch_s: float) -> list[dict]:
    from playwright.async_api import async_playwright

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(page_dir)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=shutil.which("chromium"),
                                                       args=players.CHROMIUM_FLAGS)
            try:
                page = await (await browser.new_context()).new_page()
                await page.goto(f"{base}/trace.html?start={start}&src={quote(base + '/master.m3u8', safe='')}")
                cdp = await page.context.new_cdp_session(page)
                await cdp.send("Network.enable")
                await cdp.send("Network.emulateNetworkConditions", {
                    "offline": False, "latency": latency_ms, "downloadThroughput": kbit * 1000 / 8,
                    "uploadThroughput": kbit * 1000 / 8})
                await page.evaluate("window.go()")
                await page.wait_for_function(f"document.getElementById('video').currentTime >= {watch_s}",
                                             timeout=int((watch_s + 90) * 1000))
                return await page.evaluate("window.log")
            finally:
                await browser.close()
    finally:
        server.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--start", choices=("old", "rule"), required=True)
    parser.add_argument("--first", default="480p", help="the rung the master lists first")
    parser.add_argument("--kbit", type=float, default=220.0)
    parser.add_argument("--latency-ms", type=float, default=300.0)
    parser.add_argument("--watch-s", type=float, default=14.0)
    parser.add_argument("--lesson-s", type=int, default=40)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    ladder = make_ladder(args.lesson_s)
    write_master(ladder, args.first)
    shutil.copy(HLS_JS, ladder / "hls.js")
    shutil.copy(STARTUP_JS, ladder / "startup.js")
    shutil.copy(Path(__file__).parent / "trace.html", ladder / "trace.html")
    log = asyncio.run(trace(ladder, start=args.start, kbit=args.kbit, latency_ms=args.latency_ms, watch_s=args.watch_s))
    events = [event for event in log if event["what"] not in ("APPENDED", "FRAG_PARSED")]
    played = next((e["t"] for e in events if e["what"] == "video:playing"), None)
    result = {"args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
              "segments": {rung: segment_times(ladder, rung) for rung in (args.first, "240p")},
              "stalls": [e for e in events if e["what"] == "video:waiting" and played is not None and e["t"] > played],
              "events": events}
    args.out.write_text(json.dumps(result, indent=1))
    for event in events:
        if event["what"] != "FRAG_LOADING":
            print(json.dumps(event)[:220])


if __name__ == "__main__":
    main()

"""Ten classrooms starting one lesson together: run INSIDE the school's namespace (bench/weaklink.py
does, through `ShapedLink.argv`). Each classroom is its own browser context (its own connections
and cache, as separate machines would be) in one headless Chromium; each asks the API for the play
(`GET /resources/{id}/play` with its teacher's token), opens the signed master in hls.js and plays
`--watch-s` seconds. Start-up is from the /play request to the video's first `playing` event.
Prints one JSON document on stdout.

`--page open` (the default): each classroom's player page is up, hls.js loaded, before the start,
as a classroom's console is open when the teacher starts a lesson; at the start it asks for the
play and hands the master to the page. `--page load`: the page is loaded after the /play answer,
so start-up includes making the page (on this machine: ten pages on two shared cores, 1.3–2.4 s
by themselves, which a classroom's own computer would not share).

    python players.py --api http://10.213.0.1:PORT --resource ID --tokens tokens.json --watch-s 30
"""
from __future__ import annotations

import argparse
import asyncio
import functools
import json
import shutil
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import httpx

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--autoplay-policy=no-user-gesture-required", "--disable-background-timer-throttling",
                  "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows"]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *_args: object) -> None:
        pass


def serve_page(directory: Path) -> tuple[ThreadingHTTPServer, str]:
    """The player page on the school's own network (127.0.0.1 in the namespace), never over the link."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/player.html"


async def classroom(browser, page_url: str, *, api: str, resource: str, token: str, watch_s: float,
                    start: asyncio.Event, ready: asyncio.Queue, page_mode: str) -> dict:
    context = await browser.new_context()
    page = await context.new_page()
    result: dict = {}
    signalled = False
    try:
        async with httpx.AsyncClient(timeout=60) as http:
            if page_mode == "open":
                await page.goto(page_url)
                await page.wait_for_function("typeof window.startLesson === 'function'", timeout=90_000)
            signalled = True
            await ready.put(True)
            await start.wait()
            began = time.time()
            played = await http.get(f"{api}/api/v1/resources/{resource}/play",
                                    headers={"Authorization": f"Bearer {token}"})
            played.raise_for_status()
            body = played.json()
            result["play_ms"] = round((time.time() - began) * 1000)
            result["listed_first"] = body["renditions"][0]
            if page_mode == "open":
                await page.evaluate("source => window.startLesson(source)", body["hls_url"])
            else:
                await page.goto(f"{page_url}?src={quote(body['hls_url'], safe='')}")
            await page.wait_for_function("window.player.playingAt !== null || window.player.fatal !== null",
                                         timeout=90_000)
            await page.wait_for_function(
                f"window.player.fatal !== null || document.getElementById('video').currentTime >= {watch_s}",
                timeout=int((watch_s + 120) * 1000))
            state = await page.evaluate("({...window.player, stallOpen: window.player.stallOpen(),"
                                        " currentTime: document.getElementById('video').currentTime})")
            ended = time.time()
        stalls = [(end - begin) / 1000 for begin, end in state["stalls"]]
        if state["stallOpen"]:
            stalls.append(ended - state["stallOpen"] / 1000)
        since = lambda at: round(at / 1000 - began, 3) if at else None  # noqa: E731
        result.update({
            "startup_s": since(state["playingAt"]),
            # Where the time went: the page up, the master parsed, the first fragment in the
            # media buffer (what the link decides), the first frame decoded, ready to play.
            "page_mode": page_mode, "page_s": since(state["pageAt"]), "manifest_s": since(state["manifestAt"]),
            "first_buffered_s": since(state["bufferedAt"]), "loadeddata_s": since(state["loadeddataAt"]),
            "canplay_s": since(state["canplayAt"]),
            "stalls": len(stalls), "stalled_s": round(sum(stalls), 3),
            "bytes": sum(frag["bytes"] or 0 for frag in state["frags"]),
            "first_frag": state["frags"][0] if state["frags"] else None,
            "frags_before_playing": [f for f in state["frags"] if state["playingAt"] and f["at"] <= state["playingAt"]],
            "levels": state["levels"], "first_level": state["firstLevel"],
            "levels_played": sorted({frag["level"] for frag in state["frags"]}),
            "played_s": round(state["currentTime"], 2), "errors": state["errors"][:10], "fatal": state["fatal"],
        })
    except Exception as error:  # noqa: BLE001 - a classroom that failed is a result, not a crash
        if not signalled:
            await ready.put(False)  # the others start without it
        result["error"] = repr(error)[:500]
        try:
            result["state"] = await page.evaluate("window.player")
        except Exception:  # noqa: BLE001
            pass
    finally:
        await context.close()
    return result


async def main_async(args: argparse.Namespace) -> dict:
    from playwright.async_api import async_playwright

    tokens = json.loads(Path(args.tokens).read_text())
    server, page_url = serve_page(Path(args.page_dir))
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_FLAGS)
            try:
                start, ready = asyncio.Event(), asyncio.Queue()
                tasks = [asyncio.create_task(classroom(browser, page_url, api=args.api, resource=args.resource,
                                                       token=token, watch_s=args.watch_s, start=start, ready=ready,
                                                       page_mode=args.page))
                         for token in tokens]
                for _ in tasks:  # every context and page made (and, with --page open, up) before anyone starts
                    await ready.get()
                # Let the machine settle from making them; with --start-at (a mixed run, the
                # model classrooms of model_player.py starting at the same instant), until then.
                late_s = time.time() - args.start_at if args.start_at else None
                await asyncio.sleep(max(1.0, -late_s) if late_s is not None else 1.0)
                start.set()
                return {"classrooms": await asyncio.gather(*tasks), "late_s": late_s}
            finally:
                await browser.close()
    finally:
        server.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", required=True)
    parser.add_argument("--resource", required=True)
    parser.add_argument("--tokens", required=True, help="a JSON list of bearer tokens, one per classroom")
    parser.add_argument("--page-dir", required=True, help="a directory with player.html and hls.min.js")
    parser.add_argument("--watch-s", type=float, default=30.0)
    parser.add_argument("--start-at", type=float, default=None,
                        help="start every classroom at this time.time() (if the pages are up by then)")
    parser.add_argument("--page", choices=["open", "load"], default="open",
                        help="the player page up before the start (open), or loaded after /play (load)")
    args = parser.parse_args()
    json.dump(asyncio.run(main_async(args)), sys.stdout)


if __name__ == "__main__":
    main()

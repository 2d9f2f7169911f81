"""Time to interactive of the teacher's first page in the web console, on an emulated 4 Mbit/s link.

The real API (uvicorn, embedded defaults, a fresh demo district) serves the console at /console/;
Debian's Chromium, driven by Playwright, opens it with Chrome DevTools network emulation
(`Network.emulateNetworkConditions`: 4 Mbit/s down, 4 Mbit/s up, 100 ms round trip unless told
otherwise). The teacher's first page is "my resources" (`#/my`), what a signed-in teacher lands on:
the shell, its modules, `GET /api/v1/resources` and the details of the rows that need them.

"Interactive" is the router's `lb-ready #/my` performance mark: the page is rendered with its data
and its controls have their handlers (the router sets it after the page's `render` resolves).
Measured from navigation start (`performance.timeOrigin`). Also reported: the sign-in page cold,
and sign-in → first page (the click to the mark).

Scenarios, each in a fresh browser context, every one measured `--runs` times, in rounds:
  cold        empty cache, as on a school's first visit            ← the goal (median ≤ 2 s) applies here
  warm        the second visit, cache kept (hashed files are `immutable`: only index.html revalidates)
  no_cache    baseline: the browser cache disabled (every file fetched on every visit)
  no_gzip     baseline: empty cache and `Accept-Encoding: identity` (what compression saves)
each on the throttled link and unthrottled (baseline).

    PYTHONPATH=. .venv/bin/python bench/console_tti.py            # ≈ 2 minutes
    PYTHONPATH=. .venv/bin/python bench/console_tti.py --runs 3 --rtt-ms 300

Needs Chromium (infra/browser.sh install) and the console's libraries (infra/console.sh install).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (REPO_ROOT, RESULTS_DIR, Server, free_port, install_cleanup, machine_info,  # noqa: E402
                     run_checked, utc_now, venv_script, write_json)

GOAL_S = 2.0
FIRST_PAGE = "#/my"
USER = "teacher-urban"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCENARIOS = ("cold", "warm", "no_cache", "no_gzip")


def _say(message: str) -> None:
    print(f"[console_tti] {message}", file=sys.stderr, flush=True)


def _lb(*args: str) -> list[str]:
    script = venv_script("lb")
    return [script, *args] if script else [sys.executable, "-m", "services.api.cli", *args]


def _environment(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LB_")}
    env.update(LB_ENV="development", LB_DATA_DIR=str(data_dir), LB_API_HOST="127.0.0.1", LB_API_PORT=str(port),
               LB_LOG_LEVEL="WARNING", LB_ACCESS_TOKEN_TTL_S=str(24 * 3600), LB_MEDIA_POLL_S="0",
               LB_SEARCH_RELAY_S="0", PYTHONDONTWRITEBYTECODE="1")
    return env


def _session(base: str, password: str) -> dict[str, str]:
    """What the console keeps in sessionStorage after signing in: tokens and /me."""
    import httpx

    token = httpx.post(f"{base}/api/v1/auth/token", data={"username": USER, "password": password}, timeout=30)
    token.raise_for_status()
    body = token.json()
    me = httpx.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"}, timeout=30)
    me.raise_for_status()
    return {"lb.token": body["access_token"], "lb.refresh": body["refresh_token"], "lb.user": json.dumps(me.json())}


def _conditions(throttled: bool, args: argparse.Namespace) -> dict:
    if not throttled:
        return {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
    rate = args.mbit * 1_000_000 / 8  # bytes per second
    return {"offline": False, "latency": args.rtt_ms, "downloadThroughput": rate, "uploadThroughput": rate}


def _measure(browser, base: str, session: dict[str, str], *, scenario: str, throttled: bool,
             args: argparse.Namespace, route: str = FIRST_PAGE) -> dict:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    try:
        context.add_init_script("(() => { const s = %s; for (const [k, v] of Object.entries(s)) "
                                "sessionStorage.setItem(k, v); })()" % json.dumps(session))
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        if scenario == "no_gzip":
            cdp.send("Network.setExtraHTTPHeaders", {"headers": {"Accept-Encoding": "identity"}})
        if scenario == "warm":  # the first visit fills the cache, unthrottled; the second is measured
            page.goto(f"{base}/console/{route}")
            page.wait_for_selector("main .page[data-ready]")
            page.goto("about:blank")  # leave, so the measured visit is a new document load
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": scenario == "no_cache"})
        cdp.send("Network.emulateNetworkConditions", _conditions(throttled, args))
        transferred = {"bytes": 0, "requests": 0}

        def finished(event: dict) -> None:
            transferred["bytes"] += int(event.get("encodedDataLength", 0))
            transferred["requests"] += 1

        cdp.on("Network.loadingFinished", finished)
        page.goto(f"{base}/console/{route}", wait_until="commit")
        page.wait_for_selector("main .page[data-ready]", timeout=60_000)
        timing = page.evaluate("""(route) => {
            const mark = performance.getEntriesByName(`lb-ready ${route}`)[0];
            const nav = performance.getEntriesByType('navigation')[0];
            return {tti: mark ? mark.startTime : null, dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
                    rows: document.querySelectorAll('table.list tbody tr, .uppy-Dashboard').length};
        }""", route)
        if timing["tti"] is None or timing["rows"] < 1:
            raise RuntimeError(f"{scenario}: the first page did not render its resources: {timing}")
        return {"tti_s": round(timing["tti"] / 1000, 3), "dom_content_loaded_s": round(timing["dcl"] / 1000, 3),
                "bytes": transferred["bytes"], "requests": transferred["requests"]}
    finally:
        context.close()


def _sign_in_flow(browser, base: str, password: str, args: argparse.Namespace) -> dict:
    """Cold: the sign-in page ready, then from the click on 登录 to the first page ready."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", _conditions(True, args))
        page.goto(f"{base}/console/", wait_until="commit")
        page.wait_for_selector("main .page[data-ready][data-route='#/signin']", timeout=60_000)
        signin = page.evaluate("performance.getEntriesByName('lb-ready #/signin')[0].startTime")
        page.fill("input[name=username]", USER)
        page.fill("input[name=password]", password)
        clicked = page.evaluate("() => { document.querySelector('form button[type=submit]').click(); "
                                "return performance.now(); }")
        page.wait_for_selector("main .page[data-ready][data-route='#/my']", timeout=60_000)
        ready = page.evaluate("performance.getEntriesByName('lb-ready #/my').at(-1).startTime")
        return {"signin_page_tti_s": round(signin / 1000, 3), "signin_to_first_page_s": round((ready - clicked) / 1000, 3)}
    finally:
        context.close()


def _summary(samples: list[dict]) -> dict:
    ttis = sorted(s["tti_s"] for s in samples)
    return {"tti_median_s": round(statistics.median(ttis), 3), "tti_max_s": ttis[-1], "tti_min_s": ttis[0],
            "bytes_median": int(statistics.median(s["bytes"] for s in samples)),
            # requests: every one finished, including those the browser cache answered
            "requests_median": int(statistics.median(s["requests"] for s in samples)), "samples": samples}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="measurements per scenario and link (5)")
    parser.add_argument("--mbit", type=float, default=4.0, help="emulated link, Mbit/s each way (4)")
    parser.add_argument("--rtt-ms", type=float, default=100.0, help="emulated round-trip latency, ms (100)")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "console_tti.json")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dir and server log")
    args = parser.parse_args(argv)
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium not found: run infra/browser.sh install")
    if not (REPO_ROOT / "services/console/static/vendor/uppy/uppy.min.mjs").exists():
        raise SystemExit("the console's libraries are missing: run infra/console.sh install")
    install_cleanup()
    work = Path(tempfile.mkdtemp(prefix="console-tti-"))
    try:
        return _run(args, work, chromium)
    finally:
        if args.keep:
            _say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _run(args: argparse.Namespace, work: Path, chromium: str) -> int:
    from playwright.sync_api import sync_playwright

    port = free_port()
    env = _environment(work / "data", port)
    password = "bench-" + os.urandom(6).hex()
    _say(f"preparing {work} (migrate, seed the demo district)")
    run_checked(_lb("db", "upgrade"), env=env, cwd=REPO_ROOT, what="lb db upgrade")
    run_checked(_lb("demo", "--password", password), env=env, cwd=REPO_ROOT, what="lb demo")
    api = Server("api", [sys.executable, "-m", "uvicorn", "--factory", "services.api.app:create_app_from_env",
                         "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--no-proxy-headers"],
                 env=env, cwd=REPO_ROOT, log_path=work / "api.log", port=port)
    try:
        api.wait_ready()
        base = f"http://127.0.0.1:{port}"
        session = _session(base, password)
        results: dict[str, dict[str, list]] = {link: {s: [] for s in SCENARIOS} for link in ("throttled", "unthrottled")}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
            try:
                _measure(browser, base, session, scenario="cold", throttled=False, args=args)  # warm-up, not kept
                for run in range(args.runs):
                    for link in ("throttled", "unthrottled"):
                        for scenario in SCENARIOS:
                            sample = _measure(browser, base, session, scenario=scenario,
                                              throttled=link == "throttled", args=args)
                            results[link][scenario].append(sample)
                    _say(f"round {run + 1}/{args.runs}: cold {results['throttled']['cold'][-1]['tti_s']} s "
                         f"(unthrottled {results['unthrottled']['cold'][-1]['tti_s']} s)")
                flows = [_sign_in_flow(browser, base, password, args) for _ in range(args.runs)]
                # For comparison: the upload page, the one that loads Uppy (what an eager bundle would cost).
                upload_page = [_measure(browser, base, session, scenario="cold", throttled=True, args=args,
                                        route="#/upload") for _ in range(args.runs)]
            finally:
                browser.close()
    finally:
        api.stop()

    summary = {link: {s: _summary(samples) for s, samples in scenarios.items()} for link, scenarios in results.items()}
    cold = summary["throttled"]["cold"]
    document = {
        "benchmark": "console_tti",
        "when": utc_now(),
        "machine": machine_info(),
        "link": {"mbit_per_s": args.mbit, "rtt_ms": args.rtt_ms, "emulation": "CDP Network.emulateNetworkConditions"},
        "page": f"/console/{FIRST_PAGE} as {USER} (signed in), demo district",
        "goal": {"metric": "throttled cold tti_median_s", "target_s": GOAL_S, "met": cold["tti_median_s"] <= GOAL_S,
                 "max_within_target": cold["tti_max_s"] <= GOAL_S},
        "load_average_after": list(os.getloadavg()),
        "results": summary,
        "upload_page_cold_throttled": _summary(upload_page),
        "sign_in": {
            "signin_page_tti_median_s": round(statistics.median(f["signin_page_tti_s"] for f in flows), 3),
            "signin_to_first_page_median_s": round(statistics.median(f["signin_to_first_page_s"] for f in flows), 3),
            "samples": flows,
        },
    }
    write_json(args.output, document)
    for link in ("throttled", "unthrottled"):
        for scenario in SCENARIOS:
            row = summary[link][scenario]
            print(f"{link:11} {scenario:8} tti median {row['tti_median_s']:.3f} s  max {row['tti_max_s']:.3f} s  "
                  f"{row['bytes_median'] / 1024:.0f} KiB in {row['requests_median']} requests")
    print(f"sign-in page {document['sign_in']['signin_page_tti_median_s']} s; sign-in → first page "
          f"{document['sign_in']['signin_to_first_page_median_s']} s (throttled)")
    print(f"upload page (loads Uppy) cold, throttled: tti median {document['upload_page_cold_throttled']['tti_median_s']} s, "
          f"{document['upload_page_cold_throttled']['bytes_median'] / 1024:.0f} KiB")
    print(f"goal: throttled cold median {cold['tti_median_s']} s ≤ {GOAL_S} s: {'met' if document['goal']['met'] else 'NOT met'}"
          f" (max {cold['tti_max_s']} s; load average {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

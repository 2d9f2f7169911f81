"""Ten classrooms of a village school behind one 4 Mbit/s link, through the school's edge cache
(infra/edge/): the bytes the link carries against one classroom playing straight over it, and
start-up of the ten.

    sudo .venv/bin/python bench/edge.py                 # ≈ 5 min; writes bench/results/edge.json
    sudo .venv/bin/python bench/edge.py --watch-s 20 --lesson-s 60

The link is the weak-link harness's (bench/weaklink/netns.py): 4 Mbit/s each way, 80 ms round
trip, 1 % loss. The centre (this host) runs the API on embedded defaults (SQLite, local disk); the
school (the namespace) runs a private nginx edge (infra/edge.sh) and the classrooms: hls.js in
headless Chromium (bench/weaklink/players.py; each classroom's player page is up before the
start, as an open console is). Runs, each on a cold edge cache:
* direct-1:  one classroom, the school without an edge: the reference bytes;
* edge-1:    one classroom through the edge;
* edge-10:   ten classrooms starting together through the edge;
* direct-10: the same ten without the edge, for comparison (same machine, same run);
* edge-10-mixed-N (`--mixed-rounds`): the ten through the edge again, hls.js in two of them and
  the model player (weaklink/model_player.py) in the rest, all at one instant: a real player's
  start under ten classrooms' load, without ten browsers' CPU on two cores (summary `mixed`).
Bytes: every byte the link carried down during the run (link counters: playlists, token checks,
redirects, TCP/IP headers, retransmissions included), and the edge's own count of what it
received from upstream (nginx $upstream_bytes_received).

Needs root, ip/tc/iptables/ethtool (infra/weaklink.sh), Chromium + hls.js (infra/browser.sh),
ffmpeg, nginx (infra/edge.sh install).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from sqlalchemy import delete, update  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench._common import RESULTS_DIR, install_cleanup, machine_info  # noqa: E402
from bench.weaklink.netns import cleanup_stale, measure, shaped_link  # noqa: E402

# The weak-link benchmark's helpers (a script beside the bench.weaklink package, loaded by path).
_spec = importlib.util.spec_from_file_location("weaklink_bench", REPO_ROOT / "bench" / "weaklink.py")
weaklink = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = weaklink  # registered, as a module's dataclasses need
_spec.loader.exec_module(weaklink)

GOALS = {"link_bytes_ratio_max": 1.2, "startup_p95_s": 2.0}


def edge_env(state: Path, *, upstream: str, port: int) -> dict[str, str]:
    return {**os.environ, "LB_INFRA_DIR": str(state), "LB_EDGE_UPSTREAM": upstream, "LB_EDGE_PORT": str(port),
            "LB_EDGE_RESOLVER": "127.0.0.1"}


def _up_bytes(line: str) -> int:
    field = line.split(" up_bytes=", 1)[1].split(" rt=", 1)[0] if " up_bytes=" in line else ""
    return sum(int(part) for part in field.replace(",", " ").replace(":", " ").split() if part.isdigit())


def _log(state: Path, name: str) -> list[str]:
    path = state / "edge" / "logs" / name
    return path.read_text().splitlines() if path.exists() else []


def _ratio(moved: int, reference: int | None) -> float | None:
    return round(moved / reference, 3) if reference else None


def edge_link_bytes(state: Path) -> int:
    """What the edge received from upstream, by its logs (fetches, token checks, pass-through)."""
    return sum(_up_bytes(line) for name in ("upstream.log", "check.log", "passthrough.log") for line in _log(state, name))


def edge_fetches(state: Path) -> dict:
    """What the edge fetched over the link, by rung (files, bytes), and what its start warming did:
    to see where bytes beyond one classroom's went."""
    by_rung: dict[str, dict[str, int]] = {}
    for line in _log(state, "upstream.log"):
        match = re.search(r"/(\d+p)/[^/ ]+\"", line)
        rung = by_rung.setdefault(match.group(1) if match else "other", {"files": 0, "bytes": 0})
        rung["files"] += 1
        rung["bytes"] += _up_bytes(line)
    warm = _log(state, "warm.log")
    return {"by_rung": dict(sorted(by_rung.items())),
            "warm": {status: sum(1 for line in warm if f"cache={status} " in line) for status in ("HIT", "MISS", "-")}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--classrooms", type=int, default=10)
    parser.add_argument("--watch-s", type=float, default=30.0, help="seconds each classroom plays")
    parser.add_argument("--lesson-s", type=int, default=90)
    parser.add_argument("--rate-kbit", type=int, default=4000)
    parser.add_argument("--rtt-ms", type=float, default=80.0)
    parser.add_argument("--loss", type=float, default=0.01)
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "edge.json")
    parser.add_argument("--hls-js", type=Path, default=weaklink.HLS_JS)
    parser.add_argument("--mixed-rounds", type=int, default=3,
                        help="extra runs of ten classrooms through a cold edge, hls.js in --mixed-browsers of them "
                             "and the model player in the rest (weaklink.start_classrooms)")
    parser.add_argument("--mixed-browsers", type=int, default=2)
    parser.add_argument("--keep-previous", type=Path, default=None,
                        help="an earlier results file to keep inside this one as `previous` (e.g. before a change)")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        parser.error("needs root (network namespaces, tc, iptables)")
    if not args.hls_js.exists() or not shutil.which("chromium"):
        parser.error(f"Chromium or hls.js missing ({args.hls_js}): run infra/browser.sh install")
    install_cleanup()
    cleanup_stale()
    source = weaklink.lesson_source(args.lesson_s)
    with tempfile.TemporaryDirectory(prefix="edge-bench-") as scratch:
        return run(args, Path(scratch), source)


def run(args: argparse.Namespace, root: Path, source: Path) -> int:
    from services.api.orgs.models import School
    from services.api.playback.models import ActivePlay
    from services.api.resources.models import Resource, ResourceStatus

    os.chmod(root, 0o755)  # Chromium and nginx's workers in the namespace read under it
    page_dir = weaklink.player_page(root / "page", args.hls_js)
    district = weaklink.rural_district(root, rate_kbit=args.rate_kbit, classrooms=args.classrooms)
    url, engine, data_dir, school_id = district.url, district.engine, district.data_dir, district.school_id
    headers, tokens, env = district.headers, district.tokens, district.env
    results: dict = {"benchmark": "edge", "goals": GOALS, "machine": machine_info(),
                     "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
                     "source": {"file": source.name, "seconds": args.lesson_s}, "runs": {}}
    api = None
    edge_port = 48000 + os.getpid() % 1000
    edge_url = f"http://127.0.0.1:{edge_port}"  # the school's LAN: loopback inside the namespace
    try:
        with shaped_link(rate_kbit=args.rate_kbit, rtt_ms=args.rtt_ms, loss=args.loss) as link:
            results["link"] = {**link.describe(), "measured": measure(link, port=47000 + os.getpid() % 1000)}
            print(f"link: {results['link']['measured']}", flush=True)
            api = weaklink.Api("new", REPO_ROOT, host=link.server_ip, port=46000 + os.getpid() % 1000, env=env,
                               log=root / "api.log")
            api.wait_ready()
            resource_id = weaklink.upload_lesson(api, headers, source, "认识分数")
            done = subprocess.run([sys.executable, "-c", weaklink._TRANSCODE, url, str(data_dir), str(root / "scratch"),
                                   resource_id], cwd=REPO_ROOT, env={**env, "PYTHONPATH": str(REPO_ROOT)},
                                  capture_output=True, text=True)
            if done.returncode != 0 or "failed" in done.stdout:
                raise RuntimeError(f"transcode: {done.stdout}\n{done.stderr[-3000:]}")
            detail = weaklink.wait_for_ladder(api, headers, resource_id)
            results["ladder"] = weaklink.ladder_facts(data_dir, detail)
            with Session(engine) as session:
                session.execute(update(Resource).where(Resource.id == resource_id)
                                .values(status=ResourceStatus.published))
                session.commit()
            ten = args.classrooms
            plan = [("direct-1", 1, False, "hlsjs"), ("edge-1", 1, True, "hlsjs"), (f"edge-{ten}", ten, True, "hlsjs"),
                    (f"direct-{ten}", ten, False, "hlsjs"),
                    *((f"edge-{ten}-mixed-{i}", ten, True, "mixed") for i in range(args.mixed_rounds))]
            for name, classrooms, through_edge, player in plan:
                state = root / f"edge-{name}"  # a cold cache for each run
                state.mkdir()
                state.chmod(0o755)
                with Session(engine) as session:  # a quiet school, with or without its edge
                    session.execute(delete(ActivePlay).where(ActivePlay.school_id == school_id))
                    session.execute(update(School).where(School.id == school_id)
                                    .values(edge_url=edge_url if through_edge else None))
                    session.commit()
                if through_edge:
                    link.run([str(REPO_ROOT / "infra" / "edge.sh"), "start"], check=True, capture_output=True,
                             env=edge_env(state, upstream=api.url, port=edge_port))
                try:
                    before = link.counters()
                    played = weaklink.start_classrooms(link, player, api=api.url, resource=resource_id,
                                                       tokens=tokens[:classrooms], root=root, page_dir=page_dir,
                                                       watch_s=args.watch_s, env=env, browsers=args.mixed_browsers)
                    after = link.counters()
                finally:
                    if through_edge:
                        subprocess.run([str(REPO_ROOT / "infra" / "edge.sh"), "stop"], capture_output=True,
                                       env=edge_env(state, upstream=api.url, port=edge_port))
                rooms = played["classrooms"]
                summary = weaklink.summarise(rooms, after["down_bytes"] - before["down_bytes"])
                summary["edge_upstream_bytes"] = edge_link_bytes(state) if through_edge else None
                summary["levels_played"] = sorted({lvl for c in rooms for lvl in c.get("levels_played", [])})
                if through_edge:
                    cache_log = _log(state, "access.log")
                    summary["edge_cache"] = {status: sum(1 for line in cache_log if f"cache={status} " in line)
                                             for status in ("HIT", "MISS", "UPDATING", "-")}
                    summary["edge_fetches"] = edge_fetches(state)
                results["runs"][name] = {"summary": summary, "up_bytes": after["up_bytes"] - before["up_bytes"],
                                         **played}
                print(f"{name}: {json.dumps(summary)}", flush=True)
        results["link"]["delay_process_counts"] = link.delay_counts
    finally:
        if api is not None:
            api.stop()
        engine.dispose()
        log = root / "api.log"
        if log.exists():
            results["api_log_tail"] = log.read_text(errors="replace").splitlines()[-20:]
    reference = results["runs"]["direct-1"]["summary"]["link_down_bytes"]
    # Also against one classroom through the (cold) edge: what one classroom of a school with an
    # edge moves over its link, playing the master such a school gets (held to one rung from the
    # start's end: docs/design.md, "The school edge"). A lone classroom without an edge climbs by
    # its own measure, later or sooner from run to run, and so moves 6.2-6.9 MB of this lesson.
    one_through_edge = results["runs"]["edge-1"]["summary"]["link_down_bytes"]
    ten = results["runs"][f"edge-{args.classrooms}"]["summary"]
    results["summary"] = {
        "reference_one_classroom_link_bytes": reference,
        "one_through_edge_link_bytes": one_through_edge,
        "ten_through_edge_link_bytes": ten["link_down_bytes"],
        "link_bytes_ratio": _ratio(ten["link_down_bytes"], reference),
        "link_bytes_ratio_to_one_through_edge": _ratio(ten["link_down_bytes"], one_through_edge),
        "startup_p95_s": ten["startup_p95_s"], "startup_p50_s": ten["startup_p50_s"], "stalls": ten["stalls"],
        "failed": ten["failed"],
    }
    mixed = [run for name, run in results["runs"].items() if "-mixed-" in name]
    if mixed:
        # hls.js start-up through the edge with ten classrooms on the link, two of them browsers.
        starts = weaklink.summarise([c for run in mixed for c in run["classrooms"]], 0)
        results["summary"]["mixed"] = {
            "rounds": len(mixed), "hlsjs_starts": starts["started"], "startup_p50_s": starts["startup_p50_s"],
            "startup_p95_s": starts["startup_p95_s"], "stalls": starts["stalls"], "failed": starts["failed"],
            "link_bytes_ratio_per_round": [_ratio(run["summary"]["link_down_bytes"], reference) for run in mixed],
            "link_bytes_ratio_to_one_through_edge_per_round": [
                _ratio(run["summary"]["link_down_bytes"], one_through_edge) for run in mixed]}
    summary = results["summary"]
    results["goal_met"] = bool(summary["link_bytes_ratio"] is not None
                               and summary["link_bytes_ratio"] <= GOALS["link_bytes_ratio_max"]
                               and summary["startup_p95_s"] is not None
                               and summary["startup_p95_s"] <= GOALS["startup_p95_s"] and not summary["failed"])
    if mixed:
        m = summary["mixed"]
        results["goal_met_mixed"] = bool(
            m["startup_p95_s"] is not None and m["startup_p95_s"] <= GOALS["startup_p95_s"] and not m["stalls"]
            and not m["failed"] and all(r is not None and r <= GOALS["link_bytes_ratio_max"]
                                        for r in m["link_bytes_ratio_per_round"]))
    if args.keep_previous and args.keep_previous.exists():
        previous = json.loads(args.keep_previous.read_text())
        results["previous"] = {"summary": previous.get("summary"), "note": "an earlier run, kept for comparison",
                               "runs": {n: r["summary"] for n, r in previous.get("runs", {}).items()}}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(summary, indent=2), f"\ngoal met: {results['goal_met']} (ten browsers), "
          f"{results.get('goal_met_mixed')} (mixed); wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Ten classrooms of a village school start one lesson together over its shared link: start-up,
stalls and bytes, today's behaviour (baseline) against issue 18.4's (new), in the same run.

    sudo .venv/bin/python bench/weaklink.py                 # ≈ 10 min; writes bench/results/weaklink.json
    sudo .venv/bin/python bench/weaklink.py --rounds 1 --watch-s 20

The link (bench/weaklink/netns.py): 4 Mbit/s each way (tbf), 80 ms round trip and 1 % loss each
way (user space, NFQUEUE: this kernel has no netem), between this host (the centre: the API) and
a network namespace (the school: ten hls.js players in headless Chromium, bench/weaklink/players.py).

Both sides of the comparison run at once on one database and one store, the real API processes
on embedded defaults (SQLite, local disk), bound to the link's host address:
* baseline: the API and transcoder code of `--baseline-ref` (the commit before this change,
  exported with `git archive`): the start rung from the school's whole link as if one classroom
  watched, 4 s segments from the start;
* new: this checkout: the link shared among the school's active plays, two 2 s segments first.
Both are played by the same players, which start as the platform's player does
(services/console/static/js/startup.js: once 4 s are buffered; for baseline's 4 s segments that is
its first segment, as before).
Each has its own copy of one lesson-like 720p source, transcoded by its own code. Rounds alternate
which goes first. Between runs the school's active plays are cleared (a quiet school).

Start-up: from the classroom's `GET /play` to the video's first `playing` event. A stall: the video
waiting for data after it started. Bytes: hls.js's fragment bytes per classroom, and every byte
the link carried down in the run (playlists, redirects, TCP/IP headers, retransmissions included).

Needs root, ip/tc/iptables/ethtool (infra/weaklink.sh), Chromium + hls.js (infra/browser.sh), ffmpeg.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import httpx  # noqa: E402
from sqlalchemy import Engine, delete, update  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench._common import RESULTS_DIR, install_cleanup, machine_info  # noqa: E402
from bench.weaklink.netns import cleanup_stale, measure, shaped_link  # noqa: E402

WORK = REPO_ROOT / "bench" / "work"
STARTUP_JS = REPO_ROOT / "services" / "console" / "static" / "js" / "startup.js"
HLS_JS = REPO_ROOT / ".infra" / "browser" / "node_modules" / "hls.js" / "dist" / "hls.min.js"
BASELINE_REF = "571e208"  # main before issue 18.4: whole-link start rung, 4 s segments from the start
SECRET = "weaklink-bench-secret-key-long-enough-0123456789"
GOALS = {"startup_p95_s": 3.0, "stalls": 0}

# Runs one tree's transcoder on the resource's jobs (first playable, then the ladder), as a worker.
_TRANSCODE = """
import sys
from pathlib import Path
from sqlalchemy import select
from services.common import jobs
from services.common.db import create_db_engine
from services.common.storage import create_blob_store
from services.transcoder.app import Transcoder, process_job
from tests.conftest import make_settings
from tests.helpers import RecordingBroker
url, data_dir, scratch, resource_id = sys.argv[1:5]
engine = create_db_engine(url)
settings = make_settings(Path(data_dir), url)
transcoder = Transcoder(engine=engine, store=create_blob_store(settings), celery=RecordingBroker(),
                        scratch_root=Path(scratch), name="bench-transcoder")
table = jobs.processing_jobs
with engine.connect() as connection:
    queued = connection.execute(select(table.c.id).where(table.c.resource_id == resource_id)
                                .order_by(table.c.kind)).scalars().all()
print([process_job(transcoder, job_id) for job_id in queued])
"""


def lesson_source(seconds: int) -> Path:
    """A lesson-like 720p25 clip: a board with chalk strokes appearing, a moving presenter, sensor
    noise, speech-like audio; above the 720p rung's cap, so the ladder encodes every rung."""
    path = WORK / f"weaklink-lesson-720p25-{seconds}s.mp4"
    if path.exists():
        return path
    WORK.mkdir(parents=True, exist_ok=True)
    strokes = []
    for i in range(seconds // 3):
        row, col = divmod(i, 10)
        x, y = 80 + col * 110, 60 + (row % 6) * 90
        strokes.append(f"drawbox=x={x}:y={y}:w={50 + (i * 37) % 40}:h=5:color=white@0.9:t=fill:enable='gte(t,{i * 3})'")
    video = (f"color=c=0x24423a:s=1280x720:r=25:d={seconds}," + ",".join(strokes) + "[board];"
             f"color=c=0xb07050:s=120x280:r=25:d={seconds}[presenter];"
             "[board][presenter]overlay=x='560+200*sin(t/5)':y=400,noise=alls=8:allf=t,format=yuv420p[v]")
    audio = (f"anoisesrc=c=pink:r=48000:a=0.3:d={seconds},"
             "volume='0.1+0.9*abs(sin(2*PI*2.2*t))*abs(sin(2*PI*0.31*t))':eval=frame,lowpass=f=3500[a]")
    partial = path.with_suffix(".partial.mp4")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-filter_complex", f"{video};{audio}", "-map", "[v]", "-map", "[a]",
                    "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-g", "50", "-sc_threshold", "0",
                    "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", "-t", str(seconds), str(partial)],
                   check=True)
    partial.rename(path)
    return path


def export_tree(ref: str, target: Path) -> Path:
    target.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO_ROOT), "archive", ref], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


class Api:
    """One tree's API under uvicorn, bound to the link's host address, in its own process group."""

    def __init__(self, name: str, tree: Path, *, host: str, port: int, env: dict[str, str], log: Path) -> None:
        self.name, self.url = name, f"http://{host}:{port}"
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "uvicorn"), "--factory", "services.api.app:create_app_from_env",
             "--host", host, "--port", str(port), "--no-access-log", "--no-proxy-headers"],
            cwd=tree, env={**env, "PYTHONPATH": str(tree), "LB_API_HOST": host, "LB_API_PORT": str(port)},
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} API exited with {self.process.returncode}: see {self._log.name}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} API not up within {timeout:.0f} s: see {self._log.name}")

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, 9)
                self.process.wait(timeout=10)
        self._log.close()


def upload_lesson(api: Api, headers: dict[str, str], source: Path, title: str) -> str:
    from tusclient import client as tus_client

    uploader = tus_client.TusClient(f"{api.url}/api/v1/uploads/", headers=headers).uploader(
        str(source), metadata={"filename": source.name, "content_type": "video/mp4"}, chunk_size=8 << 20)
    uploader.upload()
    upload_id = uploader.url.rstrip("/").rsplit("/", 1)[1]
    created = httpx.post(f"{api.url}/api/v1/resources", headers=headers, timeout=60, json={
        "title": title, "kind": "micro_lesson", "visibility": "school", "license": "cc-by-4.0",
        "upload_ids": [upload_id]})
    if created.status_code != 201:
        raise RuntimeError(f"create: {created.status_code} {created.text}")
    return created.json()["id"]


def wait_for_ladder(api: Api, headers: dict[str, str], resource_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        detail = httpx.get(f"{api.url}/api/v1/resources/{resource_id}", headers=headers, timeout=30).json()
        jobs = {r.get("job") for asset in detail.get("assets", []) for r in asset.get("renditions", [])}
        if "ladder" in jobs and detail["status"] != "processing":
            return detail
        time.sleep(0.5)
    raise RuntimeError(f"{resource_id}: no ladder applied within {timeout:.0f} s ({detail.get('status')})")


def ladder_facts(data_dir: Path, detail: dict) -> dict:
    """Each rung's measured BANDWIDTH and its segment durations, read from the store."""
    rendition = next(r for r in detail["assets"][0]["renditions"] if r.get("job") == "ladder")
    found = {}
    for variant in rendition["tracks"][0]["variants"]:
        wanted = f"{rendition['prefix']}/{variant['uri']}"
        playlists = [path for path in data_dir.rglob("index.m3u8") if str(path).endswith(wanted)]
        durations = []
        if playlists:
            durations = [round(float(line.split(":", 1)[1].split(",")[0]), 2)
                         for line in playlists[0].read_text().splitlines() if line.startswith("#EXTINF:")]
        found[variant["name"]] = {"bandwidth": variant["bandwidth"], "average_bandwidth": variant["average_bandwidth"],
                                  "first_segments_s": durations[:6], "segments": len(durations)}
    return found


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile: with ten classrooms, p95 is the slowest one."""
    if not values:
        return None
    ranked = sorted(values)
    return ranked[max(0, min(len(ranked) - 1, int(-(-q * len(ranked) // 100)) - 1))]


def summarise(classrooms: list[dict], link_bytes: int) -> dict:
    starts = [c["startup_s"] for c in classrooms if c.get("startup_s") is not None]
    buffered = [c["first_buffered_s"] for c in classrooms if c.get("first_buffered_s") is not None]
    pages = [c["page_s"] for c in classrooms if c.get("page_s") is not None]
    return {
        "classrooms": len(classrooms), "started": len(starts),
        "failed": [c.get("error") or c.get("fatal") for c in classrooms if c.get("startup_s") is None],
        "startup_p50_s": round(statistics.median(starts), 3) if starts else None,
        "startup_p95_s": percentile(starts, 95), "startup_max_s": max(starts) if starts else None,
        # The link's part: from /play to the first fragment in the media buffer.
        "first_buffered_p50_s": round(statistics.median(buffered), 3) if buffered else None,
        "first_buffered_p95_s": percentile(buffered, 95),
        "page_up_p50_s": round(statistics.median(pages), 3) if pages else None,
        "stalls": sum(c.get("stalls", 0) for c in classrooms),
        "stalled_s": round(sum(c.get("stalled_s", 0) for c in classrooms), 3),
        "classrooms_with_stalls": sum(1 for c in classrooms if c.get("stalls")),
        "fragment_bytes": sum(c.get("bytes", 0) for c in classrooms),
        "bytes_before_playing": sum(sum(f["bytes"] or 0 for f in c.get("frags_before_playing", []))
                                    for c in classrooms),
        "link_down_bytes": link_bytes,
        "first_rungs": sorted((c.get("listed_first") or {}).get("height") or 0 for c in classrooms),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--classrooms", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--watch-s", type=float, default=30.0, help="seconds each classroom plays")
    parser.add_argument("--lesson-s", type=int, default=90)
    parser.add_argument("--rate-kbit", type=int, default=4000)
    parser.add_argument("--rtt-ms", type=float, default=80.0)
    parser.add_argument("--loss", type=float, default=0.01)
    parser.add_argument("--baseline-ref", default=BASELINE_REF)
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "weaklink.json")
    parser.add_argument("--players", type=lambda text: text.split(","), default=["hlsjs", "model"],
                        help="hlsjs (Chromium, players.py), model (model_player.py), mixed (hls.js in "
                             "--mixed-browsers classrooms, the model in the rest), or a list: hlsjs,model,mixed")
    parser.add_argument("--mixed-browsers", type=int, default=2, help="hls.js classrooms in a mixed run (2)")
    parser.add_argument("--no-control", dest="control", action="store_false",
                        help="skip the control runs over an unshaped link (1 Gbit/s, no delay, no loss)")
    parser.add_argument("--hls-js", type=Path, default=HLS_JS, help="hls.min.js (infra/browser.sh installs it)")
    parser.add_argument("--page", choices=["open", "load"], default="open",
                        help="hls.js classrooms: the player page up before the start (open: a classroom's console "
                             "already open) or loaded after /play (load: start-up includes making the page)")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        parser.error("needs root (network namespaces, tc, iptables)")
    if not args.hls_js.exists() or not shutil.which("chromium"):
        parser.error(f"Chromium or hls.js missing ({args.hls_js}): run infra/browser.sh install")
    install_cleanup()  # SIGTERM/SIGHUP unwind through the finally blocks: servers stopped, link removed
    cleanup_stale()
    source = lesson_source(args.lesson_s)
    with tempfile.TemporaryDirectory(prefix="weaklink-") as scratch:
        return run(args, Path(scratch), source)



@dataclass(frozen=True)
class RuralDistrict:
    url: str                  # the database
    engine: Engine
    data_dir: Path
    school_id: str
    headers: dict[str, str]   # the uploading teacher's
    tokens: list[str]         # one bearer token per classroom
    env: dict[str, str]       # the API's environment on embedded defaults


def rural_district(root: Path, *, rate_kbit: int, classrooms: int) -> RuralDistrict:
    """A fresh embedded-defaults database under `root` with one rural school on a `rate_kbit`
    link, an uploading teacher and one teacher per classroom (edge.py runs in the same)."""
    from services.api.migrate import upgrade
    from services.api.orgs.models import SchoolKind
    from services.api.taxonomy import service as taxonomy
    from services.common.db import create_db_engine
    from tests.factories import Factory

    data_dir, url = root / "data", f"sqlite:///{root / 'lb.db'}"
    engine = create_db_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        taxonomy.import_document(session, taxonomy.seed_document(), actor_id=None, district_id=None)
        factory = Factory(session=session, secret=SECRET)
        school = factory.school(kind=SchoolKind.rural, bandwidth_kbps=rate_kbit, name="石桥村小学")
        uploader = factory.user(school=school)
        teachers = [factory.user(school=school) for _ in range(classrooms)]
        session.commit()
        school_id = school.id
        headers = factory.headers(uploader, ttl_s=4 * 3600)
        tokens = [factory.headers(t, ttl_s=4 * 3600)["Authorization"].split(" ", 1)[1] for t in teachers]
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("LB_")}, "LB_ENV": "test",
           "LB_DATABASE_URL": url, "LB_DATA_DIR": str(data_dir), "LB_SECRET_KEY": SECRET, "LB_LOG_LEVEL": "WARNING",
           "LB_MEDIA_POLL_S": "0.5", "LB_SEARCH_RELAY_S": "0"}
    return RuralDistrict(url=url, engine=engine, data_dir=data_dir, school_id=school_id, headers=headers,
                         tokens=tokens, env=env)


def player_page(page_dir: Path, hls_js: Path) -> Path:
    """The classroom player's page (players.py serves it on the school's side): player.html, hls.js
    and the platform player's start rule (startup.js), which player.html imports."""
    page_dir.mkdir()
    shutil.copy(Path(__file__).parent / "weaklink" / "player.html", page_dir / "player.html")
    shutil.copy(hls_js, page_dir / "hls.min.js")
    shutil.copy(STARTUP_JS, page_dir / "startup.js")
    return page_dir


def start_classrooms(link, player: str, *, api: str, resource: str, tokens: list[str], root: Path, page_dir: Path,
                     watch_s: float, env: dict[str, str], page: str = "open", browsers: int = 2) -> dict:
    """Starts every classroom of `tokens` on `resource` at once, inside the school's namespace
    (`link`), and returns their results: `classrooms` (the measured ones), and for a mixed run
    `other_classrooms`, `others_summary` and `browser_late_s` (edge.py runs the same).

    * `hlsjs`: hls.js in headless Chromium (weaklink/players.py), `page` open or load;
    * `model`: the light player (weaklink/model_player.py);
    * `mixed`: hls.js in `browsers` classrooms (measured), the model player in the others, all
      starting at one instant: ten classrooms' load on the link, and a real browser's start
      without ten browsers' CPU on this machine's two cores."""
    def launch(script: str, tokens_file: Path, *extra: str) -> subprocess.Popen:
        return link.popen([sys.executable, str(Path(__file__).parent / "weaklink" / script),
                           "--api", api, "--resource", resource, "--tokens", str(tokens_file),
                           "--page-dir", str(page_dir), "--watch-s", str(watch_s), *extra],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT,
                          env={**env, "PYTHONPATH": str(REPO_ROOT)})

    def collect(process: subprocess.Popen, what: str) -> dict:
        try:
            out, err = process.communicate(timeout=900)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        if process.returncode != 0:
            raise RuntimeError(f"{what} failed: {err[-3000:]}")
        return json.loads(out)

    if player != "mixed":
        tokens_file = root / f"tokens-{len(tokens)}.json"
        tokens_file.write_text(json.dumps(tokens))
        script, extra = ("players.py", ["--page", page]) if player == "hlsjs" else ("model_player.py", [])
        return {"classrooms": collect(launch(script, tokens_file, *extra), player)["classrooms"]}
    (root / "tokens-hlsjs.json").write_text(json.dumps(tokens[:browsers]))
    (root / "tokens-model.json").write_text(json.dumps(tokens[browsers:]))
    start_at = f"{time.time() + 20:.3f}"  # the browsers' pages are up well before
    browser = launch("players.py", root / "tokens-hlsjs.json", "--page", "open", "--start-at", start_at)
    model = launch("model_player.py", root / "tokens-model.json", "--start-at", start_at)
    played = collect(browser, "hls.js players")
    others = collect(model, "model players")["classrooms"]
    return {"classrooms": played["classrooms"], "other_classrooms": others, "others_summary": summarise(others, 0),
            "browser_late_s": played.get("late_s")}


def run(args: argparse.Namespace, root: Path, source: Path) -> int:
    from services.api.playback.models import ActivePlay
    from services.api.resources.models import Resource, ResourceStatus

    os.chmod(root, 0o755)  # Chromium in the namespace reads the page directory
    trees = {"baseline": export_tree(args.baseline_ref, root / "baseline-tree"), "new": REPO_ROOT}
    page_dir = player_page(root / "page", args.hls_js)
    district = rural_district(root, rate_kbit=args.rate_kbit, classrooms=args.classrooms)
    url, engine, data_dir, school_id = district.url, district.engine, district.data_dir, district.school_id
    headers, tokens, env = district.headers, district.tokens, district.env
    results: dict = {"benchmark": "weaklink", "goals": GOALS, "machine": machine_info(),
                     "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
                     "source": {"file": source.name, "seconds": args.lesson_s}, "runs": []}
    apis: dict[str, Api] = {}
    try:
        with shaped_link(rate_kbit=args.rate_kbit, rtt_ms=args.rtt_ms, loss=args.loss) as link:
            results["link"] = {**link.describe(), "measured": measure(link, port=47000 + os.getpid() % 1000)}
            print(f"link: {results['link']['measured']}", flush=True)
            for index, (name, tree) in enumerate(trees.items()):
                apis[name] = Api(name, tree, host=link.server_ip, port=46000 + os.getpid() % 1000 + index, env=env,
                                 log=root / f"api-{name}.log")
            for api in apis.values():
                api.wait_ready()
            lessons, results["ladders"] = {}, {}
            for name, api in apis.items():
                resource_id = upload_lesson(api, headers, source, f"认识分数（{name}）")
                done = subprocess.run([sys.executable, "-c", _TRANSCODE, url, str(data_dir), str(root / f"scratch-{name}"),
                                       resource_id], cwd=trees[name], env={**env, "PYTHONPATH": str(trees[name])},
                                      capture_output=True, text=True)
                if done.returncode != 0 or "failed" in done.stdout:
                    raise RuntimeError(f"{name} transcode: {done.stdout}\n{done.stderr[-3000:]}")
                detail = wait_for_ladder(api, headers, resource_id)
                results["ladders"][name] = ladder_facts(data_dir, detail)
                lessons[name] = resource_id
                print(f"{name} ladder: {json.dumps(results['ladders'][name])}", flush=True)
            with Session(engine) as session:
                session.execute(update(Resource).where(Resource.id.in_(list(lessons.values())))
                                .values(status=ResourceStatus.published))
                session.commit()
            def players(on, name: str, round_index: int, link_name: str, player: str) -> None:
                with Session(engine) as session:  # a quiet school before each run
                    session.execute(delete(ActivePlay).where(ActivePlay.school_id == school_id))
                    session.commit()
                before = on.counters()
                played = start_classrooms(on, player, api=apis[name].url, resource=lessons[name], tokens=tokens,
                                          root=root, page_dir=page_dir, watch_s=args.watch_s, env=env,
                                          page=args.page, browsers=args.mixed_browsers)
                after = on.counters()
                summary = summarise(played["classrooms"], after["down_bytes"] - before["down_bytes"])
                results["runs"].append({"round": round_index, "variant": name, "link": link_name, "player": player,
                                        "load_average": os.getloadavg(), "summary": summary,
                                        "up_bytes": after["up_bytes"] - before["up_bytes"], **played})
                print(f"round {round_index} {name} {link_name} {player}: {json.dumps(summary)}", flush=True)

            for round_index in range(args.rounds):
                order = list(apis) if round_index % 2 == 0 else list(reversed(apis))
                for name in order:
                    for player in args.players:
                        players(link, name, round_index, "shaped", player)
            if args.control:
                # The same players with the link out of the way: what the machine and the player
                # cost by themselves (a loaded 2-core machine shared with other work).
                with shaped_link(rate_kbit=1_000_000, rtt_ms=0, loss=0) as control:
                    for name in apis:
                        for player in args.players:
                            players(control, name, 0, "unshaped", player)
        results["link"]["delay_process_counts"] = link.delay_counts
    finally:
        for api in apis.values():
            api.stop()
        engine.dispose()
        for name in apis:
            log = root / f"api-{name}.log"
            if log.exists():
                tail = log.read_text(errors="replace").splitlines()[-20:]
                results.setdefault("api_log_tails", {})[name] = tail
    def pick(name: str, link_name: str, player: str) -> list[dict]:
        return [r for r in results["runs"] if (r["variant"], r["link"], r["player"]) == (name, link_name, player)]

    for player in args.players:
        results[f"summary_{player}"] = {name: _overall(pick(name, "shaped", player)) for name in trees}
        if args.control:
            results[f"summary_{player}_unshaped"] = {name: _overall(pick(name, "unshaped", player)) for name in trees}
    results["goal_met"] = {}
    for player in args.players:
        new = results[f"summary_{player}"].get("new", {})
        results["goal_met"][player] = bool(new.get("startup_p95_s") is not None and not new.get("failed")
                                           and new["startup_p95_s"] <= GOALS["startup_p95_s"] and new["stalls"] == 0)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    for key, value in results.items():
        if key.startswith("summary_"):
            for name, summary in value.items():
                print(key, name, {k: summary[k] for k in ("startup_p50_s", "startup_p95_s", "first_buffered_p95_s",
                                                          "stalls", "stalled_s", "link_down_bytes", "first_rungs")})
    print(f"goal met: {results['goal_met']}; wrote {args.output}")
    return 0


def _overall(runs: list[dict]) -> dict:
    classrooms = [c for run in runs for c in run["classrooms"]]
    overall = summarise(classrooms, sum(run["summary"]["link_down_bytes"] for run in runs))
    overall["runs"] = len(runs)
    overall["startup_p95_s_per_run"] = [run["summary"]["startup_p95_s"] for run in runs]
    return overall


if __name__ == "__main__":
    sys.exit(main())

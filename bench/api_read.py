"""API read benchmark (issue 2): `GET /api/v1/resources/{id}` against a bare FastAPI endpoint.

    .venv/bin/python bench/api_read.py [--seconds 10] [--rounds 3] [--concurrency 32] [--client raw|httpx]

A fresh data directory is migrated and seeded with the demo district (`lb db upgrade`,
`lb demo`), then two servers run side by side, each `uvicorn --no-access-log` with one worker:

* api       the real LessonBridge API (`services.api.app:create_app_from_env`), LB_ENV=development,
            LB_LOG_LEVEL=WARNING (no per-request log lines), SQLite in WAL mode;
* baseline  a bare FastAPI app defined below: one `async def` endpoint on the same path that
            returns, as a plain dict, the very JSON document the API returned for the first
            resource (same size and shape) with the requested id put in. No middleware, no
            database, no authentication, no response model.

Both get identical requests (the same paths and `Authorization: Bearer` header) from a
closed-loop load generator in this process (see bench/_common.py). After a warm-up, the two
are measured alternately (baseline, api, baseline, api, ...) for `--rounds` rounds of
`--seconds` each, so drift on a shared machine hits both. Results go to
bench/results/api_read.json; the exit status is 1 if any request failed (any non-200).

The ratios are "higher is better", 1.0 meaning "as fast as bare FastAPI":
ratio_rps = api rps / baseline rps, ratio_p99 = baseline p99 / api p99. The goal is
ratio_rps >= 0.5.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (REPO_ROOT, RESULTS_DIR, Server, free_port, install_cleanup,  # noqa: E402
                     machine_info, new_event_loop, run_checked, run_phase, stop_all_servers, summarize,
                     utc_now, venv_script, write_json)

GOAL = 0.5
PATH_TEMPLATE = "/api/v1/resources/{id}"
PAYLOAD_ENV = "BENCH_BASELINE_PAYLOAD_FILE"
UVICORN_FLAGS = ["--host", "127.0.0.1", "--no-access-log", "--workers", "1"]

# What the baseline returns when run on its own (no captured payload): a resource detail as
# the API renders it.
SAMPLE_PAYLOAD = {
    "id": "01JBENCHSAMPLE0000000000000", "title": "认识钟表 微课", "description": "演示资源",
    "kind": "micro_lesson", "subject": "math", "stage": "primary", "grade": None, "edition": None,
    "volume": None, "chapter": None, "knowledge_point_ids": ["01JBENCHKP00000000000000000"],
    "knowledge_points": [{"id": "01JBENCHKP00000000000000000", "code": "math.p.num.qty.clock", "name": "认识钟表",
                          "path": "math/p/num/qty/clock"}],
    "tags": ["演示"], "visibility": "district", "license": "cc-by-nc-sa-4.0",
    "owner": {"id": "01JBENCHOWNER00000000000000", "real_name": "张老师"},
    "school": {"id": "01JBENCHSCHOOL0000000000000", "name": "青山区实验小学"},
    "status": "published", "failure_reason": None, "progress": 0, "version": 3, "assets": [],
    "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z",
    "published_at": "2025-01-01T00:00:00Z",
}


def create_baseline_app():  # noqa: ANN201 - imported by uvicorn --factory in the baseline process
    """The baseline: bare FastAPI, one async endpoint returning a dict like the API's detail."""
    from fastapi import FastAPI

    source = os.environ.get(PAYLOAD_ENV)
    payload = json.loads(Path(source).read_text(encoding="utf-8")) if source else SAMPLE_PAYLOAD
    app = FastAPI()

    @app.get(PATH_TEMPLATE.replace("{id}", "{resource_id}"))
    async def read_resource(resource_id: str):  # noqa: ANN202 - no annotation: no response model
        return {**payload, "id": resource_id}

    return app


# --------------------------------------------------------------------------- setup

def _environment(data_dir: Path, port: int) -> dict[str, str]:
    # No LB_* from the caller's shell: a stray LB_DATABASE_URL must not point the run elsewhere.
    env = {k: v for k, v in os.environ.items() if not k.startswith("LB_")}
    env.update(LB_ENV="development", LB_DATA_DIR=str(data_dir), LB_API_HOST="127.0.0.1", LB_API_PORT=str(port),
               LB_LOG_LEVEL="WARNING",
               # Long-lived access tokens: a long run must not start collecting 401s.
               LB_ACCESS_TOKEN_TTL_S=str(24 * 3600),
               PYTHONDONTWRITEBYTECODE="1")
    return env


def _lb(*args: str) -> list[str]:
    script = venv_script("lb")
    return [script, *args] if script else [sys.executable, "-m", "services.api.cli", *args]


def _uvicorn(app: str, port: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "--factory", app, "--port", str(port), *UVICORN_FLAGS, *extra]


def _sign_in(port: int, username: str, password: str) -> tuple[str, list[str], dict]:
    """A token, the ids of the resources the user lists, and the detail of the first."""
    import httpx

    base = f"http://127.0.0.1:{port}/api/v1"
    with httpx.Client(timeout=30) as http:
        answer = http.post(f"{base}/auth/token", data={"username": username, "password": password})
        answer.raise_for_status()
        token = answer.json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        listing = http.get(f"{base}/resources", headers=headers)
        listing.raise_for_status()
        ids = [item["id"] for item in listing.json()["items"]]
        if not ids:
            raise RuntimeError(f"{username} lists no resources; is the demo district seeded?")
        details = [http.get(f"{base}/resources/{id_}", headers=headers) for id_ in ids]
        for detail in details:
            detail.raise_for_status()
    return token, ids, details[0].json()


# --------------------------------------------------------------------------- run

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per target per round (10)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (3)")
    parser.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds per target, not recorded (3)")
    parser.add_argument("--concurrency", type=int, default=32, help="keep-alive connections (32)")
    parser.add_argument("--client", choices=["raw", "httpx"], default="raw",
                        help="load generator: raw asyncio HTTP/1.1 (default) or httpx.AsyncClient")
    parser.add_argument("--timeout", type=float, default=15.0,
                        help="seconds past the end of a phase to wait for outstanding responses; those still "
                             "missing are errors and end the run early (15)")
    parser.add_argument("--pin", action="store_true",
                        help="pin the servers to CPU 0 and the load generator to CPU 1")
    parser.add_argument("--user", default="teacher-urban", help="demo account that reads (teacher-urban)")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "api_read.json")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dir and server logs")
    parser.add_argument("--fail-below-goal", action="store_true", help=f"exit 2 when ratio_rps < {GOAL}")
    args = parser.parse_args(argv)

    install_cleanup()
    data_dir = Path(tempfile.mkdtemp(prefix="lb-bench-api-read-"))
    try:
        return _run(args, data_dir)
    except KeyboardInterrupt:
        print("\ninterrupted; stopping the servers", file=sys.stderr)
        return 130
    finally:
        stop_all_servers()
        if args.keep:
            print(f"kept {data_dir}", file=sys.stderr)
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _run(args: argparse.Namespace, data_dir: Path) -> int:
    machine = machine_info()
    server_cpus = client_cpus = None
    if args.pin:
        usable = sorted(os.sched_getaffinity(0))
        if len(usable) < 2:
            raise SystemExit("--pin needs at least 2 usable CPUs")
        server_cpus, client_cpus = {usable[0]}, {usable[1]}
        os.sched_setaffinity(0, client_cpus)

    api_port, baseline_port = free_port(), free_port()
    env = _environment(data_dir / "data", api_port)
    password = "bench-" + os.urandom(6).hex()

    _say(f"preparing {data_dir} (migrate, seed the demo district)")
    run_checked(_lb("db", "upgrade"), env=env, cwd=REPO_ROOT, what="lb db upgrade")
    run_checked(_lb("demo", "--password", password), env=env, cwd=REPO_ROOT, what="lb demo")

    api = Server("api", _uvicorn("services.api.app:create_app_from_env", api_port), env=env, cwd=REPO_ROOT,
                 log_path=data_dir / "api.log", port=api_port, cpus=server_cpus)
    api.wait_ready()
    token, ids, detail = _sign_in(api_port, args.user, password)
    payload_file = data_dir / "baseline-payload.json"
    payload_file.write_text(json.dumps(detail, ensure_ascii=False), encoding="utf-8")

    baseline = Server("baseline", _uvicorn("api_read:create_baseline_app", baseline_port,
                                           "--app-dir", str(Path(__file__).resolve().parent)),
                      env={**env, PAYLOAD_ENV: str(payload_file)}, cwd=REPO_ROOT,
                      log_path=data_dir / "baseline.log", port=baseline_port, cpus=server_cpus)
    baseline.wait_ready()
    _say(f"api pid {api.pid} port {api_port}; baseline pid {baseline.pid} port {baseline_port}; "
         f"{len(ids)} resource ids; client {args.client}, {args.concurrency} connections")

    paths = [PATH_TEMPLATE.format(id=id_) for id_ in ids]
    headers = {"Authorization": f"Bearer {token}"}
    targets = {"baseline": baseline, "api": api}
    loop = new_event_loop()

    def measure(name: str, seconds: float):
        return run_phase(loop, targets[name], target=name, client=args.client, paths=paths, headers=headers,
                         concurrency=args.concurrency, seconds=seconds, timeout=args.timeout)

    aborted = None
    phases: dict[str, list] = {name: [] for name in targets}
    try:
        warmup = {name: measure(name, args.warmup) for name in targets}
        if any(p.timeouts for p in warmup.values()):
            aborted = "a server left requests unanswered during the warm-up"
        for round_ in range(1, args.rounds + 1):
            if aborted:
                break
            for name in targets:  # baseline, then api
                phase = measure(name, args.seconds)
                phases[name].append(phase)
                _say(f"round {round_}/{args.rounds} {name:8s} {phase.requests / phase.elapsed:8.1f} req/s"
                     f"  errors {phase.errors}")
                if phase.timeouts:
                    aborted = (f"{name} left {phase.timeouts} requests unanswered {args.timeout:g}s after round"
                               f" {round_} ended")
                    break
    finally:
        loop.close()
    if aborted:
        _say(f"stopped early: {aborted}; server logs: {api.log_path}, {baseline.log_path} (kept with --keep)")

    results = {name: summarize(phases[name]) for name in targets}
    base, app = results["baseline"], results["api"]
    round_ratios = [_ratio(a["rps"], b["rps"]) for a, b in zip(app["rounds"], base["rounds"])]
    ratio_rps = _ratio(app["rps"], base["rps"])
    ratio_p99 = _ratio(base["latency_ms"]["p99"], app["latency_ms"]["p99"])
    ratio_cpu = _ratio(base["server_cpu_ms_per_request"], app["server_cpu_ms_per_request"])
    errors = base["errors"] + app["errors"]
    warmup_errors = sum(p.errors for p in warmup.values())
    # A run with failed requests measured something other than reads: it proves nothing.
    meets_goal = ratio_rps is not None and ratio_rps >= GOAL and not errors and not aborted
    machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]

    document = {
        "benchmark": "api_read",
        "date": utc_now(),
        "machine": machine,
        "config": {
            "seconds": args.seconds, "rounds": args.rounds, "warmup_seconds": args.warmup,
            "concurrency": args.concurrency, "client": args.client, "order": "baseline, api; alternating per round",
            "pinned": {"servers": sorted(server_cpus), "client": sorted(client_cpus)} if args.pin else None,
            "uvicorn": ["--factory", *UVICORN_FLAGS], "loop": "uvloop (uvicorn auto)",
            "api": {"app": "services.api.app:create_app_from_env", "env": {"LB_ENV": "development",
                    "LB_LOG_LEVEL": "WARNING"}, "database": "SQLite (WAL), fresh demo district",
                    "endpoint": "GET /api/v1/resources/{id}", "user": args.user, "resource_ids": len(ids)},
            "baseline": {"app": "bench/api_read.py:create_baseline_app",
                         "endpoint": "GET /api/v1/resources/{resource_id}, async def, returns a dict",
                         "payload": "the API's own JSON for the first resource, id replaced per request"},
        },
        "baseline": base,
        "api": app,
        "ratio_rps": ratio_rps,
        "ratio_rps_rounds": round_ratios,
        "ratio_p99": ratio_p99,
        "ratio_server_cpu_per_request": ratio_cpu,
        "ratio_definitions": {
            "ratio_rps": "api rps / baseline rps (higher is better)",
            "ratio_p99": "baseline p99 / api p99 (higher is better)",
            "ratio_server_cpu_per_request": "baseline server CPU per request / api's (higher is better)",
        },
        "goal": GOAL,
        "meets_goal": meets_goal,
        "errors": errors,
        "warmup_errors": warmup_errors,
        "warmup": {name: {"requests": p.requests, "errors": p.errors, "timeouts": p.timeouts,
                          "statuses": dict(p.statuses), "error_samples": p.error_samples}
                   for name, p in warmup.items()},
        "aborted": aborted,
    }
    write_json(args.output, document)
    _print_summary(document, args.output)

    if errors or warmup_errors:
        _say(f"FAILED: {errors} failed requests measured, {warmup_errors} in warm-up")
        for name in targets:
            seen = {**warmup[name].statuses, **results[name]["statuses"]}
            samples = warmup[name].error_samples + results[name]["error_samples"]
            if samples:
                _say(f"  {name}: statuses {seen}; e.g. {samples[:3]}")
        return 1
    if args.fail_below_goal and not document["meets_goal"]:
        return 2
    return 0


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    return round(numerator / denominator, 3) if numerator is not None and denominator else None


def _f(value: float | None, width: int, digits: int) -> str:
    return f"{value:{width}.{digits}f}" if value is not None else f"{'-':>{width}s}"


def _print_summary(doc: dict, output: Path) -> None:
    def row(name: str, r: dict) -> str:
        lat = r["latency_ms"]
        return (f"  {name:9s} {_f(r['rps'], 9, 1)} {_f(lat['p50'], 8, 2)} {_f(lat['p99'], 8, 2)} {r['errors']:7d}"
                f" {_f(r['server_cpu_ms_per_request'], 10, 3)} {_f(r['client_cpu_utilisation'], 12, 2)}")

    config = doc["config"]
    print(f"\nAPI read: GET /api/v1/resources/{{id}} vs bare FastAPI ({config['rounds']} x {config['seconds']:g}s each,"
          f" {config['concurrency']} connections, {config['client']} client)")
    print(f"  {'target':9s} {'req/s':>9s} {'p50 ms':>8s} {'p99 ms':>8s} {'errors':>7s} {'srv ms/req':>10s}"
          f" {'client cores':>12s}")
    print(row("baseline", doc["baseline"]))
    print(row("api", doc["api"]))
    print(f"  baseline = bare FastAPI, one async def endpoint returning the API's own JSON as a dict"
          f" ({doc['baseline']['response_body_bytes']} vs {doc['api']['response_body_bytes']} bytes per response)")
    verdict = "meets" if doc["meets_goal"] else "BELOW"
    print(f"  ratio req/s {_f(doc['ratio_rps'], 0, 3)} (rounds {doc['ratio_rps_rounds']}),"
          f" ratio p99 {_f(doc['ratio_p99'], 0, 3)},"
          f" ratio server CPU/request {_f(doc['ratio_server_cpu_per_request'], 0, 3)}   (higher is better)")
    print(f"  goal ratio req/s >= {doc['goal']}: {verdict}"
          + (f"  [failed requests: {doc['errors']}]" if doc["errors"] else "")
          + (f"  [stopped early: {doc['aborted']}]" if doc["aborted"] else ""))
    print(f"  wrote {output}")


if __name__ == "__main__":
    sys.exit(main())

"""Participation statistics at district scale (issue 16.9): each `/statistics/participation…`
route and the moderation queue's first page, on SQLite and on PostgreSQL: the code before the
stored closed-semester figures (migration 0024) against the code now, in the same run.

    .venv/bin/python bench/stats.py [--databases sqlite,postgresql] [--rounds 4] [--requests 25]
                                    [--schools 1000] [--teachers 50000] [--resources 1000000]
                                    [--baseline-ref REF]

For each database:

1. A fresh database is migrated to head and filled by bulk inserts (sqlite3 `executemany`,
   PostgreSQL `COPY`): one district of `--schools` schools, `--teachers` teachers (3 % disabled),
   a district administrator, a few hundred pairings and `--resources` resources. Resources are
   90 % published, 1 % waiting for review (submitted over the last 60 days), the rest drafts,
   rejected, taken down, processing or failed; published between 1 September 2022 and now
   (about 100,000 a semester); owners drawn with a skew (40 % of the teachers publish rarely);
   stage and subject mixed as a district's would be; play counts heavy-tailed. PostgreSQL is
   then `VACUUM ANALYZE`d, as autovacuum would after a load; SQLite is left without `ANALYZE`,
   as the API leaves it.
2. Two APIs (`uvicorn --factory services.api.app:create_app_from_env`, one worker each, no access
   log) serve that same database: **baseline**, the code of `--baseline-ref` (exported with `git
   archive`: the commit before the stored figures, which counts every semester live), and
   **new**, this checkout. The new API's first ask for the measured closed semester
   (`2025-fall`) stores the district's figures: that first request is timed on its own
   (`first_ask_new`).
3. Then `--rounds` rounds; in each, every route gets `--requests` requests (after 3 warm-ups)
   from each API in turn, one request at a time, the order of the two swapped every round, so
   both meet the same load from the rest of the machine.

Latency is measured in this process around each HTTP request (httpx, keep-alive). Per route and
API: p50/p99 over all rounds, and CPU per request (the API process's, plus on PostgreSQL that
of the server backends serving the database, from /proc). Ratios baseline / new (higher is
better), per round and overall: `speedup_p50`, `speedup_p99`, `speedup_cpu`. The machine is
shared, so latency moves with everyone else's load (recorded per round); CPU per request moves
much less. Goals: p99 <= 200 ms for each statistics route, <= 50 ms for the queue's first page.
Results go to bench/results/stats.json; the exit status is 1 when a request failed, 2 with
`--fail-below-goal` when the new API missed a goal.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import (REPO_ROOT, RESULTS_DIR, Server, free_port, install_cleanup, machine_info,  # noqa: E402
                     percentile, stop_all_servers, utc_now, write_json)

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:55432/lb_h5_bench"
SECRET = "bench-stats-secret-key-long-enough-0123456789abcdef"
SEMESTER = "2025-fall"  # a whole semester in the past: the most rows a semester has; closed, so stored
# The last commit before the stored figures (main when this branch began).
BASELINE_REF = "571e208"
GOALS_MS = {"statistics": 200.0, "queue": 50.0}
UVICORN = ["--host", "127.0.0.1", "--no-access-log", "--workers", "1"]
NOW = datetime(2026, 12, 6, tzinfo=UTC)
FIRST_PUBLISHED = datetime(2022, 9, 1, tzinfo=UTC)

STATUSES = [("published", 900), ("pending_review", 10), ("draft", 40), ("rejected", 10), ("taken_down", 10),
            ("processing", 15), ("failed", 15)]
STAGES = [("primary", 50), ("junior", 30), ("senior", 20)]
SUBJECTS = [("chinese", 18), ("math", 18), ("english", 14), ("physics", 6), ("chemistry", 5), ("biology", 5),
            ("history", 4), ("geography", 4), ("morality_law", 5), ("politics", 3), ("science", 4),
            ("music", 3), ("art", 3), ("pe", 3), ("it", 2), ("labor", 1), ("practice", 2)]
KINDS = ["courseware", "lesson_plan", "exercise", "micro_lesson", "lesson_recording", "excellent_lesson", "other"]
SCHOOL_KINDS = [("urban", 30), ("town", 30), ("rural", 30), ("teaching_point", 10)]
PLACES = ["青山区", "河湾镇", "白云山", "东城区", "西坝乡", "南湖区", "北岭镇", "柳溪村", "石桥镇", "江滨区"]


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- data

class District:
    """The generated district: what the measurements need to know of it."""

    def __init__(self, *, schools: int, teachers: int, resources: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.schools, self.teachers, self.resources = schools, teachers, resources
        self.district_id = "BENCHDISTRICT"
        self.admin_id = "BENCHADMIN"
        self.school_ids = [f"S{i:06d}" for i in range(schools)]

    def rows(self) -> dict[str, tuple[list[str], list[tuple]]]:
        rng, created = self.rng, FIRST_PUBLISHED - timedelta(days=30)
        kinds = [k for k, _ in SCHOOL_KINDS]
        school_kind = rng.choices(kinds, weights=[w for _, w in SCHOOL_KINDS], k=self.schools)
        schools = [(sid, self.district_id, f"{PLACES[i % len(PLACES)]}第{i + 1}学校", school_kind[i],
                    20_000 if school_kind[i] in ("rural", "teaching_point") else 200_000, 200 * 1024**3, created)
                   for i, sid in enumerate(self.school_ids)]
        # Urban schools are bigger: teachers are drawn by school weight.
        size = [3.0 if k == "urban" else 2.0 if k == "town" else 1.0 if k == "rural" else 0.3 for k in school_kind]
        teacher_school = rng.choices(range(self.schools), weights=size, k=self.teachers)
        teacher_ids = [f"T{i:07d}" for i in range(self.teachers)]
        users = [(tid, f"t{i}", f"教师{i}", "!", '["teacher"]', self.district_id, self.school_ids[teacher_school[i]],
                  rng.random() >= 0.03, 0, created) for i, tid in enumerate(teacher_ids)]
        users.append((self.admin_id, "bench-admin", "区管理员", "!", '["district_admin"]', self.district_id, None,
                      True, 0, created))
        # 40 % of teachers publish rarely; the others with a heavy tail.
        activity = [0.05 if rng.random() < 0.4 else rng.paretovariate(1.5) for _ in teacher_ids]
        owners = rng.choices(range(self.teachers), weights=activity, k=self.resources)
        statuses = rng.choices([s for s, _ in STATUSES], weights=[w for _, w in STATUSES], k=self.resources)
        stages = rng.choices([s for s, _ in STAGES], weights=[w for _, w in STAGES], k=self.resources)
        subjects = rng.choices([s for s, _ in SUBJECTS], weights=[w for _, w in SUBJECTS], k=self.resources)
        span = (NOW - FIRST_PUBLISHED).total_seconds()
        resources = []
        for i in range(self.resources):
            owner, status = owners[i], statuses[i]
            if status == "pending_review":
                changed, published = NOW - timedelta(seconds=rng.random() * 60 * 86400), None
                created_at = changed - timedelta(days=1)
            else:
                moment = FIRST_PUBLISHED + timedelta(seconds=rng.random() * span)
                published = moment if status in ("published", "taken_down") else None
                created_at, changed = moment - timedelta(hours=2), moment
            views = int(rng.paretovariate(1.1) * 3) - 3 if published else 0
            resources.append((f"R{i:09d}", f"资源{i}", "", KINDS[i % len(KINDS)], subjects[i], stages[i], "[]",
                              "district", "cc-by-4.0", teacher_ids[owner], self.school_ids[teacher_school[owner]],
                              self.district_id, status, 0, 1, views, created_at, changed, published))
        helpers = [sid for sid, kind in zip(self.school_ids, school_kind) if kind in ("urban", "town")]
        assisted = [sid for sid, kind in zip(self.school_ids, school_kind) if kind in ("rural", "teaching_point")]
        pairs = list(zip(helpers, assisted))
        pairings = [(f"P{i:06d}", h, a, self.admin_id, created) for i, (h, a) in enumerate(pairs)]
        return {
            "districts": (["id", "name", "created_at"], [(self.district_id, "基准区", created)]),
            "schools": (["id", "district_id", "name", "kind", "bandwidth_kbps", "storage_quota_bytes", "created_at"],
                        schools),
            "users": (["id", "username", "real_name", "password_hash", "roles", "district_id", "school_id",
                       "is_active", "token_version", "created_at"], users),
            "resources": (["id", "title", "description", "kind", "subject_code", "stage_code", "tags", "visibility",
                           "license", "owner_id", "school_id", "district_id", "status", "progress", "version",
                           "view_count", "created_at", "updated_at", "published_at"], resources),
            "pairings": (["id", "helper_school_id", "assisted_school_id", "created_by", "created_at"], pairings),
        }


def _sqlite_value(value: object) -> object:
    # What SQLAlchemy's UTCDateTime stores on SQLite: naive UTC in its text format.
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, bool):
        return int(value)
    return value


def load(engine, district: District) -> dict[str, float]:  # noqa: ANN001
    """Bulk-inserts the district; returns seconds per table."""
    timings: dict[str, float] = {}
    tables = district.rows()
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        for table, (columns, rows) in tables.items():
            started = time.perf_counter()
            if engine.dialect.name == "sqlite":
                cursor = driver.cursor()
                cursor.execute("PRAGMA foreign_keys=OFF")  # generated consistent; checking each row doubles the time
                # The indexes on random keys (owner, school) outgrow the default 2 MiB page cache.
                cursor.execute("PRAGMA cache_size=-262144")
                cursor.execute("BEGIN")
                cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                                   ([_sqlite_value(v) for v in row] for row in rows))
                cursor.execute("COMMIT")
            else:
                with driver.cursor() as cursor:
                    # Generated consistent: no foreign-key trigger per row (they were most of the
                    # load time). Needs a superuser, which the test server's postgres is.
                    cursor.execute("SET session_replication_role = replica")
                    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
                    cursor.execute("SET session_replication_role = DEFAULT")
                driver.commit()
            timings[table] = round(time.perf_counter() - started, 2)
            _say(f"  {table}: {len(rows):,} rows in {timings[table]:.1f}s")
    finally:
        raw.close()
    return timings


def analyze(engine) -> float:  # noqa: ANN001
    started = time.perf_counter()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    return round(time.perf_counter() - started, 2)


# --------------------------------------------------------------------------- measuring

def routes(district: District) -> dict[str, tuple[str, list[str]]]:
    """name -> (group, paths to cycle through)."""
    base, sem = "/api/v1/statistics/participation", f"semester={SEMESTER}"
    some_schools = district.school_ids[:: max(1, len(district.school_ids) // 10)][:10]
    return {
        "me (trivial)": ("baseline", ["/api/v1/me"]),
        "district": ("statistics", [f"{base}?{sem}"]),
        "district, current semester": ("statistics", [base]),
        "district, stage+subject": ("statistics", [f"{base}?{sem}&stage=primary&subject=math"]),
        "schools, first page": ("statistics", [f"{base}/schools?{sem}"]),
        "schools, page 40 of 50": ("statistics", [f"{base}/schools?{sem}&page=40&size=20"]),
        "schools, stage+subject": ("statistics", [f"{base}/schools?{sem}&stage=junior&subject=physics"]),
        "one school": ("statistics", [f"{base}/schools/{sid}?{sem}" for sid in some_schools]),
        "schools CSV (every school)": ("statistics", [f"{base}/schools?{sem}&format=csv"]),
        "moderation queue, first page": ("queue", ["/api/v1/moderation/queue"]),
    }


def _process_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # gone meanwhile
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class DatabaseCpu:
    """CPU spent by the PostgreSQL backends serving the benchmark's database (same machine):
    with the API process's own, the cost of a request whatever else the machine is doing."""

    def __init__(self, url: str | None) -> None:
        self.url = url

    def seconds(self) -> float:
        if self.url is None:
            return 0.0
        import psycopg
        from sqlalchemy.engine import make_url

        parsed = make_url(self.url)
        plain = parsed.render_as_string(hide_password=False).replace("+psycopg", "")
        with psycopg.connect(plain, autocommit=True) as connection:
            pids = [row[0] for row in connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (parsed.database,))]
        return sum(_process_cpu(pid) for pid in pids)


def measure(port: int, token: str, paths: list[str], count: int, warmup: int = 3, *, server: Server | None = None,
            database_cpu: DatabaseCpu | None = None) -> dict:
    import httpx

    latencies, errors, statuses = [], 0, {}
    cpu_started = db_started = 0.0
    if warmup == 0:
        cpu_started = server.cpu_seconds() if server else 0.0
        db_started = database_cpu.seconds() if database_cpu else 0.0
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"},
                      timeout=120) as http:
        for n in range(warmup + count):
            path = paths[n % len(paths)]
            started = time.perf_counter()
            response = http.get(path)
            elapsed = time.perf_counter() - started
            statuses[str(response.status_code)] = statuses.get(str(response.status_code), 0) + 1
            if response.status_code != 200:
                errors += 1
                if errors == 1:
                    _say(f"    {path}: {response.status_code} {response.text[:300]}")
            if n >= warmup:
                latencies.append(elapsed)
            if n == warmup - 1:
                cpu_started = server.cpu_seconds() if server else 0.0
                db_started = database_cpu.seconds() if database_cpu else 0.0
            body_bytes = len(response.content)
    api_cpu = (server.cpu_seconds() - cpu_started) if server else 0.0
    db_cpu = (database_cpu.seconds() - db_started) if database_cpu else 0.0
    ordered = sorted(latencies)
    ms = lambda s: round(s * 1000, 2)  # noqa: E731
    return {"requests": count, "errors": errors, "statuses": statuses, "body_bytes": body_bytes,
            "p50_ms": ms(percentile(ordered, 50)), "p90_ms": ms(percentile(ordered, 90)),
            "p99_ms": ms(percentile(ordered, 99)), "max_ms": ms(ordered[-1]),
            "mean_ms": ms(sum(ordered) / len(ordered)), "_latencies": [ms(x) for x in ordered],
            # CPU per request: the API process, and PostgreSQL's backends (0 on SQLite, in-process).
            "api_cpu_ms_per_request": round(api_cpu * 1000 / count, 2),
            "database_cpu_ms_per_request": round(db_cpu * 1000 / count, 2) if database_cpu and database_cpu.url else None}


def run_api(url: str, data_dir: Path, name: str, *, source: Path = REPO_ROOT) -> Server:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LB_")}
    env.update(LB_ENV="development", LB_DATA_DIR=str(data_dir), LB_DATABASE_URL=url, LB_SECRET_KEY=SECRET,
               LB_LOG_LEVEL="WARNING", LB_MEDIA_POLL_S="0", LB_SEARCH_RELAY_S="0", PYTHONDONTWRITEBYTECODE="1",
               PYTHONPATH=str(source))
    server = Server(name, [sys.executable, "-m", "uvicorn", "--factory", "services.api.app:create_app_from_env",
                           "--port", str(port), *UVICORN], env=env, cwd=source,
                    log_path=data_dir / f"{name}.log", port=port)
    server.wait_ready()
    return server


def export_baseline(ref: str, work: Path) -> Path:
    """The API's code at `ref`, as files (`git archive`), to run as the baseline."""
    target = work / "baseline-src"
    target.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO_ROOT), "archive", "--format=tar", ref, "services"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def _cpu(result: dict) -> float:
    return round(result["api_cpu_ms_per_request"] + (result["database_cpu_ms_per_request"] or 0.0), 2)


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b else None


# --------------------------------------------------------------------------- one database

def prepare_postgres(url: str) -> None:
    """Creates the benchmark's database if missing, and empties it."""
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = parsed.set(database="postgres").render_as_string(hide_password=False).replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)).fetchone() is None:
            connection.execute(f'CREATE DATABASE "{parsed.database}"')
    plain = parsed.render_as_string(hide_password=False).replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")


def run_database(kind: str, url: str, args: argparse.Namespace, work: Path, baseline_source: Path) -> dict:
    from sqlalchemy.orm import Session

    from services.api.migrate import upgrade
    from services.api.taxonomy import service as taxonomy
    from services.common.db import create_db_engine
    from services.common.keys import Purpose, derive_key
    from services.common.tokens import issue_access_token

    _say(f"== {kind}")
    if kind == "postgresql":
        prepare_postgres(url)
    engine = create_db_engine(url)
    database_cpu = DatabaseCpu(url if kind == "postgresql" else None)
    upgrade(engine)
    with Session(engine) as session:  # stage and subject codes the resources refer to
        taxonomy.import_document(session, taxonomy.seed_document(), actor_id=None, district_id=None)
        session.commit()
    district = District(schools=args.schools, teachers=args.teachers, resources=args.resources, seed=args.seed)
    started = time.perf_counter()
    _say(f"  generating and loading {args.resources:,} resources")
    load_seconds = load(engine, district)
    total_load = round(time.perf_counter() - started, 1)
    analyze_s = analyze(engine)
    engine.dispose()
    token = issue_access_token(secret=derive_key(SECRET, Purpose.access_token), ttl_s=24 * 3600, user_id=district.admin_id, token_version=0,
                               school_id=None, district_id=district.district_id, roles=["district_admin"])
    document: dict = {"database": kind, "url": url.rsplit("@", 1)[-1] if "@" in url else "sqlite (temporary file)",
                      "load_seconds": load_seconds, "generate_and_load_seconds": total_load,
                      "vacuum_analyze_seconds": analyze_s if kind == "postgresql" else None}
    servers = {"baseline": run_api(url, work, f"api-{kind}-baseline", source=baseline_source),
               "new": run_api(url, work, f"api-{kind}-new")}
    try:
        # The new API's first ask for the closed semester stores the whole district's figures.
        first = {}
        for name, (_group, paths) in routes(district).items():
            if "semester=" in paths[0] and name in ("district", "schools CSV (every school)"):
                first[name] = measure(servers["new"].port, token, paths[:1], 1, warmup=0, server=servers["new"],
                                      database_cpu=database_cpu)
                _say(f"  first ask, new: {name}: {first[name]['p50_ms']} ms")
        document["first_ask_new"] = first
        rounds: list[dict] = []
        for number in range(args.rounds):
            order = ["baseline", "new"] if number % 2 == 0 else ["new", "baseline"]
            _say(f"  round {number + 1}/{args.rounds} ({' then '.join(order)})")
            round_results: dict = {}
            for name, (group, paths) in routes(district).items():
                entry: dict = {"group": group}
                for target in order:
                    entry[target] = measure(servers[target].port, token, paths, args.requests, server=servers[target],
                                            database_cpu=database_cpu)
                    entry[target]["latencies_ms"] = entry[target].pop("_latencies")
                entry["load_average_1min"] = round(os.getloadavg()[0], 2)
                b, n = entry["baseline"], entry["new"]
                entry["speedup_p50"] = _ratio(b["p50_ms"], n["p50_ms"])
                entry["speedup_cpu"] = _ratio(_cpu(b), _cpu(n))
                _say(f"    {name:32s} p50 {b['p50_ms']:8.1f} → {n['p50_ms']:7.1f} ms  p99 {b['p99_ms']:8.1f} → "
                     f"{n['p99_ms']:7.1f} ms  cpu {_cpu(b):7.1f} → {_cpu(n):6.1f} ms  errors {b['errors']}/{n['errors']}"
                     f"  load {entry['load_average_1min']}")
                round_results[name] = entry
            rounds.append(round_results)
    finally:
        for server in servers.values():
            server.stop()
    document["rounds"] = [{name: {k: v for k, v in entry.items() if k not in ("baseline", "new")} |
                           {t: {k: v for k, v in entry[t].items() if k != "latencies_ms"} for t in ("baseline", "new")}
                           for name, entry in r.items()} for r in rounds]
    summary: dict = {}
    for name, (group, _paths) in routes(district).items():
        row: dict = {"group": group}
        for target in ("baseline", "new"):
            latencies = sorted(x for r in rounds for x in r[name][target]["latencies_ms"])
            cpu = [_cpu(r[name][target]) for r in rounds]
            row[target] = {"requests": len(latencies), "errors": sum(r[name][target]["errors"] for r in rounds),
                           "p50_ms": round(percentile(latencies, 50), 2), "p99_ms": round(percentile(latencies, 99), 2),
                           "max_ms": round(latencies[-1], 2), "cpu_ms_per_request": round(sum(cpu) / len(cpu), 2),
                           "body_bytes": rounds[-1][name][target]["body_bytes"]}
        b, n = row["baseline"], row["new"]
        row["speedup_p50"] = _ratio(b["p50_ms"], n["p50_ms"])
        row["speedup_p99"] = _ratio(b["p99_ms"], n["p99_ms"])
        row["speedup_cpu"] = _ratio(b["cpu_ms_per_request"], n["cpu_ms_per_request"])
        row["speedup_p50_rounds"] = [r[name]["speedup_p50"] for r in rounds]
        row["speedup_cpu_rounds"] = [r[name]["speedup_cpu"] for r in rounds]
        row["load_average_rounds"] = [r[name]["load_average_1min"] for r in rounds]
        goal = GOALS_MS.get(group)
        row["goal_p99_ms"] = goal
        row["new_meets_goal"] = None if goal is None else (n["p99_ms"] <= goal and n["errors"] == 0)
        row["baseline_meets_goal"] = None if goal is None else (b["p99_ms"] <= goal and b["errors"] == 0)
        summary[name] = row
    document["summary"] = summary
    return document


# --------------------------------------------------------------------------- run

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default=os.environ.get("LB_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
                        help="an expendable database: its schema is dropped (default: %(default)s)")
    parser.add_argument("--schools", type=int, default=1000)
    parser.add_argument("--teachers", type=int, default=50_000)
    parser.add_argument("--resources", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds, baseline and new (4)")
    parser.add_argument("--requests", type=int, default=25, help="measured requests a route, API and round (25)")
    parser.add_argument("--baseline-ref", default=BASELINE_REF,
                        help="the commit whose API is the baseline (default: %(default)s, before the stored figures)")
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "stats.json")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (SQLite file, logs)")
    parser.add_argument("--fail-below-goal", action="store_true")
    args = parser.parse_args(argv)

    install_cleanup()
    work = Path(tempfile.mkdtemp(prefix="lb-bench-stats-"))
    machine = machine_info()
    baseline_source = export_baseline(args.baseline_ref, work)
    document: dict = {"benchmark": "stats", "date": utc_now(), "machine": machine, "config": {
        "schools": args.schools, "teachers": args.teachers, "resources": args.resources, "semester": SEMESTER,
        "rounds": args.rounds, "requests_per_round": args.requests, "seed": args.seed,
        "baseline_ref": args.baseline_ref, "new_ref": subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip(),
        "client": "httpx.Client, one request at a time, keep-alive", "goals_p99_ms": GOALS_MS,
        "api": "uvicorn --factory services.api.app:create_app_from_env " + " ".join(UVICORN)}, "runs": []}
    failed = False
    try:
        for kind in args.databases.split(","):
            url = f"sqlite:///{work / 'stats.db'}" if kind == "sqlite" else args.postgres_url
            run = run_database(kind, url, args, work, baseline_source)
            document["runs"].append(run)
            failed |= any(row[t]["errors"] for row in run["summary"].values() for t in ("baseline", "new"))
            if kind == "sqlite" and not args.keep:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{work / 'stats.db'}{suffix}").unlink(missing_ok=True)
    except KeyboardInterrupt:
        print("\ninterrupted; stopping the servers", file=sys.stderr)
        return 130
    finally:
        stop_all_servers()
        machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        if document["runs"]:
            write_json(args.output, document)
            _say(f"wrote {args.output}")
        if args.keep:
            _say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    missed = [f"{run['database']}: {name}" for run in document["runs"] for name, r in run["summary"].items()
              if r["new_meets_goal"] is False]
    _say("goals met" if not missed else "goals missed: " + "; ".join(missed))
    if failed:
        return 1
    return 2 if missed and args.fail_below_goal else 0


if __name__ == "__main__":
    sys.exit(main())

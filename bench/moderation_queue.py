"""The moderation queue's first page at district scale (issue 16): the queue's code before this
change (`baseline`, kept below as it was) against the code now (`new`), in the same process and
run, on SQLite and on PostgreSQL, with each database's query plan.

    .venv/bin/python bench/moderation_queue.py [--databases sqlite,postgresql] [--rounds 6]
        [--requests 40] [--sqlite-path PATH] [--postgres-url URL] [--rebuild]

The district is bench/stats.py's (1,000 schools, 50,000 teachers, 1,000,000 resources, 1 %
waiting for review, the same seed), built once and kept: a database that already holds it is
reused (`--rebuild` builds it again). To it are added `--revisions` published resources with a
pending revision (the queue's second source; the stats district has none). Each round times `--requests` first pages (after 3
warm-ups) from each implementation in turn, the order swapped every round; latency is wall time
around `queue_page` (the two queries the route runs against the database, and the ORM objects
it returns), CPU is this process's (plus, on PostgreSQL, the backend's). Ratios baseline / new.
Results go to bench/results/moderation_queue.json.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import RESULTS_DIR, machine_info, percentile, utc_now, write_json  # noqa: E402

DEFAULT_SQLITE = Path(os.environ.get("TMPDIR", "/tmp")) / "lb-bench-queue" / "queue.db"
GOAL_P99_MS = 50.0
NEW_INDEXES = ("ix_resources_review_queue", "ix_resource_revisions_pending_since")  # migration 0026
DEFAULT_POSTGRES_URL = os.environ.get("LB_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:55432/lb_h24")


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build(url: str, *, rebuild: bool, args: argparse.Namespace) -> dict:
    """The stats benchmark's district in this database, unless it is there already."""
    from sqlalchemy import inspect, text
    from sqlalchemy.orm import Session

    import stats
    from services.api.migrate import upgrade
    from services.api.taxonomy import service as taxonomy
    from services.common.db import create_db_engine

    engine = create_db_engine(url)
    try:
        if not rebuild and inspect(engine).has_table("resources"):
            with engine.connect() as connection:
                upgrade(engine)  # a new index, say
                count = connection.scalar(text("SELECT count(*) FROM resources"))
            if count == args.resources:
                _say(f"  reusing the district in {url.rsplit('@', 1)[-1]} ({count:,} resources)")
                return {"reused": True}
        if engine.dialect.name == "postgresql":
            engine.dispose()
            stats.prepare_postgres(url)
        else:
            engine.dispose()
            path = Path(url.removeprefix("sqlite:///"))
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_db_engine(url)
        upgrade(engine)
        with Session(engine) as session:
            taxonomy.import_document(session, taxonomy.seed_document(), actor_id=None, district_id=None)
            session.commit()
        district = stats.District(schools=args.schools, teachers=args.teachers, resources=args.resources,
                                  seed=args.seed)
        started = time.perf_counter()
        _say(f"  generating and loading {args.resources:,} resources")
        seconds = stats.load(engine, district)
        analyze_s = stats.analyze(engine)
        return {"reused": False, "load_seconds": seconds,
                "generate_and_load_seconds": round(time.perf_counter() - started, 1), "vacuum_analyze_seconds": analyze_s}
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- the code before (5992f2a)

def _has_pending_revision(session):  # noqa: ANN001, ANN202
    from sqlalchemy import any_, func, select

    from services.api.resources.models import Resource, ResourceRevision, RevisionStatus

    pending = select(ResourceRevision.resource_id).where(ResourceRevision.status == RevisionStatus.pending)
    if session.get_bind().dialect.name == "postgresql":
        return Resource.id == any_(func.array(pending.scalar_subquery()))
    return Resource.id.in_(pending)


def baseline_queue_page(session, *, actor, paging):  # noqa: ANN001, ANN201
    """services.api.moderation.service.queue_page as it was before issue 16's change, unchanged:
    one query with an OR of two index conditions, ordered by coalesce(revision, resource), so
    every waiting row is read and sorted for each page; and a count of the same."""
    from sqlalchemy import and_, func, or_, select

    from services.api.moderation import levels
    from services.api.moderation.service import QueueEntry, _require_reviewer
    from services.api.resources.models import Resource, ResourceRevision, ResourceStatus, RevisionStatus

    _require_reviewer(actor)
    two_level = levels.two_level_kinds(session, district_id=actor.district_id)
    revision = ResourceRevision
    query = (select(Resource, revision)
             .outerjoin(revision, and_(revision.resource_id == Resource.id, revision.status == RevisionStatus.pending))
             .where(or_(and_(Resource.district_id == actor.district_id,
                             Resource.status == ResourceStatus.pending_review),
                        and_(_has_pending_revision(session),
                             Resource.district_id.concat("") == actor.district_id)),
                    or_(Resource.status == ResourceStatus.pending_review,
                        and_(Resource.status == ResourceStatus.published, revision.id.is_not(None))),
                    levels.awaits(actor, two_level=two_level),
                    Resource.owner_id != actor.user_id,
                    or_(revision.author_id.is_(None), revision.author_id != actor.user_id),
                    or_(Resource.review_excluded_id.is_(None), Resource.review_excluded_id != actor.user_id)))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    waiting_since = func.coalesce(revision.created_at, Resource.updated_at)
    rows = session.execute(query.order_by(waiting_since, Resource.id).offset(paging.offset).limit(paging.size)).all()
    return total, [QueueEntry(resource=r, revision=rev, level=levels.first_level(
        kind=r.kind, school_id=r.school_id, two_level=two_level) if r.review_level is None else r.review_level)
        for r, rev in rows]


# --------------------------------------------------------------------------- measuring

def _implementations() -> dict:
    from services.api.moderation import service

    return {"baseline": baseline_queue_page, "new": service.queue_page}


def _actor(district_id: str, user_id: str):  # noqa: ANN202
    from services.api.auth.principal import Principal
    from services.api.orgs.models import Role

    return Principal(user_id=user_id, roles=frozenset({Role.district_admin}), school_id=None, district_id=district_id)


def _statements(bind, call) -> list[tuple[str, object]]:  # noqa: ANN001
    """The SQL statements (with their parameters) that `call()` sends."""
    from sqlalchemy import event

    seen: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ANN202
        seen.append((statement, parameters))

    event.listen(bind, "before_cursor_execute", capture)
    try:
        call()
    finally:
        event.remove(bind, "before_cursor_execute", capture)
    return seen


def explain(connection, call) -> list[dict]:  # noqa: ANN001
    """Each statement of the queue with its plan: EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL,
    EXPLAIN QUERY PLAN on SQLite."""
    postgres = connection.dialect.name == "postgresql"
    out = []
    for statement, parameters in _statements(connection, call):
        if not statement.lstrip().upper().startswith("SELECT") or "review_policies" in statement:
            continue  # savepoints; the district's policy (one row by primary key)
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
        rows = connection.exec_driver_sql(prefix + statement, parameters).all()
        plan = [row[0] for row in rows] if postgres else [f"{'  ' * 0}{row[-1]}" for row in rows]
        out.append({"sql": " ".join(statement.split()), "plan": plan})
    return out


def _timed(engine_or_conn, function, actor, paging, count: int, database_cpu) -> dict:  # noqa: ANN001
    from sqlalchemy.orm import Session

    latencies = []
    cpu_started, db_started = time.process_time(), database_cpu.seconds()
    for _ in range(count):
        started = time.perf_counter()
        with Session(engine_or_conn) as session:
            total, entries = function(session, actor=actor, paging=paging)
            assert entries, "an empty queue measures nothing"
        latencies.append((time.perf_counter() - started) * 1000)
    cpu = (time.process_time() - cpu_started) * 1000 / count
    db_cpu = (database_cpu.seconds() - db_started) * 1000 / count
    return {"latencies": latencies, "cpu_ms": round(cpu + db_cpu, 2), "python_cpu_ms": round(cpu, 2),
            "database_cpu_ms": round(db_cpu, 2) if database_cpu.url else None}


def _summary(blocks: list[dict]) -> dict:
    ordered = sorted(x for b in blocks for x in b["latencies"])
    return {"requests": len(ordered), "p50_ms": round(percentile(ordered, 50), 2),
            "p99_ms": round(percentile(ordered, 99), 2), "max_ms": round(ordered[-1], 2),
            "cpu_ms_per_page": round(sum(b["cpu_ms"] for b in blocks) / len(blocks), 2)}


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b else None


def _alternate(bind, actor, paging, rounds: int, requests: int, database_cpu, label: str) -> dict:  # noqa: ANN001
    implementations = _implementations()
    for function in implementations.values():  # warm-up: caches, prepared plans
        _timed(bind, function, actor, paging, 3, database_cpu)
    blocks: dict[str, list[dict]] = {name: [] for name in implementations}
    per_round = []
    for number in range(rounds):
        order = ["baseline", "new"] if number % 2 == 0 else ["new", "baseline"]
        this = {}
        for name in order:
            this[name] = _timed(bind, implementations[name], actor, paging, requests, database_cpu)
            blocks[name].append(this[name])
        b, n = (sorted(this[k]["latencies"]) for k in ("baseline", "new"))
        per_round.append({"order": order, "load_average_1min": round(os.getloadavg()[0], 2),
                          "speedup_p50": _ratio(percentile(b, 50), percentile(n, 50)),
                          "speedup_cpu": _ratio(this["baseline"]["cpu_ms"], this["new"]["cpu_ms"])})
        _say(f"    {label} round {number + 1}: p50 {percentile(b, 50):7.2f} → {percentile(n, 50):6.2f} ms, cpu "
             f"{this['baseline']['cpu_ms']:6.2f} → {this['new']['cpu_ms']:6.2f} ms, load {per_round[-1]['load_average_1min']}")
    summary = {name: _summary(blocks[name]) for name in blocks}
    b, n = summary["baseline"], summary["new"]
    return {**summary, "speedup_p50": _ratio(b["p50_ms"], n["p50_ms"]), "speedup_p99": _ratio(b["p99_ms"], n["p99_ms"]),
            "speedup_cpu": _ratio(b["cpu_ms_per_page"], n["cpu_ms_per_page"]), "rounds": per_round,
            "new_meets_goal": n["p99_ms"] <= GOAL_P99_MS}


def same_answers(bind, actor) -> dict:  # noqa: ANN001
    """Both implementations give the same total and the same entries, page by page."""
    from sqlalchemy.orm import Session

    from services.api.pagination import PageParams

    checked = {}
    for page, size in ((1, 20), (2, 20), (50, 20), (1, 100), (98, 100), (99, 100), (100, 100)):
        answers = []
        for function in _implementations().values():
            with Session(bind) as session:
                total, entries = function(session, actor=actor, paging=PageParams(page=page, size=size))
                answers.append((total, [(e.resource.id, e.revision.id if e.revision else None, e.level)
                                        for e in entries]))
        assert answers[0] == answers[1], f"page {page} of {size}: the two differ"
        checked[f"page {page}, size {size}"] = {"total": answers[0][0], "entries": len(answers[0][1])}
    return checked


def run_database(kind: str, url: str, args: argparse.Namespace) -> dict:
    import stats
    from services.api.pagination import PageParams
    from services.common.db import create_db_engine

    built = build(url, rebuild=args.rebuild, args=args)
    built |= pending_revisions(url, count=args.revisions, args=args)
    engine = create_db_engine(url)
    database_cpu = stats.DatabaseCpu(url if kind == "postgresql" else None)
    actor = _actor("BENCHDISTRICT", "BENCHADMIN")
    first_page = PageParams(page=1, size=20)
    document: dict = {"database": kind, "build": built}
    try:
        document["same_answers"] = same_answers(engine, actor)
        _say(f"  same answers: {document['same_answers']}")
        from sqlalchemy.orm import Session

        with engine.connect() as connection:
            document["plans"] = {}
            for name, function in _implementations().items():
                def call(function=function) -> None:  # noqa: ANN001
                    with Session(connection) as session:
                        function(session, actor=actor, paging=first_page)
                document["plans"][name] = explain(connection, call)
            connection.rollback()
        document["with_index"] = _alternate(engine, actor, first_page, args.rounds, args.requests, database_cpu,
                                            "with the 0026 indexes")
        # The same without migration 0026's indexes, to tell the queries' part from the indexes': dropped in
        # a transaction rolled back after (both databases' DDL is transactional).
        with engine.connect() as connection:
            transaction = connection.begin()
            for index in NEW_INDEXES:
                connection.exec_driver_sql(f"DROP INDEX {index}")
            plans = {}
            for name, function in _implementations().items():
                def call(function=function) -> None:  # noqa: ANN001
                    with Session(connection, join_transaction_mode="create_savepoint") as session:
                        function(session, actor=actor, paging=first_page)
                plans[name] = explain(connection, call)
            document["without_index"] = _alternate(connection, actor, first_page, max(2, args.rounds // 3),
                                                   args.requests, database_cpu, "without them")
            document["without_index"]["plans"] = plans
            transaction.rollback()
    finally:
        engine.dispose()
    return document


def pending_revisions(url: str, *, count: int, args: argparse.Namespace) -> dict:
    """`count` published resources with a pending revision (an edit waiting for review), made
    over the last 60 days: the queue's other source, which the stats district lacks."""
    import random
    from datetime import timedelta

    from sqlalchemy import delete, func, insert, select
    from sqlalchemy.orm import Session

    import stats
    from services.api.resources.models import Resource, ResourceRevision, ResourceStatus, RevisionStatus
    from services.common.db import create_db_engine

    engine = create_db_engine(url)
    try:
        with Session(engine) as session:
            have = session.scalar(select(func.count()).select_from(ResourceRevision)
                                  .where(ResourceRevision.status == RevisionStatus.pending))
            if have == count:
                return {"pending_revisions": count, "reused": True}
            session.execute(delete(ResourceRevision))
            rng = random.Random(args.seed + 1)
            sample = [f"R{i:09d}" for i in rng.sample(range(args.resources), min(args.resources, count * 3))]
            chosen = session.execute(select(Resource.id, Resource.owner_id).where(
                Resource.id.in_(sample), Resource.status == ResourceStatus.published).limit(count)).all()
            if chosen:
                session.execute(insert(ResourceRevision), [
                    {"resource_id": rid, "author_id": owner, "status": RevisionStatus.pending,
                     "proposed": {"title": "修订"}, "changes": [{"field": "title", "before": "", "after": "修订"}],
                     "base_version": 1, "created_at": stats.NOW - timedelta(seconds=rng.random() * 60 * 86400)}
                    for rid, owner in chosen])
            session.commit()
        stats.analyze(engine)
        return {"pending_revisions": len(chosen), "reused": False}
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--sqlite-path", type=Path, default=DEFAULT_SQLITE)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL,
                        help="an expendable database: built into when it lacks the district (default: %(default)s)")
    parser.add_argument("--schools", type=int, default=1000)
    parser.add_argument("--teachers", type=int, default=50_000)
    parser.add_argument("--resources", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--revisions", type=int, default=1000,
                        help="published resources with a pending revision, added to the district (1,000)")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--rounds", type=int, default=6, help="alternating rounds with migration 0026's indexes; "
                        "a third as many (at least 2) without them, dropped in a transaction rolled back after")
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "moderation_queue.json")
    args = parser.parse_args(argv)
    document: dict = {"benchmark": "moderation_queue", "date": utc_now(), "machine": machine_info(), "config": {
        "schools": args.schools, "teachers": args.teachers, "resources": args.resources, "seed": args.seed,
        "pending_revisions": args.revisions,
        "rounds": args.rounds, "requests_per_round": args.requests, "page": "first page, size 20",
        "actor": "the district administrator (reviews the whole district)", "goal_p99_ms": GOAL_P99_MS,
        "measured": "queue_page in this process: its SQL and the ORM objects it returns (not HTTP)",
        "baseline": "queue_page as of 5992f2a (kept in this file)"}, "runs": []}
    for kind in args.databases.split(","):
        url = f"sqlite:///{args.sqlite_path}" if kind == "sqlite" else args.postgres_url
        _say(f"== {kind}")
        if args.build_only:
            build(url, rebuild=args.rebuild, args=args)
            continue
        document["runs"].append(run_database(kind, url, args))
        write_json(args.output, document)
    if document["runs"]:
        _say(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

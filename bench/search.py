"""Search benchmark: indexing throughput, query and suggest latency over HTTP against the raw
backend, and relevance, on both index backends in one run.

    .venv/bin/python bench/search.py                    # or: make bench-search (100,000 resources)
    .venv/bin/python bench/search.py --docs 5000        # a quick look

Corpus: `--docs` synthetic resources from the seed taxonomy (bench/search_corpus.py: Chinese
titles, descriptions, ~400 characters of extracted text each, mixed visibility over two
districts), cached under bench/work/. Backends, in turn: tantivy in a temporary directory, then
Elasticsearch when `--es-url`, LB_ES_URL or LB_TEST_ES_URL is set or 127.0.0.1:59200 answers
(otherwise recorded as skipped, with the reason).

Per backend:

1. **Indexing**: `SearchEngine.index` in batches of `--batch` (1,000), timed around those calls
   only (reading the cache and validating documents is outside). Separately, the analysis
   alone (`services.search.documents.analyse`) over the first `--analyse-docs` resources: the
   share of indexing that is our Python, not the backend. Goal: >= 1,000 resources/s.
   A cProfile of two batches on a scratch index (tantivy) says where the time goes.
2. **Queries**: ~`--queries` searches a teacher would make (knowledge-point and chapter names,
   a name plus a method or kind, two names, full pinyin, initials, Traditional characters,
   full-width forms, a few empty ones that only browse; filters on subject, grade, knowledge
   point, kind; relevance, newest and most-viewed sorts; pages 1-3; the default facets; hits
   always highlighted) as one teacher with a school and two partner schools. Three ways, the
   same queries in the same order, alternating in `--rounds` blocks so drift hits all three:
     raw     `backend.search(engine.plan(params, principal))` in this process, plans made
             beforehand: the backend's own cost, the baseline;
     engine  `engine.search(params, principal)` in this process: plus hits, labels, highlights;
     http    `GET /search` on the search service (`uvicorn --factory
             services.search.app:create_app_from_env`, one worker, its own process, on the same
             index), through one keep-alive httpx client, the principal signed in the header.
   Latency per request from the caller's side; p50/p99 and ratio http/raw. Goal: tantivy
   p99 <= 15 ms over HTTP.
3. **Suggest**: `--suggests` prefixes (Chinese, full pinyin, initials) over HTTP and on the raw
   backend (`backend.suggest`), the same way.
4. **Relevance**: nDCG@10 of the development relevance set (tests/search/relevance) on a fresh
   engine of the backend.

Writes bench/results/search.json (or `--output`) and prints a summary; exits 1 if any request
failed or HTTP and raw disagreed on a result.
"""
from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import random
import secrets
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import (
    REPO_ROOT,
    RESULTS_DIR,
    Server,
    free_port,
    install_cleanup,
    machine_info,
    percentile,
    stop_all_servers,
    utc_now,
    write_json,
)
from search_corpus import (
    DEFAULT_SEED,
    DISTRICT,
    SCHOOL_NAMES,
    SCHOOLS,
    Generator,
    ensure_corpus,
    read_batches,
)

GOAL_INDEX_PER_S = 1000.0
GOAL_HTTP_P99_MS = 15.0
ES_DEFAULT_URL = "http://127.0.0.1:59200"
UVICORN_FLAGS = ["--host", "127.0.0.1", "--no-access-log", "--workers", "1"]
SUGGEST_LIMIT = 10

# The searching teacher: a school of the benchmark's district and two partner schools (结对帮扶).
TEACHER = {"user_id": "u-s-03-01", "district_id": DISTRICT, "school_id": "s-03", "partner_school_ids": ["s-07", "s-12"]}

METHOD_WORDS = ["课件", "教学设计", "微课", "练习", "实验", "复习", "公开课", "PPT", "例题", "第1课时", "说课稿", "教案"]
GENERIC_QUERIES = ["期末复习", "实验", "公开课", "单元整体教学", "分层作业", "核心素养 课件", "易错题", "思维导图", "复习课"]
KINDS = ["courseware", "lesson_plan", "exercise", "micro_lesson", "lesson_recording"]


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- workload

def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else ("\u3000" if c == " " else c) for c in text)


def query_workload(count: int, seed: int) -> list[dict[str, Any]]:
    """`count` searches as query-string parameters (SearchParams fields), deterministic."""
    import opencc

    from services.search.analysis import pinyin_forms

    s2t = opencc.OpenCC("s2t")
    gen = Generator(seed)
    tax = gen.tax
    rng = random.Random(seed + 1)
    out: list[dict[str, Any]] = []
    while len(out) < count:
        kp, chapter_code = rng.choice(gen.leaves)
        chapter = tax.chapters[chapter_code]
        volume = tax.volumes[chapter["volume"]]
        name = tax.knowledge_points[kp]["name"]
        sibling = tax.knowledge_points[rng.choice(chapter["knowledge_points"])]["name"]
        r = rng.random()
        if r < 0.33:
            q = name
        elif r < 0.48:
            q = f"{name} {rng.choice(METHOD_WORDS)}"
        elif r < 0.57:
            q = chapter["name"]
        elif r < 0.64:
            q = f"{name} {sibling}"
        elif r < 0.70:
            q = pinyin_forms(name)[0]
        elif r < 0.76:
            q = pinyin_forms(name)[1]
        elif r < 0.81:
            q = s2t.convert(f"{name} {rng.choice(METHOD_WORDS)}")
        elif r < 0.86:
            q = _full_width(f"{name} {rng.choice(['PPT', '第1课时', '2026'])}")
        elif r < 0.93:
            q = rng.choice(GENERIC_QUERIES)
        else:
            q = ""  # browsing by filters
        params: dict[str, Any] = {"q": q}
        if rng.random() < 0.3 or not q:
            params["subject"] = volume["subject"]
        if rng.random() < 0.2:
            params["grade"] = volume["grade"]
        if rng.random() < 0.1:
            params["knowledge_point"] = rng.choice(tax.ancestry[kp][1:])
        if rng.random() < 0.08:
            params["kind"] = rng.choice(KINDS)
        sort = rng.random()
        if sort < 0.1:
            params["sort"] = "newest"
        elif sort < 0.2:
            params["sort"] = "most_viewed"
        page = rng.random()
        if page < 0.1:
            params["page"] = 2 if page < 0.07 else 3
        out.append(params)
    return out


def suggest_workload(count: int, seed: int) -> list[str]:
    """Prefixes as a teacher types them: Chinese (1-4 characters), full pinyin, initials."""
    from services.search.analysis import pinyin_forms

    gen = Generator(seed)
    names = sorted({gen.tax.knowledge_points[kp]["name"] for kp, _ in gen.leaves}
                   | {c["name"] for c in gen.tax.chapters.values()})
    rng = random.Random(seed + 2)
    out = []
    while len(out) < count:
        name = rng.choice(names)
        full, initials = pinyin_forms(name)
        r = rng.random()
        if r < 0.45:
            out.append(name[: rng.randrange(1, min(4, len(name)) + 1)])
        elif r < 0.8:
            out.append(full[: rng.randrange(2, min(10, len(full)) + 1)] if len(full) >= 2 else full)
        else:
            out.append(initials[: rng.randrange(1, min(4, len(initials)) + 1)])
    return out


# --------------------------------------------------------------------------- helpers

def latency_summary(seconds: list[float]) -> dict[str, Any]:
    ordered = sorted(seconds)

    def ms(x: float | None) -> float | None:
        return None if x is None else round(x * 1000.0, 3)

    return {"count": len(ordered), "mean": ms(sum(ordered) / len(ordered)) if ordered else None,
            "p50": ms(percentile(ordered, 50)), "p90": ms(percentile(ordered, 90)),
            "p99": ms(percentile(ordered, 99)), "max": ms(ordered[-1] if ordered else None)}


def _ratio(a: float | None, b: float | None, digits: int = 2) -> float | None:
    return round(a / b, digits) if a is not None and b else None


def _vocabulary():
    from services.common.search import VocabularyEntry
    from tests.search.relevance.evaluate import vocabulary

    schools = [VocabularyEntry(code=code, name=name) for code, name in SCHOOL_NAMES.items()]
    return vocabulary(revision="bench-search").model_copy(update={"schools": schools})


def _documents(batch: list[dict]) -> list:
    from services.common.search import SearchDocument

    return [SearchDocument.model_validate(d) for d in batch]


def _dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _resolve_es_url(explicit: str | None) -> tuple[str | None, str | None]:
    """(url, None) or (None, why Elasticsearch is skipped)."""
    import httpx

    url = explicit or os.environ.get("LB_ES_URL") or os.environ.get("LB_TEST_ES_URL")
    where = "given" if url else "default"
    url = url or ES_DEFAULT_URL
    try:
        answer = httpx.get(f"{url.rstrip('/')}/_cluster/health", timeout=3)
        answer.raise_for_status()
        status = answer.json().get("status")
    except Exception as exc:  # noqa: BLE001 - any failure means: no Elasticsearch to measure
        return None, (f"no Elasticsearch at {url} ({where}): {type(exc).__name__}: {exc}"[:300]
                      + "; start one with infra/elasticsearch.sh start or set LB_ES_URL")
    if status == "red":
        return None, f"Elasticsearch at {url} is red"
    try:
        from services.search.backends.elastic import ElasticsearchBackend  # noqa: F401
    except ImportError as exc:
        return None, f"Elasticsearch answers at {url} but the backend cannot be imported: {exc}"
    return url.rstrip("/"), None


# --------------------------------------------------------------------------- one backend

class BackendRun:
    """Opens a backend (and the same index again from the search service's process)."""

    def __init__(self, name: str, work: Path, es_url: str | None) -> None:
        self.name, self.work, self.es_url = name, work, es_url
        self.data_dir = work / f"{name}-data"
        self.state_dir = self.data_dir / "search-index"
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.alias = f"lb-bench-search-{uuid.uuid4().hex[:8]}" if name == "elasticsearch" else None
        self.aliases: list[str] = []

    def open_backend(self, alias: str | None = None):
        if self.name == "tantivy":
            from services.search.backends.tantivy_index import TantivyBackend
            return TantivyBackend(self.state_dir / "tantivy" if alias is None else self.work / alias)
        from services.search.backends.elastic import ElasticsearchBackend
        alias = alias or self.alias
        self.aliases.append(alias)
        return ElasticsearchBackend(self.es_url, alias=alias)

    def server_env(self, secret: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LB_")}
        env.update(LB_ENV="test", LB_DATA_DIR=str(self.data_dir), LB_SEARCH_PRINCIPAL_KEY=secret, LB_LOG_LEVEL="WARNING",
                   PYTHONDONTWRITEBYTECODE="1")
        if self.name == "elasticsearch":
            env.update(LB_ES_URL=self.es_url, LB_ES_ALIAS=self.alias)
        return env

    def dispose(self) -> None:
        if self.name != "elasticsearch":
            return
        with contextlib.suppress(Exception):
            from elasticsearch import Elasticsearch
            with Elasticsearch(self.es_url) as client:
                for alias in self.aliases:
                    names = list(client.indices.get(index=f"{alias}-v*", allow_no_indices=True,
                                                    ignore_unavailable=True).keys())
                    for index in names:
                        client.indices.delete(index=index, ignore_unavailable=True)
                    # The backend installs an index template per alias on start.
                    with contextlib.suppress(Exception):
                        client.indices.delete_index_template(name=f"{alias}-template")


def measure_indexing(engine, corpus: Path, docs: int, batch: int) -> dict[str, Any]:
    elapsed = cpu = 0.0
    applied = stale = 0
    batches = 0
    for raw in read_batches(corpus, docs, batch):
        documents = _documents(raw)
        c0, t0 = time.process_time(), time.perf_counter()
        outcome = engine.index(documents)
        elapsed += time.perf_counter() - t0
        cpu += time.process_time() - c0
        applied += outcome.applied
        stale += outcome.stale
        batches += 1
        if batches % 10 == 0:
            _say(f"  indexed {batches * batch:,} / {docs:,} ({batches * batch / elapsed:,.0f}/s)")
    return {"documents": docs, "batches": batches, "batch_size": batch, "applied": applied, "stale": stale,
            "seconds": round(elapsed, 2), "per_s": round(docs / elapsed, 1),
            "bench_process_cpu_s": round(cpu, 2), "bench_process_cpu_ms_per_doc": round(cpu * 1000 / docs, 3),
            "note": "time inside engine.index only (analysis + backend.apply, committed and visible)"}


def measure_analysis(engine, corpus: Path, start: int, docs: int, batch: int) -> dict[str, Any]:
    """`analyse` alone on resources the index has not seen (those after the indexed ones), so
    its caches (pinyin of words) are as warm as indexing left them and no warmer."""
    from services.search.documents import analyse

    elapsed = 0.0
    chars = 0
    for raw in read_batches(corpus, docs, batch, start=start):
        documents = _documents(raw)
        chars += sum(len(d.title) + len(d.description) + sum(len(p.text) for p in d.pages) for d in documents)
        analyzer = engine.analyzer
        t0 = time.perf_counter()
        for d in documents:
            analyse(d, analyzer)
        elapsed += time.perf_counter() - t0
    return {"documents": docs, "seconds": round(elapsed, 2), "per_s": round(docs / elapsed, 1),
            "ms_per_doc": round(elapsed * 1000 / docs, 3), "chars_per_doc": round(chars / docs),
            "note": f"services.search.documents.analyse alone, right after indexing, on resources {start:,} to "
                    f"{start + docs:,} of the corpus (not indexed: none of their texts seen before)"}


def profile_indexing(run: BackendRun, corpus: Path, start: int, docs: int, batch: int) -> dict[str, Any]:
    """cProfile of indexing `docs` resources not seen before into a scratch index of the backend.
    The profiler inflates Python's share (it costs per call): read it for where, not how much."""
    from services.search.engine import SearchEngine

    backend = run.open_backend(alias=f"{run.alias or 'scratch'}-profile")
    engine = SearchEngine(backend, run.work / f"{run.name}-profile-vocabulary.json")
    engine.set_vocabulary(_vocabulary())
    batches = [_documents(raw) for raw in read_batches(corpus, docs, batch, start=start)]
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for documents in batches:
        engine.index(documents)
    profiler.disable()
    elapsed = time.perf_counter() - started
    backend.close()
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]

    def cumulative(fragment: str) -> float:
        return sum(row[3] for key, row in stats.stats.items()  # type: ignore[attr-defined]
                   if fragment in f"{key[0]}:{key[2]}")

    groups = {
        "analyse (documents.analyse, ours)": cumulative("documents.py:analyse"),
        "  segmentation (rjieba cut/cut_for_search)": cumulative("'cut_for_search' of") + cumulative("'cut' of"),
        "  term filter (analysis._terms_only / _is_term)": cumulative("analysis.py:_terms_only")
        + cumulative("analysis.py:_is_term"),
        "  normalise (NFKC + OpenCC)": cumulative("analysis.py:normalize"),
        "  pinyin (pypinyin)": cumulative("analysis.py:pinyin_forms") + cumulative("analysis.py:suggest_keys"),
        "  source JSON (model_dump_json)": cumulative("documents.py:stored_source"),
        "backend.apply": cumulative(f"{'tantivy_index' if run.name == 'tantivy' else 'elastic'}.py:apply"),
    }
    buffer = io.StringIO()
    pstats.Stats(profiler, stream=buffer).sort_stats("tottime").print_stats(12)
    top = [line.rstrip() for line in buffer.getvalue().splitlines() if line.strip()][-13:]
    return {"documents": docs, "wall_s_under_profiler": round(elapsed, 2), "profiled_s": round(total, 2),
            "share_of_profiled_time": {k: round(v / total, 3) for k, v in groups.items()},
            "top_by_own_time": top}


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def measure_queries(run: BackendRun, engine, server: Server, token: str, workload: list[dict], *,
                    suggests: list[str], rounds: int, warmup: int) -> dict[str, Any]:
    import httpx

    from services.common.search import PRINCIPAL_HEADER, SearchPrincipal
    from services.search.analysis import suggest_key
    from services.search.engine import SearchParams

    principal = SearchPrincipal(**TEACHER)
    params = [SearchParams(**p) for p in workload]
    plans = [engine.plan(p, principal) for p in params]
    backend = engine.backend
    timings: dict[str, list[float]] = {"raw": [], "engine": [], "http": []}
    s_timings: dict[str, list[float]] = {"raw": [], "engine": [], "http": []}
    errors: list[str] = []
    mismatches: list[str] = []
    totals: list[int] = []
    sizes: list[int] = []
    server_cpu = {"search": 0.0, "suggest": 0.0}
    client = httpx.Client(base_url=f"http://127.0.0.1:{server.port}", headers={PRINCIPAL_HEADER: token}, timeout=30)

    def http_search(i: int) -> tuple[float, Any]:
        t0 = time.perf_counter()
        answer = client.get("/search", params=workload[i])
        elapsed = time.perf_counter() - t0
        if answer.status_code != 200:
            errors.append(f"search {workload[i]}: {answer.status_code} {answer.text[:200]}")
            return elapsed, None
        sizes.append(len(answer.content))
        return elapsed, answer.json()

    def http_suggest(prefix: str) -> tuple[float, Any]:
        t0 = time.perf_counter()
        answer = client.get("/suggest", params={"q": prefix, "limit": SUGGEST_LIMIT})
        elapsed = time.perf_counter() - t0
        if answer.status_code != 200:
            errors.append(f"suggest {prefix!r}: {answer.status_code} {answer.text[:200]}")
            return elapsed, None
        return elapsed, answer.json()

    # Warm-up (not recorded), also checking that HTTP answers what the backend answers.
    for i in range(min(warmup, len(plans))):
        raw = backend.search(plans[i])
        engine.search(params[i], principal)
        _, body = http_search(i)
        if body is not None and ([h["id"] for h in body["hits"]] != [h.id for h in raw.hits]
                                 or body["total"] != raw.total):
            mismatches.append(f"{workload[i]}: http total {body['total']} {[h['id'] for h in body['hits']][:3]}"
                              f" vs raw {raw.total} {[h.id for h in raw.hits][:3]}")
    for prefix in suggests[: min(warmup, len(suggests))]:
        backend.suggest(suggest_key(prefix), principal, SUGGEST_LIMIT)
        http_suggest(prefix)

    chunks = [range(len(plans) * r // rounds, len(plans) * (r + 1) // rounds) for r in range(rounds)]
    s_chunks = [range(len(suggests) * r // rounds, len(suggests) * (r + 1) // rounds) for r in range(rounds)]
    for r, (chunk, s_chunk) in enumerate(zip(chunks, s_chunks, strict=True), 1):
        for i in chunk:
            elapsed, raw = _timed(lambda i=i: backend.search(plans[i]))
            timings["raw"].append(elapsed)
            totals.append(raw.total)
        for i in chunk:
            timings["engine"].append(_timed(lambda i=i: engine.search(params[i], principal))[0])
        cpu0 = server.cpu_seconds()
        for i in chunk:
            timings["http"].append(http_search(i)[0])
        server_cpu["search"] += server.cpu_seconds() - cpu0
        for j in s_chunk:
            key = suggest_key(suggests[j])
            s_timings["raw"].append(_timed(lambda key=key: backend.suggest(key, principal, SUGGEST_LIMIT))[0])
        for j in s_chunk:
            s_timings["engine"].append(_timed(lambda j=j: engine.suggest(suggests[j], principal, SUGGEST_LIMIT))[0])
        cpu0 = server.cpu_seconds()
        for j in s_chunk:
            s_timings["http"].append(http_suggest(suggests[j])[0])
        server_cpu["suggest"] += server.cpu_seconds() - cpu0
        _say(f"  round {r}/{rounds}: search p50 raw {1000 * percentile(sorted(timings['raw']), 50):.2f} ms,"
             f" http {1000 * percentile(sorted(timings['http']), 50):.2f} ms")
    client.close()

    search = {way: latency_summary(values) for way, values in timings.items()}
    suggest = {way: latency_summary(values) for way, values in s_timings.items()}
    for block, n, cpu in ((search, len(timings["http"]), server_cpu["search"]),
                          (suggest, len(s_timings["http"]), server_cpu["suggest"])):
        block["http"]["server_cpu_ms_per_request"] = round(cpu * 1000 / n, 3) if n else None
        block["ratio_http_to_raw"] = {"p50": _ratio(block["http"]["p50"], block["raw"]["p50"]),
                                      "p99": _ratio(block["http"]["p99"], block["raw"]["p99"])}
        block["ratio_engine_to_raw"] = {"p50": _ratio(block["engine"]["p50"], block["raw"]["p50"]),
                                        "p99": _ratio(block["engine"]["p99"], block["raw"]["p99"])}
    ordered_totals = sorted(totals)
    search["matches_per_query"] = {"p50": percentile(ordered_totals, 50), "p90": percentile(ordered_totals, 90),
                                   "max": ordered_totals[-1] if ordered_totals else None}
    search["http_response_bytes_mean"] = round(sum(sizes) / len(sizes)) if sizes else None
    return {"search": search, "suggest": suggest, "errors": errors[:10], "error_count": len(errors),
            "warmup_mismatches": mismatches[:10], "warmup_mismatch_count": len(mismatches)}


def measure_relevance(run: BackendRun) -> dict[str, Any]:
    from services.search.engine import SearchEngine
    from tests.search.relevance.evaluate import ndcg_at_10

    backend = run.open_backend(alias=f"{run.alias or 'scratch'}-relevance")
    try:
        engine = SearchEngine(backend, run.work / f"{run.name}-relevance-vocabulary.json")
        result = ndcg_at_10(engine)
    finally:
        backend.close()
    return {"mean": result["mean"], "queries": result["queries"],
            "per_query": {qid: r["ndcg"] for qid, r in result["per_query"].items()}}


def run_backend(name: str, args: argparse.Namespace, work: Path, corpus: Path, es_url: str | None,
                workload: list[dict], suggests: list[str]) -> dict[str, Any]:
    from services.common.search import SearchPrincipal, sign_principal
    from services.search.engine import SearchEngine

    run = BackendRun(name, work, es_url)
    analyse_docs, profile_docs = min(args.analyse_docs, args.docs), min(args.profile_docs, args.docs)
    result: dict[str, Any] = {"backend": name}
    try:
        backend = run.open_backend()
        engine = SearchEngine(backend, run.state_dir / "vocabulary.json")
        engine.set_vocabulary(_vocabulary())
        # Warm up (imports, the segmenter) on resources that are none of the measured ones.
        from services.search.documents import analyse
        for raw in read_batches(corpus, args.batch, args.batch, start=args.docs + analyse_docs + profile_docs):
            for d in _documents(raw):
                analyse(d, engine.analyzer)

        _say(f"[{name}] indexing {args.docs:,} resources in batches of {args.batch:,}")
        result["indexing"] = measure_indexing(engine, corpus, args.docs, args.batch)
        result["indexing"]["live_documents"] = backend.count()
        _say(f"[{name}] {result['indexing']['per_s']:,.0f} resources/s; analysis alone on"
             f" {analyse_docs:,} more")
        result["analysis"] = measure_analysis(engine, corpus, args.docs, analyse_docs, args.batch)
        result["analysis"]["share_of_indexing_time"] = round(result["indexing"]["per_s"] / result["analysis"]["per_s"], 3)
        if name == "tantivy":
            backend.close()  # waits for merges and releases the writer lock: the service opens the index next
            with contextlib.suppress(Exception):
                backend._live.index.reload()
            result["index_bytes"] = _dir_bytes(run.state_dir / "tantivy")
        if profile_docs:
            _say(f"[{name}] profiling indexing of {profile_docs:,} more resources")
            result["indexing_profile"] = profile_indexing(run, corpus, args.docs + analyse_docs, profile_docs,
                                                          args.batch)

        secret = secrets.token_urlsafe(48)
        port = free_port()
        server = Server(f"search-{name}", [sys.executable, "-m", "uvicorn", "--factory",
                                           "services.search.app:create_app_from_env", "--port", str(port),
                                           *UVICORN_FLAGS],
                        env=run.server_env(secret), cwd=REPO_ROOT, log_path=work / f"{name}-server.log", port=port)
        server.wait_ready()
        token = sign_principal(SearchPrincipal(**TEACHER), secret=secret, ttl_s=6 * 3600)
        _say(f"[{name}] {len(workload):,} searches and {len(suggests):,} suggests: raw, engine, http"
             f" ({args.rounds} rounds, pid {server.pid})")
        result.update(measure_queries(run, engine, server, token, workload, suggests=suggests, rounds=args.rounds,
                                      warmup=args.warmup))
        server.stop()
        if name != "tantivy":
            backend.close()
        _say(f"[{name}] relevance set")
        result["ndcg_at_10"] = measure_relevance(run)
    finally:
        run.dispose()
    return result


# --------------------------------------------------------------------------- run

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=100_000, help="synthetic resources to index (100000)")
    parser.add_argument("--batch", type=int, default=1000, help="documents per engine.index call (1000)")
    parser.add_argument("--analyse-docs", type=int, default=20_000,
                        help="resources the analysis alone is timed on (20000)")
    parser.add_argument("--profile-docs", type=int, default=2000,
                        help="resources indexed under cProfile on a scratch index; 0: none (2000)")
    parser.add_argument("--queries", type=int, default=2000, help="searches per way (2000)")
    parser.add_argument("--suggests", type=int, default=1000, help="suggest prefixes per way (1000)")
    parser.add_argument("--warmup", type=int, default=200, help="searches and suggests before measuring (200)")
    parser.add_argument("--rounds", type=int, default=4, help="alternating blocks of raw, engine, http (4)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--backends", default="tantivy,elasticsearch", help="which, in order (tantivy,elasticsearch)")
    parser.add_argument("--es-url", default=None, help=f"Elasticsearch (default: LB_ES_URL, LB_TEST_ES_URL, {ES_DEFAULT_URL})")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "search.json")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (indexes, server logs)")
    args = parser.parse_args(argv)

    install_cleanup()
    work = Path(tempfile.mkdtemp(prefix="lb-bench-search-"))
    try:
        return _run(args, work)
    except KeyboardInterrupt:
        _say("\ninterrupted; stopping the servers")
        return 130
    finally:
        stop_all_servers()
        if args.keep:
            _say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _code_version() -> dict[str, Any]:
    """The commit measured, and whether the search service's code differed from it."""
    import subprocess

    def git(*argv: str) -> str:
        done = subprocess.run(["git", *argv], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    return {"commit": git("rev-parse", "HEAD"), "subject": git("log", "-1", "--format=%s"),
            "services_search_modified": bool(git("status", "--porcelain", "--", "services/search",
                                                 "services/common/search.py"))}


def _run(args: argparse.Namespace, work: Path) -> int:
    machine = machine_info()
    code = _code_version()
    for package in ("tantivy", "elasticsearch", "rjieba", "pypinyin", "opencc", "orjson"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            machine["packages"][package] = metadata.version(package)
    started = time.perf_counter()
    # Regions: indexed; analysed alone; indexed under the profiler; one batch to warm up on.
    extra = min(args.analyse_docs, args.docs) + min(args.profile_docs, args.docs) + args.batch
    corpus, _ = ensure_corpus(args.docs + extra, args.seed, say=_say)
    workload = query_workload(args.queries, args.seed)
    suggests = suggest_workload(args.suggests, args.seed)

    results: dict[str, Any] = {}
    for name in [b.strip() for b in args.backends.split(",") if b.strip()]:
        es_url = None
        if name == "elasticsearch":
            es_url, why = _resolve_es_url(args.es_url)
            if es_url is None:
                _say(f"[elasticsearch] skipped: {why}")
                results[name] = {"backend": name, "skipped": why}
                continue
        elif name != "tantivy":
            raise SystemExit(f"unknown backend {name!r}")
        try:
            results[name] = run_backend(name, args, work, corpus, es_url, workload, suggests)
        except Exception as exc:  # noqa: BLE001 - one backend failing must not lose the other's results
            import traceback
            _say(f"[{name}] FAILED: {type(exc).__name__}: {exc}")
            results[name] = {"backend": name, "failed": f"{type(exc).__name__}: {exc}"[:1000],
                             "traceback": traceback.format_exc()[-4000:]}

    machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    code_at_end = _code_version()
    if code_at_end != code:  # someone committed meanwhile: say so rather than record one version
        code["at_end"] = code_at_end
    tantivy = results.get("tantivy", {})
    goals = {"indexing_per_s": GOAL_INDEX_PER_S, "tantivy_http_p99_ms": GOAL_HTTP_P99_MS}
    met = {}
    for name, r in results.items():
        if "indexing" in r:
            met[f"{name}_indexing"] = r["indexing"]["per_s"] >= GOAL_INDEX_PER_S
    if "search" in tantivy:
        met["tantivy_http_p99"] = tantivy["search"]["http"]["p99"] <= GOAL_HTTP_P99_MS
    document = {
        "benchmark": "search",
        "date": utc_now(),
        "machine": machine,
        "code": code,
        "config": {
            "docs": args.docs, "batch": args.batch, "analyse_docs": min(args.analyse_docs, args.docs),
            "profile_docs": args.profile_docs, "queries": len(workload), "suggests": len(suggests),
            "warmup": args.warmup, "rounds": args.rounds, "seed": args.seed,
            "corpus": f"bench/search_corpus.py v{corpus.stem.split('-')[2][1:]}, cached in {corpus.relative_to(REPO_ROOT)}",
            "principal": TEACHER, "schools": len(SCHOOLS),
            "server": "uvicorn --factory services.search.app:create_app_from_env, 1 worker, LB_ENV=test, "
                      "LB_LOG_LEVEL=WARNING, --no-access-log, its own process, on the index just built",
            "client": "httpx.Client, one keep-alive connection, sequential requests",
            "ways": {"raw": "backend.search(plan), plans made beforehand (suggest: backend.suggest(key))",
                     "engine": "engine.search(params, principal) in the benchmark's process",
                     "http": "GET /search (GET /suggest) on the search service"},
            "order": "per round: raw, engine, http over the same block of queries, then the same for suggest",
            "latency": "per request, from the caller; nearest-rank percentiles",
        },
        "goals": goals,
        "met": met,
        "backends": results,
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
    write_json(args.output, document)
    _print_summary(document, args.output)
    failed = sum(r.get("error_count", 0) + r.get("warmup_mismatch_count", 0) + ("failed" in r)
                 for r in results.values())
    if failed:
        _say(f"FAILED: {failed} failed backends, failed requests or HTTP/raw disagreements; see {args.output}")
        return 1
    return 0


def _f(value: float | None, width: int = 8, digits: int = 2) -> str:
    return f"{value:{width}.{digits}f}" if value is not None else f"{'-':>{width}s}"


def _print_summary(doc: dict, output: Path) -> None:
    print(f"\nSearch: {doc['config']['docs']:,} resources, {doc['config']['queries']:,} searches,"
          f" {doc['config']['suggests']:,} suggests per way ({doc['elapsed_s']:.0f}s)")
    for name, r in doc["backends"].items():
        if "skipped" in r or "failed" in r:
            print(f"  {name}: {'skipped' if 'skipped' in r else 'FAILED'} ({r.get('skipped') or r['failed']})")
            continue
        ix, an = r["indexing"], r["analysis"]
        print(f"  {name}: indexing {ix['per_s']:,.0f} resources/s (goal {GOAL_INDEX_PER_S:,.0f});"
              f" analysis alone {an['per_s']:,.0f}/s ({an['share_of_indexing_time']:.0%} of indexing time)")
        for what in ("search", "suggest"):
            block = r[what]
            print(f"    {what:8s} p50/p99 ms  raw {_f(block['raw']['p50'], 6)} {_f(block['raw']['p99'], 6)}"
                  f"   engine {_f(block['engine']['p50'], 6)} {_f(block['engine']['p99'], 6)}"
                  f"   http {_f(block['http']['p50'], 6)} {_f(block['http']['p99'], 6)}"
                  f"   http/raw {block['ratio_http_to_raw']['p50']}x / {block['ratio_http_to_raw']['p99']}x")
        print(f"    nDCG@10 {r['ndcg_at_10']['mean']:.4f} over {r['ndcg_at_10']['queries']} queries"
              + (f"   errors {r['error_count']}" if r["error_count"] else "")
              + (f"   HTTP/raw mismatches {r['warmup_mismatch_count']}" if r["warmup_mismatch_count"] else ""))
    print(f"  goals met: {doc['met']}")
    print(f"  wrote {output}")


if __name__ == "__main__":
    sys.exit(main())

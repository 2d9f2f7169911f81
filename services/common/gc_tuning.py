"""Garbage collection for a served process: the objects a service builds at start (modules, routes,
schemas, mappers: ~280,000 of them in the API) live as long as the process, yet every full (gen 2)
collection walks them all. Under a request that allocates many objects, such as the participation
CSV of every school, full collections come every few requests and each paused the API 150–260 ms:
its p99 was 310 ms against a p50 of 100 ms (bench/stats.py; docs/benchmarks.md, "Participation
statistics"). Moving them to the permanent generation once, when the app is built, takes them out
of every later collection; the pauses fall to 1–6 ms. Objects made after this are collected as
usual."""
from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Call once per process, at the end of its app factory (the `uvicorn --factory` entry point).
    Not for tests that build many apps in one process: frozen objects are never collected."""
    gc.collect()  # garbage from start-up itself is freed, not frozen
    gc.freeze()

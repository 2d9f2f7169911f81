"""Housekeeping the API process runs on a timer: expiring abandoned uploads. Idempotent, so
several replicas doing it at once only repeat each other's work."""
from __future__ import annotations

import threading
from collections.abc import Callable

import structlog

log = structlog.get_logger("janitor")


class Janitor:
    def __init__(self, *, interval_s: float, jobs: dict[str, Callable[[], object]]) -> None:
        self.interval_s, self.jobs = interval_s, jobs
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="janitor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.run_once()

    def run_once(self) -> None:
        for name, job in self.jobs.items():
            try:
                log.info("janitor_job", job=name, result=job())
            except Exception:  # noqa: BLE001 - a failed round is logged and retried next round
                log.exception("janitor_job_failed", job=name)

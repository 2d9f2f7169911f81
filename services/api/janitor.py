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
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.run_once()

    def run_once(self) -> None:
        for name, job in self.jobs.items():
            try:
                result = job()
                # Rounds that found nothing to do are not worth a log line every few seconds.
                (log.info if _did_something(result) else log.debug)("janitor_job", job=name, result=result)
            except Exception:  # noqa: BLE001 - a failed round is logged and retried next round
                log.exception("janitor_job_failed", job=name)


def _did_something(result: object) -> bool:
    if isinstance(result, dict):
        return any(result.values())
    return bool(result)

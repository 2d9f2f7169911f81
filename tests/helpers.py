"""Assertions and stand-ins shared by the tests."""
from __future__ import annotations

from typing import Any

import httpx


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem detail with this status and stable code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert body["code"] == code, body
    assert body["status"] == status
    assert body["type"] == f"/problems/{code}"
    assert body["title"] and body["detail"]
    return body


class RecordingBroker:
    """Stands in for a Celery app where a test runs jobs itself: records each task it would have
    sent as (job id, queue, countdown) instead of sending it."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, float | None]] = []

    def send_task(self, name, kwargs, queue, countdown=None):  # noqa: ANN001, ANN201 - Celery's signature
        self.sent.append((kwargs["payload"]["job_id"], queue, countdown))
        return type("Sent", (), {"id": kwargs["payload"]["job_id"]})()

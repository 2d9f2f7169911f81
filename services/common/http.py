"""HTTP pieces every service mounts: request ids, access logs, Prometheus metrics, health."""
from __future__ import annotations

import re
import time
from collections.abc import Callable

import structlog
from fastapi import APIRouter, FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common import text
from services.common.ids import new_id
from services.common.problems import (BodyTooLarge, DependencyUnavailable, DomainError, InvalidField, problem_body,
                                      problem_response, request_language)

log = structlog.get_logger("http")

REQUESTS = Counter("lb_http_requests_total", "HTTP requests", ["service", "method", "route", "status"])
LATENCY = Histogram("lb_http_request_duration_seconds", "HTTP request latency", ["service", "method", "route"],
                    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))

# A client's X-Request-ID is kept only when it looks like an id, so logs can't be forged through it.
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContextMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware: it costs a task per request on the hot path)."""

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app, self.service = app, service
        # The metric series of each (method, route, status), looked up once: `labels()` takes a
        # lock and builds a key every time, a third of this middleware's cost (measured).
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or new_id()
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            # The route template, not the raw path: one time series per endpoint, not per id.
            template = getattr(route, "path", "unmatched")
            key = (scope["method"], template, status)
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = (REQUESTS.labels(self.service, key[0], template, str(status)),
                                              LATENCY.labels(self.service, key[0], template))
            series[0].inc()
            series[1].observe(elapsed)
            log.info("request", method=scope["method"], path=scope["path"], status=status,
                     duration_ms=round(elapsed * 1000, 2))


# JSON bodies are small (the largest is a taxonomy document); a bigger one is a mistake or an attack.
JSON_BODY_LIMIT = 20 * 1024 * 1024


class InputGuard:
    """What no route should see, refused before any does: text with a NUL character in the path,
    the query or a JSON body (services/common/text.py), and JSON bodies over JSON_BODY_LIMIT
    (FastAPI reads a JSON body whole into memory). Bodies of other types (tus chunks, CSV) stream
    past: their routes check what they parse."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"]:
            await _refuse(scope, send, InvalidField(loc=["path"], msg=text.NUL_IN_TEXT))
            return
        if b"%00" in scope["query_string"].lower():
            await _refuse(scope, send, InvalidField(loc=["query"], msg=text.NUL_IN_TEXT))
            return
        if not _has_json_body(scope):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        body = bytearray()
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break  # the client went away: the route will see that too
            body += message.get("body", b"")
            if len(body) > JSON_BODY_LIMIT:
                await _refuse(scope, send, BodyTooLarge(limit_mib=JSON_BODY_LIMIT // 2**20))
                return
            if not message.get("more_body", False):
                break
        if text.json_has_nul(body):
            await _refuse(scope, send, InvalidField(loc=["body"], msg=text.NUL_IN_TEXT))
            return
        pending = iter(messages)

        async def replay() -> Message:
            return next(pending, None) or await receive()

        await self.app(scope, replay, send)


def _has_json_body(scope: Scope) -> bool:
    if scope["method"] in ("GET", "HEAD", "OPTIONS"):
        return False
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            media_type = value.split(b";")[0].strip().lower()
            return media_type == b"application/json" or media_type.endswith(b"+json")
    return True  # FastAPI reads a body without a content type as JSON


async def _refuse(scope: Scope, send: Send, error: DomainError) -> None:
    """The problem, and the connection closed: a body not read may still be on its way."""
    body = error.problem(request_language(Request(scope)))
    await problem_response(body, headers={"Connection": "close"})(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.disconnect"}


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            return candidate if _SAFE_REQUEST_ID.match(candidate) else None
    return None


ReadinessCheck = Callable[[], None]


def operations_router(*, checks: dict[str, ReadinessCheck]) -> APIRouter:
    """`/healthz` (the process answers), `/readyz` (its dependencies answer), `/metrics`."""
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", include_in_schema=False)
    def readyz() -> Response:
        failures: dict[str, str] = {}
        for name, check in checks.items():
            try:
                check()
            except Exception as exc:  # noqa: BLE001 - any failure means not ready; say which
                # The error's text (hosts, users, paths) goes to the log, not to whoever asks.
                log.warning("not_ready", dependency=name, error=f"{type(exc).__name__}: {exc}"[:500])
                failures[name] = "unavailable"
        if failures:
            return problem_response(problem_body(status=503, code="service.not_ready", title="Not ready",
                                                 detail=", ".join(sorted(failures)), failures=failures),
                                    headers={"Retry-After": str(DependencyUnavailable.RETRY_AFTER_S)})
        return JSONResponse({"status": "ready", "checks": sorted(checks)})

    @router.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


def install_request_context(app: FastAPI, *, service: str) -> None:
    """Request ids, logs and metrics around everything, the input guard among it."""
    app.add_middleware(InputGuard)
    app.add_middleware(RequestContextMiddleware, service=service)

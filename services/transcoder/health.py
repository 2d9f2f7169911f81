"""A small HTTP server inside the worker process for /healthz, /readyz and /metrics, since a
Celery worker serves no HTTP of its own."""
from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest


def serve_health(*, host: str, port: int, ready: Callable[[], None]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            if self.path == "/healthz":
                self._reply(200, "application/json", b'{"status":"ok"}')
            elif self.path == "/readyz":
                try:
                    ready()
                    self._reply(200, "application/json", b'{"status":"ready"}')
                except Exception as exc:  # noqa: BLE001 - any failure means not ready; say which
                    body = {"type": "/problems/service.not_ready", "title": "Not ready", "status": 503,
                            "code": "service.not_ready", "detail": f"{type(exc).__name__}: {exc}"[:300]}
                    self._reply(503, "application/problem+json", json.dumps(body).encode())
            elif self.path == "/metrics":
                self._reply(200, CONTENT_TYPE_LATEST, generate_latest())
            else:
                self._reply(404, "application/problem+json",
                            b'{"type":"/problems/request.not_found","status":404,"code":"request.not_found",'
                            b'"title":"Not found","detail":"Not found"}')

        def _reply(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:  # health probes every few seconds: not news
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
    return server

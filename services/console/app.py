"""The web console's files, served by the API process under /console/ (same origin as /api/v1: no
CORS, one process on embedded defaults). Plain ES modules, no build step.

Caching without a bundler: index.html is rendered with an import map that names every file with
its content hash (`js/api.js` → `js/api.js?v=3f2a…`). Modules import each other by plain relative
paths, the browser maps them to the hashed URLs, and those are cached for a year (`immutable`).
index.html itself, and any file asked for without the current hash, is `no-cache` with an ETag,
so a changed console is seen on the next load and an unchanged one costs one 304. Text is sent
gzipped when the browser accepts it (compressed once per file version, in memory).
"""
from __future__ import annotations

import gzip
import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

STATIC = Path(__file__).parent / "static"
INDEX = "index.html"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
TYPES = {
    ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
    ".json": "application/json", ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon",
    ".woff2": "font/woff2", ".vtt": "text/vtt; charset=utf-8",
}
COMPRESSIBLE = {".html", ".js", ".mjs", ".css", ".json", ".svg", ".vtt"}
VERSIONED = {".js", ".mjs", ".css", ".svg", ".png", ".ico", ".woff2"}  # what the import map names


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    version: str  # the first 16 hex digits of the body's SHA-256
    gzipped: bytes | None

    def etag(self, *, gzipped: bool) -> str:
        return f'"{self.version}{"-gz" if gzipped else ""}"'


def _asset(body: bytes, suffix: str) -> Asset:
    version = hashlib.sha256(body).hexdigest()[:16]
    packed = gzip.compress(body, compresslevel=9, mtime=0) if suffix in COMPRESSIBLE and len(body) > 512 else None
    return Asset(body=body, media_type=TYPES.get(suffix, "application/octet-stream"), version=version,
                 gzipped=packed if packed is not None and len(packed) < len(body) else None)


class Console:
    """ASGI app for the console's static tree (mounted at /console)."""

    def __init__(self, root: Path = STATIC) -> None:
        self.root = root.resolve()
        self._cache: dict[Path, tuple[tuple[int, int], Asset]] = {}
        self._index: tuple[tuple, Asset] | None = None
        self._lock = threading.Lock()

    def _file(self, relative: str) -> Asset | None:
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root) or not path.is_file() or any(p.startswith(".") for p in path.parts):
            return None
        stat = path.stat()
        key = (stat.st_mtime_ns, stat.st_size)
        cached = self._cache.get(path)
        if cached is None or cached[0] != key:
            cached = (key, _asset(path.read_bytes(), path.suffix))
            with self._lock:
                self._cache[path] = cached
        return cached[1]

    def _versioned_files(self) -> dict[str, Asset]:
        found = {}
        for path in sorted(self.root.rglob("*")):
            relative = path.relative_to(self.root).as_posix()
            if path.suffix in VERSIONED and path.is_file() and not relative.startswith("."):
                asset = self._file(relative)
                if asset is not None:
                    found[relative] = asset
        return found

    def _render_index(self) -> Asset:
        files = self._versioned_files()
        template = self._file(INDEX)
        if template is None:
            raise FileNotFoundError(self.root / INDEX)
        key = (template.version, tuple((name, asset.version) for name, asset in files.items()))
        if self._index is not None and self._index[0] == key:
            return self._index[1]
        imports = {f"./{name}": f"./{name}?v={asset.version}" for name, asset in files.items()}
        html = template.body.decode()
        html = html.replace("<!-- importmap -->", '<script type="importmap">'
                            + json.dumps({"imports": imports}, separators=(",", ":")) + "</script>")
        for name, asset in files.items():  # {{css/console.css}} in the template → the hashed URL
            html = html.replace("{{" + name + "}}", f"./{name}?v={asset.version}")
        rendered = _asset(html.encode(), ".html")
        self._index = (key, rendered)
        return rendered

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        if scope["method"] not in ("GET", "HEAD"):
            await PlainTextResponse("Method Not Allowed", 405, headers={"Allow": "GET, HEAD"})(scope, receive, send)
            return
        path, root = scope["path"], scope.get("root_path", "")
        relative = (path[len(root):] if path.startswith(root) else path).lstrip("/")
        if relative in ("", INDEX):
            asset, fresh = self._render_index(), False
        else:
            asset = self._file(relative)
            if asset is None:
                await PlainTextResponse("Not Found", 404)(scope, receive, send)
                return
            wanted = dict(item.split("=", 1) for item in scope.get("query_string", b"").decode("latin-1").split("&")
                          if "=" in item).get("v")
            fresh = wanted == asset.version
        headers = Headers(scope=scope)
        use_gzip = asset.gzipped is not None and "gzip" in headers.get("accept-encoding", "")
        etag = asset.etag(gzipped=use_gzip)
        response_headers = {"ETag": etag, "Cache-Control": IMMUTABLE if fresh else REVALIDATE,
                            "Vary": "Accept-Encoding"}
        if etag in [tag.strip() for tag in headers.get("if-none-match", "").split(",")]:
            await Response(status_code=304, headers=response_headers)(scope, receive, send)
            return
        body = asset.gzipped if use_gzip else asset.body
        if use_gzip:
            response_headers["Content-Encoding"] = "gzip"
        response = Response(body if scope["method"] == "GET" else b"", media_type=asset.media_type,
                            headers=response_headers)
        if scope["method"] == "HEAD":
            response.headers["content-length"] = str(len(body))
        await response(scope, receive, send)


def console_app() -> Console:
    return Console()

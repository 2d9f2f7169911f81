"""What every service does at its edge, before any route: believe X-Forwarded-* only from
trusted proxies, add security headers to every response, and keep operator pages (/metrics,
/docs, /openapi.json) from the public when configured so. Pure ASGI, like the other middleware.
"""
from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

from fastapi import FastAPI

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.problems import DomainError, problem_response, request_language

if TYPE_CHECKING:
    from services.common.settings import Settings

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Exposure = Literal["open", "restricted", "off"]


def parse_networks(value: str | Iterable[str]) -> tuple[IPNetwork, ...]:
    """CIDRs (or single addresses) separated by commas or whitespace; ValueError names a bad one."""
    items = value.replace(",", " ").split() if isinstance(value, str) else list(value)
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in items if item.strip())


def address_in(host: str | None, networks: tuple[IPNetwork, ...]) -> bool:
    if not host or not networks:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:  # a unix socket, or a test client's made-up name
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


def _header_values(scope: Scope, name: bytes) -> list[str]:
    """Every comma-separated item of every header `name`, in order."""
    return [item.strip() for key, value in scope["headers"] if key == name
            for item in value.decode("latin-1").split(",") if item.strip()]


class ProxyHeaders:
    """X-Forwarded-For, -Proto and -Host, believed only when the peer is a trusted proxy
    (LB_TRUSTED_PROXIES). The client is the nearest address in X-Forwarded-For that is not itself
    a trusted proxy: everything left of it was written by the client and may be forged. Run
    uvicorn with --no-proxy-headers, or it trusts 127.0.0.1 on its own before this sees a request.
    """

    def __init__(self, app: ASGIApp, *, trusted: tuple[IPNetwork, ...]) -> None:
        self.app, self.trusted = app, trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.trusted:
            client = scope.get("client")
            if client and address_in(client[0], self.trusted):
                scope = self._forwarded(scope)
        await self.app(scope, receive, send)

    def _forwarded(self, scope: Scope) -> Scope:
        scope = dict(scope)
        hops = _header_values(scope, b"x-forwarded-for")
        if hops:
            client = next((hop for hop in reversed(hops) if not address_in(hop, self.trusted)), hops[0])
            if _is_address(client):
                scope["client"] = (client, 0)
        protos = _header_values(scope, b"x-forwarded-proto")
        if protos and protos[-1].lower() in ("http", "https"):
            scope["scheme"] = protos[-1].lower() if scope["type"] == "http" else \
                {"http": "ws", "https": "wss"}[protos[-1].lower()]
        hosts = _header_values(scope, b"x-forwarded-host")
        if hosts and _is_host(hosts[-1]):
            scope["headers"] = [(k, v) for k, v in scope["headers"] if k != b"host"] + \
                [(b"host", hosts[-1].encode("latin-1"))]
        return scope


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _is_host(value: str) -> bool:
    # host, host:port or [v6]:port; nothing that could break out of a URL.
    return 0 < len(value) <= 255 and all(c.isalnum() or c in ".-:[]" for c in value)


class SecurityHeaders:
    """On every response: nosniff, a referrer policy that sends nothing (playback and blob links
    carry their credential in the URL), and HSTS when `hsts` (production, behind TLS)."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.headers = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
        if hsts:
            self.headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", ())}
                message["headers"] = [*message.get("headers", ()),
                                      *((n, v) for n, v in self.headers if n not in present)]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class PageNotFound(DomainError):
    status = 404
    code = "request.not_found"
    title = {"zh-CN": "请求的地址不存在", "en": "Nothing is found at this address"}
    detail = title


class OperatorPages:
    """/metrics and the API docs (/docs, /openapi.json) as configured: `open`, `off`, or
    `restricted` to clients in `allow_from` or bearing `token`. A refused request gets the same
    404 as a path that does not exist."""

    def __init__(self, app: ASGIApp, *, pages: dict[str, Exposure], allow_from: tuple[IPNetwork, ...],
                 token: str | None) -> None:
        self.app, self.pages, self.allow_from = app, pages, allow_from
        self.token = token.encode() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exposure = self.pages.get(scope["path"]) if scope["type"] == "http" else None
        if exposure is None or exposure == "open" or (exposure == "restricted" and self._allowed(scope)):
            await self.app(scope, receive, send)
            return
        body = PageNotFound().problem(request_language(Request(scope)))
        await problem_response(body)(scope, receive, send)

    def _allowed(self, scope: Scope) -> bool:
        client = scope.get("client")
        if client and address_in(client[0], self.allow_from):
            return True
        if self.token is None:
            return False
        scheme, _, given = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"),
                                "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self.token)


def install_edge(app: FastAPI, settings: Settings) -> None:
    """The edge of a service, around everything else (call after the other middleware)."""
    edge = settings.edge
    default: Exposure = "restricted" if settings.core.env.value == "production" else "open"
    pages: dict[str, Exposure] = {"/metrics": edge.metrics or default}
    for path in (app.docs_url, app.redoc_url, app.openapi_url, app.swagger_ui_oauth2_redirect_url):
        if path:
            pages[path] = edge.docs or default
    app.add_middleware(OperatorPages, pages=pages, allow_from=parse_networks(edge.ops_allow_from),
                       token=edge.ops_token)
    hsts = edge.hsts if edge.hsts is not None else settings.core.env.value == "production"
    trusted = parse_networks(edge.trusted_proxies)
    build_inner = app.build_middleware_stack

    # Outside Starlette's own outermost layer (ServerErrorMiddleware), so a 500 gets the headers too
    # and every layer sees the real client.
    def build_middleware_stack() -> ASGIApp:
        return ProxyHeaders(SecurityHeaders(build_inner(), hsts=hsts), trusted=trusted)

    app.build_middleware_stack = build_middleware_stack  # type: ignore[method-assign]

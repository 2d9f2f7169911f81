"""The edge of every service (services/common/edge.py): X-Forwarded-* believed only from trusted
proxies, security headers on every response, operator pages kept from the public."""
from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from services.common.edge import install_edge
from services.common.http import operations_router
from services.common.settings import EdgeSettings, Settings
from services.search.app import create_app as create_search_app
from tests.api.uploads.test_tus import TUS, metadata
from tests.conftest import SECRET, make_settings


def echo_app(**edge: object) -> FastAPI:
    app = FastAPI()

    @app.get("/where")
    def where(request: Request) -> dict[str, str]:
        return {"client": request.client.host if request.client else "", "url": str(request.url_for("where"))}

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    app.include_router(operations_router(checks={}))
    settings = Settings(core={"env": edge.pop("env", "test")}, auth={"secret_key": SECRET}, edge=EdgeSettings(**edge))
    install_edge(app, settings)
    return app


def ask(app: FastAPI, peer: str, path: str = "/where", **headers: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=(peer, 40000), raise_app_exceptions=False)

    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://api.internal:8000") as client:
            return await client.get(path, headers=headers)

    import anyio
    return anyio.run(go)


FORWARDED = {"X-Forwarded-For": "6.6.6.6, 203.0.113.9, 10.0.0.2", "X-Forwarded-Proto": "https",
             "X-Forwarded-Host": "lb.example.edu"}


def test_forwarded_headers_from_an_untrusted_peer_are_ignored():
    app = echo_app()  # no trusted proxies configured
    body = ask(app, "127.0.0.1", **FORWARDED).json()
    assert body == {"client": "127.0.0.1", "url": "http://api.internal:8000/where"}
    body = ask(echo_app(trusted_proxies="10.0.0.0/8"), "198.51.100.7", **FORWARDED).json()
    assert body == {"client": "198.51.100.7", "url": "http://api.internal:8000/where"}


def test_a_trusted_proxy_gives_the_real_client_scheme_and_host():
    app = echo_app(trusted_proxies="10.0.0.0/8, 127.0.0.1")
    body = ask(app, "10.0.0.3", **FORWARDED).json()
    # The nearest address not itself a proxy: 6.6.6.6 was written by the client and is not believed.
    assert body == {"client": "203.0.113.9", "url": "https://lb.example.edu/where"}
    assert ask(app, "10.0.0.3", **{"X-Forwarded-Host": "evil/path?x"}).json()["url"] == "http://api.internal:8000/where"
    assert ask(app, "10.0.0.3", **{"X-Forwarded-For": "not-an-address"}).json()["client"] == "10.0.0.3"


def test_a_bad_trusted_proxy_setting_is_refused():
    with pytest.raises(ValueError, match="10.0.0.300"):
        EdgeSettings(trusted_proxies="10.0.0.300/8")


@pytest.mark.parametrize("env", ["test", "production"])
def test_security_headers_are_on_every_response(env):
    app = echo_app(env=env)
    for path, status in (("/where", 200), ("/nowhere", 404), ("/boom", 500)):
        response = ask(app, "127.0.0.1", path)
        assert response.status_code == status
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert ("strict-transport-security" in response.headers) is (env == "production")


@pytest.mark.parametrize("path", ["/metrics", "/docs", "/openapi.json"])
def test_operator_pages_are_restricted_in_production(path):
    app = echo_app(env="production", ops_token="ops-token-long-enough-0123456789")
    assert ask(app, "127.0.0.1", path).status_code == 200  # loopback is allowed by default
    refused = ask(app, "203.0.113.9", path)
    assert refused.status_code == 404 and refused.json()["code"] == "request.not_found"
    assert ask(app, "203.0.113.9", path, Authorization="Bearer wrong").status_code == 404
    assert ask(app, "203.0.113.9", path, Authorization="Bearer ops-token-long-enough-0123456789").status_code == 200
    off = echo_app(env="production", metrics="off", docs="off")
    assert ask(off, "127.0.0.1", path).status_code == 404
    opened = echo_app(env="production", metrics="open", docs="open")
    assert ask(opened, "203.0.113.9", path).status_code == 200


def test_both_services_have_their_edge(app, tmp_path):
    settings = make_settings(tmp_path, "sqlite://")
    for service in (app, create_search_app(settings.model_copy(update={"edge": EdgeSettings(metrics="off")}))):
        with TestClient(service) as client:
            response = client.get("/healthz")
            assert response.headers["x-content-type-options"] == "nosniff"
    with TestClient(create_search_app(settings.model_copy(update={"edge": EdgeSettings(metrics="off")}))) as client:
        assert client.get("/metrics").status_code == 404


def test_tus_locations_use_the_public_url(client, factory, app):
    user = factory.user()
    factory.commit()
    headers = {**factory.headers(user), **TUS, "Upload-Length": "10", "Upload-Metadata": metadata(filename="a.pdf")}
    created = client.post("/api/v1/uploads/", headers=headers)
    assert created.status_code == 201, created.text
    assert created.headers["location"].startswith("http://testserver/api/v1/uploads/")
    settings = app.state.settings
    app.state.settings = settings.model_copy(update={"api": settings.api.model_copy(
        update={"public_url": "https://lb.example.edu/"})})
    created = client.post("/api/v1/uploads/", headers=headers)
    assert created.headers["location"].startswith("https://lb.example.edu/api/v1/uploads/")

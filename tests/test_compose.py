"""docker-compose.yml works as shipped: with every variable of infra/compose/.env.example filled
in, each LessonBridge service's environment builds valid Settings and gives it what it needs,
and no more. (No Docker engine here: the file is rendered as compose would, with PyYAML.)"""
from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings

from services.common import settings as settings_module
from services.common.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}; $$ is a literal $.
_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def example_values() -> dict[str, str]:
    """.env.example filled in the way its comments ask."""
    names = re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", (ROOT / "infra/compose/.env.example").read_text(), re.MULTILINE)
    values = {name: secrets.token_hex(24) for name in names}
    values.update(LB_PUBLIC_URL="https://lessonbridge.example.edu", LB_S3_PUBLIC_ENDPOINT="https://files.example.edu",
                  MINIO_ROOT_USER="lb-admin", LB_S3_ACCESS_KEY=secrets.token_hex(10))
    for optional in ("LB_TRUSTED_PROXIES", "LB_OPS_TOKEN", "LB_IMAGE_TAG"):
        values.pop(optional, None)
    return values


def render(values: dict[str, str]) -> dict[str, Any]:
    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, operator, argument = match.groups()
        value = values.get(name)
        unset = value is None or (value == "" and operator and operator.startswith(":"))
        if operator and operator.endswith("?") and unset:
            raise AssertionError(f"compose would stop: {name}: {argument}")
        if operator and operator.endswith("-") and unset:
            return argument
        return value or ""

    rendered = _VARIABLE.sub(substitute, (ROOT / "docker-compose.yml").read_text())
    return yaml.safe_load(rendered)  # anchors and `<<` merges resolved as compose resolves them


def known_variables() -> set[str]:
    names = set()
    for value in vars(settings_module).values():
        if isinstance(value, type) and issubclass(value, BaseSettings):
            names |= {f.validation_alias for f in value.model_fields.values() if isinstance(f.validation_alias, str)}
    return names


@pytest.fixture
def compose() -> dict[str, Any]:
    return render(example_values())


def lessonbridge_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: service for name, service in compose["services"].items()
            if str(service.get("image", "")).startswith("lessonbridge:")}


def settings_for(environment: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Settings:
    import os
    for name in list(os.environ):
        if name.startswith("LB_"):
            monkeypatch.delenv(name)
    for name, value in environment.items():
        if value is not None:  # compose passes a key with no value through from its own environment
            monkeypatch.setenv(name, str(value))
    return Settings.from_env()


def test_every_required_variable_is_in_the_example():
    text = (ROOT / "docker-compose.yml").read_text()
    required = {m.group(1) for m in _VARIABLE.finditer(text) if m.group(2) and m.group(2).endswith("?")}
    assert required <= set(example_values())
    for name in required:
        values = example_values()
        del values[name]
        with pytest.raises(AssertionError, match=name):
            render(values)


def test_each_service_gets_valid_settings_and_only_its_keys(compose, monkeypatch):
    services = lessonbridge_services(compose)
    assert set(services) == {"migrate", "api", "search", "transcoder", "backup"}
    for name, service in services.items():
        unknown = {v for v in service["environment"] if v.startswith("LB_")} - known_variables()
        assert not unknown, f"{name}: variables no setting reads: {unknown}"

    api = settings_for(services["api"]["environment"], monkeypatch)
    assert api.keys.access_token  # the master secret is there and not a placeholder
    assert api.public_api_url == "https://lessonbridge.example.edu"
    assert api.storage.s3_endpoint == "minio:9000" and api.storage.s3_public_endpoint == "https://files.example.edu"
    assert api.search_url == "http://search:8001" and api.edge.ops_token in (None, "")
    assert "--no-proxy-headers" in services["api"]["command"]

    search = settings_for(services["search"]["environment"], monkeypatch)
    assert "LB_SECRET_KEY" not in services["search"]["environment"]
    assert search.search_principal_key == api.search_principal_key
    assert search.search.es_url == "http://elasticsearch:9200"

    for worker in ("transcoder", "migrate", "backup"):
        assert "LB_SECRET_KEY" not in services[worker]["environment"]
        settings = settings_for(services[worker]["environment"], monkeypatch)
        assert settings.database_url.startswith("postgresql+psycopg://lessonbridge:")
        assert settings.broker.url == "redis://redis:6379/0"


def test_clients_can_reach_what_presigned_urls_point_at(compose):
    assert "9000:9000" in compose["services"]["minio"]["ports"]
    assert "edge" in compose["services"]["minio"]["networks"]


def test_the_edge_service_runs_the_school_edge_configuration(compose):
    edge = compose["services"]["edge"]
    assert edge["image"].startswith("nginx:")
    assert "./infra/edge/edge.conf.template:/etc/nginx/templates/edge.conf.template:ro" in edge["volumes"]
    assert edge["environment"]["LB_EDGE_UPSTREAM"] == "http://api:8000"
    assert "edge" in compose["services"]["api"]["networks"] and edge["networks"] == ["edge"]
    # Every placeholder of the template is given (the image leaves unknown ones as they are).
    template = (ROOT / "infra/edge/edge.conf.template").read_text()
    assert set(re.findall(r"\$\{(LB_EDGE_[A-Z_]+)\}", template)) == set(edge["environment"])

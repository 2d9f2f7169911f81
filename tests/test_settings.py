"""One validated settings object: embedded defaults, URLs that switch backends, no placeholder secrets."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.common.settings import PlaceholderSecretError, Settings


@pytest.fixture
def env(monkeypatch, tmp_path):
    for name in ("LB_ENV", "LB_DATABASE_URL", "LB_BROKER_URL", "LB_SECRET_KEY", "LB_SEARCH_PRINCIPAL_KEY", "LB_S3_ENDPOINT", "LB_ES_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LB_DATA_DIR", str(tmp_path))
    return monkeypatch


def test_embedded_defaults_live_under_the_data_dir(env, tmp_path):
    settings = Settings.from_env()
    assert settings.is_development
    assert settings.database_url == f"sqlite:///{tmp_path.resolve()}/lessonbridge.db"
    assert settings.broker.url is None and settings.broker_dir == tmp_path.resolve() / "broker"
    assert settings.storage.s3_endpoint is None and settings.search.es_url is None
    # A development key is generated once and kept, so restarts keep sessions valid.
    assert len(settings.secret_key) >= 32 and Settings.from_env().secret_key == settings.secret_key
    assert (tmp_path / ".secret_key").stat().st_mode & 0o777 == 0o600


def test_urls_switch_backends(env):
    env.setenv("LB_DATABASE_URL", "postgresql+psycopg://db/lb")
    env.setenv("LB_BROKER_URL", "redis://127.0.0.1:6379/0")
    env.setenv("LB_S3_ENDPOINT", "127.0.0.1:9000")
    env.setenv("LB_ES_URL", "http://127.0.0.1:9200")
    settings = Settings.from_env()
    assert settings.database_url == "postgresql+psycopg://db/lb"
    assert settings.broker.url == "redis://127.0.0.1:6379/0"
    assert settings.storage.s3_endpoint == "127.0.0.1:9000" and settings.search.es_url == "http://127.0.0.1:9200"


@pytest.mark.parametrize("secret", ["changeme", "secret", "short-but-random-x", "   "])
def test_placeholder_secrets_are_refused_outside_development(env, secret):
    env.setenv("LB_ENV", "production")
    env.setenv("LB_SECRET_KEY", secret)
    with pytest.raises(ValidationError, match="LB_SECRET_KEY"):
        Settings.from_env()
    env.delenv("LB_SECRET_KEY")
    env.setenv("LB_SEARCH_PRINCIPAL_KEY", secret)
    with pytest.raises(ValidationError, match="LB_SEARCH_PRINCIPAL_KEY"):
        Settings.from_env()


def test_a_missing_secret_is_refused_where_it_is_needed(env):
    # The search service and the workers run without the master secret; the API needs it.
    env.setenv("LB_ENV", "production")
    settings = Settings.from_env()
    with pytest.raises(PlaceholderSecretError, match="LB_SECRET_KEY"):
        settings.keys  # noqa: B018


def test_a_real_secret_is_accepted_in_production(env):
    env.setenv("LB_ENV", "production")
    env.setenv("LB_SECRET_KEY", "k3J9-very-random-and-long-enough-secret-value-xyz")
    settings = Settings.from_env()
    assert settings.log_json is True

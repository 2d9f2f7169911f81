"""Test fixtures over real backends.

Every database test runs once on SQLite and once on PostgreSQL (`LB_TEST_POSTGRES_URL`), each
inside a transaction rolled back afterwards. A leg whose server is absent is skipped, with the
reason in the summary; with `LB_TEST_REQUIRE_SERVERS=1` (CI) a missing server fails instead.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session, sessionmaker

from services.api.app import create_app
from services.api.migrate import upgrade
from services.api.search import outbox
from services.api.stats import snapshots as participation_snapshots
from services.api.taxonomy import service as taxonomy
from services.common.db import create_db_engine
from services.common.settings import ApiSettings, AuthSettings, CoreSettings, DatabaseSettings, Settings
from tests.factories import Factory

REQUIRE_SERVERS = os.environ.get("LB_TEST_REQUIRE_SERVERS") == "1"
# As the API and its command line do where they set up: resource changes write outbox rows.
outbox.install()
participation_snapshots.install()
SECRET = "test-secret-key-that-is-long-enough-0123456789"


def server_url(variable: str, what: str) -> str:
    """The URL of a test server, or a skip (a failure in CI) saying how to start it."""
    url = os.environ.get(variable)
    if not url:
        message = f"{what} leg skipped: {variable} is not set (start it: infra/test-servers.sh start)"
        if REQUIRE_SERVERS:
            pytest.fail(message.replace("skipped", "required"))
        pytest.skip(message)
    return url


def pytest_report_header(config: pytest.Config) -> list[str]:
    legs = {"PostgreSQL": "LB_TEST_POSTGRES_URL", "Redis": "LB_TEST_REDIS_URL", "S3 (MinIO)": "LB_TEST_S3_URL",
            "Elasticsearch": "LB_TEST_ES_URL"}
    return [f"leg {name}: {'on (' + os.environ[var] + ')' if os.environ.get(var) else 'off, will be skipped'}"
            for name, var in legs.items()] + [f"servers required: {REQUIRE_SERVERS}"]


def make_settings(data_dir: Path, database_url: str, **core: object) -> Settings:
    # No media janitor or search relay threads: tests run their rounds by hand
    # (app.state.media_janitor.run_once(), app.state.search_relay.run_once()).
    return Settings(core=CoreSettings(env="test", data_dir=data_dir, log_json=False, **core),
                    database=DatabaseSettings(url=database_url), auth=AuthSettings(secret_key=SECRET),
                    api=ApiSettings(media_poll_s=0, search_relay_s=0))


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
    return server_url("LB_TEST_POSTGRES_URL", "PostgreSQL")


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """A freshly migrated database holding the seed taxonomy, shared by the backend's tests."""
    engine = create_db_engine(database_url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(engine)
    with Session(engine) as session:
        taxonomy.import_document(session, taxonomy.seed_document(), actor_id=None, district_id=None)
        session.commit()
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    connection = engine.connect()
    transaction = connection.begin()
    yield connection
    transaction.rollback()
    connection.close()


@pytest.fixture
def sessions(connection: Connection) -> sessionmaker[Session]:
    """Sessions inside the test's transaction: their commits become savepoints, undone after."""
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as session:
        yield session


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path / "data", database_url)


@pytest.fixture
def app(settings: Settings, sessions: sessionmaker[Session]):  # type: ignore[no-untyped-def]
    app = create_app(settings)
    app.state.sessionmaker = sessions
    return app


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def factory(session: Session) -> Factory:
    return Factory(session=session, secret=SECRET)

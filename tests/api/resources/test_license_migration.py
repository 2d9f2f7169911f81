"""Migration 0014 rewrites licenses stored lower-cased to their canonical SPDX spelling, on SQLite
and PostgreSQL, and back on downgrade."""
from __future__ import annotations

import uuid

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from services.api.migrate import alembic_config, upgrade
from services.common.db import create_db_engine

REVISION = "0014"


def empty_database(base_url: str, directory) -> str:  # noqa: ANN001
    if base_url.startswith("sqlite"):
        return f"sqlite:///{directory / 'migration.db'}"
    name = f"lb_migration_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


def licenses(engine) -> dict[str, str]:  # noqa: ANN001
    with engine.connect() as connection:
        return dict(connection.execute(text("SELECT id, license FROM resources")).all())


def test_stored_licenses_become_canonical(database_url, tmp_path):
    engine = create_db_engine(empty_database(database_url, tmp_path))
    before = ScriptDirectory.from_config(alembic_config()).get_revision(REVISION).down_revision
    upgrade(engine, before)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO districts (id, name, created_at) VALUES ('d1', '区', CURRENT_TIMESTAMP)"))
        connection.execute(text(
            "INSERT INTO users (id, username, real_name, password_hash, roles, district_id, is_active, token_version,"
            " created_at) VALUES ('u1', 'u1', '张', 'x', '[]', 'd1', true, 0, CURRENT_TIMESTAMP)"))
        for rid, license in (("r1", "cc-by-4.0"), ("r2", "cc0-1.0"), ("r3", "school-only")):
            connection.execute(text(
                "INSERT INTO resources (id, title, description, kind, tags, visibility, license, owner_id, district_id,"
                " status, progress, version, view_count, created_at, updated_at) VALUES (:id, 't', '', 'other', '[]',"
                " 'school', :license, 'u1', 'd1', 'draft', 0, 1, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                {"id": rid, "license": license})
    upgrade(engine, REVISION)
    assert licenses(engine) == {"r1": "CC-BY-4.0", "r2": "CC0-1.0", "r3": "school-only"}
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, before)
    assert licenses(engine) == {"r1": "cc-by-4.0", "r2": "cc0-1.0", "r3": "school-only"}
    engine.dispose()

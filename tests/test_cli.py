"""The `lb` command line against a real (SQLite) database: first administrator, demo district,
taxonomy export and import."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from services.api.cli import app
from services.api.orgs.models import User
from services.api.taxonomy.models import KnowledgePoint
from services.common.db import create_db_engine

runner = CliRunner()


@pytest.fixture
def database(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("LB_DATABASE_URL", url)
    monkeypatch.setenv("LB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("LB_ENV", raising=False)
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    return create_db_engine(url)


def test_first_admin_then_demo_is_skipped_on_a_used_database(database):
    result = runner.invoke(app, ["create-admin", "--district", "青山区", "--username", "root-admin",
                                 "--real-name", "管理员", "--password", "long-enough-password"])
    assert result.exit_code == 0, result.output
    again = runner.invoke(app, ["create-admin", "--district", "青山区", "--username", "root-admin",
                                "--real-name", "管理员", "--password", "long-enough-password"])
    assert again.exit_code == 1 and "taken" in again.output
    assert runner.invoke(app, ["demo", "--password", "demo-password"]).exit_code == 0
    with database.connect() as connection:
        usernames = set(connection.scalars(select(User.username)))
    assert usernames == {"root-admin"}  # the demo seeds only an empty database


def test_demo_seed_then_taxonomy_export_and_reimport(database, tmp_path):
    result = runner.invoke(app, ["demo", "--password", "demo-password"])
    assert result.exit_code == 0, result.output
    with database.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(User)) == 4
        points = connection.scalar(select(func.count()).select_from(KnowledgePoint))
    assert points >= 300
    exported = tmp_path / "taxonomy.json"
    assert runner.invoke(app, ["taxonomy", "export", str(exported)]).exit_code == 0
    document = json.loads(exported.read_text("utf-8"))
    assert len(document["knowledge_points"]) == points
    csv_file = tmp_path / "points.csv"
    assert runner.invoke(app, ["taxonomy", "export", str(csv_file), "--format", "csv"]).exit_code == 0
    reimport = runner.invoke(app, ["taxonomy", "import", str(csv_file)])
    assert reimport.exit_code == 0, reimport.output
    assert "'knowledge_points': 0" in reimport.output  # nothing new, nothing changed


def test_a_broken_import_file_reports_and_changes_nothing(database, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,subject,stage,parent\nx.y,名,math,primary,nowhere\n", encoding="utf-8")
    runner.invoke(app, ["taxonomy", "seed"])
    result = runner.invoke(app, ["taxonomy", "import", str(bad)])
    assert result.exit_code == 1
    assert "knowledge_points.0.parent" in result.output
    with database.connect() as connection:
        assert connection.scalar(select(func.count()).where(KnowledgePoint.code == "x.y")) == 0


def test_platform_admin_is_granted_from_the_command_line(database):
    assert runner.invoke(app, ["create-admin", "--district", "青山区", "--username", "root-admin",
                               "--real-name", "王建国", "--password", "a-long-password-1"]).exit_code == 0
    result = runner.invoke(app, ["platform-admin", "root-admin"])
    assert result.exit_code == 0, result.output
    with database.connect() as connection:
        roles = connection.execute(text("SELECT roles FROM users WHERE username = 'root-admin'")).scalar_one()
    assert "platform_admin" in roles and "district_admin" in roles
    assert runner.invoke(app, ["platform-admin", "nobody"]).exit_code == 1

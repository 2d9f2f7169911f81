"""The `lb` command line against a real (SQLite) database: first administrator, demo district,
taxonomy export and import."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from services.api.cli import app
from services.api.orgs.models import User
from services.api.orgs.models import District, School, SchoolKind
from services.api.pairing.models import Pairing, PairingPlan
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


def test_stats_prints_participation_as_table_csv_and_json(database):
    from sqlalchemy.orm import Session

    from services.api.orgs.models import School
    from tests.factories import Factory

    with Session(database) as session:
        factory = Factory(session=session, secret="unused")
        district = factory.district("青山区")
        school = factory.school(district=district, name="青山实验小学")
        teacher = factory.user(school=school)
        factory.resource(teacher, published_at=datetime(2026, 10, 1, tzinfo=UTC), view_count=4)
        session.commit()
        school_id = session.scalars(select(School.id)).one()
    table = runner.invoke(app, ["stats", "--semester", "2026-fall"], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert "青山实验小学" in table.output and "1/1 teachers published" in table.output
    as_json = json.loads(runner.invoke(app, ["stats", "--semester", "2026-fall", "--format", "json"]).output)
    assert as_json["district"]["resources_published"] == 1 and as_json["schools"][0]["plays"] == 4
    assert as_json["schools"][0]["school_id"] == school_id
    as_csv = runner.invoke(app, ["stats", "--semester", "2026-fall", "--format", "csv"], env={"LANG": "en_US.UTF-8"})
    assert as_csv.exit_code == 0 and as_csv.output.startswith("\ufeffsemester,stage,subject,school_id,school,")
    assert "青山实验小学" in as_csv.output
    spring = json.loads(runner.invoke(app, ["stats", "--semester", "2027-spring", "--format", "json"]).output)
    assert spring["district"]["resources_published"] == 0
    bad = runner.invoke(app, ["stats", "--semester", "2026-winter"])
    assert bad.exit_code == 1 and "2026-winter" in bad.output
def test_platform_admin_is_granted_from_the_command_line(database):
    assert runner.invoke(app, ["create-admin", "--district", "青山区", "--username", "root-admin",
                               "--real-name", "王建国", "--password", "a-long-password-1"]).exit_code == 0
    result = runner.invoke(app, ["platform-admin", "root-admin"])
    assert result.exit_code == 0, result.output
    with database.connect() as connection:
        roles = connection.execute(text("SELECT roles FROM users WHERE username = 'root-admin'")).scalar_one()
    assert "platform_admin" in roles and "district_admin" in roles
    assert runner.invoke(app, ["platform-admin", "nobody"]).exit_code == 1
def test_pairing_report_prints_the_semester_as_table_csv_and_json(database):
    with Session(database) as session:
        district = District(name="青山区")
        session.add(district)
        session.flush()
        helper = School(district_id=district.id, name="城关第一小学", kind=SchoolKind.urban, bandwidth_kbps=100_000)
        assisted = School(district_id=district.id, name="石门村教学点", kind=SchoolKind.teaching_point,
                          bandwidth_kbps=8_000)
        session.add_all([helper, assisted])
        session.flush()
        pairing = Pairing(helper_school_id=helper.id, assisted_school_id=assisted.id, created_by="cli")
        session.add(pairing)
        session.flush()
        session.add(PairingPlan(pairing_id=pairing.id, semester="2026-fall", goal_exchanges=3, created_by="cli"))
        session.commit()
        pairing_id = pairing.id
    table = runner.invoke(app, ["pairing", "report", "--semester", "2026-fall"])
    assert table.exit_code == 0, table.output
    assert "城关第一小学" in table.output and "石门村教学点" in table.output
    as_json = runner.invoke(app, ["pairing", "report", "--semester", "2026-fall", "--pairing", pairing_id,
                                  "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    body = json.loads(as_json.stdout)
    assert (body["pairing_id"], body["goal_exchanges"], body["held"], body["below_goal"]) == (pairing_id, 3, 0, True)
    as_csv = runner.invoke(app, ["pairing", "report", "--semester", "2026-fall", "--format", "csv"])
    assert as_csv.exit_code == 0 and as_csv.stdout_bytes.startswith("\ufeff".encode())
    assert pairing_id in as_csv.stdout
    unknown = runner.invoke(app, ["pairing", "report", "--semester", "2026-autumn"])
    assert unknown.exit_code == 1 and "2026-autumn" in unknown.output
    missing = runner.invoke(app, ["pairing", "report", "--semester", "2026-fall", "--pairing", "nope"])
    assert missing.exit_code == 1

"""Migration 0025 on a database holding a campaign of migration 0019's shape (one row per level):
each row keeps its level, points to the next level's row as its parent, and nothing under it (its
entries) is lost — on SQLite, whose foreign keys stay on while migrating, and PostgreSQL."""
from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from services.api.migrate import alembic_config, upgrade
from services.common.db import create_db_engine
from tests.api.resources.test_license_migration import empty_database

LEVELS = [("l0", 0, "district", "d1", None), ("l1", 1, "city", None, "c1"), ("l2", 2, "province", None, "p1")]


def test_levels_become_rounds_with_their_parents_and_keep_their_entries(database_url, tmp_path):
    url = empty_database(database_url, tmp_path)
    engine = create_db_engine(url)
    try:
        upgrade(engine, "0019")
        with engine.begin() as connection:
            run = connection.execute
            run(text("INSERT INTO regions (id, name, kind, parent_id, created_at) VALUES "
                     "('p1', '省', 'province', NULL, CURRENT_TIMESTAMP), ('c1', '市', 'city', 'p1', CURRENT_TIMESTAMP)"))
            run(text("INSERT INTO districts (id, name, created_at, region_id) VALUES ('d1', '区', CURRENT_TIMESTAMP, 'c1')"))
            run(text("INSERT INTO schools (id, district_id, name, kind, bandwidth_kbps, storage_quota_bytes, created_at)"
                     " VALUES ('s1', 'd1', '校', 'urban', 1000, 1, CURRENT_TIMESTAMP)"))
            run(text("INSERT INTO users (id, username, real_name, password_hash, roles, district_id, school_id,"
                     " is_active, token_version, created_at) VALUES ('u1', 'u1', '张', 'x', '[]', 'd1', 's1', true, 0,"
                     " CURRENT_TIMESTAMP)"))
            run(text("INSERT INTO campaigns (id, title, district_id, created_by, categories, rubric, aggregation,"
                     " created_at) VALUES ('k1', '优课', 'd1', 'u1', '{}', '[]', 'mean', CURRENT_TIMESTAMP)"))
            for level_id, position, kind, district, region in LEVELS:
                run(text("INSERT INTO campaign_levels (id, campaign_id, position, kind, district_id, region_id, name,"
                         " status, submission_opens_at, submission_closes_at, judging_closes_at, publicity_days,"
                         " judges_per_package, quotas) VALUES (:id, 'k1', :position, :kind, :district, :region, 'n',"
                         " 'final', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 0, 1, '[]')"),
                    {"id": level_id, "position": position, "kind": kind, "district": district, "region": region})
            run(text("INSERT INTO campaign_packages (id, campaign_id, category, title, teacher_id, school_id,"
                     " district_id, status, created_at) VALUES ('pk', 'k1', 'lesson', 't', 'u1', 's1', 'd1',"
                     " 'submitted', CURRENT_TIMESTAMP)"))
            for level_id, *_ in LEVELS:
                run(text("INSERT INTO campaign_entries (id, level_id, package_id, status) VALUES "
                         "(:id, :level, 'pk', 'promoted')"), {"id": f"e{level_id}", "level": level_id})

        upgrade(engine, "0025")
        with engine.connect() as connection:
            rounds = connection.execute(text("SELECT id, position, level_position, parent_id FROM campaign_levels"
                                             " ORDER BY position")).all()
            assert [tuple(r) for r in rounds] == [("l0", 0, 0, "l1"), ("l1", 1, 1, "l2"), ("l2", 2, 2, None)]
            assert connection.execute(text("SELECT count(*) FROM campaign_entries")).scalar() == 3
            assert connection.execute(text("SELECT region_id FROM campaigns")).scalar() is None

        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "0019")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM campaign_entries")).scalar() == 3
            assert [r[0] for r in connection.execute(text("SELECT position FROM campaign_levels ORDER BY position"))] \
                == [0, 1, 2]
    finally:
        engine.dispose()
        if not url.startswith("sqlite"):
            admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE "{make_url(url).database}"'))
            admin.dispose()

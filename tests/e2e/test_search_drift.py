"""The index never misses an update: with the search service stopped, 100 resources are
published and 10 taken down through the API; once the search service is back, the relay
delivers what waited, and `lb search reconcile` finds the index equal to the database."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.api.orgs.models import Role
from services.api.search.models import SearchOutbox
from services.common.db import create_db_engine
from tests.conftest import SECRET
from tests.factories import Factory
from tests.live import SEARCH_APP, ApiProcess, fresh_database

PUBLISHED, TAKEN_DOWN = 100, 10


@pytest.fixture
def live_db(database_url, tmp_path):
    return fresh_database(database_url, tmp_path)


def test_a_stopped_search_service_misses_nothing(live_db, tmp_path):
    search = ApiProcess(database_url=live_db, data_dir=tmp_path / "search-data", secret=SECRET, app=SEARCH_APP).start()
    api = ApiProcess(database_url=live_db, data_dir=tmp_path / "api-data", secret=SECRET,
                     extra_env={"LB_SEARCH_URL": search.url, "LB_SEARCH_RELAY_S": "0.5"}).start()
    engine = create_db_engine(live_db)
    try:
        with Session(engine) as session:
            factory = Factory(session=session, secret=SECRET)
            teacher, moderator = factory.user(), factory.user(roles=(Role.moderator,))
            session.commit()
            owner, reviewer = factory.headers(teacher), factory.headers(moderator)
        search.stop()

        with httpx.Client(base_url=f"{api.url}/api/v1", timeout=30) as client:
            ids = []
            for n in range(PUBLISHED):
                body = {"title": f"一元二次方程 第{n + 1}课时", "kind": "courseware", "visibility": "district"}
                resource_id = client.post("/resources", json=body, headers=owner).json()["id"]
                assert client.post(f"/resources/{resource_id}/submit", headers=owner).status_code == 200
                decided = client.post(f"/moderation/resources/{resource_id}/decision", json={"action": "approve"},
                                      headers=reviewer)
                assert decided.json()["status"] == "published"
                ids.append(resource_id)
            for resource_id in ids[:TAKEN_DOWN]:
                taken = client.post(f"/moderation/resources/{resource_id}/decision",
                                    json={"action": "take_down", "reason_code": "other"}, headers=reviewer)
                assert taken.json()["status"] == "taken_down"
            # Searching while the search service is down is a clear problem, not a crash.
            down = client.get("/search", params={"q": "一元二次方程"}, headers=owner)
            assert down.status_code == 503 and down.json()["code"] == "search.unavailable"
            assert _outbox(engine) == PUBLISHED * 3 + TAKEN_DOWN  # created, submitted, approved; taken down

            search.start()
            deadline = time.monotonic() + 60
            while _outbox(engine) and time.monotonic() < deadline:
                time.sleep(0.5)
            assert _outbox(engine) == 0

            report = _lb(["search", "reconcile", "--no-repair", "--json"], live_db, search.url, tmp_path)
            assert report["checked_database"] == PUBLISHED
            assert (report["missing"], report["stale_live"], report["drift"]) == (0, 0, 0)
            found = client.get("/search", params={"q": "一元二次方程", "size": 50}, headers=owner).json()
            assert found["total"] == PUBLISHED - TAKEN_DOWN
            assert not {h["id"] for h in found["hits"]} & set(ids[:TAKEN_DOWN])
    finally:
        api.stop()
        search.stop()
        engine.dispose()


def _outbox(engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(SearchOutbox))


def _lb(args: list[str], database_url: str, search_url: str, tmp_path: Path) -> dict:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("LB_")}, "LB_ENV": "test",
           "LB_DATABASE_URL": database_url, "LB_SEARCH_URL": search_url, "LB_SECRET_KEY": SECRET,
           "LB_DATA_DIR": str(tmp_path / "cli-data")}
    result = subprocess.run([str(Path(sys.executable).parent / "lb"), *args], env=env, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)

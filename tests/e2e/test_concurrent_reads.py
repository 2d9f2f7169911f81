"""Many readers at once: every request is answered (the API once stalled at ~40 concurrent
requests, its worker threads and database connections each waiting for the other)."""
from __future__ import annotations

import asyncio

import httpx
from sqlalchemy.orm import Session

from services.common.db import create_db_engine
from tests.conftest import SECRET
from tests.factories import Factory
from tests.live import ApiProcess, fresh_database

READERS = 120


def test_a_crowd_of_readers_is_served(database_url, tmp_path):
    url = fresh_database(database_url, tmp_path)
    engine = create_db_engine(url)
    with Session(engine) as session:
        factory = Factory(session=session, secret=SECRET)
        teacher = factory.user()
        session.commit()
        headers = factory.headers(teacher)
    engine.dispose()
    api = ApiProcess(database_url=url, data_dir=tmp_path / "data", secret=SECRET).start()
    try:
        created = httpx.post(f"{api.url}/api/v1/resources", headers=headers,
                             json={"title": "并发读取", "kind": "courseware"})
        resource = f"{api.url}/api/v1/resources/{created.json()['id']}"

        async def crowd() -> list[int]:
            limits = httpx.Limits(max_connections=READERS, max_keepalive_connections=READERS)
            async with httpx.AsyncClient(headers=headers, limits=limits, timeout=60) as client:
                async def reader() -> list[int]:
                    return [(await client.get(resource)).status_code for _ in range(3)]
                return [code for codes in await asyncio.gather(*[reader() for _ in range(READERS)]) for code in codes]

        statuses = asyncio.run(crowd())
        assert statuses == [200] * (3 * READERS)
    finally:
        api.stop()

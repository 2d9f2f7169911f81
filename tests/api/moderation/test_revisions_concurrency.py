"""Two edits of one published resource at once on PostgreSQL: the second waits for the first
(the resource row is locked), then amends its revision, so one revision waits with both edits.
(On SQLite a writer session already runs one writer at a time.)"""
from __future__ import annotations

import threading
import time

from sqlalchemy import select, text

from services.api.auth.principal import Principal
from services.api.orgs.models import Role
from services.api.resources import service
from services.api.resources.models import License, Resource, ResourceKind, ResourceRevision, ResourceStatus, Visibility
from services.common.db import create_db_engine, create_sessionmaker, writer_session
from tests.conftest import SECRET, server_url
from tests.factories import Factory
from tests.live import fresh_database


def test_two_edits_at_once_leave_one_pending_revision_with_both(tmp_path):
    engine = create_db_engine(fresh_database(server_url("LB_TEST_POSTGRES_URL", "PostgreSQL"), tmp_path))
    sessions = create_sessionmaker(engine)
    try:
        with sessions() as session:
            owner = Factory(session=session, secret=SECRET).user()
            resource = Resource(title="认识钟表", kind=ResourceKind.courseware, visibility=Visibility.school,
                                license=License.cc_by, owner_id=owner.id, school_id=owner.school_id,
                                district_id=owner.district_id, status=ResourceStatus.published)
            session.add(resource)
            session.commit()
            resource_id = resource.id
            actor = Principal(user_id=owner.id, roles=frozenset({Role.teacher}), school_id=owner.school_id,
                              district_id=owner.district_id)
        outcome: list[object] = []

        def second_edit() -> None:
            try:
                with writer_session(sessions) as session:
                    service.update_resource(session, actor=actor, resource_id=resource_id,
                                            changes={"description": "第二次"})
                    session.commit()
                outcome.append("done")
            except Exception as error:  # noqa: BLE001 - reported by the assertion below
                outcome.append(error)

        with writer_session(sessions) as first:
            service.update_resource(first, actor=actor, resource_id=resource_id, changes={"title": "第一次"})
            other = threading.Thread(target=second_edit)
            other.start()
            _wait_until_a_session_waits_for_a_lock(engine)
            first.commit()
        other.join(timeout=60)
        assert outcome == ["done"]

        with sessions() as session:
            rows = session.execute(select(ResourceRevision.status, ResourceRevision.proposed)
                                   .where(ResourceRevision.resource_id == resource_id)
                                   .order_by(ResourceRevision.created_at)).all()
            assert [(status.value, proposed) for status, proposed in rows] == [
                ("superseded", {"title": "第一次"}), ("pending", {"title": "第一次", "description": "第二次"})]
            assert session.get_one(Resource, resource_id).title == "认识钟表"
    finally:
        engine.dispose()


def _wait_until_a_session_waits_for_a_lock(engine, timeout_s: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    with engine.connect() as connection:
        while time.monotonic() < deadline:
            waiting = connection.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'")).scalar()
            connection.rollback()
            if waiting:
                return
            time.sleep(0.05)
    raise AssertionError("the second edit never waited for the first")

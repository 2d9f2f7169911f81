"""Two API processes folding jobs at once on PostgreSQL: each job is folded once, and neither
writes an asset's renditions without the other's fold. (On SQLite a writer session already runs
one round at a time, and the interleaving below cannot happen.)"""
from __future__ import annotations

import threading

from sqlalchemy import event, select, update

from services.api.resources import processing
from services.api.resources.models import (
    Asset,
    License,
    Resource,
    ResourceKind,
    ResourceStatus,
    Visibility,
)
from services.api.uploads.models import Blob
from services.common import jobs
from services.common.db import create_db_engine, create_sessionmaker, writer_session
from services.common.jobs import JobKind, JobState, processing_jobs
from tests.conftest import SECRET, server_url
from tests.factories import Factory
from tests.live import fresh_database

RESULTS = {kind: {"kind": "hls", "prefix": f"media/x/{kind.value}", "tracks": [], "files": []}
           for kind in (JobKind.first_playable, JobKind.ladder)}


def test_two_processes_fold_one_assets_jobs_without_losing_either(tmp_path):
    engine = create_db_engine(fresh_database(server_url("LB_TEST_POSTGRES_URL", "PostgreSQL"), tmp_path))
    sessions = create_sessionmaker(engine)
    try:
        resource_id, asset_id = _lesson_in_processing(sessions)
        _set_job(engine, resource_id, JobKind.first_playable, state=JobState.done, result=RESULTS[JobKind.first_playable])
        _set_job(engine, resource_id, JobKind.ladder, state=JobState.running, progress=80)
        other = threading.Thread(target=lambda: processing.apply_finished_jobs(writer_session(sessions)))

        with writer_session(sessions) as first:
            selects = []

            @event.listens_for(first, "do_orm_execute")
            def meanwhile(state):  # type: ignore[no-untyped-def]
                """Once this round has read the ended jobs (the first playable only) and the asset,
                the ladder ends and another process runs a whole round."""
                if not state.is_select:
                    return None
                selects.append(state.statement)
                if len(selects) != 2:
                    return None
                rows = state.invoke_statement().freeze()
                _set_job(engine, resource_id, JobKind.ladder, state=JobState.done, progress=100,
                         result=RESULTS[JobKind.ladder])
                other.start()
                other.join(timeout=2)
                return rows()

            processing.apply_finished_jobs(first)
        other.join(timeout=30)
        assert not other.is_alive()

        with sessions() as session:
            folded = [r["job"] for r in session.get_one(Asset, asset_id).renditions]
            assert sorted(folded) == ["first_playable", "ladder"]
            applied = session.execute(select(processing_jobs.c.applied).where(
                processing_jobs.c.resource_id == resource_id)).scalars().all()
            assert applied == [True, True]
        assert processing.apply_finished_jobs(writer_session(sessions))["applied"] == 0
        with sessions() as session:
            assert session.get_one(Resource, resource_id).status is ResourceStatus.pending_review
    finally:
        engine.dispose()


def _lesson_in_processing(sessions) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        teacher = Factory(session=session, secret=SECRET).user()
        blob = Blob(sha256="0" * 64, size=10, media_type="video/mp4", backend="local", key="blobs/x")
        resource = Resource(title="认识钟表", kind=ResourceKind.micro_lesson, visibility=Visibility.school,
                            license=License.cc_by, owner_id=teacher.id, school_id=teacher.school_id,
                            district_id=teacher.district_id, status=ResourceStatus.processing)
        session.add_all([blob, resource])
        session.flush()
        asset = Asset(resource_id=resource.id, blob_id=blob.id, role="main", filename="第一课.mp4",
                      media_type="video/mp4", category="video", size=10, sha256=blob.sha256)
        session.add(asset)
        session.flush()
        for kind in (JobKind.first_playable, JobKind.ladder):
            jobs.create_job(session.connection(), resource_id=resource.id, asset_id=asset.id, kind=kind,
                            source_key=blob.key)
        session.commit()
        return resource.id, asset.id


def _set_job(engine, resource_id, kind, **values) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as connection:
        connection.execute(update(processing_jobs).where(processing_jobs.c.resource_id == resource_id,
                                                         processing_jobs.c.kind == kind).values(**values))

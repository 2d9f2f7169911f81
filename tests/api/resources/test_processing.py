"""How the API folds the job ledger into resources: progress while jobs run, renditions and
`pending_review` when they all finish, `failed` with the first reason when one fails; and
garbage collection keeps processing outputs exactly as long as their asset exists."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import event, select, update

from services.api.resources import processing
from services.api.uploads import gc
from services.common.jobs import JobKind, JobState, output_prefix, processing_jobs
from tests import media
from tests.api.uploads.test_tus import TUS, upload_file


@pytest.fixture
def lesson(client, factory, tmp_path):
    """A teacher's resource with one video attached: in processing, two jobs queued."""
    user = factory.user()
    factory.commit()
    headers = {**factory.headers(user), **TUS}
    location, _ = upload_file(client, headers, media.lesson_mp4(tmp_path / "l.mp4").read_bytes(), "第一课.mp4")
    created = client.post("/api/v1/resources", headers=headers, json={
        "title": "认识钟表", "kind": "micro_lesson", "upload_ids": [location.rstrip("/").rsplit("/", 1)[1]]})
    assert created.status_code == 201 and created.json()["status"] == "processing"
    return created.json()["id"], headers


def set_jobs(session, resource_id, kind, **values):
    session.execute(update(processing_jobs).where(processing_jobs.c.resource_id == resource_id,
                                                  processing_jobs.c.kind == kind).values(**values))
    session.commit()  # as a worker would; apply_finished_jobs starts its own transaction


def detail(client, resource_id, headers):
    return client.get(f"/api/v1/resources/{resource_id}", headers=headers).json()


def test_progress_then_renditions_and_review(client, session, lesson):
    resource_id, headers = lesson
    set_jobs(session, resource_id, JobKind.first_playable, state=JobState.done, progress=100,
             result={"kind": "hls", "prefix": "media/x/first_playable", "tracks": [], "files": ["index.m3u8"]})
    set_jobs(session, resource_id, JobKind.ladder, state=JobState.running, progress=50)
    processing.apply_finished_jobs(session)
    shown = detail(client, resource_id, headers)
    assert shown["status"] == "processing" and shown["progress"] == 55  # (1 × 100 + 9 × 50) / 10
    assert [r["job"] for r in shown["assets"][0]["renditions"]] == ["first_playable"]
    assert "files" not in shown["assets"][0]["renditions"][0]
    set_jobs(session, resource_id, JobKind.ladder, state=JobState.done, progress=100,
             result={"kind": "hls", "prefix": "media/x/ladder", "tracks": [], "poster": "poster.jpg", "files": []})
    assert processing.apply_finished_jobs(session)["moved"] == 1
    shown = detail(client, resource_id, headers)
    assert (shown["status"], shown["progress"]) == ("pending_review", 100)
    assert shown["assets"][0]["preview"]["kind"] == "hls" and "poster.jpg" in shown["assets"][0]["preview"]["url"]
    assert processing.apply_finished_jobs(session) == {"applied": 0, "moved": 0}  # idempotent


def test_a_job_that_ends_during_a_round_moves_its_resource_only_once_folded(client, session, lesson):
    """PostgreSQL shows each statement what committed before it: here the ladder ends (as the
    transcoder's commit would appear) right after the round has read which jobs ended."""
    resource_id, headers = lesson
    set_jobs(session, resource_id, JobKind.first_playable, state=JobState.done, progress=100,
             result={"kind": "hls", "prefix": "media/x/first_playable", "tracks": [], "files": []})
    set_jobs(session, resource_id, JobKind.ladder, state=JobState.running, progress=90)
    ladder = {"kind": "hls", "prefix": "media/x/ladder", "tracks": [], "files": []}

    @event.listens_for(session, "do_orm_execute")
    def ladder_ends_after_the_first_read(state):  # type: ignore[no-untyped-def]
        if state.is_select and not state.session.info.get("ladder_ended"):
            state.session.info["ladder_ended"] = True
            rows = state.invoke_statement().freeze()  # read to the end before the update
            state.session.execute(update(processing_jobs).where(
                processing_jobs.c.resource_id == resource_id, processing_jobs.c.kind == JobKind.ladder)
                .values(state=JobState.done, progress=100, result=ladder))
            return rows()
        return None

    try:
        assert processing.apply_finished_jobs(session) == {"applied": 1, "moved": 0}
    finally:
        event.remove(session, "do_orm_execute", ladder_ends_after_the_first_read)
    shown = detail(client, resource_id, headers)
    assert shown["status"] == "processing" and [r["job"] for r in shown["assets"][0]["renditions"]] == ["first_playable"]
    assert processing.apply_finished_jobs(session) == {"applied": 1, "moved": 1}
    shown = detail(client, resource_id, headers)
    assert shown["status"] == "pending_review"
    assert [r["job"] for r in shown["assets"][0]["renditions"]] == ["first_playable", "ladder"]


def test_one_failed_job_fails_the_resource_with_its_reason(client, session, lesson):
    resource_id, headers = lesson
    set_jobs(session, resource_id, JobKind.first_playable, state=JobState.done, result={"skipped": "not H.264"})
    set_jobs(session, resource_id, JobKind.ladder, state=JobState.failed, error="no video stream / 没有视频流")
    processing.apply_finished_jobs(session)
    shown = detail(client, resource_id, headers)
    assert shown["status"] == "failed" and shown["failure_reason"] == "no video stream / 没有视频流"
    assert shown["assets"][0]["renditions"] == []  # a skipped job adds nothing


def test_garbage_collection_keeps_outputs_of_live_assets_only(client, app, session, lesson):
    resource_id, headers = lesson
    asset_id = detail(client, resource_id, headers)["assets"][0]["id"]
    store = app.state.blob_store
    kept = f"{output_prefix(asset_id, JobKind.ladder)}/t0/240p/seg_00000.ts"
    gone = f"{output_prefix('0' * 26, JobKind.ladder)}/t0/240p/seg_00000.ts"  # a deleted asset's
    for key in (kept, gone):
        store.put(key, io.BytesIO(b"ts"), length=2, content_type="video/mp2t")
    report = gc.collect_garbage(session, store=store, apply=True, stray_grace=timedelta(0))  # just put
    assert gone in report.stray_objects and kept not in report.stray_objects
    assert store.exists(kept) and not store.exists(gone)
    assert session.scalar(select(processing_jobs.c.id).where(processing_jobs.c.resource_id == resource_id))

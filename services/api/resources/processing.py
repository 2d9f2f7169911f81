"""A resource's media processing, as the API sees it: jobs queued in the ledger when files are
attached, and finished jobs folded back into assets, progress and status.

The transcoder never touches resources: it finishes ledger rows (services/common/jobs.py), and
`apply_finished_jobs` (run by the API's media janitor every few seconds) turns them into
renditions and, once every job of a resource has ended, `processed` or `processing_failed`.
"""
from __future__ import annotations

from itertools import groupby
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.api.resources.models import Asset, Resource, ResourceStatus, changed_for_search
from services.api.resources.status import ResourceEvent, apply_event
from services.api.uploads.models import Blob
from services.common import jobs
from services.common.jobs import JobKind, JobState, processing_jobs
from services.common.renditions import Output, ResultInvalid, read_result, replace_rendition

log = structlog.get_logger(__name__)

# The jobs each category of file gets.
JOBS_FOR_CATEGORY = {"video": (JobKind.first_playable, JobKind.ladder), "document": (JobKind.document,),
                     "image": (JobKind.image,), "audio": (JobKind.audio,)}
# How much of a resource's progress each kind of job stands for.
_WEIGHTS = {JobKind.first_playable: 1, JobKind.ladder: 9, JobKind.document: 3, JobKind.image: 1, JobKind.audio: 2}
_ENDED = (JobState.done, JobState.failed)


def queue_processing(session: Session, *, resource: Resource, added: list[Asset]) -> list[str]:
    """Queues the jobs the new assets need (in the caller's transaction) and, if any, moves the
    resource on to `processing`. Returns the job ids."""
    job_ids = []
    for asset in added:
        blob = session.get_one(Blob, asset.blob_id)
        for kind in JOBS_FOR_CATEGORY.get(asset.category, ()):
            job_ids.append(jobs.create_job(session.connection(), resource_id=resource.id, asset_id=asset.id,
                                           kind=kind, source_key=blob.key, source_media_type=asset.media_type))
    if job_ids and resource.status in (ResourceStatus.draft, ResourceStatus.uploading):
        apply_event(resource, ResourceEvent.uploads_complete)
    return job_ids


def apply_finished_jobs(session: Session) -> dict[str, int]:
    """Folds ended jobs into their assets, updates the progress of resources in processing, and
    moves on those whose jobs have all ended. Commits; idempotent. Reads the jobs, then writes
    what they ended as: give it a writer session (`services.common.db.writer_session`).

    Safe in several API processes at once. Each asset is locked and read afresh before its jobs
    are claimed and folded, in asset order: a second process waits for the first to commit, then
    finds those jobs taken and the renditions list as the first left it. So each job is folded
    once, and no process writes the list without another's fold or waits on another in a cycle.
    (On SQLite the writer session already runs one round at a time.)"""
    ended = session.execute(select(processing_jobs).where(processing_jobs.c.applied.is_(False),
                                                          processing_jobs.c.state.in_(_ENDED))
                            .order_by(processing_jobs.c.asset_id, processing_jobs.c.id)).all()
    applied = 0
    for asset_id, jobs_of_asset in groupby(ended, key=lambda job: job.asset_id):
        asset = session.get(Asset, asset_id, with_for_update=True, populate_existing=True)
        for job in jobs_of_asset:
            claimed = session.execute(update(processing_jobs).where(
                processing_jobs.c.id == job.id, processing_jobs.c.applied.is_(False)).values(applied=True)).rowcount
            if not claimed:
                continue  # folded by another process while this one waited for the asset
            applied += 1
            if asset is None or job.state is not JobState.done or not job.result:
                continue
            try:
                result = read_result(job.kind, job.result)
            except ResultInvalid as error:
                _fail_unreadable(session, job_id=job.id, kind=job.kind, error=error)
                continue
            if isinstance(result, Output):  # not Skipped: a job with nothing to make adds nothing
                asset.renditions = replace_rendition(asset.renditions, result.as_rendition(job.kind.value))
                # Page text or a duration folded into a resource that is already out there (a
                # file added to a published resource, a job run again) changes its search document.
                resource = session.get(Resource, asset.resource_id)
                if resource is not None and resource.status is not ResourceStatus.processing:
                    changed_for_search(resource)
    # A job counts as ended once folded (`applied`), not when its state says so: on PostgreSQL
    # each statement sees what committed before it, so a job that ended after the read above
    # would otherwise move its resource on before its rendition is folded (seen in CI: a lesson
    # in review that played only its first playable, the ladder folded a round later).
    in_processing = select(Resource.id).where(Resource.status == ResourceStatus.processing)
    rows = session.execute(select(processing_jobs.c.resource_id, processing_jobs.c.kind, processing_jobs.c.state,
                                  processing_jobs.c.progress, processing_jobs.c.error, processing_jobs.c.applied)
                           .where(processing_jobs.c.resource_id.in_(in_processing))
                           .order_by(processing_jobs.c.created_at)).all()
    jobs_of: dict[str, list[Any]] = {}
    for row in rows:
        jobs_of.setdefault(row.resource_id, []).append(row)
    moved = 0
    # Locked, and only while still in processing: another process may have moved one on since.
    for resource in session.scalars(select(Resource).where(Resource.id.in_(list(jobs_of)),
                                                           Resource.status == ResourceStatus.processing)
                                    .order_by(Resource.id).with_for_update()
                                    .execution_options(populate_existing=True)):
        own = jobs_of[resource.id]
        if all(row.applied for row in own):
            failed = [row for row in own if row.state is JobState.failed]
            resource.progress = 100
            resource.failure_reason = failed[0].error if failed else None
            apply_event(resource, ResourceEvent.processing_failed if failed else ResourceEvent.processed)
            moved += 1
            continue
        total = sum(_WEIGHTS[row.kind] for row in own)
        progress = int(sum(_WEIGHTS[row.kind] * (100 if row.applied else row.progress) for row in own) / total)
        if progress != resource.progress:
            resource.progress = min(progress, 99)
    session.commit()
    return {"applied": applied, "moved": moved}


def _fail_unreadable(session: Session, *, job_id: str, kind: JobKind, error: ResultInvalid) -> None:
    """A finished job whose result this version cannot read (a damaged row, a worker of another
    version) ends failed with the reason, as a job that could not make its outputs: its resource
    fails with it rather than going to review without the rendition, or the fold stopping."""
    log.error("job_result_unreadable", job_id=job_id, kind=kind.value, problem=str(error))
    session.execute(update(processing_jobs).where(processing_jobs.c.id == job_id).values(
        state=JobState.failed, error=f"processing result unreadable / 处理结果无法读取: {error}"[:500]))

from __future__ import annotations


from fastapi import Request

from services.api.auth.deps import CurrentUser
from services.api.db import SessionDep
from services.api.moderation import service
from services.api.moderation.schemas import (DecisionCreate, DecisionRead, PolicyRead, PolicyUpdate, QueueItem,
                                             QueueRevision)
from services.api.pagination import Page, PageDep
from services.api.routing import api_router
from services.api.screening.service import automatic_checks

router = api_router("/moderation", tags=["moderation"])


@router.get("/queue", response_model=Page[QueueItem])
def review_queue(request: Request, session: SessionDep, caller: CurrentUser, paging: PageDep) -> Page[QueueItem]:
    """What awaits the caller's level and scope: resources in review, and published resources'
    pending revisions with their field-by-field changes."""
    total, entries = service.queue_page(session, actor=caller, paging=paging)
    checks = automatic_checks(session, store=request.app.state.blob_store, resources=[e.resource for e in entries])
    return Page(total=total, page=paging.page, size=paging.size, items=[
        QueueItem(id=r.id, title=r.title, kind=r.kind, subject=r.subject_code, grade=r.grade_code,
                  owner_id=r.owner_id, school_id=r.school_id, status=r.status, version=r.version,
                  submitted_at=e.revision.created_at if e.revision else r.updated_at, level=e.level,
                  appeal=r.review_excluded_id is not None,
                  revision=QueueRevision(id=e.revision.id, author_id=e.revision.author_id,
                                         created_at=e.revision.created_at, changes=e.revision.changes)
                  if e.revision else None,
                  changes=e.revision.changes if e.revision else [],
                  automatic_checks=[c.model_dump() for c in checks[r.id]])
        for e in entries for r in [e.resource]])


@router.post("/resources/{resource_id}/decision", response_model=DecisionRead)
def decide(session: SessionDep, caller: CurrentUser, resource_id: str, body: DecisionCreate) -> DecisionRead:
    """approve/reject apply to the pending revision of a published resource when it has one."""
    decision, resource = service.decide(session, actor=caller, resource_id=resource_id, action=body.action,
                                        reason_code=body.reason_code, note=body.note, revision_id=body.revision_id,
                                        expected_version=body.version)
    session.commit()
    return DecisionRead(id=decision.id, resource_id=resource_id, action=decision.action,
                        reason_code=decision.reason_code, note=decision.note,
                        status=resource.status, created_at=decision.created_at, level=decision.level,
                        revision_id=decision.revision_id, review_level=resource.review_level)


@router.get("/policy", response_model=PolicyRead)
def read_policy(session: SessionDep, caller: CurrentUser) -> PolicyRead:
    return PolicyRead.of(service.read_policy(session, actor=caller))


@router.put("/policy", response_model=PolicyRead)
def write_policy(session: SessionDep, caller: CurrentUser, body: PolicyUpdate) -> PolicyRead:
    """District administrators choose one level or two per kind of resource."""
    policy = service.write_policy(session, actor=caller, policy=body.levels)
    session.commit()
    return PolicyRead.of(policy)

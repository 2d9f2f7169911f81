from __future__ import annotations


from fastapi import Request

from services.api.auth.deps import CurrentUser
from services.api.db import SessionDep
from services.api.moderation import service
from services.api.moderation.schemas import DecisionCreate, DecisionRead, QueueItem
from services.api.pagination import Page, PageDep, fetch_page
from services.api.routing import api_router
from services.api.screening.service import automatic_checks

router = api_router("/moderation", tags=["moderation"])


@router.get("/queue", response_model=Page[QueueItem])
def review_queue(request: Request, session: SessionDep, caller: CurrentUser, paging: PageDep) -> Page[QueueItem]:
    total, resources = fetch_page(session, service.queue_query(actor=caller), paging)
    checks = automatic_checks(session, store=request.app.state.blob_store, resources=resources)
    return Page(total=total, page=paging.page, size=paging.size, items=[
        QueueItem(id=r.id, title=r.title, kind=r.kind, subject=r.subject_code, grade=r.grade_code,
                  owner_id=r.owner_id, school_id=r.school_id, submitted_at=r.updated_at,
                  automatic_checks=[c.model_dump() for c in checks[r.id]]) for r in resources])


@router.post("/resources/{resource_id}/decision", response_model=DecisionRead)
def decide(session: SessionDep, caller: CurrentUser, resource_id: str, body: DecisionCreate) -> DecisionRead:
    decision, resource = service.decide(session, actor=caller, resource_id=resource_id, action=body.action,
                              reason_code=body.reason_code, note=body.note)
    session.commit()
    return DecisionRead(id=decision.id, resource_id=resource_id, action=decision.action,
                        reason_code=decision.reason_code, note=decision.note,
                        status=resource.status, created_at=decision.created_at)

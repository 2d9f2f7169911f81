from __future__ import annotations

from fastapi import Request, status

from services.api.auth.deps import CurrentUser
from services.api.db import SessionDep
from services.api.pagination import Page, PageDep
from services.api.reports import service
from services.api.reports.schemas import (ReportCreate, ReportedResource, ReportEntry, ReportGroup, ReportRead,
                                          ResolutionCreate, ResolutionRead)
from services.api.routing import api_router

# Two audiences, one domain: anyone files a report on a resource; moderators work the list.
router = api_router(tags=["reports"])


@router.post("/resources/{resource_id}/reports", response_model=ReportRead, status_code=status.HTTP_201_CREATED)
def file_report(request: Request, session: SessionDep, caller: CurrentUser, resource_id: str,
                body: ReportCreate) -> ReportRead:
    report = service.file_report(session, actor=caller, resource_id=resource_id, reason=body.reason,
                                 detail=body.detail,
                                 hide_threshold=request.app.state.settings.api.reports_hide_threshold)
    session.commit()
    return ReportRead(id=report.id, resource_id=report.resource_id, reason=report.reason, detail=report.detail,
                      state=report.state, created_at=report.created_at)


@router.get("/moderation/reports", response_model=Page[ReportGroup])
def open_reports(session: SessionDep, caller: CurrentUser, paging: PageDep) -> Page[ReportGroup]:
    total, groups = service.open_groups(session, actor=caller, page=paging.page, size=paging.size)
    return Page(total=total, page=paging.page, size=paging.size, items=[
        ReportGroup(resource=ReportedResource(id=g.resource.id, title=g.resource.title, kind=g.resource.kind,
                                              status=g.resource.status, owner_id=g.resource.owner_id,
                                              school_id=g.resource.school_id),
                    open_reports=g.open_reports, reporters=g.reporters, reasons=g.reasons,
                    first_reported_at=g.first_reported_at, last_reported_at=g.last_reported_at,
                    reports=[ReportEntry(id=r.id, reason=r.reason, detail=r.detail, reporter_id=r.reporter_id,
                                         created_at=r.created_at) for r in g.reports])
        for g in groups])


@router.post("/moderation/reports/{resource_id}/resolution", response_model=ResolutionRead)
def resolve(session: SessionDep, caller: CurrentUser, resource_id: str, body: ResolutionCreate) -> ResolutionRead:
    resolution = service.resolve(session, actor=caller, resource_id=resource_id, outcome=body.outcome,
                                 note=body.note, take_down=body.take_down, reason_code=body.reason_code)
    session.commit()
    return ResolutionRead(resource_id=resource_id, outcome=resolution.outcome, resolved_reports=resolution.resolved,
                          status=resolution.resource.status, decision_id=resolution.decision_id)

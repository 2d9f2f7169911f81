from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import StreamingResponse

from services.api.audit import service
from services.api.audit.schemas import AuditEventRead, AuditFormat
from services.api.auth.deps import CurrentUser, require_role
from services.api.auth.principal import Principal
from services.api.db import SessionDep
from services.api.orgs.models import Role
from services.api.pagination import Page, PageDep, fetch_page
from services.api.routing import IsoDateTime, api_router
from services.common.db import writer_session

router = api_router(tags=["audit"])


@router.get("/audit", response_model=Page[AuditEventRead],
            responses={200: {"content": {"text/csv": {}}, "description": "JSON page, or CSV of every match"}})
def list_audit_events(request: Request, session: SessionDep, caller: CurrentUser, paging: PageDep,
                      actor: Annotated[str | None, Query(max_length=26)] = None,
                      action: Annotated[str | None, Query(max_length=64)] = None,
                      target_type: Annotated[str | None, Query(max_length=32)] = None,
                      target_id: Annotated[str | None, Query(max_length=64)] = None,
                      since: Annotated[IsoDateTime | None, Query(alias="from")] = None,
                      until: Annotated[IsoDateTime | None, Query(alias="to")] = None,
                      format: AuditFormat | None = None) -> Page[AuditEventRead] | StreamingResponse:  # noqa: A002
    """The district's audit trail, newest first, for district administrators only: it holds who
    signed in from where, and the moderators' own decisions, which it exists to oversee.
    `format=csv` (or `Accept: text/csv`) exports every match, oldest first, unpaginated."""
    require_role(caller, Role.district_admin)
    where = service.AuditFilter(actor_id=actor, action=action, target_type=target_type, target_id=target_id,
                                since=since, until=until)
    if format is AuditFormat.csv or (format is None and "text/csv" in request.headers.get("accept", "")):
        return _csv(request, caller=caller, where=where)
    total, events = fetch_page(session, service.events_query(district_id=caller.district_id, where=where), paging)
    return Page(total=total, page=paging.page, size=paging.size, items=[AuditEventRead.model_validate(e) for e in events])


def _csv(request: Request, *, caller: Principal, where: service.AuditFilter) -> StreamingResponse:
    sessions = request.app.state.sessionmaker
    district_id = caller.district_id
    # A bulk export of personal data is itself on the record. This GET's own session is a plain
    # reader (SQLite: it must not read and then write), so the row goes in through a writer.
    with writer_session(sessions) as session:
        service.record_export(session, actor_id=caller.user_id, district_id=district_id, where=where)
        session.commit()

    def body() -> Iterator[str]:
        yield "\ufeff"  # a BOM, so spreadsheet programs read the Chinese as UTF-8
        # The request's session is closed once the route returns; the export reads in its own.
        with sessions() as session:
            yield from service.export_csv(session, district_id=district_id, where=where)

    return StreamingResponse(body(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="audit.csv"'})

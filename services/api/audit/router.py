from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, ConfigDict

from services.api.audit import service
from services.api.auth.deps import CurrentUser, require_role
from services.api.db import SessionDep
from services.api.orgs.models import Role
from services.api.pagination import Page, PageDep
from services.api.routing import api_router

router = api_router(tags=["audit"])


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    at: datetime
    actor_id: str | None
    action: str
    target_type: str
    target_id: str
    details: dict[str, Any]


@router.get("/audit", response_model=Page[AuditEventRead])
def list_audit_events(session: SessionDep, caller: CurrentUser, paging: PageDep,
                      action: Annotated[str | None, Query(max_length=64)] = None) -> Page[AuditEventRead]:
    require_role(caller, Role.district_admin)
    total, events = service.list_events(session, district_id=caller.district_id, action=action,
                                        page=paging.page, size=paging.size)
    return Page(total=total, page=paging.page, size=paging.size, items=[AuditEventRead.model_validate(e) for e in events])

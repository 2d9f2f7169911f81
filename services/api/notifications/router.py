from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, Field

from services.api.auth.deps import CurrentUser
from services.api.db import SessionDep
from services.api.notifications import service
from services.api.notifications.schemas import MarkedRead, NotificationPage, NotificationRead
from services.api.pagination import PageDep, fetch_page
from services.api.routing import api_router

router = api_router("/me/notifications", tags=["notifications"])


class MarkRead(BaseModel):
    # None marks every unread notification of the caller.
    ids: Annotated[list[Annotated[str, Field(max_length=26)]], Field(max_length=100)] | None = None


@router.get("", response_model=NotificationPage)
def list_notifications(session: SessionDep, caller: CurrentUser, paging: PageDep,
                       unread_only: Annotated[bool, Query()] = False) -> NotificationPage:
    total, items = fetch_page(session, service.inbox_query(user_id=caller.user_id, unread_only=unread_only), paging)
    return NotificationPage(total=total, unread=service.unread_count(session, user_id=caller.user_id),
                            page=paging.page, size=paging.size,
                            items=[NotificationRead.model_validate(n) for n in items])


@router.post("/read", response_model=MarkedRead)
def mark_read(session: SessionDep, caller: CurrentUser, body: MarkRead) -> MarkedRead:
    marked = service.mark_read(session, user_id=caller.user_id, notification_ids=body.ids)
    session.commit()
    return MarkedRead(marked=marked, unread=service.unread_count(session, user_id=caller.user_id))

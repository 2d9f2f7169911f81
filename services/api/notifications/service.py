"""Telling users what happened to their things. `notify` is the one way to do it; callers
write it in the transaction of the event, so a rolled-back event leaves no notification."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from services.api.notifications.errors import NotificationNotFound
from services.api.notifications.models import EmailState, Notification
from services.api.orgs.models import User
from services.common.db import utcnow

TITLE_MAX = 200


def notify(session: Session, *, user_id: str, kind: str, title: str, body: str = "",
           resource_id: str | None = None, details: dict[str, Any] | None = None) -> Notification:
    """Adds a notification for `user_id`; it is emailed too when the user has an address (the
    mailer sends it after commit, and only when SMTP is configured)."""
    email = session.scalar(select(User.email).where(User.id == user_id))
    notification = Notification(user_id=user_id, kind=kind, title=title[:TITLE_MAX], body=body,
                                resource_id=resource_id, details=details or {},
                                email_state=EmailState.pending if email else EmailState.none)
    session.add(notification)
    return notification


def notify_many(session: Session, *, user_ids: set[str], kind: str, title: str, body: str = "",
                resource_id: str | None = None, details: dict[str, Any] | None = None) -> None:
    for user_id in sorted(user_ids):
        notify(session, user_id=user_id, kind=kind, title=title, body=body, resource_id=resource_id,
               details=details)


def inbox_query(*, user_id: str, unread_only: bool) -> Select[tuple[Notification]]:
    query = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return query.order_by(Notification.created_at.desc(), Notification.id.desc())


def unread_count(session: Session, *, user_id: str) -> int:
    return session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


def mark_read(session: Session, *, user_id: str, notification_ids: list[str] | None) -> int:
    """Marks the caller's notifications read: these ids, or all of them when None. Marking an
    already read one again is harmless; an id that is not the caller's is not found."""
    query = update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if notification_ids is not None:
        owned = set(session.scalars(select(Notification.id).where(
            Notification.user_id == user_id, Notification.id.in_(notification_ids))))
        if owned != set(notification_ids):
            raise NotificationNotFound()
        query = query.where(Notification.id.in_(notification_ids))
    return session.execute(query.values(read_at=utcnow())).rowcount or 0

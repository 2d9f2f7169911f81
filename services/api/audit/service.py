from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.api.audit.models import AuditEvent


def record(session: Session, *, actor_id: str | None, district_id: str | None, action: str,
           target_type: str, target_id: str, **details: Any) -> AuditEvent:
    event = AuditEvent(actor_id=actor_id, district_id=district_id, action=action,
                       target_type=target_type, target_id=target_id, details=details)
    session.add(event)
    return event


def list_events(session: Session, *, district_id: str, action: str | None, page: int,
                size: int) -> tuple[int, list[AuditEvent]]:
    query = select(AuditEvent).where(AuditEvent.district_id == district_id)
    if action:
        query = query.where(AuditEvent.action == action)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    events = session.scalars(query.order_by(AuditEvent.id.desc()).offset((page - 1) * size).limit(size))
    return total, list(events)

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, StringConstraints

from services.api.moderation.models import ModerationAction, ReasonCode
from services.api.resources.models import ResourceKind, ResourceStatus


class DecisionCreate(BaseModel):
    action: ModerationAction
    reason_code: ReasonCode | None = None
    note: Annotated[str, StringConstraints(max_length=2000)] = ""


class DecisionRead(BaseModel):
    id: str
    resource_id: str
    action: ModerationAction
    reason_code: ReasonCode | None
    note: str
    status: ResourceStatus
    created_at: datetime


class QueueItem(BaseModel):
    id: str
    title: str
    kind: ResourceKind
    subject: str | None
    grade: str | None
    owner_id: str
    school_id: str | None
    submitted_at: datetime
    # Filled by the upload and transcoding checks as they land.
    automatic_checks: list[dict] = []

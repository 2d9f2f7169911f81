from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from services.api.moderation.models import ModerationAction, ReasonCode
from services.api.resources.models import ResourceKind, ResourceStatus, ReviewLevel


class DecisionCreate(BaseModel):
    action: ModerationAction
    reason_code: ReasonCode | None = None
    note: Annotated[str, StringConstraints(max_length=2000)] = ""
    # Optional: the pending revision decided on (refused if it is not the one pending), and the
    # resource version the reviewer looked at (refused if the resource changed since).
    revision_id: Annotated[str, StringConstraints(max_length=26)] | None = None
    version: Annotated[int, Field(ge=1)] | None = None


class DecisionRead(BaseModel):
    id: str
    resource_id: str
    action: ModerationAction
    reason_code: ReasonCode | None
    note: str
    status: ResourceStatus
    created_at: datetime
    level: ReviewLevel | None = None
    revision_id: str | None = None
    # The level the review now waits for (after a first-level approval), else null.
    review_level: ReviewLevel | None = None


class FieldChange(BaseModel):
    field: str
    before: Any
    after: Any


class QueueRevision(BaseModel):
    id: str
    author_id: str
    created_at: datetime
    changes: list[FieldChange]


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
    status: ResourceStatus | None = None
    version: int | None = None
    # The level this review waits for, and whether it is an appeal (the rejecter is not asked).
    level: ReviewLevel | None = None
    appeal: bool = False
    # A published resource's pending revision: what would change, field by field.
    revision: QueueRevision | None = None
    changes: list[FieldChange] = []


class PolicyRead(BaseModel):
    levels: dict[ResourceKind, Literal[1, 2]]

    @classmethod
    def of(cls, policy: dict[ResourceKind, int]) -> PolicyRead:
        return cls(levels=policy)  # type: ignore[arg-type]


class PolicyUpdate(BaseModel):
    """Kinds not named keep their setting."""
    levels: Annotated[dict[ResourceKind, Literal[1, 2]], Field(min_length=1)]

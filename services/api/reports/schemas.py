from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, StringConstraints

from services.api.moderation.models import ReasonCode
from services.api.reports.models import ReportReason, ReportState, ResolutionOutcome
from services.api.resources.models import ResourceKind, ResourceStatus


class ReportCreate(BaseModel):
    reason: ReportReason
    detail: Annotated[str, StringConstraints(max_length=2000)] = ""


class ReportRead(BaseModel):
    id: str
    resource_id: str
    reason: ReportReason
    detail: str
    state: ReportState
    created_at: datetime


class ReportEntry(BaseModel):
    """One open report as a moderator sees it."""

    id: str
    reason: ReportReason
    detail: str
    reporter_id: str
    created_at: datetime


class ReportedResource(BaseModel):
    id: str
    title: str
    kind: ResourceKind
    status: ResourceStatus
    owner_id: str
    school_id: str | None


class ReportGroup(BaseModel):
    """A resource's open reports: counts per reason, and the reports themselves (newest first)."""

    resource: ReportedResource
    open_reports: int
    reporters: int
    reasons: dict[ReportReason, int]
    first_reported_at: datetime
    last_reported_at: datetime
    reports: list[ReportEntry]


class ResolutionCreate(BaseModel):
    outcome: ResolutionOutcome
    note: Annotated[str, StringConstraints(max_length=2000)] = ""
    # Upheld: take the resource down (through the moderation decision) unless this is false.
    take_down: bool = True
    # The take-down's reason; by default the one most reports gave.
    reason_code: ReasonCode | None = None


class ResolutionRead(BaseModel):
    resource_id: str
    outcome: ResolutionOutcome
    resolved_reports: int
    status: ResourceStatus
    decision_id: str | None

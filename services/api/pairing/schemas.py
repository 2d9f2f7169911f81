from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.api.pairing.models import DEFAULT_GOAL_EXCHANGES, ActivityKind, ActivityStatus


class PairingCreate(BaseModel):
    helper_school_id: str = Field(max_length=26)
    assisted_school_id: str = Field(max_length=26)


class PairingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    helper_school_id: str
    assisted_school_id: str
    created_at: datetime


class PlanTeachers(BaseModel):
    helper: list[str] = Field(default_factory=list, max_length=50)
    assisted: list[str] = Field(default_factory=list, max_length=50)


class PlanUpdate(BaseModel):
    goal_exchanges: int = Field(DEFAULT_GOAL_EXCHANGES, ge=1, le=100)
    subjects: list[str] = Field(default_factory=list, max_length=30)
    teachers: PlanTeachers = Field(default_factory=PlanTeachers)


class PlanCreate(PlanUpdate):
    semester: str = Field(max_length=16, examples=["2026-fall"])


class PlanRead(BaseModel):
    id: str
    pairing_id: str
    semester: str
    goal_exchanges: int
    subjects: list[str]
    teachers: PlanTeachers
    created_at: datetime
    updated_at: datetime


class ActivityCreate(BaseModel):
    kind: ActivityKind
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    subject: str | None = Field(None, max_length=64)
    device_id: str | None = Field(None, max_length=26)
    # The assistance pack: resources shared with the assisted school, in this order.
    resource_ids: list[str] = Field(default_factory=list, max_length=50)
    teachers: list[str] = Field(default_factory=list, max_length=50)
    classes: list[str] = Field(default_factory=list, max_length=20)


class ActivityRead(BaseModel):
    id: str
    pairing_id: str
    semester: str
    kind: ActivityKind
    status: ActivityStatus
    starts_at: datetime
    ends_at: datetime
    subject: str | None
    device_id: str | None
    resource_ids: list[str]
    teachers: list[str]
    classes: list[str]
    recording_resource_id: str | None
    held_at: datetime | None
    cancelled_at: datetime | None


class ActivityStatusChange(BaseModel):
    event: Literal["mark_held", "cancel"]


class SchoolRef(BaseModel):
    id: str
    name: str


class ActivityLine(BaseModel):
    id: str
    kind: ActivityKind
    status: ActivityStatus
    starts_at: datetime
    subject: str | None
    recording_resource_id: str | None
    pack_size: int
    minutes_watched: float


class PairSummary(BaseModel):
    """How a pair stands in a semester: the district view's row, and the head of a pair's report."""
    pairing_id: str
    helper_school: SchoolRef
    assisted_school: SchoolRef
    semester: str
    goal_exchanges: int
    has_plan: bool
    planned: int          # activities not cancelled, held or not
    held: int             # exchanges held
    cancelled: int
    expected_by_now: int  # exchanges a pair on pro-rata pace has held by `as_of`
    below_goal: bool      # fewer held than the goal (so far)
    at_risk: bool         # inside the semester and behind the pro-rata pace
    minutes_watched: float  # by the assisted school, of what the pair's activities shared
    plays: int
    classrooms: int
    resources_shared: int
    resources_used: int   # shared resources the assisted school played


class PairReport(PairSummary):
    semester_starts: datetime
    semester_ends: datetime
    as_of: datetime
    subjects: list[str]
    activities: list[ActivityLine]


class DistrictReport(BaseModel):
    semester: str
    as_of: datetime
    pairs: list[PairSummary]

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from services.api.campaigns.models import (Aggregation, EntryStatus, LevelKind, ObjectionStatus, PackageStatus,
                                           RoundStatus)


class PartSpec(BaseModel):
    part: str = Field(min_length=1, max_length=32)
    required: bool = True
    kinds: list[str] = []
    formats: list[str] = []
    min_duration_s: float | None = None
    max_duration_s: float | None = None


class CategorySpec(BaseModel):
    name: str
    parts: list[PartSpec] = Field(min_length=1)


class Criterion(BaseModel):
    code: str = Field(min_length=1, max_length=32)
    name: str
    weight: float = Field(gt=0)
    min: float = 0
    max: float = 10


class LevelCreate(BaseModel):
    kind: LevelKind
    submission_opens_at: datetime
    submission_closes_at: datetime
    judging_closes_at: datetime
    publicity_days: int = Field(ge=0, le=60, default=7)
    judges_per_package: int = Field(ge=1, le=50, default=5)
    quotas: list[dict[str, Any]] = []


class CampaignCreate(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    categories: dict[str, CategorySpec] = Field(min_length=1)
    rubric: list[Criterion] = Field(min_length=1)
    aggregation: Aggregation = Aggregation.mean
    levels: list[LevelCreate] = Field(min_length=1, max_length=3)


class LevelRead(BaseModel):
    """One organisation's round at a level."""

    id: str
    position: int
    kind: LevelKind
    name: str
    district_id: str | None  # the district running the round, or
    region_id: str | None    # the city or province running it
    parent_id: str | None    # the round its promotions go to
    status: RoundStatus
    submission_opens_at: datetime
    submission_closes_at: datetime
    judging_closes_at: datetime
    publicity_days: int
    publicity_ends_at: datetime | None
    judges_per_package: int
    quotas: list[dict[str, Any]]


class CampaignRead(BaseModel):
    id: str
    title: str
    categories: dict[str, Any]
    rubric: list[dict[str, Any]]
    aggregation: Aggregation
    tie_break: str
    region_id: str | None  # the city or province running the campaign (None: one district's)
    levels: list[LevelRead]  # every round, level by level


class PackageCreate(BaseModel):
    category: str
    title: str = Field(min_length=1, max_length=200)
    items: dict[str, str] = {}


class PackageItems(BaseModel):
    items: dict[str, str]


class PartRead(BaseModel):
    part: str
    required: bool
    resource_id: str | None
    ok: bool
    problems: list[str]


class PackageRead(BaseModel):
    id: str
    campaign_id: str
    category: str
    title: str
    status: PackageStatus
    submitted_at: datetime | None
    items: dict[str, str]
    complete: bool
    parts: list[PartRead]


class PanelCreate(BaseModel):
    subject_code: str
    name: str
    judge_ids: list[str] = Field(min_length=1)


class PanelRead(BaseModel):
    id: str
    subject_code: str
    name: str
    judge_ids: list[str]


class AssignmentRead(BaseModel):
    id: str
    campaign_id: str
    level: str
    package_id: str
    title: str
    category: str
    subject_code: str | None
    scored: bool
    scores: dict[str, Any] | None


class JudgedFile(BaseModel):
    filename: str
    media_type: str
    duration_s: float | None
    url: str  # short-lived, signed


class JudgedPart(BaseModel):
    part: str
    resource_id: str
    title: str
    kind: str
    files: list[JudgedFile]


class CriterionScore(BaseModel):
    score: float
    comment: str = Field(default="", max_length=2000)


class ScoreSheet(BaseModel):
    scores: dict[str, CriterionScore]


class ScoredRead(BaseModel):
    id: str
    total: float


class PanelProgressRead(BaseModel):
    panel_id: str
    name: str
    subject_code: str
    judges: int
    assignments: int
    scored: int


class RankedRead(BaseModel):
    rank: int
    package_id: str
    title: str
    school_id: str
    score: float
    first_criterion: float
    judges: int
    status: EntryStatus
    entry_id: str


class RankingRead(BaseModel):
    aggregation: Aggregation
    tie_break: str
    items: list[RankedRead]


class Promotion(BaseModel):
    # Empty only for a round with nothing competing: it closes so the round above can start.
    package_ids: list[str]


class ObjectionCreate(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class Disqualification(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class EntryRead(BaseModel):
    id: str
    package_id: str
    status: EntryStatus


class ObjectionDecision(BaseModel):
    uphold: bool


class ObjectionRead(BaseModel):
    id: str
    entry_id: str
    status: ObjectionStatus


class CertificateRead(BaseModel):
    code: str
    award: str
    campaign: str
    title: str
    teacher: str
    school: str
    issued_at: datetime


class WinnerRead(BaseModel):
    level: str
    award: str
    rank: int | None
    score: float | None
    package_id: str
    title: str
    teacher: str
    school: str
    certificate_code: str


class ParticipationRead(BaseModel):
    school_id: str
    school: str
    teachers: int
    posted: int
    share: float
    posted_by: list[str]


ExportFormat = Literal["json", "csv", "xlsx"]

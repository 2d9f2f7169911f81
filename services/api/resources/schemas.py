from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from services.api.resources.models import License, ResourceKind, ResourceStatus, ReviewLevel, RevisionStatus, Visibility

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"[^\s\u0085]")]
Description = Annotated[str, StringConstraints(max_length=10_000)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32, pattern=r"[^\s\u0085]")]
EntityId = Annotated[str, StringConstraints(min_length=1, max_length=26)]


class _ResourceFields(BaseModel):
    description: Description = ""
    subject: Code | None = None
    stage: Code | None = None
    grade: Code | None = None
    edition: Code | None = None
    volume: Code | None = None
    chapter: Code | None = None
    knowledge_point_ids: Annotated[list[EntityId], Field(max_length=50)] = []
    tags: Annotated[list[Tag], Field(max_length=20)] = []
    visibility: Visibility = Visibility.school
    license: License = License.cc_by_nc_sa


class ResourceCreate(_ResourceFields):
    title: Title
    kind: ResourceKind
    upload_ids: Annotated[list[EntityId], Field(max_length=20)] = []


class ResourceUpdate(BaseModel):
    """Only the fields sent are changed; `null` clears an optional taxonomy link."""

    title: Title | None = None
    description: Description | None = None
    kind: ResourceKind | None = None
    subject: Code | None = None
    stage: Code | None = None
    grade: Code | None = None
    edition: Code | None = None
    volume: Code | None = None
    chapter: Code | None = None
    knowledge_point_ids: Annotated[list[EntityId], Field(max_length=50)] | None = None
    tags: Annotated[list[Tag], Field(max_length=20)] | None = None
    visibility: Visibility | None = None
    license: License | None = None
    # Files to add (finished uploads of the caller's); on a published resource, after review.
    upload_ids: Annotated[list[EntityId], Field(max_length=20)] | None = None


class ResourceCreated(BaseModel):
    id: str
    status: ResourceStatus


class KnowledgePointRef(BaseModel):
    id: str
    code: str
    name: str
    path: str


class PersonRef(BaseModel):
    id: str
    real_name: str


class SchoolRef(BaseModel):
    id: str
    name: str


class AssetRead(BaseModel):
    id: str
    role: str
    filename: str
    media_type: str
    category: str
    size: int
    sha256: str
    duration_s: float | None
    width: int | None
    height: int | None
    renditions: list[dict]
    preview: dict | None = None


class AssetsAdd(BaseModel):
    upload_ids: Annotated[list[EntityId], Field(min_length=1, max_length=20)]
    roles: Annotated[list[Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,32}$")]], Field(max_length=20)] | None = None


class ReviewRead(BaseModel):
    """The review as the owner sees it: `pending` (with the level it waits for), or the latest
    decision: approved, rejected, taken_down or restored, with the reviewer's reason and note."""

    status: str
    reason_code: str | None
    note: str | None
    decided_at: datetime | None
    level: ReviewLevel | None
    revision_id: str | None = None
    appealed: bool = False


class FieldChange(BaseModel):
    field: str
    before: Any
    after: Any


class RevisionDecision(BaseModel):
    action: str
    reason_code: str | None
    note: str
    level: ReviewLevel | None
    moderator_id: str
    decided_at: datetime


class RevisionRead(BaseModel):
    id: str
    created_at: datetime
    author: PersonRef
    changes: list[FieldChange]
    status: RevisionStatus
    decision: RevisionDecision | None


class ResourceRead(BaseModel):
    id: str
    title: str
    description: str
    kind: ResourceKind
    subject: str | None
    stage: str | None
    grade: str | None
    edition: str | None
    volume: str | None
    chapter: str | None
    knowledge_point_ids: list[str]
    knowledge_points: list[KnowledgePointRef]
    tags: list[str]
    visibility: Visibility
    license: License
    owner: PersonRef
    school: SchoolRef | None
    status: ResourceStatus
    failure_reason: str | None
    progress: int
    version: int
    assets: list[AssetRead]
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    # For the owner and those who administer or review it; null for everyone else.
    review: ReviewRead | None = None


class ResourceSummary(BaseModel):
    id: str
    title: str
    kind: ResourceKind
    subject: str | None
    grade: str | None
    visibility: Visibility
    status: ResourceStatus
    owner_id: str
    school_id: str | None
    created_at: datetime


class AppealCreate(BaseModel):
    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class AppealRead(BaseModel):
    resource_id: str
    status: ResourceStatus
    decision_id: str
    appealed_at: datetime

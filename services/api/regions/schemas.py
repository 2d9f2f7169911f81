from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.api.orgs.models import RegionKind
from services.api.orgs.schemas import Name


class RegionCreate(BaseModel):
    name: Name
    kind: RegionKind
    parent_id: str | None = Field(default=None, max_length=26)  # a city's province


class RegionUpdate(BaseModel):
    name: Name | None = None
    # A city moved to another province; null: the city stands alone.
    parent_id: str | None = Field(default=None, max_length=26)


class RegionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    kind: RegionKind
    parent_id: str | None
    created_at: datetime


class MemberRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str


class RegionDetail(RegionRead):
    """A region with what sits directly under it."""

    cities: list[MemberRead]
    districts: list[MemberRead]

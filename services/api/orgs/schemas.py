from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.api.auth.passwords import MIN_PASSWORD_LENGTH
from services.api.orgs.models import Role, SchoolKind

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"[^\s\u0085]")]
PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"[^\s\u0085]")]
Username = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")]
Password = Annotated[str, StringConstraints(min_length=MIN_PASSWORD_LENGTH, max_length=256)]
# Enough to tell an address from a typo; the SMTP server has the last word.
EmailAddress = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254,
                                                pattern=r"^[^@\s\u0085]+@[^@\s\u0085]+\.[^@\s\u0085]+$")]
# 1 Mbit/s to 100 Gbit/s: below the lower bound no rung of the ladder would play.
Bandwidth = Annotated[int, Field(ge=256, le=100_000_000)]


class DistrictCreate(BaseModel):
    name: Name


class DistrictRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str


class SchoolCreate(BaseModel):
    name: Name
    kind: SchoolKind
    bandwidth_kbps: Bandwidth
    district_id: str | None = Field(None, max_length=26)


class SchoolUpdate(BaseModel):
    name: Name | None = None
    kind: SchoolKind | None = None
    bandwidth_kbps: Bandwidth | None = None


class SchoolRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    kind: SchoolKind
    bandwidth_kbps: int
    district_id: str


class UserCreate(BaseModel):
    username: Username
    real_name: PersonName
    password: Password
    roles: Annotated[list[Role], Field(min_length=1, max_length=4)]
    school_id: str | None = Field(None, max_length=26)
    email: EmailAddress | None = None


class UserUpdate(BaseModel):
    real_name: PersonName | None = None
    roles: Annotated[list[Role], Field(min_length=1, max_length=4)] | None = None
    is_active: bool | None = None
    password: Password | None = None


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    username: str
    real_name: str
    roles: list[Role]
    school_id: str | None
    district_id: str
    email: str | None = None
    is_active: bool
    created_at: datetime


class Me(BaseModel):
    id: str
    username: str
    real_name: str
    roles: list[Role]
    school: SchoolRead | None
    district: DistrictRead

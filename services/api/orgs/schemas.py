from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

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


def _edge_url(value: str) -> str | None:
    """An http(s) base URL (scheme, host, optional port and path), without a trailing slash;
    empty: the school has no edge."""
    if not value:
        return None
    parts = urlsplit(value)
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok or parts.query or parts.fragment \
            or parts.username or parts.password or any(c.isspace() for c in value):
        raise ValueError("edge_url must be an http(s) URL such as http://edge.school.lan:8080")
    return value.rstrip("/")


# A school's edge cache; "" clears it. The pattern says in the schema what `_edge_url` accepts
# (scheme, host, a port from 1 to 65535, a path), so a client can tell before it asks.
_PORT = r"(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
EDGE_URL_PATTERN = rf"^$|^https?://[A-Za-z0-9.-]+(:{_PORT})?(/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?$"
EdgeUrl = Annotated[str, StringConstraints(max_length=255, pattern=EDGE_URL_PATTERN), AfterValidator(_edge_url)]


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
    edge_url: EdgeUrl | None = None


class SchoolRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    kind: SchoolKind
    bandwidth_kbps: int
    district_id: str
    edge_url: str | None = None


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

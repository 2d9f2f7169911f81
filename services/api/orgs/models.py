from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from services.api.db import Base, created_at_column, id_column
from services.common.db import EnumText


class SchoolKind(StrEnum):
    urban = "urban"
    town = "town"
    rural = "rural"
    teaching_point = "teaching_point"  # 教学点: a small village site, usually the weakest link


class Role(StrEnum):
    # Above the district (campaign levels), appointed by operators: `lb region appoint-admin`.
    city_admin = "city_admin"  # administers a city region (campaign rounds above the district)
    province_admin = "province_admin"  # administers a province region
    teacher = "teacher"
    school_admin = "school_admin"
    district_admin = "district_admin"
    moderator = "moderator"
    school_reviewer = "school_reviewer"  # reviews their own school's resources, at the first of two levels
    # Platform-wide: what all districts share (the taxonomy). Granted by `lb platform-admin` or by
    # another platform administrator, never by a district's.
    platform_admin = "platform_admin"


DEFAULT_STORAGE_QUOTA_BYTES = 200 * 1024**3


class RegionKind(StrEnum):
    city = "city"
    province = "province"


class Region(Base):
    """An organisation above the district (a city, a province), for campaign rounds."""

    __tablename__ = "regions"
    # Two cities (or two provinces) never share a name: people pick regions by name.
    __table_args__ = (Index("uq_regions_kind_name", "kind", "name", unique=True),)

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[RegionKind] = mapped_column(EnumText(RegionKind, 16))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("regions.id"), index=True)
    created_at: Mapped[datetime] = created_at_column()


class District(Base):
    __tablename__ = "districts"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # The city (or province) the district belongs to, if any.
    region_id: Mapped[str | None] = mapped_column(ForeignKey("regions.id"), index=True)
    created_at: Mapped[datetime] = created_at_column()


class School(Base):
    __tablename__ = "schools"

    id: Mapped[str] = id_column()
    district_id: Mapped[str] = mapped_column(ForeignKey("districts.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[SchoolKind] = mapped_column(EnumText(SchoolKind, 20))
    # The school's whole downlink: playback picks its starting rung from this.
    bandwidth_kbps: Mapped[int]
    # What the school's resources may occupy, counted per asset (a shared blob counts for each).
    storage_quota_bytes: Mapped[int] = mapped_column(BigInteger, default=DEFAULT_STORAGE_QUOTA_BYTES)
    created_at: Mapped[datetime] = created_at_column()
    # The school's edge cache (infra/edge/), e.g. http://edge.school.lan:8080: /play hands the
    # school's callers URLs through it. None: they play straight from the API.
    edge_url: Mapped[str | None] = mapped_column(String(255), default=None)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        # Teachers per school (participation statistics, migration 0024), read from the index
        # alone. PostgreSQL cannot key a btree on `json`, so `roles` is an INCLUDE column there;
        # SQLite has no INCLUDE, so the migration makes it the last key column.
        Index("ix_users_district_school_active", "district_id", "school_id", "is_active", postgresql_include=["roles"]),
    )

    id: Mapped[str] = id_column()
    username: Mapped[str] = mapped_column(String(64), unique=True)
    real_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JSON)
    district_id: Mapped[str] = mapped_column(ForeignKey("districts.id"), index=True)
    # District staff may sit above any one school.
    school_id: Mapped[str | None] = mapped_column(ForeignKey("schools.id"), index=True)
    # Where notifications are emailed, when SMTP is configured; None: in the app only.
    email: Mapped[str | None] = mapped_column(String(254))
    is_active: Mapped[bool] = mapped_column(default=True)
    # The region a city_admin or province_admin administers.
    region_id: Mapped[str | None] = mapped_column(ForeignKey("regions.id"), index=True)
    # Bumped on disable and password change: access tokens carrying an older value stop working.
    token_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = created_at_column()

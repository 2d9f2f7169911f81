"""Campaigns (一师一优课 / 精品课): the rounds, the packages teachers post, the judging and the
results of each level, and the certificates that prove them."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.api.db import Base, created_at_column, id_column
from services.common.db import EnumText


class Aggregation(StrEnum):
    mean = "mean"
    trimmed_mean = "trimmed_mean"  # drops the highest and the lowest judge when there are three or more
    median = "median"


class LevelKind(StrEnum):
    district = "district"  # 县级 (county/district)
    city = "city"          # 市级
    province = "province"  # 省级


class RoundStatus(StrEnum):
    pending = "pending"      # a later level, waiting for the level below
    open = "open"            # posting (first level) or receiving promotions (later levels)
    judging = "judging"
    publicity = "publicity"  # 公示: the proposed list is public and objections may be filed
    final = "final"          # the results stand


class PackageStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"


class EntryStatus(StrEnum):
    competing = "competing"
    proposed = "proposed"          # on the level's publicity list
    promoted = "promoted"          # the results stand: on to the next level (or awarded at the last)
    not_promoted = "not_promoted"
    disqualified = "disqualified"  # an objection against it was upheld


class ObjectionStatus(StrEnum):
    open = "open"
    upheld = "upheld"
    dismissed = "dismissed"


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[str] = id_column()
    title: Mapped[str] = mapped_column(String(200))
    # A district's own campaign (one level): that district. A campaign run by a region: its
    # creator's district, where its audit rows are filed; `region_id` then names the region.
    district_id: Mapped[str] = mapped_column(ForeignKey("districts.id"), index=True)
    # The city or province running the campaign: every district under it takes part.
    region_id: Mapped[str | None] = mapped_column(ForeignKey("regions.id"), index=True)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    # {category code: {"name": ..., "parts": [{"part", "required", "kinds", "formats",
    #   "min_duration_s", "max_duration_s"}]}}
    categories: Mapped[dict[str, Any]] = mapped_column(JSON)
    # [{"code", "name", "weight", "min", "max"}]: the first criterion breaks ties.
    rubric: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    aggregation: Mapped[Aggregation] = mapped_column(EnumText(Aggregation, 16))
    created_at: Mapped[datetime] = created_at_column()


class CampaignLevel(Base):
    """One organisation's round at one level of a campaign (a district's, a city's, the
    province's): its windows, quotas, status, and the round above that its promotions go to.
    A level with several organisations (every district of a city) has one round each."""

    __tablename__ = "campaign_levels"
    __table_args__ = (UniqueConstraint("campaign_id", "position"),)

    id: Mapped[str] = id_column()
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    # The round's number within the campaign (unique). The column is still called `position`:
    # before rounds (migration 0025) a campaign had one round per level.
    ordinal: Mapped[int] = mapped_column("position")
    position: Mapped[int] = mapped_column("level_position")  # the level: 0, the district, the first
    kind: Mapped[LevelKind] = mapped_column(EnumText(LevelKind, 16))
    # Where the round's promotions go: the round of the organisation above (None: the last level).
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("campaign_levels.id"), index=True)
    # The organisation running the round: a district (position 0) or a region above it.
    district_id: Mapped[str | None] = mapped_column(ForeignKey("districts.id"))
    region_id: Mapped[str | None] = mapped_column(ForeignKey("regions.id"))
    name: Mapped[str] = mapped_column(String(100))
    status: Mapped[RoundStatus] = mapped_column(EnumText(RoundStatus, 16))
    # Posting (first level) and judging windows.
    submission_opens_at: Mapped[datetime]
    submission_closes_at: Mapped[datetime]
    judging_closes_at: Mapped[datetime]
    publicity_days: Mapped[int]
    publicity_ends_at: Mapped[datetime | None]
    judges_per_package: Mapped[int]
    # Quota rules (rules.py): [{"rule": "max_share", ...}, ...]
    quotas: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class CampaignPackage(Base):
    """What a teacher posts: parts taken from their own resources."""

    __tablename__ = "campaign_packages"

    id: Mapped[str] = id_column()
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    teacher_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), index=True)
    district_id: Mapped[str] = mapped_column(ForeignKey("districts.id"))
    status: Mapped[PackageStatus] = mapped_column(EnumText(PackageStatus, 16))
    # Copied from the main resource on submission, for the quota rules and the panels.
    stage_code: Mapped[str | None] = mapped_column(String(32))
    grade_code: Mapped[str | None] = mapped_column(String(32))
    subject_code: Mapped[str | None] = mapped_column(String(32))
    edition_code: Mapped[str | None] = mapped_column(String(32))
    knowledge_point: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()


class PackageItem(Base):
    __tablename__ = "campaign_package_items"
    __table_args__ = (UniqueConstraint("package_id", "part"),)

    id: Mapped[str] = id_column()
    package_id: Mapped[str] = mapped_column(ForeignKey("campaign_packages.id", ondelete="CASCADE"), index=True)
    part: Mapped[str] = mapped_column(String(32))
    resource_id: Mapped[str] = mapped_column(ForeignKey("resources.id"))
    # The resource's version when the package was submitted: a later version means it changed.
    resource_version: Mapped[int | None]


class Panel(Base):
    """Judges of one level and subject. A judge is anyone named here, in or out of the district."""

    __tablename__ = "campaign_panels"

    id: Mapped[str] = id_column()
    level_id: Mapped[str] = mapped_column(ForeignKey("campaign_levels.id", ondelete="CASCADE"), index=True)
    subject_code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    judge_ids: Mapped[list[str]] = mapped_column(JSON)


class Entry(Base):
    """A package at one level: its ranking and whether it goes on."""

    __tablename__ = "campaign_entries"
    __table_args__ = (UniqueConstraint("level_id", "package_id"),)

    id: Mapped[str] = id_column()
    level_id: Mapped[str] = mapped_column(ForeignKey("campaign_levels.id", ondelete="CASCADE"), index=True)
    package_id: Mapped[str] = mapped_column(ForeignKey("campaign_packages.id", ondelete="CASCADE"), index=True)
    status: Mapped[EntryStatus] = mapped_column(EnumText(EntryStatus, 16))
    score: Mapped[float | None]
    rank: Mapped[int | None]


class Assignment(Base):
    """One judge, one package, one level; scored once, per criterion."""

    __tablename__ = "campaign_assignments"
    __table_args__ = (UniqueConstraint("entry_id", "judge_id"), Index("ix_campaign_assignments_level", "level_id"))

    id: Mapped[str] = id_column()
    level_id: Mapped[str] = mapped_column(ForeignKey("campaign_levels.id", ondelete="CASCADE"))
    entry_id: Mapped[str] = mapped_column(ForeignKey("campaign_entries.id", ondelete="CASCADE"), index=True)
    panel_id: Mapped[str] = mapped_column(ForeignKey("campaign_panels.id", ondelete="CASCADE"), index=True)
    judge_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    # {criterion code: {"score": float, "comment": str}}
    scores: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The weighted total on the rubric's scale, and the tie-break criterion's score.
    total: Mapped[float | None]
    first_criterion: Mapped[float | None]
    scored_at: Mapped[datetime | None]


class Objection(Base):
    __tablename__ = "campaign_objections"

    id: Mapped[str] = id_column()
    entry_id: Mapped[str] = mapped_column(ForeignKey("campaign_entries.id", ondelete="CASCADE"), index=True)
    filed_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[ObjectionStatus] = mapped_column(EnumText(ObjectionStatus, 16))
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()


class Certificate(Base):
    """An award; its code resolves at GET /api/v1/certificates/{code}."""

    __tablename__ = "campaign_certificates"

    id: Mapped[str] = id_column()
    code: Mapped[str] = mapped_column(String(16), unique=True)
    entry_id: Mapped[str] = mapped_column(ForeignKey("campaign_entries.id", ondelete="CASCADE"), unique=True)
    package_id: Mapped[str] = mapped_column(ForeignKey("campaign_packages.id", ondelete="CASCADE"), index=True)
    award: Mapped[str] = mapped_column(String(100))
    issued_at: Mapped[datetime] = created_at_column()

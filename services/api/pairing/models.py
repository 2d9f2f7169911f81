from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.api.db import Base, created_at_column, id_column
from services.common.db import EnumText, utcnow

# The district plan asks every pair for at least two online exchanges a semester.
DEFAULT_GOAL_EXCHANGES = 2


class Pairing(Base):
    __tablename__ = "pairings"
    __table_args__ = (
        UniqueConstraint("helper_school_id", "assisted_school_id"),
        CheckConstraint("helper_school_id <> assisted_school_id", name="distinct_schools"),
    )

    id: Mapped[str] = id_column()
    helper_school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), index=True)
    assisted_school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), index=True)
    created_by: Mapped[str] = mapped_column(String(26))
    created_at: Mapped[datetime] = created_at_column()


class PairingPlan(Base):
    """A pair's plan for one semester: how many exchanges, in which subjects, by whom."""

    __tablename__ = "pairing_plans"
    __table_args__ = (UniqueConstraint("pairing_id", "semester"),)

    id: Mapped[str] = id_column()
    pairing_id: Mapped[str] = mapped_column(ForeignKey("pairings.id", ondelete="CASCADE"), index=True)
    semester: Mapped[str] = mapped_column(String(16))  # services.api.semesters code, e.g. 2026-fall
    goal_exchanges: Mapped[int] = mapped_column(default=DEFAULT_GOAL_EXCHANGES)
    subjects: Mapped[list[str]] = mapped_column(JSON, default=list)  # subject codes
    helper_teacher_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    assisted_teacher_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(26))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ActivityKind(StrEnum):
    sync_class = "sync_class"                 # 同步课堂: taught live from the helper's recording classroom
    master_class = "master_class"             # 名师课堂
    joint_preparation = "joint_preparation"   # 集体备课


class ActivityStatus(StrEnum):
    planned = "planned"
    held = "held"
    cancelled = "cancelled"


class PairingActivity(Base):
    """One exchange between the two schools. A sync class books a slot on the helper's recording
    classroom (a TimetableSlot carrying this activity's id); the recording filed for that slot
    becomes `recording_resource_id`."""

    __tablename__ = "pairing_activities"
    __table_args__ = (Index("ix_pairing_activities_pairing_starts", "pairing_id", "starts_at"),)

    id: Mapped[str] = id_column()
    pairing_id: Mapped[str] = mapped_column(ForeignKey("pairings.id", ondelete="CASCADE"))
    semester: Mapped[str] = mapped_column(String(16))  # the semester starts_at falls in
    kind: Mapped[ActivityKind] = mapped_column(EnumText(ActivityKind, 32))
    status: Mapped[ActivityStatus] = mapped_column(EnumText(ActivityStatus, 16), default=ActivityStatus.planned)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    subject_code: Mapped[str | None] = mapped_column(ForeignKey("subjects.code"))
    device_id: Mapped[str | None] = mapped_column(ForeignKey("devices.id"))
    teacher_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    classes: Mapped[list[str]] = mapped_column(JSON, default=list)
    recording_resource_id: Mapped[str | None] = mapped_column(ForeignKey("resources.id", ondelete="SET NULL"))
    created_by: Mapped[str] = mapped_column(String(26))
    created_at: Mapped[datetime] = created_at_column()
    held_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]


class ActivityResource(Base):
    """The assistance pack an activity shares: resources in the order the helper chose."""

    __tablename__ = "pairing_activity_resources"

    activity_id: Mapped[str] = mapped_column(ForeignKey("pairing_activities.id", ondelete="CASCADE"),
                                             primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[str] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"), index=True)

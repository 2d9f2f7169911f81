from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from services.api.db import Base, created_at_column, id_column


class Device(Base):
    __tablename__ = "devices"

    id: Mapped[str] = id_column()
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), index=True)
    classroom: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    # Only a hash of the token is kept; the token itself is shown once, when the device is made.
    token_hash: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()


class TimetableSlot(Base):
    """One scheduled lesson in a device's classroom: who teaches what, to which class, when."""

    __tablename__ = "timetable_slots"
    __table_args__ = (Index("ix_timetable_slots_device_starts", "device_id", "starts_at"),)

    id: Mapped[str] = id_column()
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    teacher_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    subject_code: Mapped[str | None] = mapped_column(ForeignKey("subjects.code"))
    grade_code: Mapped[str | None] = mapped_column(ForeignKey("grades.code"))
    class_name: Mapped[str] = mapped_column(String(64), default="")
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    # Set when a pairing's synchronous class booked this slot: kept when the timetable is
    # replaced, and a recording filed for it is shared with the pair.
    activity_id: Mapped[str | None] = mapped_column(ForeignKey("pairing_activities.id", ondelete="CASCADE"),
                                                    index=True)


class UnmatchedRecording(Base):
    """A recording no timetable slot explains: it waits for the school administrator, never dropped."""

    __tablename__ = "unmatched_recordings"

    id: Mapped[str] = id_column()
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), index=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), index=True)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
    tracks: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    resource_id: Mapped[str | None] = mapped_column(ForeignKey("resources.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()

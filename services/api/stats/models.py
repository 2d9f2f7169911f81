"""Stored per-school participation figures of closed semesters (stats/snapshots.py says when they
are written, and what removes them)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from services.api.db import Base
from services.common.db import utcnow
from services.common.ids import ID_LENGTH

# `school_key`, `stage`, `subject` are part of the key, so they are never NULL: this stands for
# "all stages" / "all subjects", and for the district's own resources (staff with no school).
ALL = ""


class ParticipationSnapshot(Base):
    """One cell of a closed semester's published-resource figures: a school (or the district's
    own, `school_key` ""), cut by stage and subject ("" = all). The ("", "") cell of a school is
    written even when it is all zeros: it marks the school's figures as stored; the other cells
    only when something was published in them."""

    __tablename__ = "participation_snapshots"

    district_id: Mapped[str] = mapped_column(ForeignKey("districts.id", ondelete="CASCADE"), primary_key=True)
    semester: Mapped[str] = mapped_column(String(16), primary_key=True)
    school_key: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    stage: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), primary_key=True)
    publishing_teachers: Mapped[int]
    resources_published: Mapped[int]
    resources_played: Mapped[int]
    plays: Mapped[int]
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from services.api.db import Base, created_at_column, id_column
from services.common.db import EnumText


class ReportReason(StrEnum):
    copyright = "copyright"
    factual_error = "factual_error"
    inappropriate = "inappropriate"
    privacy = "privacy"
    other = "other"


class ReportState(StrEnum):
    open = "open"
    upheld = "upheld"
    dismissed = "dismissed"


class ResolutionOutcome(StrEnum):
    upheld = "upheld"
    dismissed = "dismissed"


_OPEN = text("state = 'open'")


class ResourceReport(Base):
    """One person's report of one resource. A person has at most one open report per resource
    (the partial unique index); once resolved, they may report it again."""

    __tablename__ = "resource_reports"
    __table_args__ = (
        Index("uq_resource_reports_open_per_reporter", "resource_id", "reporter_id", unique=True,
              sqlite_where=_OPEN, postgresql_where=_OPEN),
        Index("ix_resource_reports_district_state", "district_id", "state", "created_at"),
    )

    id: Mapped[str] = id_column()
    resource_id: Mapped[str] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"), index=True)
    reporter_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The resource's district, copied: moderators see the reports of their own district.
    district_id: Mapped[str] = mapped_column(ForeignKey("districts.id"))
    reason: Mapped[ReportReason] = mapped_column(EnumText(ReportReason, 32))
    detail: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[ReportState] = mapped_column(EnumText(ReportState, 16), default=ReportState.open)
    created_at: Mapped[datetime] = created_at_column()
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolution_note: Mapped[str] = mapped_column(Text, default="")
    # The moderation decision an upheld report led to, if it took the resource down.
    decision_id: Mapped[str | None] = mapped_column(String(26))

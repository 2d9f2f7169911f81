from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from services.api.db import Base, created_at_column, id_column
from services.api.resources.models import ResourceKind, ReviewLevel
from services.common.db import EnumText


class ModerationAction(StrEnum):
    approve = "approve"
    reject = "reject"
    take_down = "take_down"
    restore = "restore"


class ReasonCode(StrEnum):
    copyright = "copyright"
    inaccurate = "inaccurate"
    inappropriate = "inappropriate"
    low_quality = "low_quality"
    wrong_metadata = "wrong_metadata"
    duplicate = "duplicate"
    privacy = "privacy"
    other = "other"


class ModerationDecision(Base):
    __tablename__ = "moderation_decisions"

    id: Mapped[str] = id_column()
    resource_id: Mapped[str] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"), index=True)
    moderator_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    action: Mapped[ModerationAction] = mapped_column(EnumText(ModerationAction, 16))
    reason_code: Mapped[ReasonCode | None] = mapped_column(EnumText(ReasonCode, 32))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = created_at_column()
    # The pending revision decided on (None: the resource itself), and at which level.
    revision_id: Mapped[str | None] = mapped_column(ForeignKey("resource_revisions.id", ondelete="CASCADE"),
                                                    index=True)
    level: Mapped[ReviewLevel | None] = mapped_column(EnumText(ReviewLevel, 16))
    # Decided on an appeal (such a rejection is final), and the owner's appeal of this rejection.
    on_appeal: Mapped[bool] = mapped_column(default=False, server_default=false())
    appealed_at: Mapped[datetime | None]
    appeal_note: Mapped[str | None] = mapped_column(Text)


class ReviewPolicy(Base):
    """How many levels review a kind of resource in a district: 1 (district moderators) or 2
    (the owner's school reviewer, then the district). A kind without a row has one level."""

    __tablename__ = "review_policies"

    district_id: Mapped[str] = mapped_column(ForeignKey("districts.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[ResourceKind] = mapped_column(EnumText(ResourceKind, 32), primary_key=True)
    levels: Mapped[int]
    updated_by: Mapped[str | None] = mapped_column(String(26))
    updated_at: Mapped[datetime] = created_at_column()

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.api.db import Base, created_at_column, id_column
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

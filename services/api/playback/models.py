"""What was watched: one row per play a player reports, with how long it was watched."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from services.api.db import Base, created_at_column, id_column


class PlayRecord(Base):
    """A player's play of a resource: who, from which school and classroom, how many seconds
    (the most the player has reported for this play)."""

    __tablename__ = "play_records"
    __table_args__ = (Index("ix_play_records_resource_school", "resource_id", "school_id"),)

    id: Mapped[str] = id_column()
    resource_id: Mapped[str] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    school_id: Mapped[str | None] = mapped_column(ForeignKey("schools.id"), index=True)
    classroom: Mapped[str] = mapped_column(String(64), default="")
    started_at: Mapped[datetime] = created_at_column()
    seconds: Mapped[int] = mapped_column(default=0)

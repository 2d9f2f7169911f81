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


class ActivePlay(Base):
    """A play sharing its school's link now, for the start rung (docs/design.md, "A start that
    fits a shared link"): opened by `GET /resources/{id}/play`, kept alive by the player's
    progress reports (`play_id` once it reports). It counts while `seen_at` is within
    ACTIVE_PLAY_S; older rows count for nothing and the school's next play deletes them."""

    __tablename__ = "active_plays"
    __table_args__ = (Index("ix_active_plays_school_seen", "school_id", "seen_at"),
                      Index("ix_active_plays_user_resource", "user_id", "resource_id"))

    id: Mapped[str] = id_column()
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    resource_id: Mapped[str] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    play_id: Mapped[str | None] = mapped_column(ForeignKey("play_records.id", ondelete="CASCADE"), index=True)
    seen_at: Mapped[datetime] = created_at_column()

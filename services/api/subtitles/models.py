"""A subtitle track: one subtitle asset of a resource, in one language. The asset holds the file
as uploaded (WebVTT or SRT); this row says what it is to players and to search."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from services.api.db import Base, created_at_column, id_column


class SubtitleTrack(Base):
    __tablename__ = "subtitle_tracks"
    # One track per language and resource: a new file in a language replaces the one before.
    __table_args__ = (Index("uq_subtitle_tracks_resource_language", "resource_id", "language", unique=True),)

    id: Mapped[str] = id_column()
    resource_id: Mapped[str] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), unique=True)
    language: Mapped[str] = mapped_column(String(35))  # a BCP 47 tag in lower case: zh, en, zh-hant
    format: Mapped[str] = mapped_column(String(8))     # what was uploaded: vtt or srt (served as WebVTT)
    cue_count: Mapped[int]
    end_s: Mapped[float]                                # when the last cue ends
    created_at: Mapped[datetime] = created_at_column()

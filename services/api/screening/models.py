from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.api.db import Base, created_at_column, id_column
from services.common.db import utcnow


class SensitiveWord(Base):
    """One entry of a district's sensitive-word lexicon (敏感词库), kept as the administrator
    wrote it; matching normalises both sides (services/api/screening/lexicon.py)."""

    __tablename__ = "sensitive_words"
    __table_args__ = (UniqueConstraint("district_id", "word"),)

    id: Mapped[str] = id_column()
    district_id: Mapped[str] = mapped_column(ForeignKey("districts.id", ondelete="CASCADE"), index=True)
    word: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(50), default="")
    created_at: Mapped[datetime] = created_at_column()


class SensitiveLexicon(Base):
    """A district's lexicon as a whole: `revision` moves on every import, so a process knows
    when the matcher it built is stale without reading every word."""

    __tablename__ = "sensitive_lexicons"

    district_id: Mapped[str] = mapped_column(ForeignKey("districts.id", ondelete="CASCADE"), primary_key=True)
    revision: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class BlockedHash(Base):
    """The SHA-256 of a file that was taken down: the same bytes cannot come back under another
    name, anywhere on the platform, until the resource that put it here is restored."""

    __tablename__ = "blocked_hashes"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Where the block came from; no foreign key: the block outlives a deleted resource.
    resource_id: Mapped[str] = mapped_column(String(26), index=True)
    district_id: Mapped[str] = mapped_column(String(26))
    reason_code: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = created_at_column()

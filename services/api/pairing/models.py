from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.api.db import Base, created_at_column, id_column


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

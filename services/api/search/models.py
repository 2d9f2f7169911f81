from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.api.db import Base, created_at_column
from services.common.ids import ID_LENGTH


class SearchOutbox(Base):
    """A resource changed in a way search cares about; the relay deletes the row once the search
    service has the resource's state at least as new as `version`."""

    __tablename__ = "search_outbox"

    # BigInteger on PostgreSQL; SQLite autoincrements only an INTEGER PRIMARY KEY.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    # Not a foreign key: the row must outlive a deleted resource, to deliver its tombstone.
    resource_id: Mapped[str] = mapped_column(String(ID_LENGTH), index=True)
    version: Mapped[int]
    created_at: Mapped[datetime] = created_at_column()

"""The append-only log of administrative actions (审计日志), kept as a hash chain."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from services.api.db import Base, created_at_column, id_column


class AuditEvent(Base):
    """Written in the same transaction as the action it records; never updated or deleted.
    `seq`, `prev_hash` and `hash` link it into the one chain of all rows (audit/chain.py)."""

    __tablename__ = "audit_events"

    id: Mapped[str] = id_column()
    at: Mapped[datetime] = created_at_column()
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    district_id: Mapped[str | None] = mapped_column(String(26), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str] = mapped_column(String(64), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(Base):
    """One row: the last link of the chain. Every writer locks it (`FOR UPDATE`) to take the next
    `seq`, which keeps the chain linear on PostgreSQL; and `lb audit verify` compares it with the
    last row, so rows cut off the end do not go unnoticed."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column

from services.api.db import Base, created_at_column, id_column
from services.common.db import utcnow


class RefreshToken(Base):
    """One link of a rotating refresh-token chain; only a hash of the secret is kept."""

    __tablename__ = "refresh_tokens"

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()


class LoginFailure(Base):
    """Failed sign-ins (and ones whose password is being checked right now), counted per
    username and client address to throttle guessing (auth/throttle.py). Kept in the database so
    every API replica sees the same count."""

    __tablename__ = "login_failures"

    id: Mapped[str] = id_column()
    username: Mapped[str] = mapped_column(String(64), index=True)
    client_ip: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(index=True, default=utcnow)
    # Set once a refusal this failure caused is in the audit trail: a client hammering while it
    # waits gets one audit row per backoff, not one per request.
    throttle_noted: Mapped[bool] = mapped_column(default=False, server_default=false())

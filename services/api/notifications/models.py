from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.api.db import Base, created_at_column, id_column
from services.common.db import EnumText


class EmailState(StrEnum):
    none = "none"        # the user has no address, or mail is not configured
    pending = "pending"  # waits for the mailer
    sent = "sent"
    failed = "failed"    # the SMTP server refused it for good, or every attempt failed


class Notification(Base):
    """One message to one user, written in the same transaction as the event it tells of; the
    row doubles as the mail outbox, so a committed notification is never lost for email either."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at"),
                      Index("ix_notifications_email_state", "email_state"))

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # A dotted event name, e.g. review.rejected, report.resolved, revision.waiting, pairing.created.
    kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    resource_id: Mapped[str | None] = mapped_column(String(26))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = created_at_column()
    read_at: Mapped[datetime | None]
    email_state: Mapped[EmailState] = mapped_column(EnumText(EmailState, 16), default=EmailState.none)
    email_attempts: Mapped[int] = mapped_column(default=0)

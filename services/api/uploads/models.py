from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from services.api.db import Base, created_at_column, id_column
from services.common.db import EnumText, utcnow


class UploadStatus(StrEnum):
    receiving = "receiving"  # bytes still arriving
    complete = "complete"    # every byte arrived, passed its checks and is stored as a blob
    refused = "refused"      # every byte arrived and failed a check; nothing was kept
    expired = "expired"      # abandoned (or terminated); its partial bytes are gone


class Blob(Base):
    """Stored content, once per distinct sha256. Referenced by uploads and assets; a blob
    nothing references is an orphan for `lb blobs gc`."""

    __tablename__ = "blobs"

    id: Mapped[str] = id_column()
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    # Where the bytes live, so blobs can later move between backends.
    backend: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime] = created_at_column()


class Upload(Base):
    __tablename__ = "uploads"

    id: Mapped[str] = id_column()
    # Who sends the bytes: a signed-in user, or a recording classroom's device.
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    device_id: Mapped[str | None] = mapped_column(ForeignKey("devices.id"), index=True)
    school_id: Mapped[str | None] = mapped_column(ForeignKey("schools.id"), index=True)
    length: Mapped[int] = mapped_column(BigInteger)
    # Bytes received and durably kept; the only offset a client is ever told.
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    filename: Mapped[str] = mapped_column(String(255))
    declared_type: Mapped[str] = mapped_column(String(100), default="")
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    status: Mapped[UploadStatus] = mapped_column(EnumText(UploadStatus, 16), default=UploadStatus.receiving)
    refusal_code: Mapped[str | None] = mapped_column(String(64))
    # The multipart upload assembling the bytes in blob storage, and the parts it has so far.
    staging_key: Mapped[str] = mapped_column(String(512))
    multipart_id: Mapped[str | None] = mapped_column(String(200))
    parts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # What the checks found once complete.
    blob_id: Mapped[str | None] = mapped_column(ForeignKey("blobs.id"), index=True)
    media_type: Mapped[str | None] = mapped_column(String(100))
    category: Mapped[str | None] = mapped_column(String(16))
    probe: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # One PATCH at a time: a writer holds the lock until it finishes or the lease runs out.
    lock_token: Mapped[str | None] = mapped_column(String(32))
    locked_until: Mapped[datetime | None]
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

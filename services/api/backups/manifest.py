"""What a backup holds, written beside it as manifest.json: read by verify, restore and prune,
and by the next backup to skip the blobs it already has."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FORMAT = 1


class DatabaseDump(BaseModel):
    model_config = ConfigDict(frozen=True)

    # sqlite: a database file made with SQLite's online backup API; postgresql: `pg_dump -Fc`.
    kind: Literal["sqlite", "postgresql"]
    file: str
    sha256: str
    size: int


class BlobEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str  # where the platform's storage keeps it
    sha256: str  # where the backup keeps it: blobs/<sha256[:2]>/<sha256>
    size: int
    content_type: str
    # The storage's own etag when it was copied: with the key and size, what lets the next backup
    # take the blob as unchanged without reading it.
    etag: str = ""


class Manifest(BaseModel):
    model_config = ConfigDict(frozen=True)

    format: int = FORMAT
    id: str
    created_at: datetime
    finished_at: datetime
    schema_revision: str | None
    storage_backend: str
    database: DatabaseDump
    blobs: list[BlobEntry] = Field(default_factory=list)

    @property
    def blob_bytes(self) -> int:
        return sum(blob.size for blob in self.blobs)

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditFormat(StrEnum):
    json = "json"
    csv = "csv"


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    seq: int
    at: datetime
    actor_id: str | None
    district_id: str | None
    action: str
    target_type: str
    target_id: str
    details: dict[str, Any]
    prev_hash: str
    hash: str

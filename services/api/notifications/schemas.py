from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class NotificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    kind: str
    title: str
    body: str
    resource_id: str | None
    details: dict[str, Any]
    created_at: datetime
    read_at: datetime | None


class NotificationPage(BaseModel):
    total: int
    unread: int
    page: int
    size: int
    items: list[NotificationRead]


class MarkedRead(BaseModel):
    marked: int
    unread: int

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class PairingCreate(BaseModel):
    helper_school_id: str = Field(max_length=26)
    assisted_school_id: str = Field(max_length=26)


class PairingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    helper_school_id: str
    assisted_school_id: str
    created_at: datetime

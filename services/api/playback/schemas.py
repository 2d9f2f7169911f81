from __future__ import annotations

from pydantic import BaseModel, Field

from services.api.playback.service import MAX_PLAY_SECONDS


class PlayProgress(BaseModel):
    """What a player reports while it plays: the seconds watched so far in this play. The first
    report (no play_id) opens a play; later ones name it and may only raise its seconds."""
    seconds: int = Field(ge=0, le=MAX_PLAY_SECONDS)
    play_id: str | None = Field(None, max_length=26)
    classroom: str = Field("", max_length=64)


class PlayRecorded(BaseModel):
    play_id: str
    seconds: int

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"[^\s\u0085]")]
TrackRole = Annotated[str, StringConstraints(pattern=r"^(presenter|students|presentation|screen|composite|subtitle)$")]


class DeviceCreate(BaseModel):
    classroom: Short
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"[^\s\u0085]")]
    school_id: str | None = Field(None, max_length=26)


class DeviceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    school_id: str
    classroom: str
    name: str
    revoked_at: datetime | None
    last_seen_at: datetime | None


class DeviceCreated(DeviceRead):
    token: str  # shown once


class SlotIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    teacher: Short                      # username or user id of a teacher at the device's school
    subject: Short | None = None
    grade: Short | None = None
    class_name: Annotated[str, StringConstraints(max_length=64)] = ""
    start: AwareDatetime
    end: AwareDatetime


# Lessons a device's timetable may hold: a semester of a busy classroom is about 800.
MAX_SLOTS = 5000


class ScheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    slots: Annotated[list[SlotIn], Field(max_length=MAX_SLOTS)]


class SlotRead(BaseModel):
    teacher_id: str
    subject: str | None
    grade: str | None
    class_name: str
    start: datetime
    end: datetime


class ScheduleRead(BaseModel):
    device_id: str
    slots: list[SlotRead]


class TrackIn(BaseModel):
    role: TrackRole
    upload_id: Annotated[str, StringConstraints(min_length=1, max_length=26)]


class RecordingCreate(BaseModel):
    started_at: AwareDatetime
    ended_at: AwareDatetime
    tracks: Annotated[list[TrackIn], Field(min_length=1, max_length=8)]


class RecordingFiled(BaseModel):
    """Where a recording went: a teacher's draft resource, or the school administrator's inbox."""

    outcome: str  # "resource" | "inbox"
    resource_id: str | None = None
    inbox_id: str | None = None


class InboxItem(BaseModel):
    id: str
    device_id: str
    started_at: datetime
    ended_at: datetime
    tracks: list[dict]


class InboxAssign(BaseModel):
    teacher_id: Annotated[str, StringConstraints(min_length=1, max_length=26)]
    subject: Short | None = None
    grade: Short | None = None
    class_name: Annotated[str, StringConstraints(max_length=64)] = ""

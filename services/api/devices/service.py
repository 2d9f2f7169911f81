from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar
from pydantic import ValidationError
from sqlalchemy import Select, delete, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from services.api.audit import service as audit
from services.api.auth.errors import Forbidden
from services.api.auth.principal import Principal
from services.api.devices import recurrence
from services.api.devices.errors import (DeviceNotFound, InvalidDeviceToken, InvalidRecording, InvalidSchedule,
                                         RecordingNotFound, ScheduleTooLarge)
from services.api.devices.models import Device, TimetableSlot, UnmatchedRecording
from services.api.devices.schemas import MAX_SLOTS, ScheduleIn, SlotIn, TrackIn
from services.api.orgs import service as orgs
from services.api.orgs.models import Role, School, User
from services.api.pairing import activities
from services.api.resources import assets, processing
from services.api.resources.models import License, Resource, ResourceKind, ResourceStatus, Visibility
from services.api.taxonomy import service as taxonomy
from services.api.taxonomy.models import Grade, Subject
from services.api.uploads.uploader import Uploader
from services.common import text
from services.common.db import utcnow, write_apart

DEVICE_TOKEN_PREFIX = "lbd_"
# Timetables and titles are in the schools' own time.
SCHOOL_TIME = ZoneInfo("Asia/Shanghai")
# A weekly timetable in iCalendar is expanded this far ahead (a semester).
RECURRENCE_HORIZON = timedelta(days=140)


# --- devices and their tokens --------------------------------------------------------------

def register_device(session: Session, *, actor: Principal, school_id: str, classroom: str,
                    name: str) -> tuple[Device, str]:
    school = orgs.get_school(session, school_id=school_id, district_id=actor.district_id)
    _require_school_manager(actor, school)
    secret = secrets.token_urlsafe(32)
    device = Device(school_id=school.id, classroom=classroom, name=name, token_hash=_digest(secret),
                    created_by=actor.user_id)
    session.add(device)
    session.flush()
    audit.record(session, actor_id=actor.user_id, district_id=school.district_id, action="device.register",
                 target_type="device", target_id=device.id, classroom=classroom)
    return device, f"{DEVICE_TOKEN_PREFIX}{device.id}_{secret}"


def authenticate_device(session: Session, *, token: str) -> Device:
    device_id, _, secret = token.removeprefix(DEVICE_TOKEN_PREFIX).partition("_")
    device = session.get(Device, device_id) if device_id else None
    if device is None or device.revoked_at is not None or not hmac.compare_digest(device.token_hash, _digest(secret)):
        raise InvalidDeviceToken()
    # Apart: reading requests (a HEAD to resume an upload) authenticate devices too. Commits.
    seen = utcnow()
    write_apart(session, update(Device).where(Device.id == device.id).values(last_seen_at=seen))
    set_committed_value(device, "last_seen_at", seen)
    return device


def revoke_device(session: Session, *, actor: Principal, device_id: str) -> Device:
    device = get_managed_device(session, actor=actor, device_id=device_id)
    device.revoked_at = device.revoked_at or utcnow()
    audit.record(session, actor_id=actor.user_id, district_id=actor.district_id, action="device.revoke",
                 target_type="device", target_id=device.id)
    return device


def get_managed_device(session: Session, *, actor: Principal, device_id: str) -> Device:
    device = session.get(Device, device_id)
    school = session.get(School, device.school_id) if device else None
    if device is None or school is None or school.district_id != actor.district_id:
        raise DeviceNotFound()
    _require_school_manager(actor, school)
    return device


def devices_query(*, actor: Principal) -> Select[tuple[Device]]:
    query = select(Device).join(School, School.id == Device.school_id).where(School.district_id == actor.district_id)
    if not actor.is_district_admin:
        query = query.where(Device.school_id == actor.school_id)
    return query.order_by(Device.classroom, Device.id)


def _require_school_manager(actor: Principal, school: School) -> None:
    if actor.is_district_admin or (Role.school_admin in actor.roles and actor.school_id == school.id):
        return
    raise Forbidden()


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# --- timetables ----------------------------------------------------------------------------

def parse_schedule(raw: bytes, *, media_type: str) -> list[SlotIn]:
    """JSON `{"slots": [...]}`, or an iCalendar file whose events carry X-LB-TEACHER (username),
    X-LB-SUBJECT, X-LB-GRADE and X-LB-CLASS; weekly RRULEs are expanded for a semester."""
    media_type = media_type.split(";")[0].strip().lower()
    if b"\x00" in raw or text.json_has_nul(raw):  # iCalendar has no escape for NUL; JSON has \u0000
        raise InvalidSchedule(errors=[{"loc": ["body"], "msg": text.NUL_IN_TEXT["en"]}], count=1)
    if media_type == "text/calendar":
        return _parse_icalendar(raw)
    try:
        return ScheduleIn.model_validate_json(raw).slots
    except ValidationError as exc:
        raise InvalidSchedule(errors=[{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()[:50]],
                              count=exc.error_count()) from None


def _parse_icalendar(raw: bytes) -> list[SlotIn]:
    try:
        calendar = Calendar.from_ical(raw)
    except (ValueError, IndexError) as error:
        raise InvalidSchedule(errors=[{"loc": ["body"], "msg": f"not iCalendar: {error}"[:200]}], count=1) from None
    events = calendar.walk("VEVENT")
    if len(events) > MAX_SLOTS:
        raise ScheduleTooLarge(limit=MAX_SLOTS, days=RECURRENCE_HORIZON.days)
    slots, errors = [], []
    for index, event in enumerate(events):
        try:
            start, end = _aware(event.decoded("DTSTART")), _aware(event.decoded("DTEND"))
            fields = {"teacher": str(event.get("X-LB-TEACHER", "")), "subject": _text(event.get("X-LB-SUBJECT")),
                      "grade": _text(event.get("X-LB-GRADE")), "class_name": str(event.get("X-LB-CLASS", ""))}
            starts = [start]
            if "RRULE" in event:
                if isinstance(event["RRULE"], list):
                    raise recurrence.UnsupportedRule("one RRULE per event")
                # Bounded: within the horizon, and no more lessons than the timetable may have.
                starts = recurrence.occurrences(event["RRULE"], start=start, horizon=RECURRENCE_HORIZON,
                                                limit=MAX_SLOTS - len(slots))
            for occurrence in starts:
                slots.append(SlotIn(**fields, start=occurrence, end=occurrence + (end - start)))
        except (KeyError, ValueError, ValidationError) as error:
            errors.append({"loc": ["VEVENT", index], "msg": str(error)[:200]})
        if len(slots) > MAX_SLOTS:
            raise ScheduleTooLarge(limit=MAX_SLOTS, days=RECURRENCE_HORIZON.days)
    if errors:
        raise InvalidSchedule(errors=errors[:50], count=len(errors))
    return slots


def _aware(value: datetime | date) -> datetime:
    if not isinstance(value, datetime):
        raise ValueError("all-day events are not lessons")
    return value if value.tzinfo else value.replace(tzinfo=SCHOOL_TIME)


def _text(value: Any) -> str | None:
    return str(value) if value else None


def replace_schedule(session: Session, *, actor: Principal, device_id: str, slots: list[SlotIn]) -> int:
    """The device's timetable becomes exactly `slots` (all or nothing)."""
    device = get_managed_device(session, actor=actor, device_id=device_id)
    teachers = {u.username: u for u in session.scalars(select(User).where(User.school_id == device.school_id))}
    teachers.update({u.id: u for u in teachers.values()})
    # One look at each vocabulary, not one query per slot (a semester is hundreds of slots).
    subjects, grades = set(session.scalars(select(Subject.code))), set(session.scalars(select(Grade.code)))
    errors = []
    for index, slot in enumerate(slots):
        if slot.teacher not in teachers:
            errors.append({"loc": ["slots", index, "teacher"], "msg": f"no teacher {slot.teacher!r} at this school"})
        if slot.end <= slot.start or slot.end - slot.start > timedelta(hours=6):
            errors.append({"loc": ["slots", index, "end"], "msg": "a lesson ends after it starts, within 6 hours"})
        for field, code, known in (("subject", slot.subject, subjects), ("grade", slot.grade, grades)):
            if code is not None and code not in known:
                errors.append({"loc": ["slots", index, field], "msg": f"unknown {field} code {code!r}"})
    # Slots booked by pairing activities (synchronous classes) stay; the timetable fits around them.
    booked = session.scalars(select(TimetableSlot).where(TimetableSlot.device_id == device.id,
                                                         TimetableSlot.activity_id.is_not(None))).all()
    for index, slot in enumerate(slots):
        if any(b.starts_at < slot.end and b.ends_at > slot.start for b in booked):
            errors.append({"loc": ["slots", index, "start"], "msg": "overlaps a synchronous class booked by a pairing"})
    if errors:
        raise InvalidSchedule(errors=errors[:50], count=len(errors))
    session.execute(delete(TimetableSlot).where(TimetableSlot.device_id == device.id,
                                                TimetableSlot.activity_id.is_(None)))
    session.add_all(TimetableSlot(device_id=device.id, teacher_id=teachers[s.teacher].id, subject_code=s.subject,
                                  grade_code=s.grade, class_name=s.class_name, starts_at=s.start, ends_at=s.end)
                    for s in slots)
    session.flush()
    audit.record(session, actor_id=actor.user_id, district_id=actor.district_id, action="device.schedule_replace",
                 target_type="device", target_id=device.id, school_id=device.school_id, slots=len(slots))
    return len(slots)


def device_schedule(session: Session, *, actor: Principal, device_id: str) -> list[TimetableSlot]:
    device = get_managed_device(session, actor=actor, device_id=device_id)
    return list(session.scalars(select(TimetableSlot).where(TimetableSlot.device_id == device.id)
                                .order_by(TimetableSlot.starts_at)))


# --- recordings ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Filed:
    resource: Resource | None
    inbox: UnmatchedRecording | None


def file_recording(session: Session, *, device: Device, started_at: datetime, ended_at: datetime,
                   tracks: list[TrackIn]) -> Filed:
    """A device's recording becomes a draft lesson_recording of the teacher its timetable names;
    one no slot explains goes to the school administrator's inbox."""
    if ended_at <= started_at:
        raise InvalidRecording(reason="ended_at must be after started_at / 结束时间须晚于开始时间")
    if len({t.role for t in tracks}) != len(tracks):
        raise InvalidRecording(reason="each camera role once / 每个机位只能出现一次")
    _check_tracks(session, device=device, tracks=tracks)
    slot = _best_slot(session, device_id=device.id, started_at=started_at, ended_at=ended_at)
    if slot is None:
        inbox = UnmatchedRecording(device_id=device.id, school_id=device.school_id, started_at=started_at,
                                   ended_at=ended_at, tracks=[t.model_dump() for t in tracks])
        session.add(inbox)
        session.flush()
        return Filed(resource=None, inbox=inbox)
    # A pairing's synchronous class: the lesson is shared with the paired school and is the activity's.
    visibility = Visibility.paired if slot.activity_id else Visibility.school
    resource = _recording_resource(session, device=device, teacher_id=slot.teacher_id, subject=slot.subject_code,
                                   grade=slot.grade_code, class_name=slot.class_name, started_at=started_at,
                                   tracks=tracks, visibility=visibility)
    if slot.activity_id:
        activities.recording_filed(session, activity_id=slot.activity_id, resource=resource)
    return Filed(resource=resource, inbox=None)


def _check_tracks(session: Session, *, device: Device, tracks: list[TrackIn]) -> None:
    uploader = Uploader(user_id=None, device_id=device.id, school_id=device.school_id)
    assets.usable_uploads(session, owner=uploader, kind=ResourceKind.lesson_recording,
                          upload_ids=[t.upload_id for t in tracks])


def _best_slot(session: Session, *, device_id: str, started_at: datetime, ended_at: datetime) -> TimetableSlot | None:
    """The slot overlapping the recording most, if it covers at least half of the shorter of the two."""
    candidates = session.scalars(select(TimetableSlot).where(
        TimetableSlot.device_id == device_id, TimetableSlot.starts_at < ended_at,
        TimetableSlot.ends_at > started_at)).all()
    best, best_overlap = None, timedelta(0)
    for slot in candidates:
        overlap = min(slot.ends_at, ended_at) - max(slot.starts_at, started_at)
        needed = min(slot.ends_at - slot.starts_at, ended_at - started_at) / 2
        if overlap >= needed and overlap > best_overlap:
            best, best_overlap = slot, overlap
    return best


def _recording_resource(session: Session, *, device: Device, teacher_id: str, subject: str | None,
                        grade: str | None, class_name: str, started_at: datetime, tracks: list[TrackIn],
                        visibility: Visibility = Visibility.school) -> Resource:
    school = session.get_one(School, device.school_id)
    subject_name = session.scalar(select(Subject.name).where(Subject.code == subject)) if subject else None
    when = started_at.astimezone(SCHOOL_TIME).strftime("%Y-%m-%d %H:%M")
    title = " ".join(part for part in (class_name, subject_name, "课堂实录", when) if part)
    resource = Resource(title=title[:200], kind=ResourceKind.lesson_recording, description=f"{device.classroom} 自动录制",
                        subject_code=subject, grade_code=grade, tags=["录播"], visibility=visibility,
                        license=License.school_only, owner_id=teacher_id, school_id=school.id,
                        district_id=school.district_id, status=ResourceStatus.draft, assets=[])
    session.add(resource)
    session.flush()
    uploader = Uploader(user_id=None, device_id=device.id, school_id=device.school_id)
    # The presenter camera leads: players open it first.
    ordered = sorted(tracks, key=lambda t: (t.role != "presenter", t.role))
    added = assets.attach_uploads(session, owner=uploader, resource=resource,
                                  upload_ids=[t.upload_id for t in ordered], roles=[t.role for t in ordered])
    processing.queue_processing(session, resource=resource, added=added)
    audit.record(session, actor_id=None, district_id=school.district_id, action="resource.create",
                 target_type="resource", target_id=resource.id, title=resource.title, kind=resource.kind,
                 device_id=device.id, owner_id=teacher_id)
    return resource


def inbox_query(*, actor: Principal) -> Select[tuple[UnmatchedRecording]]:
    if not actor.has_any_role(Role.school_admin, Role.district_admin):
        raise Forbidden()
    query = (select(UnmatchedRecording).join(School, School.id == UnmatchedRecording.school_id)
             .where(School.district_id == actor.district_id, UnmatchedRecording.resource_id.is_(None)))
    if not actor.is_district_admin:
        query = query.where(UnmatchedRecording.school_id == actor.school_id)
    return query.order_by(UnmatchedRecording.started_at)


def assign_inbox_item(session: Session, *, actor: Principal, inbox_id: str, teacher_id: str, subject: str | None,
                      grade: str | None, class_name: str) -> Resource:
    item = session.get(UnmatchedRecording, inbox_id)
    if item is None or item.resource_id is not None or session.scalar(
            inbox_query(actor=actor).where(UnmatchedRecording.id == inbox_id)) is None:
        raise RecordingNotFound()
    teacher = session.get(User, teacher_id)
    if teacher is None or teacher.school_id != item.school_id:
        raise InvalidRecording(reason="the teacher must be at the recording's school / 须为本校教师")
    taxonomy.check_codes(session, subject=subject, grade=grade)
    device = session.get_one(Device, item.device_id)
    resource = _recording_resource(session, device=device, teacher_id=teacher.id, subject=subject, grade=grade,
                                   class_name=class_name, started_at=item.started_at,
                                   tracks=[TrackIn(**t) for t in item.tracks])
    item.resource_id = resource.id
    audit.record(session, actor_id=actor.user_id, district_id=actor.district_id, action="recording.assign",
                 target_type="resource", target_id=resource.id, teacher_id=teacher.id)
    return resource


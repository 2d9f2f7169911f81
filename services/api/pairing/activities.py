"""Exchange activities of a pair: synchronous classes booked on the helper's recording
classroom, master classes, joint lesson preparation; the packs they share; what they became."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from services.api import semesters
from services.api.audit import service as audit
from services.api.auth.errors import Forbidden
from services.api.auth.principal import Principal
from services.api.devices.models import Device, TimetableSlot
from services.api.notifications.service import notify_many
from services.api.orgs.models import Role, School, User
from services.api.pairing.errors import (ActivityNotFound, InvalidActivity, PackNotVisible, SlotTaken)
from services.api.pairing.models import ActivityKind, ActivityResource, Pairing, PairingActivity
from services.api.pairing.plans import plan_for
from services.api.pairing.service import administers_pairing, get_member_pairing, school_admin_ids
from services.api.pairing.status import ActivityEvent, apply_event
from services.api.resources.models import Resource
from services.api.resources.visibility import viewer_params, visible_to
from services.api.taxonomy.models import Subject

# A lesson, or a long joint preparation session; anything longer is a typo.
MAX_LENGTH = timedelta(hours=4)
MAX_PACK = 50
SCHOOL_TIME = semesters.SCHOOL_TIME


@dataclass(frozen=True)
class ActivityDraft:
    kind: ActivityKind
    starts_at: datetime
    ends_at: datetime
    subject: str | None
    device_id: str | None
    resource_ids: list[str]
    teacher_ids: list[str]
    classes: list[str]


def create_activity(session: Session, *, actor: Principal, pairing_id: str, draft: ActivityDraft) -> PairingActivity:
    """Checks everything before writing anything: bad fields (422), resources the caller cannot
    see (404), then a device slot already booked (409)."""
    pairing = get_member_pairing(session, actor=actor, pairing_id=pairing_id)
    device = _check(session, pairing=pairing, draft=draft)
    _check_pack(session, actor=actor, resource_ids=draft.resource_ids)
    slot_teacher = _slot_teacher(session, actor=actor, pairing=pairing, draft=draft) if device else None
    if device is not None:
        _check_free(session, device=device, starts_at=draft.starts_at, ends_at=draft.ends_at)
    activity = PairingActivity(pairing_id=pairing.id, semester=semesters.of(draft.starts_at).code, kind=draft.kind,
                               starts_at=draft.starts_at, ends_at=draft.ends_at, subject_code=draft.subject,
                               device_id=device.id if device else None, teacher_ids=draft.teacher_ids,
                               classes=draft.classes, created_by=actor.user_id)
    session.add(activity)
    session.flush()
    session.add_all(ActivityResource(activity_id=activity.id, position=i, resource_id=resource_id)
                    for i, resource_id in enumerate(draft.resource_ids))
    if device is not None and slot_teacher is not None:
        session.add(TimetableSlot(device_id=device.id, teacher_id=slot_teacher, subject_code=draft.subject,
                                  class_name=("、".join(draft.classes) or "同步课堂")[:64], starts_at=draft.starts_at,
                                  ends_at=draft.ends_at, activity_id=activity.id))
    session.flush()
    audit.record(session, actor_id=actor.user_id, district_id=actor.district_id, action="pairing.activity_create",
                 target_type="pairing_activity", target_id=activity.id, pairing_id=pairing.id, kind=draft.kind.value)
    _notify_schools(session, pairing=pairing, activity=activity)
    return activity


def _check(session: Session, *, pairing: Pairing, draft: ActivityDraft) -> Device | None:
    errors: list[dict[str, Any]] = []
    if draft.ends_at <= draft.starts_at or draft.ends_at - draft.starts_at > MAX_LENGTH:
        errors.append({"loc": ["body", "ends_at"], "msg": "an activity ends after it starts, within 4 hours"})
    if draft.subject is not None and session.scalar(select(Subject.id).where(Subject.code == draft.subject)) is None:
        errors.append({"loc": ["body", "subject"], "msg": f"unknown subject code {draft.subject!r}"})
    device = session.get(Device, draft.device_id) if draft.device_id else None
    if draft.device_id and (device is None or device.school_id != pairing.helper_school_id
                            or device.revoked_at is not None):
        errors.append({"loc": ["body", "device_id"], "msg": "not a recording classroom of the helper school"})
    if draft.kind is ActivityKind.sync_class and not draft.device_id:
        errors.append({"loc": ["body", "device_id"], "msg": "a synchronous class names the helper's recording classroom"})
    sides = (pairing.helper_school_id, pairing.assisted_school_id)
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(draft.teacher_ids)))}
    errors += [{"loc": ["body", "teachers", i], "msg": f"{user_id!r} is not a teacher of either school"}
               for i, user_id in enumerate(draft.teacher_ids)
               if user_id not in users or users[user_id].school_id not in sides or Role.teacher not in users[user_id].roles]
    if len(set(draft.resource_ids)) != len(draft.resource_ids):
        errors.append({"loc": ["body", "resource_ids"], "msg": "each resource once"})
    if errors:
        raise InvalidActivity(errors=errors[:50], count=len(errors))
    return device


def _check_pack(session: Session, *, actor: Principal, resource_ids: list[str]) -> None:
    if not resource_ids:
        return
    seen = set(session.scalars(select(Resource.id).where(Resource.id.in_(resource_ids), visible_to(actor)),
                               viewer_params(actor)))
    missing = [{"loc": ["body", "resource_ids", i], "msg": "no such resource, or you may not see it"}
               for i, resource_id in enumerate(resource_ids) if resource_id not in seen]
    if missing:
        raise PackNotVisible(errors=missing, count=len(missing))


def _slot_teacher(session: Session, *, actor: Principal, pairing: Pairing, draft: ActivityDraft) -> str:
    """Who the recording will belong to: the first named teacher of the helper school, else the
    plan's first helper teacher, else the caller when they teach there."""
    helpers = set(session.scalars(select(User.id).where(User.id.in_(draft.teacher_ids),
                                                        User.school_id == pairing.helper_school_id)))
    for user_id in draft.teacher_ids:
        if user_id in helpers:
            return user_id
    plan = plan_for(session, pairing_id=pairing.id, semester=semesters.of(draft.starts_at).code)
    if plan is not None and plan.helper_teacher_ids:
        return plan.helper_teacher_ids[0]
    if actor.school_id == pairing.helper_school_id and Role.teacher in actor.roles:
        return actor.user_id
    raise InvalidActivity(errors=[{"loc": ["body", "teachers"],
                                   "msg": "name a teacher of the helper school to teach from the classroom"}], count=1)


def _check_free(session: Session, *, device: Device, starts_at: datetime, ends_at: datetime) -> None:
    # The device row is locked first, so two bookings of one classroom cannot both pass on
    # PostgreSQL (SQLite's writer sessions already run one at a time).
    session.scalar(select(Device.id).where(Device.id == device.id).with_for_update())
    taken = session.scalars(select(TimetableSlot).where(
        TimetableSlot.device_id == device.id, TimetableSlot.starts_at < ends_at, TimetableSlot.ends_at > starts_at)
        .order_by(TimetableSlot.starts_at).limit(1)).first()
    if taken is not None:
        raise SlotTaken(starts_at=taken.starts_at.astimezone(SCHOOL_TIME).strftime("%Y-%m-%d %H:%M"),
                        ends_at=taken.ends_at.astimezone(SCHOOL_TIME).strftime("%H:%M"))


def _notify_schools(session: Session, *, pairing: Pairing, activity: PairingActivity) -> None:
    helper = session.get_one(School, pairing.helper_school_id)
    assisted = session.get_one(School, pairing.assisted_school_id)
    when = activity.starts_at.astimezone(SCHOOL_TIME).strftime("%Y-%m-%d %H:%M")
    notify_many(session, user_ids=school_admin_ids(session, school_ids=[helper.id, assisted.id]),
                kind="pairing.activity", title=f"结对帮扶活动：{helper.name} → {assisted.name} {when}",
                body=f"{_KIND_NAMES[activity.kind]}，{when} 开始", details={
                    "pairing_id": pairing.id, "activity_id": activity.id, "kind": activity.kind.value,
                    "starts_at": activity.starts_at.isoformat()})


_KIND_NAMES = {ActivityKind.sync_class: "同步课堂", ActivityKind.master_class: "名师课堂",
               ActivityKind.joint_preparation: "集体备课"}


def list_activities(session: Session, *, actor: Principal, pairing_id: str,
                    semester: str | None) -> list[PairingActivity]:
    pairing = get_member_pairing(session, actor=actor, pairing_id=pairing_id)
    query = select(PairingActivity).where(PairingActivity.pairing_id == pairing.id)
    if semester:
        query = query.where(PairingActivity.semester == semesters.parse(semester).code)
    return list(session.scalars(query.order_by(PairingActivity.starts_at, PairingActivity.id)))


def pack_of(session: Session, *, activity_ids: list[str]) -> dict[str, list[str]]:
    packs: dict[str, list[str]] = {activity_id: [] for activity_id in activity_ids}
    for row in session.scalars(select(ActivityResource).where(ActivityResource.activity_id.in_(activity_ids))
                               .order_by(ActivityResource.activity_id, ActivityResource.position)):
        packs[row.activity_id].append(row.resource_id)
    return packs


def change_status(session: Session, *, actor: Principal, pairing_id: str, activity_id: str,
                  event: ActivityEvent) -> PairingActivity:
    """An administrator marks an activity held, or an administrator or its creator cancels it
    (which frees the classroom slot it booked)."""
    pairing = get_member_pairing(session, actor=actor, pairing_id=pairing_id)
    activity = session.get(PairingActivity, activity_id)
    if activity is None or activity.pairing_id != pairing.id:
        raise ActivityNotFound()
    allowed = administers_pairing(actor, pairing) or (event is ActivityEvent.cancel
                                                      and activity.created_by == actor.user_id)
    if event is ActivityEvent.recording_filed or not allowed:
        raise Forbidden()
    apply_event(activity, event)
    if event is ActivityEvent.cancel:
        session.execute(delete(TimetableSlot).where(TimetableSlot.activity_id == activity.id))
    session.flush()
    audit.record(session, actor_id=actor.user_id, district_id=actor.district_id, action=f"pairing.activity_{event}",
                 target_type="pairing_activity", target_id=activity.id, pairing_id=pairing.id)
    return activity


def recording_filed(session: Session, *, activity_id: str, resource: Resource) -> None:
    """The helper's classroom filed the lesson of a slot this activity booked: the recording is
    the activity's, and the activity was held. Called by the device recording flow."""
    activity = session.get_one(PairingActivity, activity_id)
    activity.recording_resource_id = resource.id
    apply_event(activity, ActivityEvent.recording_filed)
    session.flush()

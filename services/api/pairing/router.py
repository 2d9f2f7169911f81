from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Query, Response, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.api import semesters
from services.api.auth.deps import CurrentUser
from services.api.db import SessionDep
from services.api.orgs.models import School
from services.api.pairing import activities, plans, printing, report, service
from services.api.pairing.models import PairingActivity, PairingPlan
from services.api.pairing.schemas import (ActivityCreate, ActivityRead, ActivityStatusChange, DistrictReport,
                                          PairingCreate, PairingRead, PairReport, PlanCreate, PlanRead, PlanTeachers,
                                          PlanUpdate)
from services.api.pairing.status import ActivityEvent
from services.common.db import utcnow
from services.api.pagination import Page, PageDep, fetch_page
from services.api.routing import api_router

router = api_router("/pairings", tags=["pairing"])


@router.post("", response_model=PairingRead, status_code=status.HTTP_201_CREATED)
def create_pairing(session: SessionDep, caller: CurrentUser, body: PairingCreate) -> PairingRead:
    pairing = service.create_pairing(session, actor=caller, helper_school_id=body.helper_school_id,
                                     assisted_school_id=body.assisted_school_id)
    session.commit()
    return PairingRead.model_validate(pairing)


@router.get("", response_model=Page[PairingRead])
def list_pairings(session: SessionDep, caller: CurrentUser, paging: PageDep,
                  school_id: str | None = None) -> Page[PairingRead]:
    district_schools = select(School.id).where(School.district_id == caller.district_id)
    total, pairings = fetch_page(session, service.pairings_query(school_ids=district_schools, school_id=school_id),
                                 paging)
    return Page(total=total, page=paging.page, size=paging.size,
                items=[PairingRead.model_validate(p) for p in pairings])


@router.delete("/{pairing_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_pairing(session: SessionDep, caller: CurrentUser, pairing_id: str) -> Response:
    service.delete_pairing(session, actor=caller, pairing_id=pairing_id)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- semester plans -------------------------------------------------------------------------

def _plan_read(plan: PairingPlan) -> PlanRead:
    return PlanRead(id=plan.id, pairing_id=plan.pairing_id, semester=plan.semester,
                    goal_exchanges=plan.goal_exchanges, subjects=plan.subjects,
                    teachers=PlanTeachers(helper=plan.helper_teacher_ids, assisted=plan.assisted_teacher_ids),
                    created_at=plan.created_at, updated_at=plan.updated_at)


@router.get("/{pairing_id}/plans", response_model=list[PlanRead])
def list_plans(session: SessionDep, caller: CurrentUser, pairing_id: str) -> list[PlanRead]:
    return [_plan_read(p) for p in plans.list_plans(session, actor=caller, pairing_id=pairing_id)]


@router.post("/{pairing_id}/plans", response_model=PlanRead, status_code=status.HTTP_201_CREATED)
def create_plan(session: SessionDep, caller: CurrentUser, pairing_id: str, body: PlanCreate) -> PlanRead:
    plan = plans.create_plan(session, actor=caller, pairing_id=pairing_id, semester=body.semester,
                             goal_exchanges=body.goal_exchanges, subjects=body.subjects,
                             helper_teacher_ids=body.teachers.helper, assisted_teacher_ids=body.teachers.assisted)
    session.commit()
    return _plan_read(plan)


@router.put("/{pairing_id}/plans/{semester}", response_model=PlanRead)
def replace_plan(session: SessionDep, caller: CurrentUser, pairing_id: str, semester: str,
                 body: PlanUpdate) -> PlanRead:
    plan = plans.replace_plan(session, actor=caller, pairing_id=pairing_id, semester=semester,
                              goal_exchanges=body.goal_exchanges, subjects=body.subjects,
                              helper_teacher_ids=body.teachers.helper, assisted_teacher_ids=body.teachers.assisted)
    session.commit()
    return _plan_read(plan)


# --- activities -----------------------------------------------------------------------------

def _activity_reads(session: Session, items: list[PairingActivity]) -> list[ActivityRead]:
    packs = activities.pack_of(session, activity_ids=[a.id for a in items])
    return [ActivityRead(id=a.id, pairing_id=a.pairing_id, semester=a.semester, kind=a.kind, status=a.status,
                         starts_at=a.starts_at, ends_at=a.ends_at, subject=a.subject_code, device_id=a.device_id,
                         resource_ids=packs[a.id], teachers=a.teacher_ids, classes=a.classes,
                         recording_resource_id=a.recording_resource_id, held_at=a.held_at,
                         cancelled_at=a.cancelled_at) for a in items]


@router.get("/{pairing_id}/activities", response_model=list[ActivityRead])
def list_activities(session: SessionDep, caller: CurrentUser, pairing_id: str,
                    semester: str | None = None) -> list[ActivityRead]:
    return _activity_reads(session, activities.list_activities(session, actor=caller, pairing_id=pairing_id,
                                                               semester=semester))


@router.post("/{pairing_id}/activities", response_model=ActivityRead, status_code=status.HTTP_201_CREATED)
def create_activity(session: SessionDep, caller: CurrentUser, pairing_id: str, body: ActivityCreate) -> ActivityRead:
    """A synchronous class books the helper's recording classroom for its time (409 when taken)."""
    draft = activities.ActivityDraft(kind=body.kind, starts_at=body.starts_at, ends_at=body.ends_at,
                                     subject=body.subject, device_id=body.device_id, resource_ids=body.resource_ids,
                                     teacher_ids=body.teachers, classes=body.classes)
    activity = activities.create_activity(session, actor=caller, pairing_id=pairing_id, draft=draft)
    session.commit()
    return _activity_reads(session, [activity])[0]


@router.post("/{pairing_id}/activities/{activity_id}/status", response_model=ActivityRead)
def change_activity_status(session: SessionDep, caller: CurrentUser, pairing_id: str, activity_id: str,
                           body: ActivityStatusChange) -> ActivityRead:
    """`mark_held` (administrators) or `cancel` (administrators, the activity's creator)."""
    activity = activities.change_status(session, actor=caller, pairing_id=pairing_id, activity_id=activity_id,
                                        event=ActivityEvent(body.event))
    session.commit()
    return _activity_reads(session, [activity])[0]


# --- semester reports -----------------------------------------------------------------------

ReportFormat = Literal["json", "csv", "pdf"]


def _file(content: bytes, *, media_type: str, filename: str) -> Response:
    return Response(content, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/report", response_model=DistrictReport, responses={200: {"content": {
    "text/csv": {}, "application/pdf": {}}}})
def district_report(session: SessionDep, caller: CurrentUser, semester: str, format: ReportFormat = "json",
                    as_of: Annotated[datetime | None, Query(description="default: now")] = None) -> object:
    """Every pair of the district in a semester; `at_risk` marks those behind the pro-rata pace."""
    result = report.district_report(session, actor=caller, semester=semester, as_of=_as_of(as_of))
    if format == "csv":
        return _file(printing.district_csv(result), media_type="text/csv; charset=utf-8",
                     filename=f"pairings-{result.semester}.csv")
    if format == "pdf":
        return _file(printing.district_pdf(result), media_type="application/pdf",
                     filename=f"pairings-{result.semester}.pdf")
    return result


@router.get("/{pairing_id}/report", response_model=PairReport, responses={200: {"content": {
    "text/csv": {}, "application/pdf": {}}}})
def pair_report(session: SessionDep, caller: CurrentUser, pairing_id: str, semester: str,
                format: ReportFormat = "json",
                as_of: Annotated[datetime | None, Query(description="default: now")] = None) -> object:
    result = report.pair_report(session, actor=caller, pairing_id=pairing_id, semester=semester,
                                as_of=_as_of(as_of))
    if format == "csv":
        return _file(printing.pair_csv(result), media_type="text/csv; charset=utf-8",
                     filename=f"pairing-{pairing_id}-{result.semester}.csv")
    if format == "pdf":
        return _file(printing.pair_pdf(result), media_type="application/pdf",
                     filename=f"pairing-{pairing_id}-{result.semester}.pdf")
    return result


def _as_of(value: datetime | None) -> datetime:
    if value is None:
        return utcnow()
    return value if value.tzinfo else value.replace(tzinfo=semesters.SCHOOL_TIME)

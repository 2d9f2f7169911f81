"""Assistance plans (帮扶计划): one per pair and semester, with its goal, subjects and teachers."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.api import semesters
from services.api.audit import service as audit
from services.api.auth.principal import Principal
from services.api.orgs.models import Role, User
from services.api.pairing.errors import InvalidPlan, PlanExists, PlanNotFound
from services.api.pairing.models import Pairing, PairingPlan
from services.api.pairing.service import get_member_pairing
from services.api.taxonomy.models import Subject


def create_plan(session: Session, *, actor: Principal, pairing_id: str, semester: str, goal_exchanges: int,
                subjects: list[str], helper_teacher_ids: list[str], assisted_teacher_ids: list[str]) -> PairingPlan:
    pairing = get_member_pairing(session, actor=actor, pairing_id=pairing_id)
    code = semesters.parse(semester, loc=["body", "semester"]).code
    _check(session, pairing=pairing, subjects=subjects, helper_teacher_ids=helper_teacher_ids,
           assisted_teacher_ids=assisted_teacher_ids)
    if plan_for(session, pairing_id=pairing.id, semester=code) is not None:
        raise PlanExists(semester=code)
    plan = PairingPlan(pairing_id=pairing.id, semester=code, goal_exchanges=goal_exchanges, subjects=subjects,
                       helper_teacher_ids=helper_teacher_ids, assisted_teacher_ids=assisted_teacher_ids,
                       created_by=actor.user_id)
    try:
        # A concurrent POST for the same semester loses on the unique constraint: a 409, not a 500.
        with session.begin_nested():
            session.add(plan)
            session.flush()
    except IntegrityError:
        raise PlanExists(semester=code) from None
    _audit(session, actor=actor, plan=plan, action="pairing.plan_create")
    return plan


def replace_plan(session: Session, *, actor: Principal, pairing_id: str, semester: str, goal_exchanges: int,
                 subjects: list[str], helper_teacher_ids: list[str], assisted_teacher_ids: list[str]) -> PairingPlan:
    pairing = get_member_pairing(session, actor=actor, pairing_id=pairing_id)
    code = semesters.parse(semester, loc=["path", "semester"]).code
    plan = plan_for(session, pairing_id=pairing.id, semester=code)
    if plan is None:
        raise PlanNotFound()
    _check(session, pairing=pairing, subjects=subjects, helper_teacher_ids=helper_teacher_ids,
           assisted_teacher_ids=assisted_teacher_ids)
    plan.goal_exchanges, plan.subjects = goal_exchanges, subjects
    plan.helper_teacher_ids, plan.assisted_teacher_ids = helper_teacher_ids, assisted_teacher_ids
    session.flush()
    _audit(session, actor=actor, plan=plan, action="pairing.plan_update")
    return plan


def list_plans(session: Session, *, actor: Principal, pairing_id: str) -> list[PairingPlan]:
    pairing = get_member_pairing(session, actor=actor, pairing_id=pairing_id)
    return sorted(session.scalars(select(PairingPlan).where(PairingPlan.pairing_id == pairing.id)),
                  key=lambda p: semesters.parse(p.semester))


def plan_for(session: Session, *, pairing_id: str, semester: str) -> PairingPlan | None:
    return session.scalar(select(PairingPlan).where(PairingPlan.pairing_id == pairing_id,
                                                    PairingPlan.semester == semester))


def _check(session: Session, *, pairing: Pairing, subjects: list[str], helper_teacher_ids: list[str],
           assisted_teacher_ids: list[str]) -> None:
    """Every problem at once, each located; nothing is written when there is one."""
    errors: list[dict[str, Any]] = []
    known = set(session.scalars(select(Subject.code).where(Subject.code.in_(subjects)))) if subjects else set()
    errors += [{"loc": ["body", "subjects", i], "msg": f"unknown subject code {code!r}"}
               for i, code in enumerate(subjects) if code not in known]
    if len(set(subjects)) != len(subjects):
        errors.append({"loc": ["body", "subjects"], "msg": "each subject once"})
    for side, school_id, ids in (("helper", pairing.helper_school_id, helper_teacher_ids),
                                 ("assisted", pairing.assisted_school_id, assisted_teacher_ids)):
        users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
        for i, user_id in enumerate(ids):
            user = users.get(user_id)
            if user is None or user.school_id != school_id or Role.teacher not in user.roles or not user.is_active:
                errors.append({"loc": ["body", "teachers", side, i],
                               "msg": f"{user_id!r} is not a teacher of the {side} school"})
        if len(set(ids)) != len(ids):
            errors.append({"loc": ["body", "teachers", side], "msg": "each teacher once"})
    if errors:
        raise InvalidPlan(errors=errors[:50], count=len(errors))


def _audit(session: Session, *, actor: Principal, plan: PairingPlan, action: str) -> None:
    audit.record(session, actor_id=actor.user_id, district_id=actor.district_id, action=action,
                 target_type="pairing", target_id=plan.pairing_id, semester=plan.semester,
                 goal_exchanges=plan.goal_exchanges)

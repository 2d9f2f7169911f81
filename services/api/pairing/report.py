"""The semester report of a pair (exchanges held against the goal, what the assisted school
watched of what was shared) and the district's view of every pair, with those falling behind."""
from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.api import semesters
from services.api.auth.errors import Forbidden
from services.api.auth.principal import Principal
from services.api.orgs.models import School
from services.api.pairing.activities import pack_of
from services.api.pairing.errors import PairingNotFound
from services.api.pairing.models import DEFAULT_GOAL_EXCHANGES, ActivityStatus, Pairing, PairingActivity, PairingPlan
from services.api.pairing.schemas import ActivityLine, DistrictReport, PairReport, PairSummary, SchoolRef
from services.api.pairing.service import get_member_pairing
from services.api.playback.models import PlayRecord


def pair_report(session: Session, *, actor: Principal | None, pairing_id: str, semester: str,
                as_of: datetime) -> PairReport:
    """`actor` None: the operator's command line, which sees every pair."""
    term = semesters.parse(semester)
    pairing = (get_member_pairing(session, actor=actor, pairing_id=pairing_id) if actor is not None
               else _pairing_or_404(session, pairing_id))
    plan = session.scalar(select(PairingPlan).where(PairingPlan.pairing_id == pairing.id,
                                                    PairingPlan.semester == term.code))
    activities = list(session.scalars(select(PairingActivity).where(
        PairingActivity.pairing_id == pairing.id, PairingActivity.semester == term.code)
        .order_by(PairingActivity.starts_at, PairingActivity.id)))
    packs = pack_of(session, activity_ids=[a.id for a in activities])
    shared_by_activity = {a.id: _shared(a, packs[a.id]) for a in activities}
    seconds = _seconds_watched(session, school_id=pairing.assisted_school_id, term=term,
                               resource_ids={r for ids in shared_by_activity.values() for r in ids})
    summary = _summary(session, pairing=pairing, term=term, plan=plan, activities=activities,
                       shared_by_activity=shared_by_activity, as_of=as_of)
    lines = [ActivityLine(id=a.id, kind=a.kind, status=a.status, starts_at=a.starts_at, subject=a.subject_code,
                          recording_resource_id=a.recording_resource_id, pack_size=len(packs[a.id]),
                          minutes_watched=_minutes(sum(seconds.get(r, (0, 0))[0] for r in shared_by_activity[a.id])))
             for a in activities]
    return PairReport(**summary.model_dump(), semester_starts=term.starts_at, semester_ends=term.ends_at,
                      as_of=as_of, subjects=plan.subjects if plan else [], activities=lines)


def district_report(session: Session, *, actor: Principal | None, semester: str, as_of: datetime) -> DistrictReport:
    """Every pair of the caller's district (district administrators only; every district for
    the operator), those behind first."""
    term = semesters.parse(semester)
    if actor is not None and not actor.is_district_admin:
        raise Forbidden()
    query = select(Pairing).join(School, School.id == Pairing.helper_school_id).order_by(Pairing.created_at)
    if actor is not None:
        query = query.where(School.district_id == actor.district_id)
    rows = []
    for pairing in session.scalars(query):
        rows.append(pair_report(session, actor=None, pairing_id=pairing.id, semester=term.code, as_of=as_of))
    pairs = [PairSummary(**{k: v for k, v in r.model_dump().items() if k in PairSummary.model_fields}) for r in rows]
    pairs.sort(key=lambda p: (not p.at_risk, not p.below_goal))  # stable: creation order within each group
    return DistrictReport(semester=term.code, as_of=as_of, pairs=pairs)


def _pairing_or_404(session: Session, pairing_id: str) -> Pairing:
    pairing = session.get(Pairing, pairing_id)
    if pairing is None:
        raise PairingNotFound()
    return pairing


def _shared(activity: PairingActivity, pack: list[str]) -> list[str]:
    """What an activity shared with the assisted school: its recording, then its pack."""
    if activity.status is ActivityStatus.cancelled:
        return []
    return ([activity.recording_resource_id] if activity.recording_resource_id else []) + pack


def _seconds_watched(session: Session, *, school_id: str, term: semesters.Semester,
                     resource_ids: set[str]) -> dict[str, tuple[int, int]]:
    """Per shared resource: (seconds the assisted school watched in the semester, plays)."""
    if not resource_ids:
        return {}
    rows = session.execute(select(PlayRecord.resource_id, func.sum(PlayRecord.seconds), func.count())
                           .where(PlayRecord.resource_id.in_(resource_ids), PlayRecord.school_id == school_id,
                                  PlayRecord.started_at >= term.starts_at, PlayRecord.started_at < term.ends_at)
                           .group_by(PlayRecord.resource_id))
    return {resource_id: (int(total or 0), int(count)) for resource_id, total, count in rows}


def _summary(session: Session, *, pairing: Pairing, term: semesters.Semester, plan: PairingPlan | None,
             activities: list[PairingActivity], shared_by_activity: dict[str, list[str]],
             as_of: datetime) -> PairSummary:
    goal = plan.goal_exchanges if plan else DEFAULT_GOAL_EXCHANGES
    held = sum(1 for a in activities if a.status is ActivityStatus.held)
    cancelled = sum(1 for a in activities if a.status is ActivityStatus.cancelled)
    # The pace: the goal spread evenly over the semester, rounded to whole exchanges (half up),
    # so a pair with a goal of 2 is due its first exchange a quarter of the way in and its
    # second three quarters of the way: late enough to be fair, early enough to act on.
    expected = math.floor(goal * term.elapsed_fraction(as_of) + 0.5)
    shared = {r for ids in shared_by_activity.values() for r in ids}
    watched = _seconds_watched(session, school_id=pairing.assisted_school_id, term=term, resource_ids=shared)
    classrooms = 0
    if watched:
        # A classroom is a named classroom player, or a person watching without one.
        place = func.coalesce(func.nullif(PlayRecord.classroom, ""), PlayRecord.user_id)
        classrooms = session.scalar(select(func.count(func.distinct(place))).where(
            PlayRecord.resource_id.in_(shared), PlayRecord.school_id == pairing.assisted_school_id,
            PlayRecord.started_at >= term.starts_at, PlayRecord.started_at < term.ends_at)) or 0
    helper, assisted = session.get_one(School, pairing.helper_school_id), session.get_one(School,
                                                                                         pairing.assisted_school_id)
    return PairSummary(
        pairing_id=pairing.id, helper_school=SchoolRef(id=helper.id, name=helper.name),
        assisted_school=SchoolRef(id=assisted.id, name=assisted.name), semester=term.code, goal_exchanges=goal,
        has_plan=plan is not None, planned=len(activities) - cancelled, held=held, cancelled=cancelled,
        expected_by_now=expected, below_goal=held < goal, at_risk=term.contains(as_of) and held < expected,
        minutes_watched=_minutes(sum(s for s, _ in watched.values())), plays=sum(n for _, n in watched.values()),
        classrooms=classrooms, resources_shared=len(shared), resources_used=len(watched))


def _minutes(seconds: int) -> float:
    return round(seconds / 60, 1)

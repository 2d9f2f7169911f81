"""Participation figures, computed by plain indexed SQL on each request (bench/stats.py measures
them at district scale: 1,000 schools, 50,000 teachers, 1,000,000 resources); a closed
semester's published-resource figures are stored instead (stats/snapshots.py says how they stay
equal to this count).

What each figure means, and what the platform does not record (yet):
- teachers: active accounts with the teacher role, by the school they belong to now;
- publishing teachers: active teachers owning a resource of the school first published in the
  semester (with the stage/subject filters) that is still published; a teacher counts for the
  school the resource was published at (one who moved and published at both counts at both),
  and the district's figure is the sum over its schools;
- resources published: resources of the school first published in the semester, still published;
- resources played / plays: of those, how many were played and how often, to date. The platform
  counts plays (`view_count`: a play link handed out) per resource for all time, not per day, so
  plays cannot be cut by semester; document previews and downloads (presigned URLs handed out by
  `/play`) are not counted at all;
- reviews pending: resources waiting for review now, whatever the semester, and their age since
  submission (the moderation queue's `submitted_at`, `updated_at`);
- pairings: the pairs each school is in, each with the exchange activities it held in the
  semester (status `held`, counted by the semester the activity starts in).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, case, cast, func, not_, or_, select
from sqlalchemy.orm import Session, aliased

from services.api.auth.principal import Principal
from services.api.orgs.errors import SchoolNotFound
from services.api.orgs.models import Role, School, User
from services.api.pagination import PageParams, fetch_page
from services.api.pairing.models import ActivityStatus, Pairing, PairingActivity
from services.api.resources.models import Resource, ResourceStatus
from services.api import semesters
from services.api.stats import snapshots
from services.api.stats.errors import StatisticsNotAllowed
from services.api.stats.schemas import (DistrictParticipation, Filters, Partner, PendingReviews,
                                        SchoolParticipation, SchoolsReport, SemesterRead)
from services.api.taxonomy.models import Stage, Subject
from services.common.problems import InvalidField

_UNKNOWN_CODE = {"zh-CN": "未知的{kind}代码：{value}", "en": "Unknown {kind} code: {value}"}


@dataclass(frozen=True, slots=True)
class Scope:
    """What the figures are cut by."""

    semester: semesters.Semester
    stage: str | None
    subject: str | None
    now: datetime

    def read(self) -> Filters:
        return Filters(semester=SemesterRead(code=self.semester.code, starts_at=self.semester.starts_at.astimezone(UTC),
                                             ends_at=self.semester.ends_at.astimezone(UTC)),
                       stage=self.stage, subject=self.subject)


def scope(session: Session, *, semester: str | None, stage: str | None, subject: str | None,
          now: datetime) -> Scope:
    """The filters of a request, checked: an unknown semester or code is a 422 naming the field.
    No semester means the one `now` falls in."""
    chosen = semesters.parse(semester, loc=["query", "semester"]) if semester is not None else semesters.of(now)
    for field, model, code in (("stage", Stage, stage), ("subject", Subject, subject)):
        if code is not None and session.scalar(select(model.id).where(model.code == code)) is None:
            raise InvalidField(loc=["query", field], msg=_UNKNOWN_CODE, kind=field, value=code)
    return Scope(semester=chosen, stage=stage, subject=subject, now=now)


# --- who may see what -----------------------------------------------------------------------

def require_district_viewer(actor: Principal) -> str:
    """The district whose totals the caller may see: district administrators', their own."""
    if not actor.is_district_admin:
        raise StatisticsNotAllowed()
    return actor.district_id


def require_school_viewer(actor: Principal) -> None:
    if not (actor.is_district_admin or (Role.school_admin in actor.roles and actor.school_id)):
        raise StatisticsNotAllowed()


def _visible_schools(actor: Principal) -> Select[tuple[School]]:
    require_school_viewer(actor)
    query = select(School).where(School.district_id == actor.district_id)
    if not actor.is_district_admin:  # a school administrator: their school only
        query = query.where(School.id == actor.school_id)
    return query.order_by(School.name, School.id)


# --- the reports ----------------------------------------------------------------------------

def district_participation(session: Session, *, actor: Principal, scope: Scope) -> DistrictParticipation:
    return district_figures(session, district_id=require_district_viewer(actor), scope=scope)


def schools_participation(session: Session, *, actor: Principal, scope: Scope,
                          paging: PageParams) -> SchoolsReport:
    total, schools = fetch_page(session, _visible_schools(actor), paging)
    return SchoolsReport(filters=scope.read(), total=total, page=paging.page, size=paging.size,
                         items=school_figures(session, schools=schools, scope=scope))


def all_schools_participation(session: Session, *, actor: Principal, scope: Scope) -> list[SchoolParticipation]:
    """Every school the caller may see, unpaginated (the CSV export)."""
    schools = list(session.scalars(_visible_schools(actor)))
    return school_figures(session, schools=schools, scope=scope, whole_district=actor.is_district_admin)


def school_participation(session: Session, *, actor: Principal, school_id: str, scope: Scope) -> SchoolParticipation:
    require_school_viewer(actor)
    school = session.get(School, school_id)
    if school is None or school.district_id != actor.district_id:
        raise SchoolNotFound()
    if not actor.is_district_admin and school.id != actor.school_id:
        raise StatisticsNotAllowed()
    return school_figures(session, schools=[school], scope=scope)[0]


# --- the figures ----------------------------------------------------------------------------

def _is_teacher() -> ColumnElement[bool]:
    # `roles` is a JSON list stored as text (SQLite) or json (PostgreSQL); both keep the quotes.
    return and_(User.is_active.is_(True), cast(User.roles, String).like(f'%"{Role.teacher.value}"%'))


def _teacher_count() -> ColumnElement[int]:
    # Counted in the aggregate, not filtered in WHERE: PostgreSQL has no statistics on the
    # LIKE over a cast, guesses that a handful of users match, and then plans nested loops
    # over what are in fact all 50,000 (measured: 8 s instead of 30 ms).
    return func.coalesce(func.sum(case((_is_teacher(), 1), else_=0)), 0)


def _not_teacher_ids(district_id: str) -> Select[tuple[str]]:
    """Owners whose resources do not make a publishing teacher: disabled accounts and staff
    without the teacher role. Few, so both databases hash them once and probe (NOT IN)."""
    return select(User.id).where(User.district_id == district_id, not_(_is_teacher()))


def _published_in(scope: Scope) -> list[ColumnElement[bool]]:
    conditions = [Resource.status == ResourceStatus.published,
                  Resource.published_at >= scope.semester.starts_at, Resource.published_at < scope.semester.ends_at]
    if scope.stage is not None:
        conditions.append(Resource.stage_code == scope.stage)
    if scope.subject is not None:
        conditions.append(Resource.subject_code == scope.subject)
    return conditions


def _pending(scope: Scope) -> list[ColumnElement[bool]]:
    conditions = [Resource.status == ResourceStatus.pending_review]
    if scope.stage is not None:
        conditions.append(Resource.stage_code == scope.stage)
    if scope.subject is not None:
        conditions.append(Resource.subject_code == scope.subject)
    return conditions


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


_Published = snapshots.Published
_NOTHING_PUBLISHED = snapshots.NOTHING


def _published_by_school(session: Session, *, where: list[ColumnElement[bool]], district_id: str,
                         few_owners: bool) -> dict[str | None, _Published]:
    """Published resources by school in one pass over the covering index: grouped by school and
    owner first (a few rows per teacher), then by school, so the teacher check runs once per
    owner and nothing is counted DISTINCT (PostgreSQL sorts for that; it hashes a GROUP BY).
    A teacher counts for the school their resource was published at (`school_id` is copied
    from the owner when it is created); one who moved and published at both counts at both."""
    per_owner = (select(Resource.school_id, Resource.owner_id, func.count().label("count"),
                        func.sum(case((Resource.view_count > 0, 1), else_=0)).label("played"),
                        func.sum(Resource.view_count).label("plays"))
                 .where(*where).group_by(Resource.school_id, Resource.owner_id).subquery())
    if few_owners:  # a page of schools: look each owner up by key
        # A scalar subquery, not EXISTS: PostgreSQL would hash an EXISTS over every user.
        teacher_owner = (select(_is_teacher()).where(User.id == per_owner.c.owner_id)
                         .correlate(per_owner).scalar_subquery())
    else:  # the whole district: hash the few who are not teachers once, probe for every owner
        teacher_owner = per_owner.c.owner_id.not_in(_not_teacher_ids(district_id))
    is_teacher = case((teacher_owner, 1), else_=0)
    rows = session.execute(select(per_owner.c.school_id, func.sum(per_owner.c.count), func.sum(per_owner.c.played),
                                  func.sum(per_owner.c.plays), func.sum(is_teacher))
                           .group_by(per_owner.c.school_id))
    return {school_id: _Published(count=int(count), played=int(played), plays=int(plays), teachers=int(teachers))
            for school_id, count, played, plays, teachers in rows}


def school_figures(session: Session, *, schools: Sequence[School], scope: Scope,
                   whole_district: bool = False) -> list[SchoolParticipation]:
    """The figures of `schools` (of one district), in their order. `whole_district`: `schools`
    are all of it, so the queries filter by district rather than by a long list of ids."""
    if not schools:
        return []
    district_id, ids = schools[0].district_id, [school.id for school in schools]

    def of_schools(model: Any) -> list[ColumnElement[bool]]:
        if whole_district:
            return [model.district_id == district_id, model.school_id.isnot(None)]
        return [model.school_id.in_(ids)]

    teachers = dict(session.execute(
        select(User.school_id, _teacher_count()).where(*of_schools(User)).group_by(User.school_id)).all())
    if snapshots.stored(scope.semester, scope.now):  # a closed semester: its stored figures
        published = snapshots.published_by_school(session, district_id=district_id, semester=scope.semester,
                                                   stage=scope.stage, subject=scope.subject,
                                                   school_ids=None if whole_district else ids)
    else:
        published = _published_by_school(session, where=[*of_schools(Resource), *_published_in(scope)],
                                          district_id=district_id, few_owners=not whole_district)
    waiting = _pending_by_school(session, where=[*of_schools(Resource), *_pending(scope)], now=scope.now)
    partners = _partners(session, ids=ids, district_id=district_id if whole_district else None,
                         semester=scope.semester.code)

    rows = []
    for school in schools:
        counts = published.get(school.id, _NOTHING_PUBLISHED)
        teacher_count = teachers.get(school.id, 0)
        rows.append(SchoolParticipation(
            school_id=school.id, school_name=school.name, school_kind=school.kind,
            teachers=teacher_count, publishing_teachers=counts.teachers,
            publishing_share=_share(counts.teachers, teacher_count),
            resources_published=counts.count, resources_played=counts.played, plays=counts.plays,
            reviews_pending=waiting.get(school.id, _NONE_PENDING), pairings=partners.get(school.id, [])))
    return rows


_NONE_PENDING = PendingReviews(count=0, oldest_age_s=None, median_age_s=None)


def _pending_by_school(session: Session, *, where: list[ColumnElement[bool]], now: datetime) -> dict[str, PendingReviews]:
    """Count, oldest and median wait per school, reading at most three rows a school (the first
    and the middle one or two in submission order, numbered by window functions) rather than
    every waiting row: a district has ~10,000, and turning each into a datetime cost more than
    the rest of the report. The median of an even count is the mean of the middle two."""
    ranked = select(Resource.school_id, Resource.updated_at,
                    func.row_number().over(partition_by=Resource.school_id,
                                           order_by=(Resource.updated_at, Resource.id)).label("position"),
                    func.count().over(partition_by=Resource.school_id).label("total")).where(*where).subquery()
    position, total = ranked.c.position, ranked.c.total
    rows = session.execute(select(ranked.c.school_id, ranked.c.updated_at, position, total)
                           .where(or_(position == 1, position == (total + 1) // 2, position == total // 2 + 1)))
    found: dict[str, dict[int, datetime]] = defaultdict(dict)
    totals: dict[str, int] = {}
    for school_id, submitted, at, count in rows:
        found[school_id][at] = submitted
        totals[school_id] = count

    def age(moment: datetime) -> int:
        return max(0, int((now - moment).total_seconds()))

    result = {}
    for school_id, count in totals.items():
        middle = [age(found[school_id][at]) for at in sorted({(count + 1) // 2, count // 2 + 1})]
        result[school_id] = PendingReviews(count=count, oldest_age_s=age(found[school_id][1]),
                                           median_age_s=int(sum(middle) / len(middle)))
    return result


def _held_exchanges(session: Session, *, pairing_ids: Any, semester: str) -> dict[str, int]:
    return dict(session.execute(
        select(PairingActivity.pairing_id, func.count())
        .where(PairingActivity.pairing_id.in_(pairing_ids), PairingActivity.semester == semester,
               PairingActivity.status == ActivityStatus.held)
        .group_by(PairingActivity.pairing_id)).all())


def _partners(session: Session, *, ids: list[str], district_id: str | None,
              semester: str) -> dict[str, list[Partner]]:
    helper, assisted = aliased(School), aliased(School)
    query = (select(Pairing.id, helper.id, helper.name, assisted.id, assisted.name)
             .join(helper, helper.id == Pairing.helper_school_id)
             .join(assisted, assisted.id == Pairing.assisted_school_id))
    if district_id is None:
        query = query.where(or_(Pairing.helper_school_id.in_(ids), Pairing.assisted_school_id.in_(ids)))
    else:
        query = query.where(or_(helper.district_id == district_id, assisted.district_id == district_id))
    partners: dict[str, list[Partner]] = defaultdict(list)
    rows = session.execute(query.order_by(Pairing.created_at, Pairing.id)).all()
    held = _held_exchanges(session, pairing_ids=[row[0] for row in rows], semester=semester)
    for pairing_id, helper_id, helper_name, assisted_id, assisted_name in rows:
        exchanges = held.get(pairing_id, 0)
        partners[helper_id].append(Partner(pairing_id=pairing_id, school_id=assisted_id, school_name=assisted_name,
                                           role="helper", exchanges_held=exchanges))
        partners[assisted_id].append(Partner(pairing_id=pairing_id, school_id=helper_id, school_name=helper_name,
                                             role="assisted", exchanges_held=exchanges))
    return partners


def district_figures(session: Session, *, district_id: str, scope: Scope) -> DistrictParticipation:
    schools = session.scalar(select(func.count()).select_from(School).where(School.district_id == district_id)) or 0
    teachers = session.scalar(select(_teacher_count())
                              .where(User.district_id == district_id, User.school_id.isnot(None))) or 0
    if snapshots.stored(scope.semester, scope.now):  # a closed semester: its stored figures
        by_school = snapshots.published_by_school(session, district_id=district_id, semester=scope.semester,
                                                  stage=scope.stage, subject=scope.subject, school_ids=None)
    else:
        by_school = _published_by_school(
            session, where=[Resource.district_id == district_id, *_published_in(scope)], district_id=district_id,
            few_owners=False)
    published = by_school.values()  # with district staff's (no school) under None
    publishing = sum(row.teachers for row in published)
    reviews = _district_pending(session, district_id=district_id, scope=scope)
    pairs = (select(Pairing.helper_school_id, Pairing.assisted_school_id)
             .join(School, School.id == Pairing.helper_school_id).where(School.district_id == district_id))
    pair_rows = session.execute(pairs).all()
    district_pairs = (select(Pairing.id).join(School, School.id == Pairing.helper_school_id)
                      .where(School.district_id == district_id))
    exchanges = sum(_held_exchanges(session, pairing_ids=district_pairs, semester=scope.semester.code).values())
    return DistrictParticipation(
        district_id=district_id, schools=schools, schools_publishing=len(by_school.keys() - {None}),
        teachers=teachers, publishing_teachers=publishing, publishing_share=_share(publishing, teachers),
        resources_published=sum(row.count for row in published),
        resources_played=sum(row.played for row in published), plays=sum(row.plays for row in published),
        reviews_pending=reviews, pairings=len(pair_rows),
        paired_schools=len({school for pair in pair_rows for school in pair}), exchanges_held=exchanges)


def _district_pending(session: Session, *, district_id: str, scope: Scope) -> PendingReviews:
    """Count, oldest and median without reading every waiting row: the median is read at its
    offset along the index the moderation queue walks (district, status, submitted)."""
    where = [Resource.district_id == district_id, *_pending(scope)]
    count = session.scalar(select(func.count()).select_from(Resource).where(*where)) or 0
    if not count:
        return PendingReviews(count=0, oldest_age_s=None, median_age_s=None)
    ordered = select(Resource.updated_at).where(*where).order_by(Resource.updated_at)
    oldest = session.scalar(ordered.limit(1))
    middle = list(session.scalars(ordered.offset((count - 1) // 2).limit(2 - count % 2)))
    now = scope.now
    ages = [int((now - moment).total_seconds()) for moment in middle]
    return PendingReviews(count=count, oldest_age_s=max(0, int((now - oldest).total_seconds())),
                          median_age_s=max(0, int(sum(ages) / len(ages))))


# --- the operator's view (`lb stats`): no caller, a district named ---------------------------

def district_school_figures(session: Session, *, district_id: str, scope: Scope,
                            school_id: str | None = None) -> list[SchoolParticipation]:
    """Every school of a district by name (or the one named), as `school_figures` computes them."""
    query = select(School).where(School.district_id == district_id).order_by(School.name, School.id)
    if school_id is not None:
        schools = list(session.scalars(query.where(School.id == school_id)))
        if not schools:
            raise SchoolNotFound()
        return school_figures(session, schools=schools, scope=scope)
    return school_figures(session, schools=list(session.scalars(query)), scope=scope, whole_district=True)

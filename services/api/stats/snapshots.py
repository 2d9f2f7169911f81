"""Stored figures for closed semesters: what a school published in a semester that has ended is
read from `participation_snapshots` (migration 0024) instead of being counted again on every
request. The current semester is always counted live.

What is stored: per (district, semester, school) the published-resource figures — resources
published, of them played, plays, publishing teachers — for every stage × subject cut the
routes accept ("" = all), so each filter reads its cell and nothing is summed across a distinct
count. Teachers, reviews pending and pairings are cheap and always read live.

The stored figures are always what the live count would give on the same data, not a picture
of the day the semester ended:
- **Filled** for the semester that ended last by the API janitor (`store_last_semester`, every
  10 minutes), and on the first ask for any closed semester (`published_by_school`), for the
  schools that have no stored figures, in a transaction of its own.
- **Removed** per (semester, school), in the same transaction, by every change that can move
  a closed semester's figures (`install()`: an `after_flush` listener, so no code path can
  forget): a resource of the semester that is or was published changing status (take-down,
  restore, hide, withdraw, a late approval of one whose `published_at` is in the semester),
  being deleted, or moving school, owner, stage, subject or `published_at`; and an owner of such
  a resource being disabled, re-enabled, gaining or losing the teacher role, or leaving the
  district. The next ask recounts only those schools. A teacher moving to another school
  changes nothing stored: a resource counts for the school it was published at (its
  `school_id`), and `teachers` is read live by the school one belongs to now.
- **Plays** are counted into the stored figures in the play's transaction (`count_play`):
  plays are counted to date, and the oldest lessons are played the most.

Concurrency: a fill and every change to a semester's stored figures serialise on a lock per
(district, semester), a PostgreSQL transaction-scoped advisory lock taken after the change's
own row writes (so a fill either sees the change or its rows are removed after it). SQLite has
one writer at a time, and a fill's transaction begins with its write.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, event, func, insert, inspect, or_, select, text, update
from sqlalchemy.orm import Session

from services.api import semesters
from services.api.orgs.models import District, School, User
from services.api.resources.models import Resource, ResourceStatus
from services.api.stats.models import ALL, ParticipationSnapshot as Snapshot
from services.common.db import utcnow

# A change this close before a semester's end counts as touching a closed semester: a
# transaction that began before the end and commits after it still removes what a fill stored.
CLOSING_MARGIN = timedelta(hours=1)
_RESOURCE_COLUMNS = ("status", "published_at", "school_id", "owner_id", "stage_code", "subject_code",
                     "district_id", "view_count")
_USER_COLUMNS = ("is_active", "roles", "district_id")


@dataclass(frozen=True, slots=True)
class Published:
    count: int
    played: int
    plays: int
    teachers: int  # owners with the teacher role, still active


NOTHING = Published(count=0, played=0, plays=0, teachers=0)


def stored(semester: semesters.Semester, now: datetime) -> bool:
    """Whether a semester's figures are read from storage: it has ended."""
    return semester.ends_at <= now


def _may_be_stored(semester: semesters.Semester, now: datetime) -> bool:
    return semester.ends_at <= now + CLOSING_MARGIN


def _lock(session: Session, district_id: str, semester: str) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite: one writer at a time
    digest = hashlib.blake2b(f"participation/{district_id}/{semester}".encode(), digest_size=8).digest()
    session.connection().execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                 {"key": int.from_bytes(digest, "big", signed=True)})


# --- counting --------------------------------------------------------------------------------

def count(session: Session, *, district_id: str, semester: semesters.Semester,
          keys: set[str] | None) -> dict[tuple[str, str, str], Published]:
    """The live figures of `keys` (school ids; "" the district's own; None: the whole district)
    per (school_key, stage, subject) cell, "" meaning all: one grouped pass over the semester's
    published resources (the covering index 0012 made), the cells summed here."""
    from services.api.stats.service import _not_teacher_ids  # the same teacher test as the live figures

    where = [Resource.district_id == district_id, Resource.status == ResourceStatus.published,
             Resource.published_at >= semester.starts_at, Resource.published_at < semester.ends_at]
    if keys is not None:
        ids = sorted(key for key in keys if key != ALL)
        where.append(or_(Resource.school_id.in_(ids), *([Resource.school_id.is_(None)] if ALL in keys else [])))
    not_teachers = set(session.scalars(_not_teacher_ids(district_id)))
    rows = session.execute(
        select(Resource.school_id, Resource.owner_id, Resource.stage_code, Resource.subject_code, func.count(),
               func.sum(case((Resource.view_count > 0, 1), else_=0)), func.sum(Resource.view_count))
        .where(*where).group_by(Resource.school_id, Resource.owner_id, Resource.stage_code, Resource.subject_code))
    sums: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    owners: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for school_id, owner_id, stage, subject, n, played, plays in rows:
        school_key = school_id or ALL
        cells = {(ALL, ALL), (stage or ALL, ALL), (ALL, subject or ALL)}
        if stage and subject:
            cells.add((stage, subject))
        for stage_key, subject_key in cells:
            cell = (school_key, stage_key, subject_key)
            total = sums[cell]
            total[0] += n
            total[1] += int(played)
            total[2] += int(plays)
            if owner_id not in not_teachers:
                owners[cell].add(owner_id)
    return {cell: Published(count=n, played=played, plays=plays, teachers=len(owners[cell]))
            for cell, (n, played, plays) in sums.items()}


def fill(session: Session, *, district_id: str, semester: semesters.Semester, keys: set[str] | None = None) -> int:
    """Counts and stores a closed semester's figures for `keys` (None: every school of the
    district and its own), replacing any stored for them, in a transaction of its own: commits
    what the session has read first. Returns the number of rows stored."""
    session.commit()
    _lock(session, district_id, semester.code)
    # On SQLite this write begins the transaction, so it holds the write lock before it reads.
    stale = delete(Snapshot).where(Snapshot.district_id == district_id, Snapshot.semester == semester.code)
    if keys is not None:
        stale = stale.where(Snapshot.school_key.in_(sorted(keys)))
    session.execute(stale.execution_options(synchronize_session=False))
    if keys is None:
        keys = {*session.scalars(select(School.id).where(School.district_id == district_id)), ALL}
    cells = count(session, district_id=district_id, semester=semester, keys=keys)
    now = utcnow()
    rows = [{"district_id": district_id, "semester": semester.code, "school_key": school_key, "stage": stage,
             "subject": subject, "publishing_teachers": figures.teachers, "resources_published": figures.count,
             "resources_played": figures.played, "plays": figures.plays, "computed_at": now}
            for (school_key, stage, subject), figures in cells.items()]
    rows += [{"district_id": district_id, "semester": semester.code, "school_key": key, "stage": ALL, "subject": ALL,
              "publishing_teachers": 0, "resources_published": 0, "resources_played": 0, "plays": 0,
              "computed_at": now} for key in keys if (key, ALL, ALL) not in cells]  # the school's mark
    if rows:
        session.execute(insert(Snapshot), rows)
    session.commit()
    return len(rows)


# --- reading ---------------------------------------------------------------------------------

def published_by_school(session: Session, *, district_id: str, semester: semesters.Semester, stage: str | None,
                        subject: str | None, school_ids: list[str] | None) -> dict[str | None, Published]:
    """A closed semester's published figures by school (None: the district's own), as the live
    count gives them, for `school_ids` (None: the whole district). Schools whose figures are
    not stored (first ask, or removed by a change) are counted and stored first."""
    cell = (stage or ALL, subject or ALL)
    query = (select(Snapshot.school_key, Snapshot.stage, Snapshot.subject, Snapshot.resources_published,
                    Snapshot.resources_played, Snapshot.plays, Snapshot.publishing_teachers)
             .where(Snapshot.district_id == district_id, Snapshot.semester == semester.code,
                    or_(*[(Snapshot.stage == s) & (Snapshot.subject == t) for s, t in sorted({(ALL, ALL), cell})])))
    if school_ids is not None:
        query = query.where(Snapshot.school_key.in_(school_ids))
    for _attempt in range(3):
        # One statement: the marks and the cells are read from one consistent state.
        rows = session.execute(query).all()
        marked = {row.school_key for row in rows if (row.stage, row.subject) == (ALL, ALL)}
        wanted = set(school_ids) if school_ids is not None else _district_keys(session, district_id)
        missing = wanted - marked
        if not missing:
            return {row.school_key or None: Published(count=row.resources_published, played=row.resources_played,
                                                      plays=row.plays, teachers=row.publishing_teachers)
                    for row in rows if (row.stage, row.subject) == cell and row.resources_published}
        whole = school_ids is None and missing == wanted
        fill(session, district_id=district_id, semester=semester, keys=None if whole else missing)
    # Changed under us three times running: count live this once.
    return {key or None: figures for (key, s, t), figures in
            count(session, district_id=district_id, semester=semester, keys=wanted).items() if (s, t) == cell}


def store_last_semester(session: Session, *, now: datetime) -> int:
    """The API janitor's round: stores the semester that ended last for every district and
    school that lacks it, so the first ask after a semester ends is not the one that waits for
    the count. Cheap when there is nothing to do (one read of marks per district). Returns the
    number of rows stored."""
    last = semesters.of(semesters.of(now).starts_at - timedelta(hours=1))
    stored_rows = 0
    for district_id in list(session.scalars(select(District.id))):
        marked = set(session.scalars(select(Snapshot.school_key).where(
            Snapshot.district_id == district_id, Snapshot.semester == last.code, Snapshot.stage == ALL,
            Snapshot.subject == ALL)))
        wanted = _district_keys(session, district_id)
        if missing := wanted - marked:
            stored_rows += fill(session, district_id=district_id, semester=last,
                                keys=None if missing == wanted else missing)
    session.commit()
    return stored_rows


def _district_keys(session: Session, district_id: str) -> set[str]:
    return {*session.scalars(select(School.id).where(School.district_id == district_id)), ALL}


# --- keeping them true -----------------------------------------------------------------------

def count_play(session: Session, *, resource_id: str) -> None:
    """Counts a play of a resource: its `view_count`, and a closed semester's stored figures, in
    the caller's transaction, which must begin with this write (a play is a GET: the caller
    commits what its session has read first, as `write_apart`) and which the caller commits. The
    row lock the first UPDATE takes makes the view count read back this play's own: exactly one
    play sees 1, the first."""
    session.execute(update(Resource).where(Resource.id == resource_id)
                    .values(view_count=Resource.view_count + 1).execution_options(synchronize_session=False))
    row = session.execute(select(Resource.district_id, Resource.school_id, Resource.status, Resource.published_at,
                                 Resource.stage_code, Resource.subject_code, Resource.view_count)
                          .where(Resource.id == resource_id)).one_or_none()
    if row is not None and row.status == ResourceStatus.published and row.published_at is not None:
        semester = semesters.of(row.published_at)
        if _may_be_stored(semester, utcnow()):
            _lock(session, row.district_id, semester.code)
            session.execute(
                update(Snapshot)
                .where(Snapshot.district_id == row.district_id, Snapshot.semester == semester.code,
                       Snapshot.school_key == (row.school_id or ALL), Snapshot.stage.in_(sorted({ALL, row.stage_code or ALL})),
                       Snapshot.subject.in_(sorted({ALL, row.subject_code or ALL})))
                .values(plays=Snapshot.plays + 1,
                        resources_played=Snapshot.resources_played + (1 if row.view_count == 1 else 0))
                .execution_options(synchronize_session=False))


def install() -> None:
    """Removes the stored figures every flush of this process may have changed (idempotent)."""
    if not event.contains(Session, "after_flush", remove_changed):
        event.listen(Session, "after_flush", remove_changed)


def _values(obj: Any, name: str) -> list[Any]:
    """An attribute's values before and after the flush, without loading anything."""
    history = inspect(obj).attrs[name].history
    return [*history.added, *history.unchanged, *history.deleted]


def _changed(obj: Any, names: Iterable[str]) -> bool:
    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in names)


def remove_changed(session: Session, _context: Any) -> None:
    """`after_flush`: the rows are written (and, on PostgreSQL, locked) already, so a fill that
    waits for the lock taken here counts the change, and one that ran before has its rows
    removed here."""
    now = utcnow()
    touched: set[tuple[str, str, str]] = set()  # (district, semester, school_key)
    users: list[User] = []
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Resource):
            if not (obj in session.new or obj in session.deleted or _changed(obj, _RESOURCE_COLUMNS)):
                continue
            if ResourceStatus.published not in _values(obj, "status"):
                continue
            for published_at in _values(obj, "published_at"):
                semester = semesters.of(published_at) if published_at is not None else None
                if semester is None or not _may_be_stored(semester, now):
                    continue
                touched |= {(district_id, semester.code, school_id or ALL)
                            for district_id in _values(obj, "district_id") for school_id in _values(obj, "school_id")}
        elif isinstance(obj, User) and obj not in session.new and (obj in session.deleted
                                                                    or _changed(obj, _USER_COLUMNS)):
            users.append(obj)
    if users:
        connection = session.connection()
        owned = connection.execute(select(Resource.district_id, Resource.school_id, Resource.published_at)
                                   .where(Resource.owner_id.in_([user.id for user in users]),
                                          Resource.status == ResourceStatus.published,
                                          Resource.published_at < now + CLOSING_MARGIN)
                                   .distinct())
        for district_id, school_id, published_at in owned:
            semester = semesters.of(published_at)
            if _may_be_stored(semester, now):
                touched.add((district_id, semester.code, school_id or ALL))
    by_semester: dict[tuple[str, str], set[str]] = defaultdict(set)
    for district_id, semester_code, school_key in touched:
        by_semester[(district_id, semester_code)].add(school_key)
    for (district_id, semester_code), keys in sorted(by_semester.items()):
        _lock(session, district_id, semester_code)
        session.connection().execute(
            delete(Snapshot).where(Snapshot.district_id == district_id, Snapshot.semester == semester_code,
                                   Snapshot.school_key.in_(sorted(keys))))

"""Stored figures of closed semesters (stats/snapshots.py, migration 0024): they equal the live
count on the same data for every filter, and every change that can move a closed semester's
figures removes them, so the next ask counts again — on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text

from services.api import semesters
from services.api.orgs.models import Role
from services.api.resources.models import Resource, ResourceStatus, changed_for_search
from services.api.resources.status import ResourceEvent, apply_event
from services.api.stats import service, snapshots
from services.api.stats.models import ParticipationSnapshot
from services.common.db import utcnow

URL = "/api/v1/statistics/participation"
SPRING = "2026-spring"  # closed: Feb–Aug 2026 (the tests run after it)
FILTERS = [(None, None), ("primary", None), (None, "math"), ("primary", "math"), ("junior", "physics")]


@pytest.fixture
def closed(factory):
    d = factory.district()
    a = factory.school(district=d, name="A青山小学")
    b = factory.school(district=d, name="B河湾小学")
    c = factory.school(district=d, name="C石桥教学点")
    t1, t2, t3 = factory.user(school=a), factory.user(school=a), factory.user(school=b)
    gone = factory.user(school=b, active=False)
    staff = factory.user(roles=(Role.district_admin,), district=d)  # the district's own resources
    spring = datetime(2026, 4, 1, tzinfo=UTC)
    made = {
        "math": factory.resource(t1, published_at=spring, view_count=4, stage="primary", subject="math"),
        "math_unplayed": factory.resource(t2, published_at=spring, stage="primary", subject="math"),
        "physics": factory.resource(t1, published_at=spring, view_count=1, stage="junior", subject="physics"),
        "no_cut": factory.resource(t2, published_at=spring, view_count=7),
        "b_math": factory.resource(t3, published_at=spring, view_count=2, stage="primary", subject="math"),
        "gone": factory.resource(gone, published_at=spring, view_count=3, stage="primary", subject="chinese"),
        "staff": factory.resource(staff, published_at=spring, view_count=5, stage="primary", subject="math"),
        "taken_down": factory.resource(t3, status=ResourceStatus.taken_down, published_at=spring, view_count=9,
                                       stage="primary", subject="math"),
        "hidden": factory.resource(t2, status=ResourceStatus.hidden, published_at=spring, stage="primary",
                                   subject="math"),
        # The fall before (also closed) and the current semester: not in spring's figures.
        "fall": factory.resource(t1, published_at=datetime(2025, 10, 1, tzinfo=UTC), view_count=11),
        "now": factory.resource(t3, published_at=utcnow(), stage="primary", subject="math"),
        "waiting": factory.resource(t1, status=ResourceStatus.pending_review, submitted_at=datetime(2026, 5, 1, tzinfo=UTC),
                                    stage="primary", subject="math"),
    }
    admin = factory.user(roles=(Role.district_admin,), district=d)
    factory.commit()
    return {"district": d, "a": a, "b": b, "c": c, "t1": t1, "t2": t2, "t3": t3, "admin": admin, **made}


def ask(client, factory, user, path="", **params):
    response = client.get(URL + path, params={"semester": SPRING, **params}, headers=factory.headers(user))
    assert response.status_code == 200, response.text
    return response.json()


def live(session, district_id, stage, subject):
    """The live count, as the current semester's figures are made (not the stored path)."""
    scope = service.Scope(semester=semesters.parse(SPRING), stage=stage, subject=subject, now=utcnow())
    by_school = service._published_by_school(session, where=[Resource.district_id == district_id,
                                                              *service._published_in(scope)],
                                             district_id=district_id, few_owners=False)
    return {school: (p.count, p.played, p.plays, p.teachers) for school, p in by_school.items()}


def served(client, factory, world, stage, subject):
    """What the routes answer: each school's figures (page and one school), and the district's."""
    params = {k: v for k, v in (("stage", stage), ("subject", subject)) if v}
    admin = world["admin"]
    page = ask(client, factory, admin, "/schools", size=100, **params)["items"]
    schools = {row["school_id"]: (row["resources_published"], row["resources_played"], row["plays"],
                                  row["publishing_teachers"]) for row in page if row["resources_published"]}
    figures = ("resources_published", "resources_played", "plays", "publishing_teachers")
    for school in ("a", "b", "c"):  # one school at a time (a few owners) agrees with the page
        one = ask(client, factory, admin, f"/schools/{world[school].id}", **params)["school"]
        assert [one[k] for k in figures] == [next(r for r in page if r["school_id"] == one["school_id"])[k]
                                             for k in figures]
    district = ask(client, factory, admin, **params)["district"]
    return schools, (district["resources_published"], district["resources_played"], district["plays"],
                     district["publishing_teachers"], district["schools_publishing"])


def expected_from(live_figures):
    schools = {k: v for k, v in live_figures.items() if k is not None}
    totals = tuple(sum(v[i] for v in live_figures.values()) for i in range(4))
    return schools, (*totals, len(schools))


def stored_rows(session, district_id):
    return session.scalar(select(func.count()).select_from(ParticipationSnapshot)
                          .where(ParticipationSnapshot.district_id == district_id,
                                 ParticipationSnapshot.semester == SPRING))


def assert_stored_equals_live(client, factory, world):
    for stage, subject in FILTERS:
        expected = expected_from(live(factory.session, world["district"].id, stage, subject))
        assert served(client, factory, world, stage, subject) == expected, (stage, subject)
    assert stored_rows(factory.session, world["district"].id) > 0


def test_stored_figures_equal_the_live_count(client, factory, closed):
    d = closed["district"].id
    assert stored_rows(factory.session, d) == 0
    assert_stored_equals_live(client, factory, closed)
    # What the fixture makes, by hand: A has math (t1, 4 plays), math unplayed (t2), physics (t1, 1
    # play), no cut (t2, 7 plays); B has math (t3, 2 plays) and the disabled teacher's (3 plays);
    # the district's own (5 plays). Taken down, hidden, the fall's and today's do not count.
    schools, district = served(client, factory, closed, None, None)
    assert schools == {closed["a"].id: (4, 3, 12, 2), closed["b"].id: (2, 2, 5, 1)}
    assert district == (7, 6, 22, 3, 2)  # the staff account has no teacher role: not a publishing teacher
    assert served(client, factory, closed, "primary", "math")[1] == (4, 3, 11, 3, 2)
    # Every school has its mark, and the district's own; cells only where something was published.
    marks = factory.session.scalars(select(ParticipationSnapshot.school_key).where(
        ParticipationSnapshot.district_id == d, ParticipationSnapshot.stage == "",
        ParticipationSnapshot.subject == "")).all()
    assert sorted(marks) == sorted(["", closed["a"].id, closed["b"].id, closed["c"].id])
    # They are read from storage: a write behind the ORM's back (no listener sees raw SQL) is not seen.
    factory.session.execute(text("UPDATE resources SET view_count = 1000 WHERE id = :id"), {"id": closed["math"].id})
    factory.commit()
    assert served(client, factory, closed, None, None)[1] == (7, 6, 22, 3, 2)
    # The current semester is never stored.
    current = semesters.of(utcnow()).code
    ask(client, factory, closed["admin"], semester=current)
    assert factory.session.scalar(select(func.count()).select_from(ParticipationSnapshot).where(
        ParticipationSnapshot.semester == current)) == 0


def _take_down(world, session):
    apply_event(world["math"], ResourceEvent.take_down)


def _restore(world, session):
    apply_event(world["taken_down"], ResourceEvent.restore)


def _unhide(world, session):
    apply_event(world["hidden"], ResourceEvent.unhide)


def _withdraw(world, session):
    apply_event(world["physics"], ResourceEvent.withdraw)


def _delete(world, session):
    session.delete(world["b_math"])


def _disable_teacher(world, session):
    world["t3"].is_active = False


def _drop_teacher_role(world, session):
    world["t1"].roles = [Role.school_admin.value]


def _new_stage_and_subject(world, session):  # an approved revision re-files it
    world["math"].stage_code, world["math"].subject_code = "junior", "physics"
    changed_for_search(world["math"])


def _late_published_into_spring(world, session):  # e.g. an import carrying its first publication date
    world["now"].published_at = datetime(2026, 5, 5, tzinfo=UTC)
    changed_for_search(world["now"])


CHANGES = [_take_down, _restore, _unhide, _withdraw, _delete, _disable_teacher, _drop_teacher_role,
           _new_stage_and_subject, _late_published_into_spring]


@pytest.mark.parametrize("change", CHANGES, ids=[c.__name__.strip("_") for c in CHANGES])
def test_a_change_to_a_closed_semester_is_counted(client, factory, closed, change):
    d = closed["district"].id
    assert_stored_equals_live(client, factory, closed)  # stored now
    before = {f: live(factory.session, d, *f) for f in FILTERS}
    change(closed, factory.session)
    factory.commit()
    assert {f: live(factory.session, d, *f) for f in FILTERS} != before  # the change does move the figures
    assert_stored_equals_live(client, factory, closed)


def test_plays_are_counted_into_the_stored_figures(client, factory, closed):
    assert_stored_equals_live(client, factory, closed)
    for name in ("math_unplayed", "math_unplayed", "staff", "taken_down", "fall"):
        snapshots.count_play(factory.session, resource_id=closed[name].id)
        factory.commit()  # count_play writes in the caller's transaction; /play commits each
    factory.session.expire_all()
    assert factory.session.get(Resource, closed["math_unplayed"].id).view_count == 2
    assert_stored_equals_live(client, factory, closed)
    schools, district = served(client, factory, closed, "primary", "math")
    assert schools[closed["a"].id] == (2, 2, 6, 2)  # first play made it a played one; two plays
    assert district == (4, 4, 14, 3, 2)


def test_a_teacher_moving_school_changes_nothing_stored(client, factory, closed):
    assert_stored_equals_live(client, factory, closed)
    rows = stored_rows(factory.session, closed["district"].id)
    closed["t1"].school_id = closed["c"].id
    factory.commit()
    assert stored_rows(factory.session, closed["district"].id) == rows  # nothing removed
    assert_stored_equals_live(client, factory, closed)
    # `teachers` is read live, by the school one belongs to now.
    c = ask(client, factory, closed["admin"], f"/schools/{closed['c'].id}")["school"]
    assert (c["teachers"], c["resources_published"]) == (1, 0)


def test_only_the_changed_school_is_counted_again(client, factory, closed):
    d = closed["district"].id
    assert_stored_equals_live(client, factory, closed)
    stamp = {key: at for key, at in factory.session.execute(
        select(ParticipationSnapshot.school_key, ParticipationSnapshot.computed_at).where(
            ParticipationSnapshot.district_id == d, ParticipationSnapshot.stage == "",
            ParticipationSnapshot.subject == ""))}
    apply_event(closed["b_math"], ResourceEvent.take_down)
    factory.commit()
    assert closed["b"].id not in set(factory.session.scalars(select(ParticipationSnapshot.school_key).where(
        ParticipationSnapshot.district_id == d)))
    assert_stored_equals_live(client, factory, closed)
    after = {key: at for key, at in factory.session.execute(
        select(ParticipationSnapshot.school_key, ParticipationSnapshot.computed_at).where(
            ParticipationSnapshot.district_id == d, ParticipationSnapshot.stage == "",
            ParticipationSnapshot.subject == ""))}
    assert {key for key in stamp if after[key] != stamp[key]} == {closed["b"].id}


def test_the_janitor_stores_the_semester_that_ended_last(factory, closed):
    d = closed["district"].id
    stored = snapshots.store_last_semester(factory.session, now=datetime(2026, 9, 10, tzinfo=UTC))  # fall began
    assert stored > 0
    marks = set(factory.session.scalars(select(ParticipationSnapshot.school_key).where(
        ParticipationSnapshot.district_id == d, ParticipationSnapshot.semester == SPRING,
        ParticipationSnapshot.stage == "", ParticipationSnapshot.subject == "")))
    assert marks == {"", closed["a"].id, closed["b"].id, closed["c"].id}
    assert snapshots.store_last_semester(factory.session, now=datetime(2026, 9, 10, tzinfo=UTC)) == 0  # done


def test_a_late_approval_lands_in_the_current_semester(client, factory, closed):
    """Submitted in spring, approved now: first published now, so spring's stored figures stay."""
    assert_stored_equals_live(client, factory, closed)
    rows = stored_rows(factory.session, closed["district"].id)
    apply_event(closed["waiting"], ResourceEvent.approve)
    factory.commit()
    assert semesters.of(closed["waiting"].published_at) == semesters.of(utcnow())
    assert stored_rows(factory.session, closed["district"].id) == rows
    assert_stored_equals_live(client, factory, closed)

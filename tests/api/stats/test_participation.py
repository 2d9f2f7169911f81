"""Participation statistics (issue 16.9): each figure against factory-built data, the filters,
CSV, who may see what, and bad input — on SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from services.api.pairing.models import ActivityKind, ActivityStatus, PairingActivity

from services.api.orgs.models import Role, SchoolKind
from services.api.resources.models import ResourceStatus
from services.api import semesters
from services.common.db import utcnow
from tests.helpers import assert_problem

URL = "/api/v1/statistics/participation"
FALL = {"semester": "2026-fall"}
DAY = 86400


@pytest.fixture
def district(factory):
    """Three schools of one district (青山 helps 河湾; 石桥 does nothing) and a neighbour's school."""
    d = factory.district()
    a = factory.school(district=d, name="A青山小学")
    b = factory.school(district=d, name="B河湾小学", kind=SchoolKind.rural)
    c = factory.school(district=d, name="C石桥教学点", kind=SchoolKind.teaching_point)
    t1, t2 = factory.user(school=a), factory.user(school=a)
    t3 = factory.user(school=a, active=False)  # left: not a teacher any more, their resources still count
    factory.user(school=a, roles=(Role.school_admin,))  # not a teacher
    t4 = factory.user(school=b)
    now = utcnow()
    fall = datetime(2026, 10, 10, tzinfo=UTC)
    factory.resource(t1, published_at=fall, view_count=5, stage="primary", subject="math")
    factory.resource(t1, published_at=fall, stage="junior", subject="physics")
    # 1 September, 01:00 in Beijing: the fall semester; 23:00 the evening before: spring.
    factory.resource(t1, published_at=datetime(2026, 8, 31, 17, tzinfo=UTC), stage="junior", subject="physics")
    factory.resource(t1, published_at=datetime(2026, 8, 31, 15, tzinfo=UTC), view_count=100)
    factory.resource(t2, status=ResourceStatus.taken_down, published_at=fall, view_count=9)
    factory.resource(t2, status=ResourceStatus.pending_review, submitted_at=now - timedelta(days=10),
                     stage="primary", subject="math")
    factory.resource(t2, status=ResourceStatus.draft)
    factory.resource(t3, published_at=fall, view_count=2, subject="chinese")
    factory.resource(t4, published_at=fall, view_count=3, stage="primary", subject="math")
    factory.resource(t4, status=ResourceStatus.pending_review, submitted_at=now - timedelta(days=4),
                     stage="primary", subject="math")
    factory.resource(t4, status=ResourceStatus.pending_review, submitted_at=now - timedelta(days=2))
    pairing = factory.pairing(a, b)
    # Two exchanges held this fall; a planned one and one held next spring do not count.
    for semester, status, day in (("2026-fall", ActivityStatus.held, 10), ("2026-fall", ActivityStatus.held, 40),
                                  ("2026-fall", ActivityStatus.planned, 70), ("2027-spring", ActivityStatus.held, 160)):
        starts = datetime(2026, 9, 1, 2, tzinfo=UTC) + timedelta(days=day)
        factory.session.add(PairingActivity(pairing_id=pairing.id, semester=semester, kind=ActivityKind.sync_class,
                                            status=status, starts_at=starts, ends_at=starts + timedelta(minutes=45),
                                            created_by=t1.id))
    other = factory.district()
    x = factory.school(district=other, name="X外区学校")
    tx = factory.user(school=x)
    factory.resource(tx, published_at=fall, view_count=50)
    factory.resource(tx, status=ResourceStatus.pending_review, submitted_at=now - timedelta(days=30))
    people = {
        "admin": factory.user(roles=(Role.district_admin,), district=d),
        "school_admin": factory.user(school=a, roles=(Role.school_admin,)),
        "teacher": t1, "moderator": factory.user(roles=(Role.moderator,), district=d),
        "other_admin": factory.user(roles=(Role.district_admin,), district=other),
    }
    factory.commit()
    return {"a": a, "b": b, "c": c, "x": x, "pairing": pairing, "people": people}


def get(client, factory, user, path="", **params):
    response = client.get(URL + path, params=params, headers=factory.headers(user))
    assert response.status_code == 200, response.text
    return response.json()


def close(actual, expected_days):
    assert actual is not None and abs(actual - expected_days * DAY) < 120, (actual, expected_days)


def test_district_figures(client, factory, district):
    body = get(client, factory, district["people"]["admin"], **FALL)
    assert body["filters"]["semester"] == {"code": "2026-fall", "starts_at": "2026-08-31T16:00:00Z",
                                           "ends_at": "2027-01-31T16:00:00Z"}
    figures = body["district"]
    reviews = figures.pop("reviews_pending")
    assert figures == {
        "district_id": district["a"].district_id, "schools": 3, "schools_publishing": 2,
        "teachers": 3, "publishing_teachers": 2, "publishing_share": 0.6667,
        "resources_published": 5, "resources_played": 3, "plays": 10, "pairings": 1, "paired_schools": 2,
        "exchanges_held": 2}
    assert reviews["count"] == 3
    close(reviews["oldest_age_s"], 10)
    close(reviews["median_age_s"], 4)
    # The other district's admin sees their own district only.
    assert get(client, factory, district["people"]["other_admin"], **FALL)["district"]["resources_published"] == 1


def test_school_figures_and_pagination(client, factory, district):
    admin = district["people"]["admin"]
    body = get(client, factory, admin, "/schools", **FALL)
    assert (body["total"], body["page"], body["size"]) == (3, 1, 20)
    a, b, c = body["items"]
    assert [a["school_name"], b["school_name"], c["school_name"]] == ["A青山小学", "B河湾小学", "C石桥教学点"]
    assert {k: a[k] for k in ("teachers", "publishing_teachers", "publishing_share", "resources_published",
                              "resources_played", "plays")} == {
        "teachers": 2, "publishing_teachers": 1, "publishing_share": 0.5, "resources_published": 4,
        "resources_played": 2, "plays": 7}
    assert a["reviews_pending"]["count"] == 1
    close(a["reviews_pending"]["oldest_age_s"], 10)
    close(a["reviews_pending"]["median_age_s"], 10)
    assert a["pairings"] == [{"pairing_id": district["pairing"].id, "school_id": district["b"].id,
                              "school_name": "B河湾小学", "role": "helper", "exchanges_held": 2}]
    assert {k: b[k] for k in ("teachers", "publishing_teachers", "publishing_share", "resources_published",
                              "plays")} == {"teachers": 1, "publishing_teachers": 1, "publishing_share": 1.0,
                                            "resources_published": 1, "plays": 3}
    assert b["reviews_pending"]["count"] == 2
    close(b["reviews_pending"]["oldest_age_s"], 4)
    close(b["reviews_pending"]["median_age_s"], 3)  # the mean of the two middle ages
    assert b["pairings"][0]["role"] == "assisted" and b["pairings"][0]["school_id"] == district["a"].id
    assert c == {**c, "teachers": 0, "publishing_teachers": 0, "publishing_share": None, "resources_published": 0,
                 "resources_played": 0, "plays": 0, "pairings": [],
                 "reviews_pending": {"count": 0, "oldest_age_s": None, "median_age_s": None}}
    page = get(client, factory, admin, "/schools", page=2, size=2, **FALL)
    assert page["total"] == 3 and [s["school_name"] for s in page["items"]] == ["C石桥教学点"]
    one = get(client, factory, admin, f"/schools/{district['a'].id}", **FALL)
    # The same figures (waiting times aside: a second may have passed between the two requests).
    without_ages = lambda row: {**row, "reviews_pending": row["reviews_pending"]["count"]}  # noqa: E731
    assert without_ages(one["school"]) == without_ages(a) and one["filters"]["semester"]["code"] == "2026-fall"
    # The spring semester before: only the resource published the evening before 1 September.
    spring = get(client, factory, admin, f"/schools/{district['a'].id}", semester="2026-spring")["school"]
    assert (spring["resources_published"], spring["plays"], spring["publishing_teachers"]) == (1, 100, 1)


def test_stage_and_subject_filters(client, factory, district):
    admin = district["people"]["admin"]
    figures = get(client, factory, admin, stage="primary", subject="math", **FALL)["district"]
    assert (figures["resources_published"], figures["plays"], figures["publishing_teachers"],
            figures["teachers"], figures["schools_publishing"]) == (2, 8, 2, 3, 2)
    assert figures["reviews_pending"]["count"] == 2  # the one without a subject is left out
    physics = get(client, factory, admin, "/schools", subject="physics", **FALL)["items"]
    assert [s["resources_published"] for s in physics] == [2, 0, 0]
    assert [s["reviews_pending"]["count"] for s in physics] == [0, 0, 0]
    junior = get(client, factory, admin, stage="junior", **FALL)["district"]
    assert (junior["resources_published"], junior["publishing_teachers"]) == (2, 1)


def test_default_semester_is_the_current_one(client, factory, district):
    body = get(client, factory, district["people"]["admin"])
    assert body["filters"]["semester"]["code"] == semesters.of(utcnow()).code


def test_csv_for_excel(client, factory, district):
    admin = factory.headers(district["people"]["admin"])
    by_param = client.get(URL + "/schools", params={**FALL, "format": "csv", "size": 1}, headers=admin)
    by_accept = client.get(URL + "/schools", params=FALL, headers={**admin, "Accept": "text/csv"})
    for response in (by_param, by_accept):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert response.headers["content-disposition"] == 'attachment; filename="participation-schools-2026-fall.csv"'
        assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    assert by_param.content == by_accept.content
    rows = list(csv.reader(io.StringIO(by_param.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["学期", "学段", "学科", "学校编号", "学校"]
    assert [row[4] for row in rows[1:]] == ["A青山小学", "B河湾小学", "C石桥教学点"]  # every school, not a page
    assert rows[1][-1] == "B河湾小学（帮扶）"
    english = client.get(URL + "/schools", params={**FALL, "format": "csv"},
                         headers={**admin, "Accept-Language": "en"})
    table = list(csv.DictReader(io.StringIO(english.content.decode("utf-8-sig"))))
    assert {k: table[1][k] for k in ("semester", "school", "teachers", "publishing_share", "resources_published",
                                     "plays", "reviews_pending", "pairings", "paired_with")} == {
        "semester": "2026-fall", "school": "B河湾小学", "teachers": "1", "publishing_share": "1.0000",
        "resources_published": "1", "plays": "3", "reviews_pending": "2", "pairings": "1",
        "paired_with": "A青山小学（assisted）"}
    assert float(table[1]["oldest_pending_days"]) == pytest.approx(4, abs=0.1)
    whole = client.get(URL, params={**FALL, "format": "csv", "stage": "primary"},
                       headers={**admin, "Accept-Language": "en"})
    (row,) = csv.DictReader(io.StringIO(whole.content.decode("utf-8-sig")))
    assert (row["stage"], row["schools"], row["resources_published"], row["paired_schools"]) == ("primary", "3", "2", "2")
    one = client.get(URL + f"/schools/{district['c'].id}", params={**FALL, "format": "csv"}, headers=admin)
    assert one.status_code == 200 and len(list(csv.reader(io.StringIO(one.content.decode("utf-8-sig"))))) == 2
    # JSON stays the default, and an explicit format wins over Accept.
    assert client.get(URL, params={**FALL, "format": "json"},
                      headers={**admin, "Accept": "text/csv"}).headers["content-type"] == "application/json"


def test_who_sees_what(client, factory, district):
    people, a, b, x = district["people"], district["a"], district["b"], district["x"]
    school_admin = people["school_admin"]
    mine = get(client, factory, school_admin, "/schools", **FALL)
    assert mine["total"] == 1 and [s["school_id"] for s in mine["items"]] == [a.id]
    assert get(client, factory, school_admin, f"/schools/{a.id}", **FALL)["school"]["resources_published"] == 4
    csv_rows = client.get(URL + "/schools", params={**FALL, "format": "csv"}, headers=factory.headers(school_admin))
    assert len(list(csv.reader(io.StringIO(csv_rows.content.decode("utf-8-sig"))))) == 2
    assert_problem(client.get(URL + f"/schools/{b.id}", params=FALL, headers=factory.headers(school_admin)),
                   403, "statistics.forbidden")
    assert_problem(client.get(URL, params=FALL, headers=factory.headers(school_admin)), 403, "statistics.forbidden")
    for who in ("teacher", "moderator"):
        for path in ("", "/schools", f"/schools/{a.id}"):
            assert_problem(client.get(URL + path, params=FALL, headers=factory.headers(people[who])),
                           403, "statistics.forbidden")
    # Another district's school is not found, for its admin's neighbours as for a made-up id.
    assert_problem(client.get(URL + f"/schools/{x.id}", params=FALL, headers=factory.headers(people["admin"])),
                   404, "school.not_found")
    assert_problem(client.get(URL + "/schools/nope", params=FALL, headers=factory.headers(people["admin"])),
                   404, "school.not_found")
    assert_problem(client.get(URL, params=FALL), 401, "auth.not_authenticated")


@pytest.mark.parametrize("params, code, loc", [
    ({"semester": "2026-winter"}, "semester.unknown", ["query", "semester"]),
    ({"semester": "fall-2026"}, "semester.unknown", ["query", "semester"]),
    ({"semester": "1066-fall"}, "semester.unknown", ["query", "semester"]),
    ({"stage": "kindergarten"}, "request.validation_failed", ["query", "stage"]),
    ({"subject": "alchemy"}, "request.validation_failed", ["query", "subject"]),
    ({"format": "xlsx"}, "request.validation_failed", ["query", "format"]),
    ({"size": "0"}, "request.validation_failed", ["query", "size"]),
])
def test_bad_input_is_a_problem(client, factory, district, params, code, loc):
    admin = factory.headers(district["people"]["admin"])
    for path in ("", "/schools", f"/schools/{district['a'].id}"):
        if "size" in params and path != "/schools":
            continue
        body = assert_problem(client.get(URL + path, params=params, headers=admin), 422, code)
        assert body["errors"][0]["loc"] == loc
    english = assert_problem(client.get(URL, params={"semester": "2026-winter"},
                                        headers={**admin, "Accept-Language": "en"}), 422, "semester.unknown")
    assert "2026-fall" in english["detail"]


def test_semester_boundaries():
    fall = semesters.parse("2026-fall")
    assert (fall.starts_at, fall.ends_at) == (datetime(2026, 8, 31, 16, tzinfo=UTC), datetime(2027, 1, 31, 16, tzinfo=UTC))
    spring = semesters.parse("2027-Spring")
    assert (spring.code, spring.starts_at, spring.ends_at) == (
        "2027-spring", datetime(2027, 1, 31, 16, tzinfo=UTC), datetime(2027, 8, 31, 16, tzinfo=UTC))
    assert semesters.of(datetime(2027, 1, 31, 15, 59, tzinfo=UTC)).code == "2026-fall"
    assert semesters.of(datetime(2027, 1, 31, 16, tzinfo=UTC)).code == "2027-spring"
    assert semesters.of(datetime(2026, 8, 31, 16, tzinfo=UTC)).code == "2026-fall"
    assert semesters.of(datetime(2026, 1, 10, tzinfo=UTC)).code == "2025-fall"

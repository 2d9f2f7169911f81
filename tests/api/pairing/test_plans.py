"""Semesters, and a pair's assistance plan for one: one per semester, changed with PUT, only by
the district or the two schools, naming teachers of the side they are listed on."""
from __future__ import annotations

from datetime import datetime

import pytest

from services.api import semesters
from services.api.orgs.models import Role
from services.common.problems import DomainError
from tests.api.pairing.conftest import SHANGHAI
from tests.helpers import assert_problem


def test_semester_codes_cover_every_day_once():
    fall = semesters.parse("2026-fall")
    assert (fall.starts_at, fall.ends_at) == (datetime(2026, 9, 1, tzinfo=SHANGHAI), datetime(2027, 2, 1, tzinfo=SHANGHAI))
    spring = semesters.parse("2027-spring")
    assert (spring.starts_at, spring.ends_at) == (fall.ends_at, datetime(2027, 9, 1, tzinfo=SHANGHAI))
    assert semesters.of(datetime(2027, 1, 31, 23, 59, tzinfo=SHANGHAI)).code == "2026-fall"
    assert semesters.of(datetime(2027, 2, 1, tzinfo=SHANGHAI)).code == "2027-spring"
    assert semesters.of(datetime(2027, 8, 31, 16, 30, tzinfo=SHANGHAI)).code == "2027-spring"
    assert semesters.following(fall).code == "2027-spring"
    assert semesters.following(spring).code == "2027-fall"
    assert fall.elapsed_fraction(datetime(2026, 8, 1, tzinfo=SHANGHAI)) == 0
    assert 0.49 < fall.elapsed_fraction(datetime(2026, 11, 16, 12, tzinfo=SHANGHAI)) < 0.51
    for bad in ("2026-autumn", "2026", "fall-2026", "", "1999-fall"):
        with pytest.raises(DomainError) as caught:
            semesters.parse(bad)
        assert caught.value.code == "semester.unknown"


def plan_body(pair, **changes):
    return {"semester": "2026-fall", "goal_exchanges": 3, "subjects": ["math", "chinese"],
            "teachers": {"helper": [pair.helper_teacher.id], "assisted": [pair.assisted_teacher.id]}, **changes}


def test_a_pair_plans_its_semester_once_and_changes_it_with_put(client, factory, pair):
    url = f"/api/v1/pairings/{pair.pairing.id}/plans"
    teacher = factory.headers(pair.helper_teacher)
    created = client.post(url, json=plan_body(pair), headers=teacher)
    assert created.status_code == 201, created.text
    plan = created.json()
    assert (plan["semester"], plan["goal_exchanges"], plan["subjects"]) == ("2026-fall", 3, ["math", "chinese"])
    assert plan["teachers"] == {"helper": [pair.helper_teacher.id], "assisted": [pair.assisted_teacher.id]}
    # Once per semester, whoever asks; the other school's administrator changes it with PUT.
    assert_problem(client.post(url, json=plan_body(pair, goal_exchanges=5), headers=factory.headers(pair.assisted_admin)),
                   409, "pairing.plan_exists")
    changed = client.put(f"{url}/2026-fall", json={"goal_exchanges": 4, "subjects": ["math"]},
                         headers=factory.headers(pair.assisted_admin))
    assert changed.status_code == 200, changed.text
    assert (changed.json()["goal_exchanges"], changed.json()["teachers"]) == (4, {"helper": [], "assisted": []})
    assert_problem(client.put(f"{url}/2027-spring", json={}, headers=teacher), 404, "pairing.plan_not_found")
    # The goal defaults to the district plan's two exchanges.
    spring = client.post(url, json={"semester": "2027-spring"}, headers=factory.headers(pair.district_admin))
    assert spring.status_code == 201 and spring.json()["goal_exchanges"] == 2
    listed = client.get(url, headers=factory.headers(pair.assisted_teacher)).json()
    assert [(p["semester"], p["goal_exchanges"]) for p in listed] == [("2026-fall", 4), ("2027-spring", 2)]


def test_bad_plans_are_refused_whole(client, factory, pair):
    url = f"/api/v1/pairings/{pair.pairing.id}/plans"
    admin = factory.headers(pair.helper_admin)
    body = assert_problem(client.post(url, json=plan_body(pair, semester="2026-autumn"), headers=admin),
                          422, "semester.unknown")
    assert body["errors"][0]["loc"] == ["body", "semester"]
    # Teachers on the wrong side, a school administrator named as a teacher, an unknown subject.
    swapped = plan_body(pair, subjects=["math", "alchemy"],
                        teachers={"helper": [pair.assisted_teacher.id], "assisted": [pair.assisted_admin.id]})
    body = assert_problem(client.post(url, json=swapped, headers=admin), 422, "pairing.invalid_plan")
    assert sorted(e["loc"] for e in body["errors"]) == [
        ["body", "subjects", 1], ["body", "teachers", "assisted", 0], ["body", "teachers", "helper", 0]]
    # Outside the pair: the pairing is not revealed to another school's people.
    for outsider in (pair.outsider_teacher, pair.outsider_admin):
        assert_problem(client.post(url, json=plan_body(pair), headers=factory.headers(outsider)),
                       404, "pairing.not_found")
        assert_problem(client.get(url, headers=factory.headers(outsider)), 404, "pairing.not_found")
    foreign_admin = factory.user(roles=(Role.district_admin,), district=factory.district())
    factory.commit()
    assert_problem(client.get(url, headers=factory.headers(foreign_admin)), 404, "pairing.not_found")
    assert client.get(url, headers=admin).json() == []

"""结对帮扶 pairings between schools."""
from __future__ import annotations

from services.api.orgs.models import Role
from tests.helpers import assert_problem


def test_district_admin_pairs_schools_once(client, factory):
    admin = factory.user(roles=(Role.district_admin,))
    urban, rural = factory.school(), factory.school()
    factory.commit()
    headers = factory.headers(admin)
    body = {"helper_school_id": urban.id, "assisted_school_id": rural.id}
    created = client.post("/api/v1/pairings", json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert_problem(client.post("/api/v1/pairings", json=body, headers=headers), 409, "pairing.exists")
    reversed_body = {"helper_school_id": rural.id, "assisted_school_id": urban.id}
    assert_problem(client.post("/api/v1/pairings", json=reversed_body, headers=headers), 409, "pairing.exists")
    listed = client.get(f"/api/v1/pairings?school_id={rural.id}", headers=headers).json()
    assert listed["total"] == 1 and listed["items"][0]["helper_school_id"] == urban.id
    deleted = client.delete(f"/api/v1/pairings/{created.json()['id']}", headers=headers)
    assert deleted.status_code == 204
    assert client.get("/api/v1/pairings", headers=headers).json()["total"] == 0


def test_a_school_helps_several_and_bad_pairings_are_refused(client, factory):
    admin = factory.user(roles=(Role.district_admin,))
    helper, first, second = factory.school(), factory.school(), factory.school()
    foreign = factory.school(district=factory.district())
    teacher = factory.user(school=helper)
    factory.commit()
    headers = factory.headers(admin)
    for assisted in (first, second):
        response = client.post("/api/v1/pairings", headers=headers,
                               json={"helper_school_id": helper.id, "assisted_school_id": assisted.id})
        assert response.status_code == 201
    assert_problem(client.post("/api/v1/pairings", headers=headers,
                               json={"helper_school_id": helper.id, "assisted_school_id": helper.id}),
                   422, "pairing.same_school")
    assert_problem(client.post("/api/v1/pairings", headers=headers,
                               json={"helper_school_id": helper.id, "assisted_school_id": foreign.id}),
                   404, "school.not_found")
    assert_problem(client.post("/api/v1/pairings", headers=factory.headers(teacher),
                               json={"helper_school_id": helper.id, "assisted_school_id": foreign.id}),
                   403, "auth.forbidden")

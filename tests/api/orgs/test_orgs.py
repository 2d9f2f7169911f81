"""Districts, schools and accounts, and who may create what."""
from __future__ import annotations

from services.api.orgs.models import Role
from tests.factories import PASSWORD
from tests.helpers import assert_problem


def test_district_admin_creates_a_school_and_a_teacher_who_can_log_in(client, factory):
    admin = factory.user(roles=(Role.district_admin,))
    factory.commit()
    headers = factory.headers(admin)
    school = client.post("/api/v1/schools", json={"name": "石桥村小学", "kind": "rural", "bandwidth_kbps": 8000},
                         headers=headers)
    assert school.status_code == 201, school.text
    assert school.json()["district_id"] == admin.district_id
    user = client.post("/api/v1/users", headers=headers, json={
        "username": "li.laoshi", "real_name": "李老师", "password": PASSWORD, "roles": ["teacher"],
        "school_id": school.json()["id"]})
    assert user.status_code == 201, user.text
    assert "password" not in user.text and "hash" not in user.text
    token = client.post("/api/v1/auth/token", data={"username": "li.laoshi", "password": PASSWORD})
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}).json()
    assert me["real_name"] == "李老师"
    assert me["school"]["kind"] == "rural" and me["school"]["bandwidth_kbps"] == 8000
    assert me["district"]["id"] == admin.district_id
    events = client.get("/api/v1/audit", headers=headers).json()
    assert {"school.create", "user.create"} <= {e["action"] for e in events["items"]}


def test_teachers_cannot_administer(client, factory):
    teacher = factory.user()
    factory.commit()
    headers = factory.headers(teacher)
    assert_problem(client.post("/api/v1/schools", json={"name": "x", "kind": "urban", "bandwidth_kbps": 1000},
                               headers=headers), 403, "auth.forbidden")
    assert_problem(client.post("/api/v1/users", headers=headers, json={
        "username": "someone", "real_name": "某人", "password": PASSWORD, "roles": ["teacher"],
        "school_id": teacher.school_id}), 403, "auth.forbidden")
    assert_problem(client.get("/api/v1/audit", headers=headers), 403, "auth.forbidden")


def test_school_admin_manages_only_their_school_and_cannot_grant_district_roles(client, factory):
    school = factory.school()
    other = factory.school()
    school_admin = factory.user(school=school, roles=(Role.school_admin,))
    factory.commit()
    headers = factory.headers(school_admin)
    ok = client.post("/api/v1/users", headers=headers, json={
        "username": "new.teacher", "real_name": "新老师", "password": PASSWORD, "roles": ["teacher"],
        "school_id": school.id})
    assert ok.status_code == 201, ok.text
    for roles, school_id in ((["district_admin"], school.id), (["moderator"], school.id), (["teacher"], other.id)):
        response = client.post("/api/v1/users", headers=headers, json={
            "username": "sneaky", "real_name": "某人", "password": PASSWORD, "roles": roles, "school_id": school_id})
        assert_problem(response, 403, "auth.forbidden")
    listed = client.get("/api/v1/users", headers=headers).json()
    assert {u["school_id"] for u in listed["items"]} == {school.id}


def test_schools_and_users_of_another_district_are_invisible(client, factory):
    admin = factory.user(roles=(Role.district_admin,))
    foreign_school = factory.school(district=factory.district())
    foreign_teacher = factory.user(school=foreign_school)
    factory.commit()
    headers = factory.headers(admin)
    assert_problem(client.get(f"/api/v1/schools/{foreign_school.id}", headers=headers), 404, "school.not_found")
    assert_problem(client.get(f"/api/v1/users/{foreign_teacher.id}", headers=headers), 404, "user.not_found")
    response = client.post("/api/v1/users", headers=headers, json={
        "username": "cross", "real_name": "某人", "password": PASSWORD, "roles": ["teacher"],
        "school_id": foreign_school.id})
    assert_problem(response, 404, "school.not_found")
    other_district = client.post("/api/v1/schools", headers=headers, json={
        "name": "x", "kind": "urban", "bandwidth_kbps": 1000, "district_id": foreign_school.district_id})
    assert_problem(other_district, 403, "auth.forbidden")


def test_bad_account_input_is_answered_precisely(client, factory):
    admin = factory.user(roles=(Role.district_admin,))
    school = factory.school()
    factory.commit()
    headers = factory.headers(admin)
    taken = client.post("/api/v1/users", headers=headers, json={
        "username": admin.username, "real_name": "重名", "password": PASSWORD, "roles": ["teacher"],
        "school_id": school.id})
    assert_problem(taken, 409, "user.username_taken")
    no_school = client.post("/api/v1/users", headers=headers, json={
        "username": "homeless", "real_name": "某人", "password": PASSWORD, "roles": ["teacher"]})
    assert_problem(no_school, 422, "user.school_required")
    bad = client.post("/api/v1/users", headers=headers, json={
        "username": "../etc", "real_name": "x" * 65, "password": "short", "roles": ["king"]})
    body = assert_problem(bad, 422, "request.validation_failed")
    assert {("body", "username"), ("body", "real_name"), ("body", "password"), ("body", "roles", 0)} <= {
        tuple(e["loc"]) for e in body["errors"]}
    kind = client.post("/api/v1/schools", headers=headers, json={"name": "x", "kind": "castle", "bandwidth_kbps": 10})
    body = assert_problem(kind, 422, "request.validation_failed")
    assert {("body", "kind"), ("body", "bandwidth_kbps")} <= {tuple(e["loc"]) for e in body["errors"]}


def test_administrator_cannot_disable_themselves(client, factory):
    admin = factory.user(roles=(Role.district_admin,))
    factory.commit()
    response = client.patch(f"/api/v1/users/{admin.id}", json={"is_active": False}, headers=factory.headers(admin))
    assert_problem(response, 403, "auth.forbidden")


def test_school_bandwidth_can_be_updated_and_lists_are_paginated(client, factory):
    admin = factory.user(roles=(Role.district_admin,))
    schools = [factory.school() for _ in range(3)]
    factory.commit()
    headers = factory.headers(admin)
    response = client.patch(f"/api/v1/schools/{schools[0].id}", json={"bandwidth_kbps": 4000}, headers=headers)
    assert response.json()["bandwidth_kbps"] == 4000
    page = client.get("/api/v1/schools?page=2&size=2", headers=headers).json()
    assert page["total"] == 3 and page["page"] == 2 and len(page["items"]) == 1
    assert_problem(client.get("/api/v1/schools?size=1000", headers=headers), 422, "request.validation_failed")

"""Account administration cannot be turned upward: the permission matrix of every (actor role,
target role) pair for every management action, and what a refusal leaves behind."""
from __future__ import annotations

import itertools

import pytest
from sqlalchemy import func, select

from services.api.audit.models import AuditEvent
from services.api.orgs.models import Role, User
from tests.factories import PASSWORD
from tests.helpers import assert_problem

ROLES = (Role.teacher, Role.school_admin, Role.moderator, Role.district_admin)
ACTIONS = ("create", "rename", "reset_password", "disable", "demote", "promote")


def allowed(actor: Role, target: Role) -> bool:
    if actor is Role.district_admin:
        return True  # the whole district
    if actor is Role.school_admin:
        return target in (Role.teacher, Role.school_admin)  # their school, never above themselves
    return False  # teachers and moderators manage no accounts


@pytest.mark.parametrize(("actor_role", "target_role"), list(itertools.product(ROLES, ROLES)),
                         ids=lambda r: r.value)
def test_account_management_matrix(client, factory, session, actor_role, target_role):
    school = factory.school()
    # District staff sit in the same school here on purpose: being "of the school" must not be
    # enough for a school administrator to reach them.
    actor = factory.user(school=school, roles=(actor_role,))
    targets = {action: factory.user(school=school, roles=(target_role,)) for action in ACTIONS if action != "create"}
    targets["promote"] = factory.user(school=school, roles=(Role.teacher,))
    factory.commit()
    headers = factory.headers(actor)
    requests = {
        "create": lambda: client.post("/api/v1/users", headers=headers, json={
            "username": f"new-{actor_role}-{target_role}".replace("_", "-"), "real_name": "新账号",
            "password": PASSWORD, "roles": [target_role], "school_id": school.id}),
        "rename": lambda: client.patch(f"/api/v1/users/{targets['rename'].id}", headers=headers,
                                       json={"real_name": "改名"}),
        "reset_password": lambda: client.patch(f"/api/v1/users/{targets['reset_password'].id}", headers=headers,
                                               json={"password": "a-brand-new-password"}),
        "disable": lambda: client.patch(f"/api/v1/users/{targets['disable'].id}", headers=headers,
                                        json={"is_active": False}),
        "demote": lambda: client.patch(f"/api/v1/users/{targets['demote'].id}", headers=headers,
                                       json={"roles": ["teacher"]}),
        "promote": lambda: client.patch(f"/api/v1/users/{targets['promote'].id}", headers=headers,
                                        json={"roles": [target_role]}),
    }
    expected = allowed(actor_role, target_role)
    for action, send in requests.items():
        before = _audit_count(session)
        response = send()
        if expected:
            assert response.status_code in (200, 201), (action, response.text)
            assert _audit_count(session) == before + 1, action
        else:
            assert_problem(response, 403, "auth.forbidden")
            assert _audit_count(session) == before, action
    session.expire_all()
    changed = {action: session.get(User, target.id) for action, target in targets.items()}
    assert (changed["rename"].real_name == "改名") is expected
    assert (changed["disable"].is_active is False) is expected
    assert (changed["reset_password"].token_version == 1) is expected
    assert (changed["demote"].roles == ["teacher"]) is expected or target_role is Role.teacher
    assert (changed["promote"].roles == [target_role]) is expected or target_role is Role.teacher
    created = session.scalar(select(func.count()).where(User.username.like("new-%"), User.school_id == school.id))
    assert created == (1 if expected else 0)


def test_a_school_administrator_cannot_reach_an_account_that_holds_any_role_above_theirs(client, factory):
    school = factory.school()
    admin = factory.user(school=school, roles=(Role.school_admin,))
    mixed = factory.user(school=school, roles=(Role.teacher, Role.moderator))
    factory.commit()
    headers = factory.headers(admin)
    # They may see the account (it is of their school) but not touch it.
    assert client.get(f"/api/v1/users/{mixed.id}", headers=headers).status_code == 200
    for body in ({"password": "taking-it-over-now"}, {"roles": ["teacher"]}, {"is_active": False}):
        assert_problem(client.patch(f"/api/v1/users/{mixed.id}", headers=headers, json=body), 403, "auth.forbidden")


def test_administrators_cannot_grant_themselves_more(client, factory):
    school = factory.school()
    admin = factory.user(school=school, roles=(Role.school_admin,))
    factory.commit()
    for roles in (["school_admin", "moderator"], ["district_admin"]):
        response = client.patch(f"/api/v1/users/{admin.id}", headers=factory.headers(admin), json={"roles": roles})
        assert_problem(response, 403, "auth.forbidden")


def test_accounts_elsewhere_are_not_found(client, factory):
    school, other_school = factory.school(), factory.school()
    school_admin = factory.user(school=school, roles=(Role.school_admin,))
    district_admin = factory.user(roles=(Role.district_admin,))
    colleague_elsewhere = factory.user(school=other_school)
    foreign = factory.user(school=factory.school(district=factory.district()))
    factory.commit()
    assert_problem(client.patch(f"/api/v1/users/{colleague_elsewhere.id}", headers=factory.headers(school_admin),
                                json={"real_name": "x"}), 404, "user.not_found")
    assert_problem(client.patch(f"/api/v1/users/{foreign.id}", headers=factory.headers(district_admin),
                                json={"password": "taking-it-over-now"}), 404, "user.not_found")


def _audit_count(session) -> int:  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0

"""The taxonomy is shared by every district: only a platform administrator may import it, the
import is audited, and no district's administrator can make themselves one."""
from __future__ import annotations

from sqlalchemy import select

from services.api.audit.models import AuditEvent
from services.api.orgs.models import Role
from tests.helpers import assert_problem

DOCUMENT = {"subjects": [{"code": "h7-subject", "name": "书法"}]}


def test_a_district_administrator_may_not_rewrite_the_shared_taxonomy(client, factory):
    admin = factory.user(roles=(Role.district_admin,))
    factory.commit()
    assert_problem(client.post("/api/v1/taxonomy/import", json=DOCUMENT, headers=factory.headers(admin)),
                   403, "auth.forbidden")
    subjects = client.get("/api/v1/taxonomy/subjects", params={"size": 100}, headers=factory.headers(admin)).json()
    assert "h7-subject" not in {s["code"] for s in subjects["items"]}


def test_a_platform_administrator_imports_and_it_is_audited(client, factory, session):
    platform = factory.user(roles=(Role.platform_admin,))
    factory.commit()
    response = client.post("/api/v1/taxonomy/import", json=DOCUMENT, headers=factory.headers(platform))
    assert response.status_code == 200, response.text
    assert response.json()["created"]["subjects"] == 1
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "taxonomy.import",
                                                     AuditEvent.actor_id == platform.id)).one()
    assert event.details["created"]["subjects"] == 1


def test_district_administrators_cannot_grant_or_take_over_the_platform_role(client, factory):
    district_admin = factory.user(roles=(Role.district_admin,))
    platform = factory.user(roles=(Role.platform_admin,))
    teacher = factory.user()
    factory.commit()
    headers = factory.headers(district_admin)
    assert_problem(client.post("/api/v1/users", headers=headers, json={
        "username": "h7-climber", "real_name": "张三", "password": "correct-horse-battery-2",
        "roles": ["platform_admin"]}), 403, "auth.forbidden")
    assert_problem(client.patch(f"/api/v1/users/{district_admin.id}", headers=headers,
                                json={"roles": ["district_admin", "platform_admin"]}), 403, "auth.forbidden")
    assert_problem(client.patch(f"/api/v1/users/{teacher.id}", headers=headers,
                                json={"roles": ["teacher", "platform_admin"]}), 403, "auth.forbidden")
    # Nor reset a platform administrator's password (and sign in as them): the account is in the
    # district, so seen, but above what a district administrator manages (orgs.manageable_roles).
    assert_problem(client.patch(f"/api/v1/users/{platform.id}", headers=headers,
                                json={"password": "taken-over-password-123"}), 403, "auth.forbidden")

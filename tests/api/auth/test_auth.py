"""Signing in, tokens, throttling, and accounts that are disabled or changed."""
from __future__ import annotations

import jwt
from sqlalchemy import select

from services.api.audit.models import AuditEvent
from services.api.auth import passwords, service
from services.api.orgs.models import Role
from tests.factories import PASSWORD
from tests.helpers import assert_problem

TOKEN = "/api/v1/auth/token"


def log_in(client, username, password=PASSWORD):
    return client.post(TOKEN, data={"username": username, "password": password})


def test_password_login_issues_tokens_that_work(client, factory):
    user = factory.user()
    factory.commit()
    response = log_in(client, user.username)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 900
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["username"] == user.username
    assert me.json()["roles"] == ["teacher"]


def test_the_password_is_checked_outside_any_transaction(session, factory, settings, monkeypatch):
    """The hashing takes ~0.1 s on purpose; on SQLite an open writing transaction across it
    would hold every other writer off."""
    user = factory.user()
    factory.commit()
    seen = []

    def verify(password_hash, password):  # type: ignore[no-untyped-def]
        seen.append(session.in_transaction())
        return passwords.verify_password(password_hash, password)

    monkeypatch.setattr(service, "verify_password", verify)
    service.log_in(session, settings=settings.auth, throttle=settings.login_throttle, secret=settings.secret_key,
                   username=user.username,
                   password=PASSWORD, client_ip="127.0.0.1")
    assert seen == [False]


def test_wrong_password_and_unknown_user_get_the_same_answer(client, factory):
    user = factory.user()
    factory.commit()
    wrong = assert_problem(log_in(client, user.username, "not-the-password"), 401, "auth.invalid_credentials")
    unknown = assert_problem(log_in(client, "nobody-here"), 401, "auth.invalid_credentials")
    assert wrong["detail"] == unknown["detail"]


def test_missing_form_fields_are_a_validation_problem(client):
    body = assert_problem(client.post(TOKEN, data={"username": "x"}), 422, "request.validation_failed")
    assert ["body", "password"] in [e["loc"] for e in body["errors"]]


def test_requests_without_a_token_are_refused(client):
    response = client.get("/api/v1/me")
    assert_problem(response, 401, "auth.not_authenticated")
    assert response.headers["www-authenticate"] == "Bearer"
    assert_problem(client.get("/api/v1/me", headers={"Authorization": "Basic abc"}), 401, "auth.not_authenticated")


def test_expired_token_is_refused(client, factory):
    user = factory.user()
    factory.commit()
    assert_problem(client.get("/api/v1/me", headers=factory.headers(user, ttl_s=-10)), 401, "auth.token_expired")


def test_forged_and_tampered_tokens_are_refused(client, factory):
    user = factory.user()
    factory.commit()
    forged = factory.headers(user, secret="another-secret-that-is-long-enough-for-hs256!!")
    assert_problem(client.get("/api/v1/me", headers=forged), 401, "auth.invalid_token")
    token = factory.headers(user)["Authorization"].split()[1]
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["roles"] = ["district_admin"]
    header, _, signature = token.split(".")
    tampered = jwt.encode(claims, "x" * 32, algorithm="HS256").split(".")[1]
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {header}.{tampered}.{signature}"})
    assert_problem(response, 401, "auth.invalid_token")
    none_alg = jwt.encode(claims, None, algorithm="none")
    assert_problem(client.get("/api/v1/me", headers={"Authorization": f"Bearer {none_alg}"}), 401, "auth.invalid_token")
    assert_problem(client.get("/api/v1/me", headers={"Authorization": "Bearer not.a.jwt"}), 401, "auth.invalid_token")


def test_disabled_user_is_rejected_at_once(client, factory):
    admin = factory.user(roles=(Role.district_admin,))
    teacher = factory.user()
    factory.commit()
    teacher_headers = factory.headers(teacher)
    tokens = log_in(client, teacher.username).json()
    assert client.get("/api/v1/me", headers=teacher_headers).status_code == 200

    response = client.patch(f"/api/v1/users/{teacher.id}", json={"is_active": False}, headers=factory.headers(admin))
    assert response.status_code == 200, response.text

    # The access token issued before is dead now, not when it expires.
    assert client.get("/api/v1/me", headers=teacher_headers).status_code == 401
    assert_problem(log_in(client, teacher.username), 403, "auth.account_disabled")
    assert_problem(client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}),
                   401, "auth.invalid_refresh_token")


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_family(client, factory):
    user = factory.user()
    factory.commit()
    first = log_in(client, user.username).json()
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200, second.text
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    # Someone replays the old one: refused, and the newer one dies with it.
    assert_problem(client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}),
                   401, "auth.invalid_refresh_token")
    assert_problem(client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}),
                   401, "auth.invalid_refresh_token")
    assert_problem(client.post("/api/v1/auth/refresh", json={"refresh_token": "garbage"}),
                   401, "auth.invalid_refresh_token")


def test_password_change_ends_existing_sessions(client, factory):
    admin = factory.user(roles=(Role.district_admin,))
    teacher = factory.user()
    factory.commit()
    old = factory.headers(teacher)
    response = client.patch(f"/api/v1/users/{teacher.id}", json={"password": "a-new-password-1"},
                            headers=factory.headers(admin))
    assert response.status_code == 200
    assert_problem(client.get("/api/v1/me", headers=old), 401, "auth.invalid_token")
    assert log_in(client, teacher.username, "a-new-password-1").status_code == 200


def test_a_reused_refresh_token_is_audited(client, factory, session):
    user = factory.user()
    factory.commit()
    first = log_in(client, user.username).json()
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}).status_code == 200
    assert_problem(client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}),
                   401, "auth.invalid_refresh_token")
    session.expire_all()
    actions = list(session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == user.id)
                                   .order_by(AuditEvent.seq)))
    assert actions == ["auth.sign_in", "auth.refresh_token_reused"]

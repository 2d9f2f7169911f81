from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.orm import Session

from services.api.audit import service as audit
from services.api.auth import throttle as throttling
from services.api.auth.errors import AccountDisabled, InvalidCredentials, InvalidRefreshToken
from services.api.auth.models import RefreshToken
from services.api.auth.passwords import verify_password
from services.api.auth.principal import Principal
from services.api.auth.schemas import TokenPair
from services.api.orgs.models import Role, User
from services.common.db import PreparedQuery, utcnow
from services.common.settings import AuthSettings, LoginThrottleSettings
from services.common.tokens import AUTHENTICATE, AccessClaims, InvalidToken, issue_access_token


def log_in(session: Session, *, settings: AuthSettings, throttle: LoginThrottleSettings, secret: bytes,
           username: str, password: str, client_ip: str) -> TokenPair:
    """Checks a password sign-in, throttled by backoff (auth/throttle.py). Commits its own
    bookkeeping (failures must be counted even though the caller sees an error); every outcome
    is in the audit trail."""
    user = session.scalar(select(User).where(User.username == username))
    subject = throttling.Subject(username=username, user_id=user.id if user else None,
                                 district_id=user.district_id if user else None)
    throttling.admit(session, settings=throttle, subject=subject, client_ip=client_ip, now=utcnow())
    # The check below takes ~0.1 s on purpose: no transaction (on SQLite, no write lock: the
    # throttle check above wrote) is held across it, so a burst of sign-ins does not queue
    # every other writer behind the hashing.
    session.commit()
    if not verify_password(user.password_hash if user else None, password):
        throttling.failed(session, subject=subject, client_ip=client_ip,
                          reason="wrong_password" if user else "unknown_username")
        session.commit()
        raise InvalidCredentials()
    assert user is not None
    throttling.forgive(session, username=username, client_ip=client_ip)
    if not user.is_active:
        audit.record(session, actor_id=None, district_id=user.district_id, action="auth.sign_in_failed",
                     target_type="user", target_id=user.id, username=username, client=client_ip,
                     reason="account_disabled")
        session.commit()
        raise AccountDisabled()
    pair = _issue_pair(session, settings=settings, secret=secret, user=user)
    audit.record(session, actor_id=user.id, district_id=user.district_id, action="auth.sign_in",
                 target_type="user", target_id=user.id, client=client_ip)
    session.commit()
    return pair


def refresh(session: Session, *, settings: AuthSettings, secret: bytes, refresh_token: str) -> TokenPair:
    """Rotates a refresh token. Presenting one already used revokes the whole family: someone
    else has a copy."""
    token_id, _, token_secret = refresh_token.partition(".")
    stored = session.get(RefreshToken, token_id) if token_id else None
    if stored is None or not hmac.compare_digest(stored.secret_hash, _digest(token_secret)):
        raise InvalidRefreshToken()
    now = utcnow()
    if stored.revoked_at is not None:
        session.execute(update(RefreshToken).where(RefreshToken.user_id == stored.user_id,
                                                   RefreshToken.revoked_at.is_(None)).values(revoked_at=now))
        owner = session.get(User, stored.user_id)
        audit.record(session, actor_id=None, district_id=owner.district_id if owner else None,
                     action="auth.refresh_token_reused", target_type="user", target_id=stored.user_id,
                     token_id=stored.id)
        session.commit()
        raise InvalidRefreshToken()
    if stored.expires_at <= now:
        raise InvalidRefreshToken()
    user = session.get(User, stored.user_id)
    if user is None or not user.is_active:
        raise AccountDisabled()
    stored.revoked_at = now
    pair = _issue_pair(session, settings=settings, secret=secret, user=user)
    session.commit()
    return pair


# Runs on every authenticated request: built once (see resources/visibility.py for why).
_ACCOUNT = PreparedQuery(select(User.is_active, User.token_version, User.roles, User.school_id, User.district_id)
                         .where(User.id == bindparam("user_id")))


def principal_for(connection: Connection, claims: AccessClaims) -> Principal:
    """The caller behind verified claims, re-checked against the account on every request."""
    # Checked on every request: prepared, it costs a tenth of an ORM-executed query (measured).
    row = _ACCOUNT.one_or_none(connection, {"user_id": claims.user_id})
    if row is None or row.token_version != claims.token_version:
        raise InvalidToken(headers=AUTHENTICATE)
    if not row.is_active:
        raise AccountDisabled()
    return Principal(user_id=claims.user_id, roles=frozenset(Role(r) for r in row.roles),
                     school_id=row.school_id, district_id=row.district_id)


def _issue_pair(session: Session, *, settings: AuthSettings, secret: bytes, user: User) -> TokenPair:
    token_secret = secrets.token_urlsafe(32)
    stored = RefreshToken(user_id=user.id, secret_hash=_digest(token_secret),
                          expires_at=utcnow() + timedelta(seconds=settings.refresh_token_ttl_s))
    session.add(stored)
    session.flush()
    access = issue_access_token(secret=secret, ttl_s=settings.access_token_ttl_s, user_id=user.id,
                                token_version=user.token_version, school_id=user.school_id,
                                district_id=user.district_id, roles=user.roles)
    return TokenPair(access_token=access, expires_in=settings.access_token_ttl_s,
                     refresh_token=f"{stored.id}.{token_secret}")


def _digest(token_secret: bytes) -> str:
    # Refresh secrets are 256 random bits: a plain hash is enough, no password hashing needed.
    return hashlib.sha256(token_secret.encode()).hexdigest()

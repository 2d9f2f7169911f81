from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import Connection, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from services.api.auth.errors import AccountDisabled, InvalidCredentials, InvalidRefreshToken, TooManyAttempts
from services.api.auth.models import LoginFailure, RefreshToken
from services.api.auth.passwords import verify_password
from services.api.auth.principal import Principal
from services.api.auth.schemas import TokenPair
from services.api.orgs.models import Role, User
from services.common.db import PreparedQuery, utcnow
from services.common.settings import AuthSettings
from services.common.tokens import AUTHENTICATE, AccessClaims, InvalidToken, issue_access_token


def log_in(session: Session, *, settings: AuthSettings, secret: bytes, username: str, password: str,
           client_ip: str) -> TokenPair:
    """Checks a password sign-in, throttled per username and per address. Commits its own
    bookkeeping (failures must be counted even though the caller sees an error)."""
    _refuse_if_throttled(session, settings=settings, username=username, client_ip=client_ip)
    user = session.scalar(select(User).where(User.username == username))
    # The check below takes ~0.1 s on purpose: no transaction (on SQLite, no write lock: the
    # throttle check above wrote) is held across it, so a burst of sign-ins does not queue
    # every other writer behind the hashing.
    session.commit()
    if not verify_password(user.password_hash if user else None, password):
        session.add(LoginFailure(username=username, client_ip=client_ip))
        session.commit()
        raise InvalidCredentials()
    assert user is not None
    if not user.is_active:
        raise AccountDisabled()
    session.execute(delete(LoginFailure).where(LoginFailure.username == username))
    pair = _issue_pair(session, settings=settings, secret=secret, user=user)
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


def _refuse_if_throttled(session: Session, *, settings: AuthSettings, username: str, client_ip: str) -> None:
    since = utcnow() - timedelta(seconds=settings.login_window_s)
    session.execute(delete(LoginFailure).where(LoginFailure.at < since))
    by_user = session.scalar(select(func.count()).where(LoginFailure.username == username)) or 0
    by_ip = session.scalar(select(func.count()).where(LoginFailure.client_ip == client_ip)) or 0
    if by_user >= settings.login_max_failures or by_ip >= settings.login_max_failures_per_ip:
        session.commit()
        raise TooManyAttempts(retry_after=settings.login_window_s)


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

"""Sign-in throttling by exponential backoff, so guessing is slow and nobody can lock a user out.

Three scopes are counted over failures in the last `window_s` (settings: LoginThrottleSettings):
- one username from one client address: steep (up to 15 minutes). This is the guesser's own
  client; the user's real client, elsewhere, is not in it.
- one username from every address: gentle (up to 30 s), so a guesser spread over many addresses
  is slowed too, while the right password from another client waits half a minute at most.
- one address across usernames: one password tried on many accounts (spraying).
A sign-in waits until every scope's backoff, counted from that scope's last failure, is over.

An attempt is written as a failure before its password is checked and taken back if the password
was right, so attempts sent in parallel count against each other instead of all slipping
through on one count. On PostgreSQL the check and that write hold advisory locks on the
username and the address; on SQLite the sign-in's writer session already runs alone.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from services.api.audit import service as audit
from services.api.auth.errors import TooManyAttempts
from services.api.auth.models import LoginFailure
from services.common.settings import LoginThrottleSettings


@dataclass(frozen=True)
class Subject:
    """Whom a sign-in names, for the audit trail: a known account, or only a username."""

    username: str
    user_id: str | None
    district_id: str | None

    @property
    def target(self) -> tuple[str, str]:
        return ("user", self.user_id) if self.user_id else ("username", self.username)


def backoff_s(failures: int, *, free: int, base_s: float, max_s: float) -> float:
    """How long after the last failure the next attempt must wait, with `failures` counted."""
    if failures < free:
        return 0.0
    return min(base_s * 2.0 ** min(failures - free, 64), max_s)


def admit(session: Session, *, settings: LoginThrottleSettings, subject: Subject, client_ip: str,
          now: datetime) -> LoginFailure:
    """Refuses a sign-in that must wait (429 with Retry-After, audited once per wait), or writes it
    down as a failure until its password is found right. The caller commits."""
    _serialise(session, f"user:{subject.username}", f"address:{client_ip}")
    session.execute(delete(LoginFailure).where(LoginFailure.at < now - timedelta(seconds=settings.window_s)))
    by_user = LoginFailure.username == subject.username
    by_address = LoginFailure.client_ip == client_ip
    scopes: list[tuple[str, ColumnElement[bool], int, float, float]] = [
        ("username_and_address", by_user & by_address, settings.pair_free, settings.pair_base_s, settings.pair_max_s),
        ("username", by_user, settings.user_free, settings.user_base_s, settings.user_max_s),
        ("address", by_address, settings.address_free, settings.address_base_s, settings.address_max_s),
    ]
    longest: tuple[float, str, ColumnElement[bool]] | None = None
    for name, condition, free, base_s, max_s in scopes:
        count, last = session.execute(select(func.count(), func.max(LoginFailure.at)).where(condition)).one()
        if not count:
            continue
        # `now` was taken before the lock: a racing attempt may have written a later one meanwhile.
        elapsed = max(0.0, (now - last).total_seconds())
        wait = backoff_s(count, free=free, base_s=base_s, max_s=max_s) - elapsed
        if wait > 0 and (longest is None or wait > longest[0]):
            longest = (wait, name, condition)
    if longest is not None:
        wait, name, condition = longest
        retry_after = max(1, math.ceil(wait))
        _note_refusal(session, subject=subject, client_ip=client_ip, scope=name, condition=condition,
                      retry_after=retry_after)
        session.commit()
        raise TooManyAttempts(retry_after=retry_after)
    attempt = LoginFailure(username=subject.username, client_ip=client_ip, at=now)
    session.add(attempt)
    return attempt


def failed(session: Session, *, subject: Subject, client_ip: str, reason: str) -> None:
    """The attempt stays counted; it goes into the audit trail. The caller commits."""
    target_type, target_id = subject.target
    audit.record(session, actor_id=None, district_id=subject.district_id, action="auth.sign_in_failed",
                 target_type=target_type, target_id=target_id, username=subject.username, client=client_ip,
                 reason=reason)


def forgive(session: Session, *, username: str, client_ip: str) -> None:
    """The right password: this client's failures for this username are forgotten (its attempt
    among them). Failures from elsewhere still count against the guessers who made them."""
    session.execute(delete(LoginFailure).where(LoginFailure.username == username,
                                               LoginFailure.client_ip == client_ip))


def _note_refusal(session: Session, *, subject: Subject, client_ip: str, scope: str,
                  condition: ColumnElement[bool], retry_after: int) -> None:
    # Once per backoff: the newest failure of the scope carries the mark, and the next failure
    # (which starts a longer backoff) comes without it.
    latest = session.scalars(select(LoginFailure).where(condition)
                             .order_by(LoginFailure.at.desc(), LoginFailure.id.desc()).limit(1)).one()
    if latest.throttle_noted:
        return
    latest.throttle_noted = True
    target_type, target_id = subject.target
    audit.record(session, actor_id=None, district_id=subject.district_id, action="auth.throttled",
                 target_type=target_type, target_id=target_id, username=subject.username, client=client_ip,
                 scope=scope, retry_after=retry_after)


def _serialise(session: Session, *keys: str) -> None:
    """PostgreSQL: concurrent sign-ins for one username or from one address take turns between
    counting and writing their attempt. Locks are taken in one global order, so never deadlock."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in sorted(_lock_id(k) for k in keys):
        session.execute(select(func.pg_advisory_xact_lock(key)))


def _lock_id(key: str) -> int:
    return int.from_bytes(hashlib.sha256(f"lb-login:{key}".encode()).digest()[:8], "big", signed=True)

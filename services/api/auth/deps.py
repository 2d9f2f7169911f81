"""`CurrentUser`: the signed-in caller, for any route that needs one."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Connection

from services.api.auth.errors import Forbidden, NotAuthenticated
from services.api.auth.principal import Principal
from services.api.auth.service import principal_for
from services.api.db import SessionDep
from services.api.orgs.models import Role
from services.common.tokens import verify_access_token


def bearer_token(request: Request) -> str:
    """The token of `Authorization: Bearer <token>` (user or device), or "" when there is none."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def authenticate(request: Request, connection: Connection) -> Principal:
    """The caller of the request, their account re-checked in the database (blocking I/O: call it
    on a worker thread)."""
    token = bearer_token(request)
    if not token:
        raise NotAuthenticated()
    claims = verify_access_token(token, secret=request.app.state.settings.keys.access_token)
    return principal_for(connection, claims)


def current_principal(request: Request, session: SessionDep) -> Principal:
    principal = authenticate(request, session.connection())
    # Give the connection back while the request waits for the route's worker thread.
    session.rollback()
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]


def require_role(principal: Principal, *roles: Role) -> None:
    if not principal.has_any_role(*roles):
        raise Forbidden()

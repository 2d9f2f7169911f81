from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request

from services.api.auth import service
from services.api.auth.schemas import RefreshRequest, TokenPair
from services.api.db import SessionDep
from services.api.routing import api_router

router = api_router("/auth", tags=["auth"])


@router.post("/token", response_model=TokenPair)
def issue_token(request: Request, session: SessionDep,
                username: Annotated[str, Form(min_length=1, max_length=64)],
                password: Annotated[str, Form(min_length=1, max_length=256)]) -> TokenPair:
    """OAuth2 password flow: a short-lived access token and a rotating refresh token."""
    settings = request.app.state.settings
    return service.log_in(session, settings=settings.auth, throttle=settings.login_throttle,
                          secret=settings.keys.access_token, username=username, password=password,
                          client_ip=request.client.host if request.client else "unknown")


@router.post("/refresh", response_model=TokenPair)
def refresh_token(request: Request, session: SessionDep, body: RefreshRequest) -> TokenPair:
    settings = request.app.state.settings
    return service.refresh(session, settings=settings.auth, secret=settings.keys.access_token,
                           refresh_token=body.refresh_token)

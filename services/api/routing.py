"""Every domain's router hangs under /api/v1. The full prefix sits on the router itself (not on
an enclosing router) so each route knows its whole path template, which metrics label by."""
from __future__ import annotations

from fastapi import APIRouter

API_PREFIX = "/api/v1"


def api_router(path: str = "", *, tags: list[str]) -> APIRouter:
    return APIRouter(prefix=f"{API_PREFIX}{path}", tags=tags)


# CORS for responses whose URL is its own credential (signed blob and playback links).
ANY_ORIGIN = {"Access-Control-Allow-Origin": "*"}

"""Every domain's router hangs under /api/v1. The full prefix sits on the router itself (not on
an enclosing router) so each route knows its whole path template, which metrics label by."""
from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import AwareDatetime, BeforeValidator

API_PREFIX = "/api/v1"


def api_router(path: str = "", *, tags: list[str], responses: dict[int | str, dict[str, Any]] | None = None) -> APIRouter:
    """`responses`: statuses beyond the common problems (which every operation declares, see
    services/common/problems.problem_openapi), e.g. tus's 412; error ones become problem details."""
    return APIRouter(prefix=f"{API_PREFIX}{path}", tags=tags, responses=responses)


TEXT: dict[str, Any] = {"type": "string"}
JSON_OBJECT: dict[str, Any] = {"type": "object"}


def body_of(content: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """`openapi_extra` for a route that reads its body raw (a CSV, a text list): what it takes,
    media type -> JSON schema."""
    return {"requestBody": {"required": True, "content": {
        media_type: {"schema": schema} for media_type, schema in content.items()}}}


def answers(content: dict[str, dict[str, Any]], *, description: str, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """`responses` for an answer that is not (only) JSON (a CSV export, a text list, a playlist):
    media type -> JSON schema."""
    return {status: {"description": description, "content": {
        media_type: {"schema": schema} for media_type, schema in content.items()}}}


# CORS for responses whose URL is its own credential (signed blob and playback links).
ANY_ORIGIN = {"Access-Control-Allow-Origin": "*"}


def _not_a_number(value: Any) -> Any:
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*", value):
        raise ValueError("must be an ISO 8601 date-time with its offset")
    return value


# A date-time query parameter as the document says it (`format: date-time`): pydantic alone
# would also take a number of seconds since 1970.
IsoDateTime = Annotated[AwareDatetime, BeforeValidator(_not_a_number)]

"""`GET /search` and `GET /search/suggest`: forwarded to the search service with the caller as a
signed principal, so it decides visibility itself (api.md, Search)."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from services.api.auth.deps import CurrentUser
from services.api.auth.principal import Principal
from services.api.db import SessionDep
from services.api.orgs.models import Role
from services.api.pairing.service import partner_school_ids
from services.api.resources.models import License
from services.api.routing import api_router
from services.api.search import coverage
from services.api.stats import export
from services.common.problems import request_language
from services.common.search import SearchPrincipal, Sort

router = api_router(tags=["search"])
_PASSED_HEADERS = ("content-type",)


def search_principal(session: Session, principal: Principal) -> SearchPrincipal:
    partners = (list(session.scalars(select(partner_school_ids(principal.school_id).subquery().c.school_id)))
                if principal.school_id else [])
    return SearchPrincipal(user_id=principal.user_id, district_id=principal.district_id, school_id=principal.school_id,
                           partner_school_ids=sorted(partners), manages_district=principal.reviews_district,
                           manages_school=principal.has_any_role(Role.school_admin, Role.school_reviewer)
                           and principal.school_id is not None)


def _canonical(name: str, value: str) -> tuple[str, str]:
    # SPDX ids match whatever their case; the index holds the canonical spelling.
    if name == "license":
        try:
            return name, License(value).value
        except ValueError:
            pass
    return name, value


def _forward(request: Request, session: Session, caller: Principal, path: str) -> Response:
    principal = search_principal(session, caller)
    session.rollback()  # nothing held open while the search service works
    answer = request.app.state.search_client.forward(
        path, principal=principal, params=[_canonical(k, v) for k, v in request.query_params.multi_items()],
        language=request.headers.get("accept-language"))
    return Response(answer.content, status_code=answer.status_code,
                    headers={k: v for k, v in answer.headers.items() if k.lower() in _PASSED_HEADERS})


# The parameters are declared for the OpenAPI document and validated by the search service.
@router.get("/search")
def search(request: Request, session: SessionDep, caller: CurrentUser,
           q: Annotated[str, Query(max_length=200)] = "", subject: str | None = None, stage: str | None = None,
           grade: str | None = None, edition: str | None = None, volume: str | None = None,
           chapter: str | None = None, knowledge_point: str | None = None, kind: str | None = None,
           school: str | None = None, license: str | None = None, duration: str | None = None,
           sort: Sort = Sort.relevance, page: Annotated[int, Query(ge=1)] = 1,
           size: Annotated[int, Query(ge=1, le=50)] = 20, cursor: str | None = None,
           facets: str | None = None) -> Response:
    return _forward(request, session, caller, "/search")


@router.get("/search/suggest")
def suggest(request: Request, session: SessionDep, caller: CurrentUser,
            q: Annotated[str, Query(max_length=64)] = "", limit: Annotated[int, Query(ge=1, le=20)] = 10) -> Response:
    return _forward(request, session, caller, "/suggest")


@router.get("/statistics/coverage", response_model=coverage.Coverage,
            responses={200: {"content": {"text/csv": {}}, "description": "JSON, or CSV (UTF-8 with BOM) when asked for"}})
def subject_coverage(request: Request, session: SessionDep, caller: CurrentUser, subject: str, stage: str,
                     edition: str | None = None,
                     format: Annotated[Literal["json", "csv"] | None, Query(description="default: by Accept")] = None,
                     ) -> coverage.Coverage | Response:
    report = coverage.coverage(session, actor=caller, subject=subject, stage=stage, edition=edition)
    if not export.wants_csv(request, format):
        return report
    body = export.coverage_csv(report.points, subject=subject, stage=stage, edition=edition,
                               language=request_language(request))
    return export.csv_response(body, filename=f"coverage-{subject}-{stage}{f'-{edition}' if edition else ''}.csv")

"""`GET /statistics/participation…`: participation by semester for the district and its schools,
as JSON or CSV (`format=csv` or `Accept: text/csv`)."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query, Request
from starlette.responses import Response

from services.api.auth.deps import CurrentUser
from services.api.db import SessionDep
from services.api.pagination import PageDep
from services.api.routing import api_router
from services.api.stats import export, service
from services.api.stats.schemas import DistrictReport, SchoolReport, SchoolsReport
from services.common.db import utcnow
from services.common.problems import request_language

router = api_router("/statistics/participation", tags=["statistics"])
_CSV = {200: {"content": {"text/csv": {}}, "description": "JSON, or CSV (UTF-8 with BOM) when asked for"}}
SemesterParam = Annotated[str | None, Query(max_length=32, description="e.g. 2026-fall, 2027-spring; "
                                            "default: the current semester")]
CodeParam = Annotated[str | None, Query(max_length=64)]
FormatParam = Annotated[Literal["json", "csv"] | None, Query(description="default: by Accept")]


@router.get("", response_model=DistrictReport, responses=_CSV)
def district_participation(request: Request, session: SessionDep, caller: CurrentUser,
                           semester: SemesterParam = None, stage: CodeParam = None, subject: CodeParam = None,
                           format: FormatParam = None) -> DistrictReport | Response:
    """The caller's district as a whole (district administrators)."""
    service.require_district_viewer(caller)
    scope = service.scope(session, semester=semester, stage=stage, subject=subject, now=utcnow())
    district = service.district_participation(session, actor=caller, scope=scope)
    if export.wants_csv(request, format):
        return export.csv_response(export.district_csv(scope.read(), district, request_language(request)),
                                   filename=f"participation-{scope.semester.code}.csv")
    return DistrictReport(filters=scope.read(), district=district)


@router.get("/schools", response_model=SchoolsReport, responses=_CSV)
def schools_participation(request: Request, session: SessionDep, caller: CurrentUser, paging: PageDep,
                          semester: SemesterParam = None, stage: CodeParam = None, subject: CodeParam = None,
                          format: FormatParam = None) -> SchoolsReport | Response:
    """Each school the caller may see (a district administrator: every school of the district; a
    school administrator: theirs), by name, a page at a time. The CSV holds every school: it is
    the export for a spreadsheet, and `page`/`size` do not apply to it."""
    service.require_school_viewer(caller)
    scope = service.scope(session, semester=semester, stage=stage, subject=subject, now=utcnow())
    if export.wants_csv(request, format):
        schools = service.all_schools_participation(session, actor=caller, scope=scope)
        return export.csv_response(export.schools_csv(scope.read(), schools, request_language(request)),
                                   filename=f"participation-schools-{scope.semester.code}.csv")
    return service.schools_participation(session, actor=caller, scope=scope, paging=paging)


@router.get("/schools/{school_id}", response_model=SchoolReport, responses=_CSV)
def school_participation(request: Request, session: SessionDep, caller: CurrentUser, school_id: str,
                         semester: SemesterParam = None, stage: CodeParam = None, subject: CodeParam = None,
                         format: FormatParam = None) -> SchoolReport | Response:
    """One school (district administrators: any of their district's; school administrators: theirs)."""
    service.require_school_viewer(caller)
    scope = service.scope(session, semester=semester, stage=stage, subject=subject, now=utcnow())
    school = service.school_participation(session, actor=caller, school_id=school_id, scope=scope)
    if export.wants_csv(request, format):
        return export.csv_response(export.schools_csv(scope.read(), [school], request_language(request)),
                                   filename=f"participation-school-{scope.semester.code}.csv")
    return SchoolReport(filters=scope.read(), school=school)

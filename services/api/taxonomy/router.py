from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from services.api.auth.deps import CurrentUser, require_role
from services.api.db import SessionDep
from services.api.orgs.models import Role
from services.api.pagination import Page, PageDep, fetch_page
from services.api.taxonomy import service
from services.api.taxonomy.errors import TaxonomyDocumentTooLarge
from services.api.taxonomy.models import Chapter, Edition, Grade, Stage, Subject, Volume
from services.api.taxonomy.schemas import (ChapterRead, GradeRead, ImportReport, KnowledgePointRead, VocabularyItem,
                                           VolumeRead)
from services.api.routing import JSON_OBJECT, TEXT, answers, api_router, body_of

router = api_router("/taxonomy", tags=["taxonomy"])
MAX_IMPORT_BYTES = 20 * 1024 * 1024
CodeFilter = Annotated[str | None, Query(max_length=64)]


def _page(session: SessionDep, query, paging: PageDep, read_model):  # type: ignore[no-untyped-def]
    total, rows = fetch_page(session, query, paging)
    return Page(total=total, page=paging.page, size=paging.size, items=[read_model.model_validate(r) for r in rows])


@router.get("/subjects", response_model=Page[VocabularyItem])
def list_subjects(session: SessionDep, caller: CurrentUser, paging: PageDep) -> Page[VocabularyItem]:
    return _page(session, select(Subject).order_by(Subject.code), paging, VocabularyItem)


@router.get("/stages", response_model=Page[VocabularyItem])
def list_stages(session: SessionDep, caller: CurrentUser, paging: PageDep) -> Page[VocabularyItem]:
    return _page(session, select(Stage).order_by(Stage.code), paging, VocabularyItem)


@router.get("/grades", response_model=Page[GradeRead])
def list_grades(session: SessionDep, caller: CurrentUser, paging: PageDep, stage: CodeFilter = None) -> Page[GradeRead]:
    query = select(Grade).order_by(Grade.position)
    if stage:
        query = query.where(Grade.stage_code == stage)
    return _page(session, query, paging, GradeRead)


@router.get("/editions", response_model=Page[VocabularyItem])
def list_editions(session: SessionDep, caller: CurrentUser, paging: PageDep) -> Page[VocabularyItem]:
    return _page(session, select(Edition).order_by(Edition.code), paging, VocabularyItem)


@router.get("/volumes", response_model=Page[VolumeRead])
def list_volumes(session: SessionDep, caller: CurrentUser, paging: PageDep, edition: CodeFilter = None,
                 subject: CodeFilter = None, grade: CodeFilter = None) -> Page[VolumeRead]:
    query = select(Volume).order_by(Volume.code)
    for column, value in ((Volume.edition_code, edition), (Volume.subject_code, subject), (Volume.grade_code, grade)):
        if value:
            query = query.where(column == value)
    return _page(session, query, paging, VolumeRead)


@router.get("/chapters", response_model=Page[ChapterRead])
def list_chapters(session: SessionDep, caller: CurrentUser, paging: PageDep, volume: CodeFilter = None) -> Page[ChapterRead]:
    query = select(Chapter).order_by(Chapter.volume_code, Chapter.position)
    if volume:
        query = query.where(Chapter.volume_code == volume)
    return _page(session, query, paging, ChapterRead)


@router.get("/knowledge-points", response_model=Page[KnowledgePointRead])
def list_knowledge_points(session: SessionDep, caller: CurrentUser, paging: PageDep, subject: CodeFilter = None,
                          stage: CodeFilter = None, q: Annotated[str | None, Query(max_length=100)] = None,
                          parent_id: Annotated[str | None, Query(max_length=26)] = None,
                          roots: bool = False) -> Page[KnowledgePointRead]:
    query = service.knowledge_points_query(subject=subject, stage=stage, q=q, parent_id=parent_id, roots_only=roots)
    return _page(session, query, paging, KnowledgePointRead)


@router.get("/knowledge-points/{knowledge_point_id}", response_model=KnowledgePointRead)
def read_knowledge_point(session: SessionDep, caller: CurrentUser, knowledge_point_id: str) -> KnowledgePointRead:
    return KnowledgePointRead.model_validate(service.get_knowledge_point(session, knowledge_point_id=knowledge_point_id))


async def document_body(request: Request) -> bytes:
    """The request body, refused with a 413 as soon as it passes the limit."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_IMPORT_BYTES:
        raise TaxonomyDocumentTooLarge(limit_mib=MAX_IMPORT_BYTES // 2**20)
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_IMPORT_BYTES:
            raise TaxonomyDocumentTooLarge(limit_mib=MAX_IMPORT_BYTES // 2**20)
    return bytes(raw)


@router.post("/import", response_model=ImportReport,
             openapi_extra=body_of({"application/json": JSON_OBJECT, "text/csv": TEXT}))
def import_taxonomy(request: Request, session: SessionDep, caller: CurrentUser,
                    raw: Annotated[bytes, Depends(document_body)]) -> ImportReport:
    """A JSON taxonomy document, or a CSV of knowledge points; all of it is applied or none."""
    # The taxonomy is shared by every district: one district's administrator may not rewrite it.
    require_role(caller, Role.platform_admin)
    document = service.parse_document(raw, media_type=request.headers.get("content-type", ""))
    report = service.import_document(session, document, actor_id=caller.user_id, district_id=caller.district_id)
    session.commit()
    return report


@router.get("/export", responses=answers({"application/json": JSON_OBJECT, "text/csv": TEXT},
                                          description="The taxonomy document, or its knowledge points as CSV"))
def export_taxonomy(session: SessionDep, caller: CurrentUser, format: Literal["json", "csv"] = "json") -> Response:
    if format == "csv":
        return Response(service.export_knowledge_points_csv(session), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="knowledge-points.csv"'})
    return JSONResponse(service.export_document(session).model_dump(mode="json"))

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response, status
from fastapi.responses import RedirectResponse
from sqlalchemy import Connection, select

from services.api.auth.deps import CurrentUser, authenticate
from services.api.db import SessionDep, read_on_connection
from services.api.pagination import Page, PageDep, fetch_page
from services.api.moderation import service as moderation
from services.api.orgs.models import User
from services.api.resources import links, service
from services.api.resources.models import ResourceKind, ResourceStatus
from services.api.resources.previews import DocumentPreview, document_preview, preview_for
from services.api.resources.renditions import renditions_of
from services.api.resources.visibility import viewer_params
from services.api.resources.schemas import (AppealCreate, AppealRead, AssetRead, AssetsAdd, FieldChange,
                                            KnowledgePointRef, PersonRef, ResourceCreate, ResourceCreated,
                                            ResourceRead, ResourceSummary, ResourceUpdate, ReviewRead,
                                            RevisionDecision, RevisionRead, SchoolRef)
from services.api.routing import api_router
from services.common.storage import BlobStore

router = api_router("/resources", tags=["resources"])


@router.post("", response_model=ResourceCreated, status_code=status.HTTP_201_CREATED)
def create_resource(session: SessionDep, caller: CurrentUser, body: ResourceCreate) -> ResourceCreated:
    resource = service.create_resource(
        session, actor=caller, title=body.title, kind=body.kind, description=body.description,
        taxonomy_codes={field: getattr(body, field) for field in service.TAXONOMY_FIELDS},
        knowledge_point_ids=body.knowledge_point_ids, tags=body.tags, visibility=body.visibility,
        license=body.license, upload_ids=body.upload_ids)
    session.commit()
    return ResourceCreated(id=resource.id, status=resource.status)


@router.get("", response_model=Page[ResourceSummary])
def list_resources(session: SessionDep, caller: CurrentUser, paging: PageDep,
                   status: ResourceStatus | None = None, kind: ResourceKind | None = None,
                   subject: Annotated[str | None, Query(max_length=64)] = None,
                   mine: bool = False) -> Page[ResourceSummary]:
    query = service.own_and_school_query(actor=caller, status=status, kind=kind, subject=subject, mine=mine)
    total, resources = fetch_page(session, query, paging, viewer_params(caller))
    return Page(total=total, page=paging.page, size=paging.size,
                items=[ResourceSummary(id=r.id, title=r.title, kind=r.kind, subject=r.subject_code,
                                       grade=r.grade_code, visibility=r.visibility, status=r.status,
                                       owner_id=r.owner_id, school_id=r.school_id, created_at=r.created_at)
                       for r in resources])


@router.get("/{resource_id}", response_model=ResourceRead)
async def read_resource(request: Request, resource_id: str) -> Response:
    # The hottest route (bench/api_read.py): authentication, the queries and rendering run as
    # one unit with no dependency machinery, and the JSON is rendered straight from the model.
    def render(connection: Connection) -> bytes:
        caller = authenticate(request, connection)
        detail = service.read_detail(connection, actor=caller, resource_id=resource_id)
        return _read(detail, request.app.state.blob_store).model_dump_json().encode()

    return Response(await read_on_connection(request, render), media_type="application/json")


@router.patch("/{resource_id}", response_model=ResourceRead)
def update_resource(request: Request, session: SessionDep, caller: CurrentUser, resource_id: str,
                    body: ResourceUpdate) -> ResourceRead:
    """Changes to what a reviewer approved of a published resource wait in a revision: the reply
    shows the live version, with `review.status` pending."""
    service.update_resource(session, actor=caller, resource_id=resource_id, changes=body.model_dump(exclude_unset=True))
    session.commit()
    return _read(service.read_detail(session.connection(), actor=caller, resource_id=resource_id), request.app.state.blob_store)


@router.delete("/{resource_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_resource(session: SessionDep, caller: CurrentUser, resource_id: str) -> Response:
    service.delete_resource(session, actor=caller, resource_id=resource_id)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{resource_id}/submit", response_model=ResourceCreated)
def submit_resource(session: SessionDep, caller: CurrentUser, resource_id: str) -> ResourceCreated:
    """The owner sends a resource with nothing left to process to review."""
    resource = service.submit_for_review(session, actor=caller, resource_id=resource_id)
    session.commit()
    return ResourceCreated(id=resource.id, status=resource.status)


@router.post("/{resource_id}/withdraw", response_model=ResourceCreated)
def withdraw_resource(session: SessionDep, caller: CurrentUser, resource_id: str) -> ResourceCreated:
    """The owner takes a published or in-review resource back to draft, at once."""
    resource = service.withdraw(session, actor=caller, resource_id=resource_id)
    session.commit()
    return ResourceCreated(id=resource.id, status=resource.status)


@router.get("/{resource_id}/revisions", response_model=Page[RevisionRead])
def list_revisions(session: SessionDep, caller: CurrentUser, resource_id: str, paging: PageDep) -> Page[RevisionRead]:
    total, items = fetch_page(session, service.revision_history(session, actor=caller, resource_id=resource_id),
                              paging)
    authors = {user_id: name for user_id, name in session.execute(
        select(User.id, User.real_name).where(User.id.in_({r.author_id for r in items})))}
    decisions = moderation.decisions_of(session, revision_ids=[r.id for r in items])
    return Page(total=total, page=paging.page, size=paging.size, items=[RevisionRead(
        id=r.id, created_at=r.created_at, author=PersonRef(id=r.author_id, real_name=authors[r.author_id]),
        changes=[FieldChange(**c) for c in r.changes], status=r.status,
        decision=RevisionDecision(action=d.action, reason_code=d.reason_code, note=d.note, level=d.level,
                                  moderator_id=d.moderator_id, decided_at=d.created_at)
        if (d := decisions.get(r.id)) else None) for r in items])


@router.post("/{resource_id}/appeal", response_model=AppealRead)
def appeal(session: SessionDep, caller: CurrentUser, resource_id: str, body: AppealCreate) -> AppealRead:
    """The owner appeals the latest rejection, once: another reviewer decides."""
    rejection, resource = moderation.appeal(session, actor=caller, resource_id=resource_id, note=body.note)
    session.commit()
    return AppealRead(resource_id=resource_id, status=resource.status, decision_id=rejection.id,
                      appealed_at=rejection.appealed_at)


@router.post("/{resource_id}/assets", response_model=list[AssetRead], status_code=status.HTTP_201_CREATED)
def add_assets(request: Request, response: Response, session: SessionDep, caller: CurrentUser, resource_id: str,
               body: AssetsAdd) -> list[AssetRead]:
    """On a published resource the files wait in a revision: 202 and nothing added yet."""
    added, revision = service.add_assets(session, actor=caller, resource_id=resource_id, upload_ids=body.upload_ids,
                                         roles=body.roles)
    session.commit()
    if revision is not None:
        response.status_code = status.HTTP_202_ACCEPTED
    return [_asset(a, request.app.state.blob_store) for a in added]


# Long enough to start a big download on a slow link; resumed downloads ask again. Minutes, not
# hours: a storage URL cannot be revoked (resources/links.py).
DOWNLOAD_URL_TTL_S = links.STORAGE_URL_TTL_S


@router.get("/{resource_id}/assets/{asset_id}/download", status_code=status.HTTP_307_TEMPORARY_REDIRECT)
def download_asset(request: Request, session: SessionDep, caller: CurrentUser, resource_id: str,
                   asset_id: str) -> RedirectResponse:
    """A redirect to a short-lived signed URL that serves the bytes with Range and ETag."""
    asset, blob = service.get_asset(session, actor=caller, resource_id=resource_id, asset_id=asset_id)
    url = request.app.state.blob_store.presigned_get_url(blob.key, expires_s=DOWNLOAD_URL_TTL_S,
                                                         filename=asset.filename)
    return RedirectResponse(url, status_code=status.HTTP_307_TEMPORARY_REDIRECT,
                            headers={"Cache-Control": "private, no-store"})


@router.get("/{resource_id}/preview", response_model=DocumentPreview)
def preview_document(request: Request, session: SessionDep, caller: CurrentUser, resource_id: str,
                     asset_id: Annotated[str | None, Query(max_length=26)] = None) -> DocumentPreview:
    """A document's PDF and page images, as signed links, to look at without downloading."""
    resource = service.get_visible(session, actor=caller, resource_id=resource_id)
    return document_preview(request.app.state.blob_store, resource.assets, asset_id=asset_id)


def _asset(a, store: BlobStore) -> AssetRead:  # type: ignore[no-untyped-def]
    renditions = renditions_of(a)  # read once, through the transcoder's models
    return AssetRead(id=a.id, role=a.role, filename=a.filename, media_type=a.media_type, category=a.category,
                     size=a.size, sha256=a.sha256, duration_s=a.duration_s, width=a.width, height=a.height,
                     renditions=[r.stored() for r in renditions],
                     preview=preview_for(store, renditions) if renditions else None)


def _read(detail: service.ResourceDetail, store: BlobStore) -> ResourceRead:
    r = detail.resource
    return ResourceRead(
        id=r.id, title=r.title, description=r.description, kind=r.kind, subject=r.subject_code,
        stage=r.stage_code, grade=r.grade_code, edition=r.edition_code, volume=r.volume_code,
        chapter=r.chapter_code, knowledge_point_ids=[kp.id for kp in detail.knowledge_points],
        knowledge_points=[KnowledgePointRef(id=kp.id, code=kp.code, name=kp.name, path=kp.path)
                          for kp in detail.knowledge_points],
        tags=r.tags, visibility=r.visibility, license=r.license,
        owner=PersonRef(id=r.owner_id, real_name=r.owner_name),
        school=SchoolRef(id=r.school_id, name=r.school_name) if r.school_id and r.school_name else None,
        status=r.status, failure_reason=r.failure_reason, progress=r.progress, version=r.version,
        assets=[_asset(a, store) for a in detail.assets],
        created_at=r.created_at, updated_at=r.updated_at, published_at=r.published_at,
        review=ReviewRead(**detail.review) if detail.review else None)

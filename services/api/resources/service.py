from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Connection, Select, bindparam, or_, select
from sqlalchemy.orm import Session

from services.api.audit import service as audit
from services.api.auth.principal import Principal
from services.api.orgs.models import School, User
from services.api.resources import assets, processing
from services.api.resources.errors import AssetNotFound, NotResourceManager, ResourceNotFound
from services.api.resources.models import (Asset, License, Resource, ResourceKind, ResourceStatus, Visibility,
                                           resource_knowledge_points)
from services.api.resources.status import ResourceEvent, apply_event
from services.api.resources.visibility import ViewerShape, may_edit, viewer_params, viewer_shape, visible_for, visible_to
from services.api.taxonomy import service as taxonomy
from services.api.taxonomy.models import KnowledgePoint
from services.api.uploads.models import Blob
from services.api.uploads.uploader import Uploader
from services.common.db import PreparedQuery
from services.common.problems import InvalidField

# Fields of the API that are taxonomy codes, and the columns that hold them.
TAXONOMY_FIELDS = {"subject": "subject_code", "stage": "stage_code", "grade": "grade_code",
                   "edition": "edition_code", "volume": "volume_code", "chapter": "chapter_code"}

# Fields a PATCH may change but not clear.
_REQUIRED_ON_UPDATE = {"title", "kind", "description", "tags", "knowledge_point_ids", "visibility", "license"}


@dataclass(frozen=True)
class ResourceDetail:
    """Everything `GET /resources/{id}` shows, as plain rows: the resource with its owner's and
    school's names, its knowledge points and its assets."""

    resource: Any  # a row of the resource's columns plus owner_name and school_name
    knowledge_points: list[Any]  # rows of (id, code, name, path)
    assets: list[Any]  # rows of the asset's columns


def create_resource(session: Session, *, actor: Principal, title: str, kind: ResourceKind, description: str,
                    taxonomy_codes: dict[str, str | None], knowledge_point_ids: list[str], tags: list[str],
                    visibility: Visibility, license: License, upload_ids: list[str]) -> Resource:
    taxonomy.check_codes(session, **taxonomy_codes)
    points = taxonomy.resolve_knowledge_points(session, ids=knowledge_point_ids, field="knowledge_point_ids")
    resource = Resource(title=title, kind=kind, description=description, tags=_unique(tags), visibility=visibility,
                        license=license, owner_id=actor.user_id, school_id=actor.school_id,
                        district_id=actor.district_id, status=ResourceStatus.draft, knowledge_points=points,
                        **{TAXONOMY_FIELDS[k]: v for k, v in taxonomy_codes.items()})
    session.add(resource)
    session.flush()
    if upload_ids:
        # Videos go on to processing; with nothing to process the owner submits it when ready.
        added = assets.attach_uploads(session, owner=Uploader.for_user(actor), resource=resource,
                                      upload_ids=upload_ids)
        processing.queue_processing(session, resource=resource, added=added)
    audit.record(session, actor_id=actor.user_id, district_id=resource.district_id, action="resource.create",
                 target_type="resource", target_id=resource.id, title=title, kind=kind,
                 visibility=visibility, uploads=len(upload_ids))
    return resource


def add_assets(session: Session, *, actor: Principal, resource_id: str, upload_ids: list[str],
               roles: list[str] | None) -> list[Asset]:
    resource = get_editable(session, actor=actor, resource_id=resource_id)
    added = assets.attach_uploads(session, owner=Uploader.for_user(actor), resource=resource,
                                  upload_ids=upload_ids, roles=roles)
    resource.version += 1
    processing.queue_processing(session, resource=resource, added=added)
    return added


def get_asset(session: Session, *, actor: Principal, resource_id: str, asset_id: str) -> tuple[Asset, Blob]:
    resource = get_visible(session, actor=actor, resource_id=resource_id)
    asset = next((a for a in resource.assets if a.id == asset_id), None)
    if asset is None:
        raise AssetNotFound()
    return asset, session.get_one(Blob, asset.blob_id)


# Statements on the read path are built once and run with bind parameters: building them per
# request cost more than the SQL itself (see visibility.py).
@cache
def _visible_by_id(shape: ViewerShape) -> Select[Any]:
    return select(Resource).where(Resource.id == bindparam("resource_id"), visible_for(shape))


@cache
def _detail_by_id(shape: ViewerShape) -> PreparedQuery:
    return PreparedQuery(
        select(*Resource.__table__.c, User.real_name.label("owner_name"), School.name.label("school_name"))
        .join(User, User.id == Resource.owner_id)
        .outerjoin(School, School.id == Resource.school_id)
        .where(Resource.id == bindparam("resource_id"), visible_for(shape)))


_KNOWLEDGE_POINTS_OF = PreparedQuery(
    select(KnowledgePoint.id, KnowledgePoint.code, KnowledgePoint.name, KnowledgePoint.path)
    .join(resource_knowledge_points, resource_knowledge_points.c.knowledge_point_id == KnowledgePoint.id)
    .where(resource_knowledge_points.c.resource_id == bindparam("resource_id")).order_by(KnowledgePoint.path))
_ASSETS_OF = PreparedQuery(select(*Asset.__table__.c).where(Asset.resource_id == bindparam("resource_id"))
                           .order_by(Asset.created_at, Asset.id))


def get_visible(session: Session, *, actor: Principal, resource_id: str) -> Resource:
    resource = session.scalars(_visible_by_id(viewer_shape(actor)),
                               {"resource_id": resource_id, **viewer_params(actor)}).one_or_none()
    if resource is None:
        raise ResourceNotFound()
    return resource


def read_detail(connection: Connection, *, actor: Principal, resource_id: str) -> ResourceDetail:
    # Prepared Core statements, not ORM entities: this is the hottest read, and loading entities
    # cost four times the SQL, executing Core statements twice (measured, docs/benchmarks.md).
    row = _detail_by_id(viewer_shape(actor)).one_or_none(connection, {"resource_id": resource_id,
                                                                     **viewer_params(actor)})
    if row is None:
        raise ResourceNotFound()
    return ResourceDetail(resource=row,
                          knowledge_points=_KNOWLEDGE_POINTS_OF.rows(connection, {"resource_id": resource_id}),
                          assets=_ASSETS_OF.rows(connection, {"resource_id": resource_id}))


def get_editable(session: Session, *, actor: Principal, resource_id: str) -> Resource:
    resource = get_visible(session, actor=actor, resource_id=resource_id)
    if not may_edit(actor, resource):
        raise NotResourceManager()
    return resource


def update_resource(session: Session, *, actor: Principal, resource_id: str, changes: dict[str, Any]) -> Resource:
    resource = get_editable(session, actor=actor, resource_id=resource_id)
    for field in _REQUIRED_ON_UPDATE.intersection(changes):
        if changes[field] is None:
            raise InvalidField(loc=["body", field], msg={"zh-CN": "不能为空", "en": "may not be null"})
    codes = {field: changes.pop(field) for field in list(changes) if field in TAXONOMY_FIELDS}
    taxonomy.check_codes(session, **codes)
    for field, code in codes.items():
        setattr(resource, TAXONOMY_FIELDS[field], code)
    if "knowledge_point_ids" in changes:
        resource.knowledge_points = taxonomy.resolve_knowledge_points(
            session, ids=changes.pop("knowledge_point_ids"), field="knowledge_point_ids")
    if "tags" in changes:
        changes["tags"] = _unique(changes["tags"])
    for field, value in changes.items():
        setattr(resource, field, value)
    resource.version += 1
    audit.record(session, actor_id=actor.user_id, district_id=resource.district_id, action="resource.update",
                 target_type="resource", target_id=resource.id, fields=sorted([*changes, *codes]),
                 by_owner=resource.owner_id == actor.user_id)
    return resource


def delete_resource(session: Session, *, actor: Principal, resource_id: str) -> None:
    resource = get_editable(session, actor=actor, resource_id=resource_id)
    audit.record(session, actor_id=actor.user_id, district_id=resource.district_id, action="resource.delete",
                 target_type="resource", target_id=resource.id, title=resource.title,
                 by_owner=resource.owner_id == actor.user_id)
    session.delete(resource)


def submit_for_review(session: Session, *, actor: Principal, resource_id: str) -> Resource:
    resource = get_editable(session, actor=actor, resource_id=resource_id)
    apply_event(resource, ResourceEvent.submit)
    audit.record(session, actor_id=actor.user_id, district_id=resource.district_id, action="resource.submit",
                 target_type="resource", target_id=resource.id, status=resource.status)
    return resource


def own_and_school_query(*, actor: Principal, status: ResourceStatus | None, kind: ResourceKind | None,
                         subject: str | None, mine: bool) -> Select[tuple[Resource]]:
    """The caller's resources and their school's: what `GET /resources` lists."""
    scope = Resource.owner_id == actor.user_id
    if not mine and actor.school_id is not None:
        scope = or_(scope, Resource.school_id == actor.school_id)
    query = select(Resource).where(scope, visible_to(actor))
    if status:
        query = query.where(Resource.status == status)
    if kind:
        query = query.where(Resource.kind == kind)
    if subject:
        query = query.where(Resource.subject_code == subject)
    return query.order_by(Resource.id.desc())


def _unique(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(tags))

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Connection, Select, bindparam, or_, select
from sqlalchemy.orm import Session

from services.api.audit import service as audit
from services.api.auth.principal import Principal
from services.api.orgs.models import School, User
from services.api.moderation import levels
from services.api.resources import assets, processing, revisions
from services.api.resources.errors import AssetNotFound, NotResourceManager, ResourceNotFound
from services.api.resources.models import (Asset, License, Resource, ResourceKind, ResourceRevision, ResourceStatus,
                                           Visibility, changed_for_search, resource_knowledge_points)
from services.api.resources.status import ResourceEvent, apply_event
from services.api.resources.visibility import (ViewerShape, may_edit, sees_review, viewer_params, viewer_shape,
                                              visible_for, visible_to)
from services.api.taxonomy import service as taxonomy
from services.api.taxonomy.models import KnowledgePoint
from services.api.uploads.models import Blob
from services.api.uploads.uploader import Uploader
from services.common.db import PreparedQuery

# Fields of the API that are taxonomy codes, and the columns that hold them.
TAXONOMY_FIELDS = revisions.TAXONOMY_FIELDS


@dataclass(frozen=True)
class ResourceDetail:
    """Everything `GET /resources/{id}` shows, as plain rows: the resource with its owner's and
    school's names, its knowledge points and its assets."""

    resource: Any  # a row of the resource's columns plus owner_name and school_name
    knowledge_points: list[Any]  # rows of (id, code, name, path)
    assets: list[Any]  # rows of the asset's columns
    # What the owner (and those who manage or review the resource) are told of its review.
    review: dict[str, Any] | None = None


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
               roles: list[str] | None) -> tuple[list[Asset], ResourceRevision | None]:
    """Attaches the files, or, on a published resource, proposes them in a revision (then the
    roles come from the uploads' metadata when it is approved)."""
    resource = lock_for_review(session, get_editable(session, actor=actor, resource_id=resource_id))
    if revisions.needs_review(resource):
        requested = revisions.normalise(session, resource=resource, uploader=Uploader.for_user(actor),
                                        changes={"upload_ids": upload_ids})
        return [], _propose(session, actor=actor, resource=resource, requested=requested)
    added = assets.attach_uploads(session, owner=Uploader.for_user(actor), resource=resource,
                                  upload_ids=upload_ids, roles=roles)
    changed_for_search(resource)
    processing.queue_processing(session, resource=resource, added=added)
    _edited_in_review(resource)
    return added, None


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
    # Only those who see the review get it, and only they pay for its queries.
    review = levels.review_summary(connection, resource=row) if sees_review(actor, row) else None
    return ResourceDetail(resource=row,
                          knowledge_points=_KNOWLEDGE_POINTS_OF.rows(connection, {"resource_id": resource_id}),
                          assets=_ASSETS_OF.rows(connection, {"resource_id": resource_id}), review=review)


def lock_for_review(session: Session, resource: Resource) -> Resource:
    """Reads the resource again under a row lock (PostgreSQL; SQLite's writer session already runs
    one writer at a time): edits, decisions and appeals of one resource happen one after another,
    so two edits never both find no pending revision, nor two decisions the same pending one."""
    session.refresh(resource, with_for_update=True)
    return resource


def get_editable(session: Session, *, actor: Principal, resource_id: str) -> Resource:
    resource = get_visible(session, actor=actor, resource_id=resource_id)
    if not may_edit(actor, resource):
        raise NotResourceManager()
    return resource


def update_resource(session: Session, *, actor: Principal, resource_id: str,
                    changes: dict[str, Any]) -> tuple[Resource, ResourceRevision | None]:
    """Edits the resource. On a published one only narrowing its visibility applies at once;
    other changes to what a reviewer approved become (or amend) its pending revision, and the
    live version stays as it is. Returns the resource and its pending revision, if any."""
    resource = lock_for_review(session, get_editable(session, actor=actor, resource_id=resource_id))
    uploader = Uploader.for_user(actor)
    requested = revisions.normalise(session, resource=resource, uploader=uploader, changes=changes)
    revision = None
    if revisions.needs_review(resource):
        immediate, _ = revisions.split(live=revisions.live_values(resource), requested=requested)
        if immediate:
            revisions.apply_values(session, resource=resource, values=immediate, uploader=uploader)
            changed_for_search(resource)
        revision = _propose(session, actor=actor, resource=resource, requested=requested)
    else:
        revisions.apply_values(session, resource=resource, values=requested, uploader=uploader)
        changed_for_search(resource)
        _edited_in_review(resource)
    audit.record(session, actor_id=actor.user_id, district_id=resource.district_id, action="resource.update",
                 target_type="resource", target_id=resource.id, fields=sorted(requested),
                 revision_id=revision.id if revision else None, by_owner=resource.owner_id == actor.user_id)
    return resource, revision


def _propose(session: Session, *, actor: Principal, resource: Resource,
             requested: dict[str, Any]) -> ResourceRevision | None:
    before = revisions.pending_revision(session, resource_id=resource.id)
    revision = revisions.propose(session, resource=resource, author_id=actor.user_id, requested=requested)
    if revision is not None and revision is not before:
        levels.revision_created(session, resource=resource, revision=revision)
    return revision


def _edited_in_review(resource: Resource) -> None:
    """What a reviewer passed at the first level changed: the review starts at the first level
    again (an appeal stays with the district, without the reviewer who rejected)."""
    if resource.status is ResourceStatus.pending_review and resource.review_excluded_id is None:
        resource.review_level = None


def withdraw(session: Session, *, actor: Principal, resource_id: str) -> Resource:
    """The owner (or an administrator) takes a published or in-review resource back to draft, at
    once; a pending revision ends with it."""
    resource = lock_for_review(session, get_editable(session, actor=actor, resource_id=resource_id))
    apply_event(resource, ResourceEvent.withdraw)
    revisions.withdraw_pending(session, resource=resource)
    resource.review_level = resource.review_excluded_id = None
    audit.record(session, actor_id=actor.user_id, district_id=resource.district_id, action="resource.withdraw",
                 target_type="resource", target_id=resource.id)
    return resource


def revision_history(session: Session, *, actor: Principal, resource_id: str) -> Select[tuple[ResourceRevision]]:
    """The resource's revisions, newest first, for its owner, administrators and reviewers."""
    resource = get_visible(session, actor=actor, resource_id=resource_id)
    if not sees_review(actor, resource):
        raise NotResourceManager()
    return revisions.revisions_query(resource_id=resource.id)


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

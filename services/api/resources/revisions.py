"""Revisions: a change to what a reviewer approved waits as a pending revision while the approved
version stays live (GET, search, play). Plain functions: `split` decides what applies at once,
`propose` records (or amends) the pending revision, `approve` and `reject` end it. Who may decide
is the moderation service's business; these functions only change revisions and resources.

A second edit while one is pending amends it: the pending revision is superseded by a new one
holding both edits (so the history keeps each edit, and one revision at most waits per resource),
and its review starts again at the first level.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from services.api.resources import assets, processing
from services.api.resources.models import (Asset, License, Resource, ResourceKind, ResourceRevision, ResourceStatus,
                                           RevisionStatus, Visibility)
from services.api.resources.status import ResourceEvent, RevisionEvent, apply_event, apply_revision_event
from services.api.taxonomy import service as taxonomy
from services.api.subtitles import service as subtitles
from services.api.uploads.models import Upload
from services.api.uploads.uploader import Uploader
from services.common.problems import InvalidField

# Fields of the API that are taxonomy codes, and the columns that hold them.
TAXONOMY_FIELDS = {"subject": "subject_code", "stage": "stage_code", "grade": "grade_code",
                   "edition": "edition_code", "volume": "volume_code", "chapter": "chapter_code"}
# What a reviewer approves, in the API's terms. `upload_ids` adds files; the rest replace values.
REVIEWED_FIELDS = ("title", "description", "kind", *TAXONOMY_FIELDS, "knowledge_point_ids", "tags", "license",
                   "visibility", "upload_ids")
# Fields a PATCH may change but not clear.
_REQUIRED = {"title", "kind", "description", "tags", "knowledge_point_ids", "visibility", "license"}

# Audiences from narrowest to widest. Each contains the one before it: `paired` is the owner's
# school and the schools paired with it, and pairings never cross a district (pairing.service).
AUDIENCE_ORDER = (Visibility.private, Visibility.school, Visibility.paired, Visibility.district, Visibility.public)


def is_wider(new: Visibility | str, old: Visibility | str) -> bool:
    return AUDIENCE_ORDER.index(Visibility(new)) > AUDIENCE_ORDER.index(Visibility(old))


def needs_review(resource: Resource) -> bool:
    """Only a published resource has a version a reviewer approved. One in pending_review was
    never approved: edits apply to it directly and its review starts again (see `edited_in_review`)."""
    return resource.status is ResourceStatus.published


def live_values(resource: Resource) -> dict[str, Any]:
    """The reviewed fields of the live version, as JSON values in the API's terms."""
    return {"title": resource.title, "description": resource.description or "", "kind": resource.kind.value,
            **{field: getattr(resource, column) for field, column in TAXONOMY_FIELDS.items()},
            "knowledge_point_ids": [kp.id for kp in resource.knowledge_points], "tags": list(resource.tags or []),
            "license": resource.license.value, "visibility": resource.visibility.value, "upload_ids": []}


def normalise(session: Session, *, resource: Resource, uploader: Uploader, changes: dict[str, Any]) -> dict[str, Any]:
    """The requested changes checked (codes, knowledge points, uploads) and as JSON values;
    refuses what would be refused if applied now."""
    values: dict[str, Any] = {}
    for field in _REQUIRED.intersection(changes):
        if changes[field] is None:
            raise InvalidField(loc=["body", field], msg={"zh-CN": "不能为空", "en": "may not be null"})
    codes = {field: changes[field] for field in changes if field in TAXONOMY_FIELDS}
    taxonomy.check_codes(session, **codes)
    values.update(codes)
    if "knowledge_point_ids" in changes:
        points = taxonomy.resolve_knowledge_points(session, ids=changes["knowledge_point_ids"],
                                                   field="knowledge_point_ids")
        values["knowledge_point_ids"] = [kp.id for kp in points]
    if "tags" in changes:
        values["tags"] = _unique(changes["tags"])
    for field in ("title", "description"):
        if field in changes:
            values[field] = changes[field]
    for field, enum in (("kind", ResourceKind), ("license", License), ("visibility", Visibility)):
        if field in changes:
            values[field] = enum(changes[field]).value
    if changes.get("upload_ids"):
        kind = ResourceKind(values.get("kind", resource.kind))
        usable = assets.usable_uploads(session, owner=uploader, kind=kind, upload_ids=_unique(changes["upload_ids"]))
        # A subtitle that could not be attached is refused now, not when a reviewer approves it.
        subtitles.check_fits(videos=[*resource.assets, *usable], subtitle_probes=[
            upload.probe for upload in usable if upload.category == subtitles.CATEGORY])
        values["upload_ids"] = [upload.id for upload in usable]
    return values


def split(*, live: dict[str, Any], requested: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what applies at once, what waits for review): narrowing visibility applies at once;
    any other change to a reviewed field waits. Values equal to the live ones are no change."""
    immediate, reviewed = {}, {}
    for field, value in requested.items():
        if field == "upload_ids":
            if value:
                reviewed[field] = value
        elif value == live[field]:
            continue
        elif field == "visibility" and not is_wider(value, live[field]):
            immediate[field] = value
        else:
            reviewed[field] = value
    return immediate, reviewed


def apply_values(session: Session, *, resource: Resource, values: dict[str, Any], uploader: Uploader) -> list[Asset]:
    """Writes normalised values onto the resource (files last, so they are checked against the
    new kind). Does not bump the version: the caller's edit or event does."""
    for field, value in values.items():
        if field in TAXONOMY_FIELDS:
            setattr(resource, TAXONOMY_FIELDS[field], value)
        elif field == "knowledge_point_ids":
            resource.knowledge_points = taxonomy.resolve_knowledge_points(session, ids=value,
                                                                          field="knowledge_point_ids")
        elif field == "kind":
            resource.kind = ResourceKind(value)
        elif field == "license":
            resource.license = License(value)
        elif field == "visibility":
            resource.visibility = Visibility(value)
        elif field in ("title", "description", "tags"):
            setattr(resource, field, value)
    added: list[Asset] = []
    if values.get("upload_ids"):
        added = assets.attach_uploads(session, owner=uploader, resource=resource, upload_ids=values["upload_ids"])
        processing.queue_processing(session, resource=resource, added=added)
    return added


def pending_revision(session: Session, *, resource_id: str, for_update: bool = False) -> ResourceRevision | None:
    query = select(ResourceRevision).where(ResourceRevision.resource_id == resource_id,
                                           ResourceRevision.status == RevisionStatus.pending)
    return session.scalars(query.with_for_update() if for_update else query).one_or_none()


def propose(session: Session, *, resource: Resource, author_id: str,
            requested: dict[str, Any]) -> ResourceRevision | None:
    """Records `requested` (normalised) against the live resource as the pending revision,
    amending one already pending: that one is superseded by a new revision with both edits.
    Returns the pending revision afterwards (None when the edits add up to the live version)."""
    pending = pending_revision(session, resource_id=resource.id, for_update=True)
    base = dict(pending.proposed) if pending else {}
    merged = {**base, **requested}
    if base.get("upload_ids") and requested.get("upload_ids"):
        merged["upload_ids"] = _unique([*base["upload_ids"], *requested["upload_ids"]])
    live = live_values(resource)
    _, merged = split(live=live, requested=merged)
    if pending is not None and merged == base:
        return pending
    if pending is not None:
        apply_revision_event(pending, RevisionEvent.supersede)
    # A new proposal is reviewed from the first level again, by anyone.
    resource.review_level = resource.review_excluded_id = None
    if not merged:
        return None
    revision = ResourceRevision(resource_id=resource.id, author_id=author_id, status=RevisionStatus.pending,
                                proposed=merged, changes=diff(session, live=live, proposed=merged),
                                base_version=resource.version)
    session.add(revision)
    session.flush()
    return revision


def diff(session: Session, *, live: dict[str, Any], proposed: dict[str, Any]) -> list[dict[str, Any]]:
    """Field by field, what the revision changes: `[{field, before, after}]`, in a stable order.
    New files are described (name, type, size) so a reviewer sees what they are."""
    changes = []
    for field in REVIEWED_FIELDS:
        if field not in proposed:
            continue
        after = proposed[field]
        if field == "upload_ids":
            uploads = {u.id: u for u in session.scalars(select(Upload).where(Upload.id.in_(after)))}
            after = [{"upload_id": i, "filename": uploads[i].filename, "media_type": uploads[i].media_type,
                      "size": uploads[i].length} for i in after if i in uploads]
        changes.append({"field": field, "before": live[field], "after": after})
    return changes


def approve(session: Session, *, resource: Resource, revision: ResourceRevision) -> Resource:
    """Makes the revision the live version; the status event bumps the version, so search is told."""
    apply_revision_event(revision, RevisionEvent.approve)
    author = Uploader(user_id=revision.author_id, device_id=None, school_id=resource.school_id)
    apply_values(session, resource=resource, values=revision.proposed, uploader=author)
    return apply_event(resource, ResourceEvent.apply_revision)


def reject(*, revision: ResourceRevision) -> ResourceRevision:
    """The live version stays as it was."""
    return apply_revision_event(revision, RevisionEvent.reject)


def withdraw_pending(session: Session, *, resource: Resource) -> None:
    """A resource taken back to draft is edited directly: a pending revision has nothing left to do."""
    pending = pending_revision(session, resource_id=resource.id, for_update=True)
    if pending is not None:
        apply_revision_event(pending, RevisionEvent.supersede)


def revisions_query(*, resource_id: str) -> Select[tuple[ResourceRevision]]:
    return (select(ResourceRevision).where(ResourceRevision.resource_id == resource_id)
            .order_by(ResourceRevision.created_at.desc(), ResourceRevision.id.desc()))


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))

"""A resource's files: finished uploads attached as assets, and what each kind may hold."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.api.resources.errors import AssetKindNotAllowed, UploadNotUsable
from services.api.resources.models import Asset, Resource, ResourceKind
from services.api.screening.blocklist import refuse_blocked
from services.api.subtitles import service as subtitles
from services.api.uploads.models import Blob, Upload, UploadStatus
from services.api.uploads.uploader import Uploader

# What files each kind of resource takes (a recording is video; a lesson plan is a document).
# A subtitle goes with a video (subtitles/service.py checks there is one).
ALLOWED_CATEGORIES: dict[ResourceKind, set[str]] = {
    ResourceKind.courseware: {"document", "image", "video", "audio", "subtitle"},
    ResourceKind.lesson_recording: {"video", "subtitle"},
    ResourceKind.excellent_lesson: {"video", "document", "image", "subtitle"},
    ResourceKind.micro_lesson: {"video", "audio", "subtitle"},
    ResourceKind.exercise: {"document", "image"},
    ResourceKind.lesson_plan: {"document"},
    ResourceKind.other: {"document", "image", "video", "audio", "subtitle"},
}


def usable_uploads(session: Session, *, owner: Uploader, kind: ResourceKind, upload_ids: list[str]) -> list[Upload]:
    """The uploads, if each is the uploader's, finished, not yet attached, and of a file kind
    `kind` takes; otherwise the first problem, located by its index."""
    attached = set(session.scalars(select(Asset.upload_id).where(Asset.upload_id.in_(upload_ids))))
    uploads = []
    for index, upload_id in enumerate(upload_ids):
        upload = session.get(Upload, upload_id)
        if (upload is None or not owner.owns(upload) or upload.status is not UploadStatus.complete
                or upload.id in attached or upload.blob_id is None):
            raise UploadNotUsable(upload_id=upload_id, index=index)
        if upload.category not in ALLOWED_CATEGORIES[kind]:
            raise AssetKindNotAllowed(kind=kind.value, category=upload.category)
        attached.add(upload.id)
        uploads.append(upload)
    refuse_blocked(session, uploads=uploads)  # the bytes of something taken down
    return uploads


def attach_uploads(session: Session, *, owner: Uploader, resource: Resource, upload_ids: list[str],
                   roles: list[str] | None = None) -> list[Asset]:
    """Turns the uploader's finished uploads into the resource's assets, each upload once."""
    added = []
    usable = list(enumerate(usable_uploads(session, owner=owner, kind=resource.kind, upload_ids=upload_ids)))
    # Subtitles last: each is checked against the videos, those attached with it included.
    usable.sort(key=lambda pair: pair[1].category == subtitles.CATEGORY)
    for index, upload in usable:
        blob = session.get_one(Blob, upload.blob_id)
        if upload.category == subtitles.CATEGORY:
            role = subtitles.ROLE
        else:
            role = (roles[index] if roles and index < len(roles) else None) or upload.metadata_.get("role") or (
                "main" if not resource.assets else "attachment")
        asset = Asset(resource_id=resource.id, blob_id=blob.id, upload_id=upload.id, role=role[:32],
                      filename=upload.filename, media_type=upload.media_type or blob.media_type,
                      category=upload.category or "", size=blob.size, sha256=blob.sha256,
                      duration_s=upload.probe.get("duration_s"), width=upload.probe.get("width"),
                      height=upload.probe.get("height"))
        resource.assets.append(asset)
        added.append(asset)
    session.flush()
    for asset, upload in ((a, u) for a, (_, u) in zip(added, usable, strict=True) if a.category == subtitles.CATEGORY):
        subtitles.attach_track(session, resource=resource, asset=asset, probe=upload.probe)
    session.flush()
    return added

"""Offline packs: which published resources a caller may carry away, what of each goes in, and
the signed pack file, built once per content and kept in blob storage (`packs/<id>.zip`)."""
from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.api.auth.principal import Principal
from services.api.packs import builder
from services.api.packs.builder import PlannedMember, PlannedResource
from services.api.packs.errors import (PackEmpty, PackResourceNotFound, PackResourceNotPublished, PackTooLarge,
                                       PackTooManyResources)
from services.api.packs.schemas import (FORMAT_VERSION, PackKnowledgePoint, PackManifest, PackResource,
                                        SkippedAsset)
from services.api.packs.signing import pack_signing_key
from services.api.resources import service as resources
from services.api.resources.errors import ResourceNotFound
from services.api.resources.models import Asset, Resource, ResourceStatus, resource_knowledge_points
from services.api.resources.renditions import rendition_of
from services.api.resources.visibility import viewer_params, visible_to
from services.api.taxonomy import service as taxonomy
from services.api.taxonomy.models import KnowledgePoint
from services.common.jobs import JobKind
from services.common.renditions import AudioOutput, DocumentOutput, HlsOutput, ImageOutput, Output, Variant
from services.common.storage import BlobInfo, BlobNotFound, BlobStore

MAX_RESOURCES = 200
# The largest file FAT32 holds, still the format of most USB sticks carried between schools.
MAX_PACK_BYTES = 4 * 1024**3 - 1
# A 45-minute lesson's pack is at most 150 MB: the lesson's MP4 may average this many bytes a second.
LESSON_BUDGET_BYTES_PER_S = 150_000_000 / (45 * 60)
DOWNLOAD_URL_TTL_S = 24 * 3600  # a school pulls overnight on a slow link, resuming with Range
PREFIX = "packs"


@dataclass(frozen=True)
class BuiltPack:
    id: str
    size: int
    sha256: str
    manifest: PackManifest
    key: str  # the pack file's blob key

    def download_url(self, store: BlobStore) -> str:
        return store.presigned_get_url(self.key, expires_s=DOWNLOAD_URL_TTL_S, filename=f"{self.manifest.title}.zip")


def resource_pack(session: Session, *, actor: Principal, resource_id: str, store: BlobStore, secret: str,
                  work_dir: Path) -> BuiltPack:
    """`GET /resources/{id}/pack`: one resource (a lesson with its documents)."""
    resource = resources.get_visible(session, actor=actor, resource_id=resource_id)
    if resource.status is not ResourceStatus.published:
        raise PackResourceNotPublished(resource_id=resource.id)
    return _pack(session, title=resource.title, chosen=[resource], store=store, secret=secret, work_dir=work_dir)


def listed_pack(session: Session, *, actor: Principal, title: str | None, resource_ids: list[str], store: BlobStore,
                secret: str, work_dir: Path) -> BuiltPack:
    """`POST /packs` with `resource_ids`: these resources, in this order (each once)."""
    chosen: list[Resource] = []
    for index, resource_id in enumerate(dict.fromkeys(resource_ids)):
        try:
            resource = resources.get_visible(session, actor=actor, resource_id=resource_id)
        except ResourceNotFound:
            raise PackResourceNotFound(resource_id=resource_id, index=resource_ids.index(resource_id)) from None
        if resource.status is not ResourceStatus.published:
            raise PackResourceNotPublished(resource_id=resource_id, index=index)
        chosen.append(resource)
    return _pack(session, title=title or chosen[0].title, chosen=chosen, store=store, secret=secret, work_dir=work_dir)


def unit_pack(session: Session, *, actor: Principal, title: str | None, knowledge_point_id: str, store: BlobStore,
              secret: str, work_dir: Path) -> BuiltPack:
    """`POST /packs` with `knowledge_point_id`: every published resource the caller may see filed
    under the point or below it, in textbook order (the taxonomy document's order of the first point each is filed under)."""
    node = taxonomy.get_knowledge_point(session, knowledge_point_id=knowledge_point_id)
    filed = (select(resource_knowledge_points.c.resource_id, func.min(KnowledgePoint.position).label("position"))
             .join(KnowledgePoint, KnowledgePoint.id == resource_knowledge_points.c.knowledge_point_id)
             .where(resource_knowledge_points.c.knowledge_point_id.in_(taxonomy.descendant_ids(node)))
             .group_by(resource_knowledge_points.c.resource_id).subquery())
    query = (select(Resource).join(filed, filed.c.resource_id == Resource.id)
             .where(visible_to(actor), Resource.status == ResourceStatus.published)
             .order_by(filed.c.position, Resource.title, Resource.id).limit(MAX_RESOURCES + 1))
    chosen = list(session.scalars(query, viewer_params(actor)))
    if not chosen:
        raise PackEmpty()
    if len(chosen) > MAX_RESOURCES:
        count = session.scalar(select(func.count()).select_from(query.limit(None).subquery()), viewer_params(actor))
        raise PackTooManyResources(count=count, limit=MAX_RESOURCES)
    return _pack(session, title=title or node.name, chosen=chosen, store=store, secret=secret, work_dir=work_dir)


# --------------------------------------------------------------------------- building

def _pack(session: Session, *, title: str, chosen: list[Resource], store: BlobStore, secret: str,
          work_dir: Path) -> BuiltPack:
    planned = [_plan(resource, store=store, work_dir=work_dir) for resource in chosen]
    estimated = sum(member.estimated_size for resource in planned for member in resource.members)
    if estimated > MAX_PACK_BYTES:
        raise PackTooLarge(size_mb=estimated // 1_000_000, limit_mb=MAX_PACK_BYTES // 1_000_000)
    pack_id = content_key(title, planned)
    # The database has told us all it will: close the transaction before the long part.
    session.rollback()
    cached = _cached(store, pack_id)
    if cached is not None:
        return cached
    work_dir.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix="pack-", suffix=".zip", dir=work_dir)
    os.close(handle)
    path = Path(name)
    try:
        manifest = builder.write_pack(path, pack_id=pack_id, title=title, resources=planned,
                                      key=pack_signing_key(secret))
        size, sha256 = path.stat().st_size, builder.file_sha256(path)
        store.put_file(_zip_key(pack_id), path, content_type="application/zip")
    finally:
        path.unlink(missing_ok=True)
    # The sidecar is written last: its presence means the pack beside it is whole.
    sidecar = json.dumps(builder.sidecar(manifest, size=size, sha256=sha256), ensure_ascii=False).encode("utf-8")
    store.put(_sidecar_key(pack_id), io.BytesIO(sidecar), length=len(sidecar), content_type="application/json")
    return BuiltPack(id=pack_id, size=size, sha256=sha256, manifest=manifest, key=_zip_key(pack_id))


def content_key(title: str, planned: list[PlannedResource]) -> str:
    """The same title and members (each resource at its version, each member's bytes by key and
    etag) in the same format make the same key, so building twice costs nothing."""
    identity: list[Any] = [FORMAT_VERSION, title]
    for resource in planned:
        identity.append([resource.entry.id, resource.entry.version, resource.entry.title,
                         [k.code for k in resource.entry.knowledge_points], resource.entry.notes,
                         [[m.path, m.fingerprint] for m in resource.members]])
    return hashlib.sha256(json.dumps(identity, ensure_ascii=False).encode("utf-8")).hexdigest()[:40]


def _cached(store: BlobStore, pack_id: str) -> BuiltPack | None:
    try:
        sidecar = json.loads(b"".join(store.open(_sidecar_key(pack_id))))
    except BlobNotFound:
        return None
    if not store.exists(_zip_key(pack_id)):
        return None
    return BuiltPack(id=pack_id, size=sidecar["size"], sha256=sidecar["sha256"],
                     manifest=PackManifest.model_validate(sidecar["manifest"]), key=_zip_key(pack_id))


def _zip_key(pack_id: str) -> str:
    return f"{PREFIX}/{pack_id}.zip"


def _sidecar_key(pack_id: str) -> str:
    return f"{PREFIX}/{pack_id}.json"


# --------------------------------------------------------------------------- what goes in

def _plan(resource: Resource, *, store: BlobStore, work_dir: Path) -> PlannedResource:
    entry = PackResource(
        id=resource.id, title=resource.title, kind=resource.kind.value, version=resource.version,
        subject=resource.subject_code, stage=resource.stage_code, grade=resource.grade_code,
        edition=resource.edition_code,
        knowledge_points=[PackKnowledgePoint(id=k.id, code=k.code, name=k.name) for k in resource.knowledge_points],
        members=[])
    planned = PlannedResource(entry=entry)
    for asset in resource.assets:
        if asset.category == "video":
            member, notes, reason = _lesson(asset, store=store, work_dir=work_dir, resource_id=resource.id)
        else:
            member, notes, reason = _preview(asset, store=store, resource_id=resource.id)
        entry.notes.extend(notes)
        if member is not None:
            planned.members.append(member)
        else:
            entry.skipped.append(SkippedAsset(asset_id=asset.id, filename=asset.filename, reason=reason))
    return planned


_PREVIEWS: dict[str, tuple[JobKind, type[Output], str, str, str]] = {
    # category: (rendition job, its shape, member role, media type, suffix)
    "document": (JobKind.document, DocumentOutput, "document", "application/pdf", "pdf"),
    "image": (JobKind.image, ImageOutput, "picture", "image/jpeg", "jpg"),
    "audio": (JobKind.audio, AudioOutput, "audio", "audio/mp4", "m4a"),
}


def _packed_file(rendition: Output | None) -> str | None:
    """The file of a rendition that goes in a pack: a document's PDF, a picture's preview, a
    recording's AAC."""
    match rendition:
        case DocumentOutput() | ImageOutput():
            return rendition.preview
        case AudioOutput():
            return rendition.rendition
    return None


def _preview(asset: Asset, *, store: BlobStore, resource_id: str) -> tuple[PlannedMember | None, list[str], str]:
    shape = _PREVIEWS.get(asset.category)
    if shape is None:
        return None, [], f"{asset.category or 'this kind of file'} is not packed"
    job, output, role, media_type, suffix = shape
    rendition = rendition_of(asset, job, output)
    name = _packed_file(rendition)
    if rendition is None or not name:
        return None, [], f"no {role} preview yet (not converted, or its conversion failed)"
    key = rendition.key(name)
    info = _stat(store, key)
    if info is None:
        return None, [], f"the {role} preview is missing from storage"
    return PlannedMember(path=f"resources/{resource_id}/{role}-{asset.id}.{suffix}", role=role, media_type=media_type,
                         asset_id=asset.id, filename=asset.filename, estimated_size=info.size,
                         source=builder.blob_source(store, key), fingerprint=f"{key}@{info.etag}"), [], ""


def _lesson(asset: Asset, *, store: BlobStore, work_dir: Path,
            resource_id: str) -> tuple[PlannedMember | None, list[str], str]:
    """The lesson's download MP4 (the ≤480p rung, remuxed by the transcoder) when it is within the
    budget of 150 MB per 45 minutes; otherwise the highest lower rung whose segments fit, remuxed
    here (stream copy: seconds, no encode); otherwise the smallest rung, with a note."""
    rendition = rendition_of(asset, JobKind.ladder, HlsOutput)
    if not rendition or not rendition.tracks:
        return None, [], "the video is not transcoded yet"
    prefix = rendition.prefix
    track = rendition.tracks[rendition.default_track]
    duration = float(rendition.duration_s or asset.duration_s or 0)
    budget = int(duration * LESSON_BUDGET_BYTES_PER_S)
    variants = sorted((v for v in track.variants if v.height), key=lambda v: v.height or 0, reverse=True)
    download_height = max((v.height for v in variants if v.height and v.height <= 480), default=None)

    def member(*, height: int | None, size: int, source: builder.Source, fingerprint: str) -> PlannedMember:
        return PlannedMember(path=f"resources/{resource_id}/lesson-{asset.id}.mp4", role="lesson",
                             media_type="video/mp4", asset_id=asset.id, filename=asset.filename,
                             duration_s=duration or None, height=height, estimated_size=size, source=source,
                             fingerprint=fingerprint)

    download = rendition.key(track.download) if track.download else None
    info = _stat(store, download) if download else None
    if download and info is not None and info.size <= budget:
        return member(height=download_height, size=info.size, source=builder.blob_source(store, download),
                      fingerprint=f"{download}@{info.etag}"), [], ""
    lower = [v for v in variants if download_height is None or (v.height or 0) < download_height] or variants[-1:]
    if not lower:
        return None, [], "the lesson has no video rung to pack"
    fitting = [v for v in lower if _rung_bytes(v, duration) <= budget]
    rung = fitting[0] if fitting else lower[-1]
    over = (f"the {download_height}p download MP4 ({info.size / 1e6:.1f} MB) is over the budget of "
            f"{budget / 1e6:.1f} MB (150 MB per 45 minutes)" if info is not None else "there is no download MP4")
    note = f"{over}: the {rung.height}p rung is packed instead" + ("" if fitting else ", over the budget too")
    source = builder.remuxed_rung_source(store, prefix=prefix, playlist=rung.uri, work_dir=work_dir)
    return member(height=rung.height, size=_rung_bytes(rung, duration), source=source,
                  fingerprint=f"{rendition.key(rung.uri)}@remux"), [note], ""


def _rung_bytes(variant: Variant, duration_s: float) -> int:
    # The rung's segments as measured (MPEG-TS); its MP4 remux is a few % smaller.
    return int((variant.average_bandwidth or variant.bandwidth) * duration_s / 8)


def _stat(store: BlobStore, key: str) -> BlobInfo | None:
    try:
        return store.stat(key)
    except BlobNotFound:
        return None


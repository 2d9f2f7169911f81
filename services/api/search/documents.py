"""What the API tells the search service: resources as `SearchDocument`s, read in a few queries
per batch, and the `Vocabulary` (taxonomy names and schools)."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.api.orgs.models import School, User
from services.api.resources.models import Asset, Resource, ResourceStatus, resource_knowledge_points
from services.api.resources.renditions import readable_renditions
from services.api.subtitles import service as subtitles
from services.api.taxonomy.models import Chapter, Edition, Grade, KnowledgePoint, Stage, Subject, Volume
from services.common.search import (
    KnowledgePointEntry,
    PageText,
    SearchDocument,
    Vocabulary,
    VocabularyEntry,
)
from services.common.renditions import DocumentOutput, read_page_texts
from services.common.storage.base import BlobStore

log = structlog.get_logger("search.documents")

# Extracted text read per document asset; the search service caps what it indexes anyway.
MAX_TEXT_BYTES = 2 * 1024 * 1024


def build_documents(session: Session, versions: dict[str, int], store: BlobStore) -> list[SearchDocument]:
    """The current documents of these resources; `versions` holds, per id, the version a tombstone
    must carry if the resource is gone (the outbox row's)."""
    ids = list(versions)
    rows = session.execute(
        select(Resource, User.real_name, School.name, Chapter.name)
        .join(User, User.id == Resource.owner_id)
        .outerjoin(School, School.id == Resource.school_id)
        .outerjoin(Chapter, Chapter.code == Resource.chapter_code)
        .where(Resource.id.in_(ids))).all()
    found = {row[0].id: row for row in rows}
    live_ids = [i for i, row in found.items() if row[0].status is ResourceStatus.published]
    points = _knowledge_points(session, live_ids)
    assets = _assets(session, live_ids)
    cues = subtitles.search_cues(session, store, resource_ids=live_ids)
    documents = []
    for resource_id in ids:
        row = found.get(resource_id)
        if row is None:
            documents.append(SearchDocument.tombstone(resource_id, versions[resource_id]))
            continue
        resource, owner_name, school_name, chapter_name = row
        if resource.status is not ResourceStatus.published:
            documents.append(SearchDocument.tombstone(resource_id, resource.version))
            continue
        assigned, ancestry, names = points.get(resource_id, ([], [], []))
        own_assets = assets.get(resource_id, [])
        durations = [a.duration_s for a in own_assets if a.duration_s]
        documents.append(SearchDocument(
            id=resource.id, version=resource.version, live=True, title=resource.title,
            description=resource.description or "", tags=resource.tags or [], kind=resource.kind.value,
            subject=resource.subject_code, stage=resource.stage_code, grade=resource.grade_code,
            edition=resource.edition_code, volume=resource.volume_code, chapter=resource.chapter_code,
            chapter_name=chapter_name, knowledge_points=assigned, knowledge_point_ancestry=ancestry,
            knowledge_point_names=names, pages=_pages(store, own_assets), cues=cues.get(resource_id, []),
            school_id=resource.school_id,
            school_name=school_name, owner_id=resource.owner_id, owner_name=owner_name,
            district_id=resource.district_id, visibility=resource.visibility.value, license=resource.license.value,
            duration_s=max(durations) if durations else None, published_at=resource.published_at,
            views=resource.view_count))
    return documents


def _knowledge_points(session: Session, resource_ids: list[str]) -> dict[str, tuple[list[str], list[str], list[str]]]:
    """Per resource: assigned point ids, those with every ancestor, and all their names."""
    if not resource_ids:
        return {}
    assigned = session.execute(
        select(resource_knowledge_points.c.resource_id, KnowledgePoint.id, KnowledgePoint.path)
        .join(KnowledgePoint, KnowledgePoint.id == resource_knowledge_points.c.knowledge_point_id)
        .where(resource_knowledge_points.c.resource_id.in_(resource_ids))).all()
    # A path is the chain of codes from the root: one query resolves every ancestor.
    codes = {code for _, _, path in assigned for code in path.split(KnowledgePoint.PATH_SEPARATOR) if code}
    by_code = {code: (kp_id, name) for code, kp_id, name in session.execute(
        select(KnowledgePoint.code, KnowledgePoint.id, KnowledgePoint.name).where(KnowledgePoint.code.in_(codes)))}
    out: dict[str, tuple[list[str], list[str], list[str]]] = {}
    for resource_id, kp_id, path in assigned:
        own, ancestry, names = out.setdefault(resource_id, ([], [], []))
        own.append(kp_id)
        for code in filter(None, path.split(KnowledgePoint.PATH_SEPARATOR)):
            ancestor_id, name = by_code[code]
            if ancestor_id not in ancestry:
                ancestry.append(ancestor_id)
                names.append(name)
    return out


def _assets(session: Session, resource_ids: list[str]) -> dict[str, list[Asset]]:
    out: dict[str, list[Asset]] = {}
    if resource_ids:
        for asset in session.scalars(select(Asset).where(Asset.resource_id.in_(resource_ids))
                                     .order_by(Asset.created_at)):
            out.setdefault(asset.resource_id, []).append(asset)
    return out


def _pages(store: BlobStore, assets: list[Asset]) -> list[PageText]:
    """Per-page text the transcoder extracted from document assets (text.json), each page with
    its number in its own document, so a hit points at the page a viewer opens. Pages without
    text are left out; missing or unreadable text is skipped: search works without it."""
    pages: list[PageText] = []
    for asset in assets:
        for rendition in readable_renditions(asset):
            if not isinstance(rendition, DocumentOutput) or not rendition.text:
                continue
            key = rendition.key(rendition.text)
            try:
                raw = b"".join(store.open(key, end=MAX_TEXT_BYTES - 1))
                pages += [PageText(number=page.page, text=page.text, asset_id=asset.id)
                          for page in read_page_texts(raw, where=key) if page.text]
            except Exception as error:  # noqa: BLE001 - text is an extra; the resource is indexed regardless
                log.warning("document_text_unreadable", asset_id=asset.id, key=key, error=str(error))
    return pages


def build_vocabulary(session: Session) -> Vocabulary:
    def entries(model: Any) -> list[VocabularyEntry]:
        return [VocabularyEntry(code=code, name=name)
                for code, name in session.execute(select(model.code, model.name).order_by(model.code))]

    points = [KnowledgePointEntry(id=kp.id, code=kp.code, name=kp.name, subject=kp.subject_code, stage=kp.stage_code,
                                  path=kp.path, aliases=list(kp.aliases or []), same_as=kp.same_as_id)
              for kp in session.scalars(select(KnowledgePoint).order_by(KnowledgePoint.path))]
    schools = [VocabularyEntry(code=i, name=n) for i, n in session.execute(select(School.id, School.name).order_by(School.id))]
    content = {"subjects": entries(Subject), "stages": entries(Stage), "grades": entries(Grade),
               "editions": entries(Edition), "volumes": entries(Volume), "chapters": entries(Chapter),
               "knowledge_points": points, "schools": schools}
    digest = hashlib.sha256(json.dumps({k: [e.model_dump() for e in v] for k, v in content.items()},
                                       ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]
    return Vocabulary(revision=digest, **content)


def all_resource_ids(session: Session, batch: int) -> Iterable[list[str]]:
    """Every resource id, in batches, by id (for reindex)."""
    after = ""
    while True:
        ids = list(session.scalars(select(Resource.id).where(Resource.id > after).order_by(Resource.id).limit(batch)))
        if not ids:
            return
        yield ids
        after = ids[-1]


def database_versions(session: Session) -> dict[str, tuple[int, bool]]:
    """(version, searchable) of every resource: what reconcile compares with the index."""
    return {i: (v, s is ResourceStatus.published)
            for i, v, s in session.execute(select(Resource.id, Resource.version, Resource.status))}


def resource_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Resource)) or 0

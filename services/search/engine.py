"""The search service's work, without HTTP: plan a query, run it on the backend, label facets,
build hits with highlights; analyse and apply documents; keep the vocabulary.

The benchmark calls this directly as its baseline, and the app is a thin layer over it.
"""
from __future__ import annotations

import base64
import bisect
import json
import os
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, Field

from services.common.problems import DomainError
from services.common.search import (
    FacetValue,
    IndexOutcome,
    NamedRef,
    SearchDocument,
    SearchHit,
    SearchPrincipal,
    SearchResponse,
    Sort,
    Suggestion,
    SuggestResponse,
    Vocabulary,
)
from services.search.analysis import Analyzer, normalize, pinyin_forms, suggest_key
from services.search.backends.base import InvalidCursor, QueryPlan, SearchBackend
from services.search.documents import DURATION_BUCKETS, DURATION_OVER, analyse
from services.search.highlight import highlight
from services.search.understanding import EXACT_EDITION_BOOST, QueryUnderstanding, Understood

MAX_QUERY_CHARS = 200
MAX_QUERY_TERMS = 32
MAX_PAGE_SIZE = 50
# Page-number paging stops here (Elasticsearch's default result window); deeper, use `cursor`.
MAX_OFFSET = 10_000
# A tantivy cursor is an offset, and collecting past it costs memory in proportion: a forged one
# must not be able to ask for gigabytes.
MAX_CURSOR_OFFSET = 1_000_000

# Filters by request parameter -> keyword field. `knowledge_point` filters on the ancestry, so a
# node matches resources of every node below it.
FILTER_FIELDS = {"subject": "subject", "stage": "stage", "grade": "grade", "edition": "edition",
                 "volume": "volume", "chapter": "chapter", "knowledge_point": "kp_ancestry", "kind": "kind",
                 "school": "school_id", "license": "license", "duration": "duration"}
# Facets as the API names them (api.md) -> keyword field.
FACET_NAMES = {"subject": "subject", "stage": "stage", "grade": "grade", "edition": "edition", "volume": "volume",
               "kind": "kind", "knowledge_point": "kp", "school": "school_id", "license": "license",
               "duration": "duration"}
_FIELD_TO_FACET = {field: name for name, field in FACET_NAMES.items()}
# Counted unless the caller asks for others (`facets=school,license` or `facets=` for none): each
# facet costs a pass over every match, and these are the ones api.md promises.
DEFAULT_FACETS = "subject,stage,grade,edition,kind,knowledge_point"

KIND_LABELS = {"courseware": "课件", "lesson_recording": "课堂实录", "excellent_lesson": "一师一优课",
               "micro_lesson": "微课", "exercise": "习题", "lesson_plan": "教案", "other": "其他"}
DURATION_LABELS = {name: label for (_, name), label in zip(DURATION_BUCKETS, ["5 分钟以内", "5–20 分钟", "20–50 分钟"],
                                                           strict=True)} | {DURATION_OVER: "50 分钟以上"}


class PageTooDeep(DomainError):
    status = 400
    code = "search.page_too_deep"
    title = {"zh-CN": "翻页过深", "en": "Page too deep"}
    detail = {"zh-CN": "按页码最多翻到第 {max_offset} 条；更深请使用 next_cursor",
              "en": "Page numbers reach result {max_offset} at most; page deeper with next_cursor"}


class UnknownFacet(DomainError):
    status = 400
    code = "search.unknown_facet"
    title = {"zh-CN": "未知的分面", "en": "Unknown facet"}
    detail = {"zh-CN": "不支持的分面：{names}；可用：{known}", "en": "No such facet: {names}; known: {known}"}


class SearchParams(BaseModel):
    q: str = Field("", max_length=MAX_QUERY_CHARS)
    subject: str | None = None
    stage: str | None = None
    grade: str | None = None
    edition: str | None = None
    volume: str | None = None
    chapter: str | None = None
    knowledge_point: str | None = None
    kind: str | None = None
    school: str | None = None
    license: str | None = None
    duration: str | None = None
    sort: Sort = Sort.relevance
    page: int = Field(1, ge=1)
    size: int = Field(20, ge=1, le=MAX_PAGE_SIZE)
    cursor: str | None = Field(None, max_length=512)
    facets: str = Field(DEFAULT_FACETS, max_length=200)


@dataclass(frozen=True)
class _Labels:
    by_facet: dict[str, dict[str, str]]
    kp_names: dict[str, str]


class VocabularyStore:
    """The last vocabulary the API sent, kept on disk so a restart segments as before."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.vocabulary = (Vocabulary.model_validate_json(path.read_bytes()) if path.exists()
                           else Vocabulary(revision="none"))

    def save(self, vocabulary: Vocabulary) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_bytes(vocabulary.model_dump_json().encode())
        os.replace(tmp, self.path)
        self.vocabulary = vocabulary


class _KnowledgePointPrefixes:
    """Knowledge points by every form a teacher may type: name, full pinyin, initials."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        rows = set()
        for kp in vocabulary.knowledge_points:
            name = "".join(normalize(kp.name).split())
            for form in (name, *pinyin_forms(name)):
                rows.add((form, len(kp.path), kp.id, kp.name))
        self._rows = sorted(rows)
        self._keys = [r[0] for r in self._rows]

    def complete(self, key: str, limit: int) -> list[Suggestion]:
        out: dict[str, Suggestion] = {}
        at = bisect.bisect_left(self._keys, key)
        # Shallow nodes first among matches: 一元二次方程 before its sub-points.
        matches = []
        while at < len(self._keys) and self._keys[at].startswith(key) and len(matches) < limit * 8:
            matches.append(self._rows[at])
            at += 1
        for _, _, kp_id, name in sorted(matches, key=lambda r: (r[1], r[0])):
            out.setdefault(kp_id, Suggestion(text=name, kind="knowledge_point", id=kp_id))
        return list(out.values())[:limit]


class SearchEngine:
    def __init__(self, backend: SearchBackend, vocabulary_path: Path) -> None:
        self.backend = backend
        self._vocabulary = VocabularyStore(vocabulary_path)
        self._lock = threading.Lock()
        self._load(self._vocabulary.vocabulary)

    # -- vocabulary -------------------------------------------------------------------------

    @property
    def vocabulary_revision(self) -> str:
        return self._vocabulary.vocabulary.revision

    def set_vocabulary(self, vocabulary: Vocabulary) -> None:
        with self._lock:
            self._vocabulary.save(vocabulary)
            self._load(vocabulary)

    def _load(self, v: Vocabulary) -> None:
        words = [*(kp.name for kp in v.knowledge_points), *(c.name for c in v.chapters), *(s.name for s in v.subjects)]
        # Swapped whole: a search running meanwhile keeps the analyzer and labels it started with.
        self.analyzer = Analyzer(words)
        self._kp_prefixes = _KnowledgePointPrefixes(v)
        self._understanding = QueryUnderstanding(v, self.analyzer)
        kp_names = {kp.id: kp.name for kp in v.knowledge_points}
        by_facet = {
            "subject": {e.code: e.name for e in v.subjects}, "stage": {e.code: e.name for e in v.stages},
            "grade": {e.code: e.name for e in v.grades}, "edition": {e.code: e.name for e in v.editions},
            "volume": {e.code: e.name for e in v.volumes}, "school": {e.code: e.name for e in v.schools},
            "knowledge_point": kp_names, "kind": KIND_LABELS, "duration": DURATION_LABELS,
        }
        self._labels = _Labels(by_facet=by_facet, kp_names=kp_names)

    # -- indexing ---------------------------------------------------------------------------

    def index(self, documents: list[SearchDocument]) -> IndexOutcome:
        analyzer = self.analyzer
        result = self.backend.apply([analyse(doc, analyzer) for doc in documents])
        return IndexOutcome(applied=result.applied, stale=result.stale)

    # -- searching --------------------------------------------------------------------------

    def understand(self, params: SearchParams) -> Understood:
        return self._understanding.understand(
            params.q, already_filtered={name for name in FILTER_FIELDS if getattr(params, name) is not None})

    def plan(self, params: SearchParams, principal: SearchPrincipal, understood: Understood | None = None) -> QueryPlan:
        understood = understood or self.understand(params)
        terms = understood.terms[:MAX_QUERY_TERMS]
        filters: tuple[tuple[str, str | tuple[str, ...]], ...] = tuple(
            (FILTER_FIELDS[name], value) for name in FILTER_FIELDS
            if (value := getattr(params, name) or understood.filters.get(name)) is not None)
        boosts = understood.boosts
        # A knowledge point stands for its equivalents in other editions too; its own come first.
        equivalents = self._understanding.editions_of(params.knowledge_point) if params.knowledge_point else ()
        if len(equivalents) > 1:
            filters = tuple((field, equivalents if field == "kp_ancestry" else value) for field, value in filters)
            boosts = (*boosts, ("kp_ancestry", params.knowledge_point, EXACT_EDITION_BOOST))
        offset = (params.page - 1) * params.size
        cursor = _decode_cursor(params.cursor) if params.cursor else None
        if cursor is None and offset + params.size > MAX_OFFSET:
            raise PageTooDeep(max_offset=MAX_OFFSET)
        # With nothing to rank by, relevance would be arbitrary: show the newest.
        sort = Sort.newest if not terms and not boosts and params.sort is Sort.relevance else params.sort
        return QueryPlan(terms=terms, filters=filters, principal=principal, sort=sort, size=params.size,
                         offset=offset, cursor=cursor, facets=_facet_fields(params.facets),
                         boosts=boosts)

    def search(self, params: SearchParams, principal: SearchPrincipal) -> SearchResponse:
        labels = self._labels
        understood = self.understand(params)
        plan = self.plan(params, principal, understood)
        raw = self.backend.search(plan)
        hits = [self._hit(orjson.loads(h.source), h.score, plan.terms, labels) for h in raw.hits]
        facets = {}
        for field, buckets in raw.facets.items():
            name = _FIELD_TO_FACET[field]
            names = labels.by_facet.get(name, {})
            facets[name] = [FacetValue(value=v, label=names.get(v, v), count=c) for v, c in buckets]
        return SearchResponse.model_construct(total=raw.total, page=params.page, size=params.size, hits=hits,
                                              facets=facets,
                                              next_cursor=_encode_cursor(raw.cursor) if raw.cursor else None,
                                              understood=understood.filters, did_you_mean=understood.did_you_mean)

    def _hit(self, stored: dict[str, Any], score: float | None, terms: tuple[str, ...], labels: _Labels) -> SearchHit:
        # Built without validation: the stored document was validated when it was indexed, and
        # validating 20 documents again per search cost more than the rest of the work in Python.
        doc = stored["doc"]
        kp_names = labels.kp_names
        published = doc["published_at"]
        passages = [(doc["description"], None), *((p["text"], p["number"]) for p in doc["pages"])]
        return SearchHit.model_construct(
            id=doc["id"], title=doc["title"], kind=doc["kind"], subject=doc["subject"], stage=doc["stage"],
            grade=doc["grade"], edition=doc["edition"],
            knowledge_points=[NamedRef.model_construct(id=k, name=kp_names.get(k, k)) for k in doc["knowledge_points"]],
            school=(NamedRef.model_construct(id=doc["school_id"], name=doc["school_name"] or doc["school_id"])
                    if doc["school_id"] else None),
            duration_s=doc["duration_s"], published_at=datetime.fromisoformat(published) if published else None,
            views=doc["views"],
            highlight=highlight(title=doc["title"], passages=passages, terms=terms, plain=stored["plain"],
                                cues=[(c["text"], c["at_s"]) for c in doc.get("cues", ())]),
            score=score)

    def suggest(self, q: str, principal: SearchPrincipal, limit: int) -> SuggestResponse:
        key = suggest_key(q)
        if not key:
            return SuggestResponse(suggestions=[])
        points = self._kp_prefixes.complete(key, limit)
        titles = [Suggestion(text=stored["doc"]["title"], kind="title", id=h.id)
                  for h in self.backend.suggest(key, principal, limit) for stored in [orjson.loads(h.source)]]
        # Knowledge points lead (they widen a search); titles fill the rest.
        return SuggestResponse(suggestions=(points[: max(1, limit // 2)] + titles)[:limit] if titles else points)


def _facet_fields(names: str) -> tuple[str, ...]:
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    if unknown := [n for n in wanted if n not in FACET_NAMES]:
        raise UnknownFacet(names=", ".join(unknown), known=", ".join(FACET_NAMES))
    return tuple(dict.fromkeys(FACET_NAMES[n] for n in wanted))


def _encode_cursor(cursor: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(cursor, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_cursor(text: str) -> dict:
    try:
        cursor = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except ValueError:
        raise InvalidCursor() from None
    offset = cursor.get("offset") if isinstance(cursor, dict) else None
    offset_ok = isinstance(offset, int) and not isinstance(offset, bool) and 0 <= offset <= MAX_CURSOR_OFFSET
    after = cursor.get("after") if isinstance(cursor, dict) else None
    after_ok = isinstance(after, list) and 0 < len(after) <= 3 and all(
        isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in after)
    if not (offset_ok or after_ok):
        raise InvalidCursor()
    return cursor

"""What the API and the search service say to each other: documents to index, the vocabulary
that labels facets and teaches the segmenter, who is asking, and what a search asks and answers.

The API owns the database and builds documents; the search service owns the index. A document
always carries the resource's whole current state and its `version`: the index applies it only
if newer, so redelivery and reordering change nothing. A resource that is not (or no longer)
searchable is sent as a tombstone (`live=False`), which keeps its version so an older update
arriving late cannot bring it back.
"""
from __future__ import annotations

import time
from datetime import datetime
from enum import StrEnum
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

import jwt
from pydantic import BaseModel, Field

from services.common.keys import key_bytes
from services.common.problems import DomainError

# Every internal call carries a principal token; the search service trusts nothing else.
PRINCIPAL_HEADER = "X-LB-Principal"
# What the indexes store a count or a version in (tantivy's i64/u64, Elasticsearch's long).
INT64_MAX = 2**63 - 1
_PRINCIPAL_TYPE = "search-principal"
_SERVICE_SUBJECT = "service:api"
_ALGORITHM = "HS256"


class PageText(BaseModel):
    number: int = Field(ge=1, le=INT64_MAX)  # the page in its own document, as a viewer counts it
    text: str
    # Which document asset the page is in, when a resource holds several.
    asset_id: str | None = None


class CueText(BaseModel):
    """One subtitle cue of a lesson: what is said, and when (seconds from the video's start)."""
    at_s: float = Field(ge=0, le=INT64_MAX)
    text: str
    language: str | None = None
    # Which subtitle asset the cue is in, when a resource holds several.
    asset_id: str | None = None


class SearchDocument(BaseModel):
    id: str
    version: int = Field(ge=1, le=INT64_MAX)
    live: bool
    title: str = ""
    description: str = ""
    tags: list[str] = []
    kind: str | None = None
    subject: str | None = None
    stage: str | None = None
    grade: str | None = None
    edition: str | None = None
    volume: str | None = None
    chapter: str | None = None
    chapter_name: str | None = None
    # Directly assigned knowledge points (facets, hits) and the same with every ancestor
    # (a filter on a node matches its descendants; names of ancestors match queries).
    knowledge_points: list[str] = []
    knowledge_point_ancestry: list[str] = []
    knowledge_point_names: list[str] = []
    # Text extracted from documents, one entry per page, so a hit can say which page matched.
    pages: list[PageText] = []
    # Subtitle cues of lessons, each with its time, so a hit can say when it is said.
    cues: list[CueText] = []
    school_id: str | None = None
    school_name: str | None = None
    owner_id: str | None = None
    owner_name: str | None = None
    district_id: str | None = None
    visibility: str | None = None
    license: str | None = None
    duration_s: float | None = None
    published_at: datetime | None = None
    views: int = Field(0, ge=0, le=INT64_MAX)

    @classmethod
    def tombstone(cls, resource_id: str, version: int) -> SearchDocument:
        return cls(id=resource_id, version=version, live=False)


class VocabularyEntry(BaseModel):
    code: str
    name: str


class KnowledgePointEntry(BaseModel):
    id: str
    code: str
    name: str
    subject: str | None = None
    stage: str | None = None
    path: str
    # Other names people use for it (colloquial, older textbooks, common misspellings).
    aliases: list[str] = []
    # The id of the same point in another textbook edition's tree (taxonomy `same_as`).
    same_as: str | None = None


class Vocabulary(BaseModel):
    """Names the search service needs but does not own: facet labels, the segmenter's user
    dictionary (so 一元二次方程 stays one term), and knowledge points to suggest."""

    revision: str
    subjects: list[VocabularyEntry] = []
    stages: list[VocabularyEntry] = []
    grades: list[VocabularyEntry] = []
    editions: list[VocabularyEntry] = []
    volumes: list[VocabularyEntry] = []
    chapters: list[VocabularyEntry] = []
    knowledge_points: list[KnowledgePointEntry] = []
    schools: list[VocabularyEntry] = []


class IndexBatch(BaseModel):
    documents: list[SearchDocument] = Field(max_length=2000)


class IndexOutcome(BaseModel):
    applied: int
    stale: int  # older than or equal to what the index holds: skipped


class IndexedVersion(BaseModel):
    id: str
    version: int
    live: bool


class IndexedVersions(BaseModel):
    items: list[IndexedVersion]
    next_after: str | None


class Sort(StrEnum):
    relevance = "relevance"
    newest = "newest"
    most_viewed = "most_viewed"


class SearchPrincipal(BaseModel):
    """Who is searching, as the API knows them: enough to decide visibility with no database."""

    user_id: str
    district_id: str
    school_id: str | None = None
    # Schools paired with the caller's school (结对帮扶): their `paired` resources are visible.
    partner_school_ids: list[str] = []
    # Reviewers and district administrators see everything of their district; school
    # administrators everything of their school.
    manages_district: bool = False
    manages_school: bool = False


class FacetValue(TypedDict):
    # A TypedDict, not a model: a search returns ~100 of these, and building models cost more
    # than the facet counting itself.
    value: str
    label: str
    count: int


class Highlight(BaseModel):
    title: str | None = None
    text: str | None = None
    page: int | None = None
    # When `text` is a subtitle cue: its time in the lesson, for `/play?t=`.
    at_s: float | None = None


class NamedRef(BaseModel):
    id: str
    name: str


class SearchHit(BaseModel):
    id: str
    title: str
    kind: str | None
    subject: str | None
    stage: str | None
    grade: str | None
    edition: str | None
    knowledge_points: list[NamedRef]
    school: NamedRef | None
    duration_s: float | None
    published_at: datetime | None
    views: int
    highlight: Highlight
    score: float | None


class SearchResponse(BaseModel):
    total: int
    page: int
    size: int
    hits: list[SearchHit]
    facets: dict[str, list[FacetValue]]
    # Pass back as `cursor` for the next page (deep paging); None on the last page.
    next_cursor: str | None
    # Filters the query's own words set (e.g. {"grade": "g8"} for 初二): shown so people see why.
    understood: dict[str, str] = {}
    # The query with homophone typos of taxonomy terms corrected, when it had any.
    did_you_mean: str | None = None


class Suggestion(BaseModel):
    text: str
    kind: str  # "title" or "knowledge_point"
    id: str


class SuggestResponse(BaseModel):
    suggestions: list[Suggestion]


class InvalidPrincipal(DomainError):
    status = 401
    code = "search.invalid_principal"
    title = {"zh-CN": "调用方凭证无效", "en": "Invalid caller credentials"}
    detail = {"zh-CN": "检索服务只接受平台 API 签发的调用凭证", "en": "The search service accepts only principals signed by the API"}


def sign_principal(principal: SearchPrincipal | None, *, secret: str | bytes, ttl_s: int = 60) -> str:
    """A short-lived token for one internal call; `None` signs the API itself (indexing)."""
    now = int(time.time())
    claims = {"typ": _PRINCIPAL_TYPE, "iat": now, "exp": now + ttl_s,
              "sub": principal.user_id if principal else _SERVICE_SUBJECT,
              "principal": principal.model_dump() if principal else None}
    return jwt.encode(claims, key_bytes(secret), algorithm=_ALGORITHM)


def verify_principal(token: str | None, *, secret: str | bytes) -> SearchPrincipal | None:
    """The caller's principal, or None for the API's own service calls."""
    if not token:
        raise InvalidPrincipal()
    try:
        claims = jwt.decode(token, key_bytes(secret), algorithms=[_ALGORITHM], options={"require": ["exp", "typ"]})
    except jwt.PyJWTError:
        raise InvalidPrincipal() from None
    if claims.get("typ") != _PRINCIPAL_TYPE:
        raise InvalidPrincipal()
    raw = claims.get("principal")
    return SearchPrincipal.model_validate(raw) if raw else None

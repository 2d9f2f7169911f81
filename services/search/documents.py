"""A `SearchDocument` as the backends index it: analysed terms, exact values, suggest keys."""
from __future__ import annotations

from services.common.search import SearchDocument
from services.search.analysis import Analyzer, fold, normalize
from services.search.backends.base import AnalysedDocument, audience_of

# Documents longer than this (about 60 dense slides) are indexed by their first pages only:
# ranking gains nothing from more, and one huge upload must not stall the index.
MAX_PAGE_CHARS = 60_000
# The same for a lesson's subtitle cues (a 45-minute lesson has about 15,000 characters).
MAX_CUE_CHARS = 60_000

# Facet buckets for lesson length, in minutes: micro lessons, short clips, a lesson, longer.
DURATION_BUCKETS = ((5 * 60, "lt5"), (20 * 60, "5to20"), (50 * 60, "20to50"))
DURATION_OVER = "gt50"


def duration_bucket(duration_s: float | None) -> str | None:
    if duration_s is None:
        return None
    for limit, name in DURATION_BUCKETS:
        if duration_s < limit:
            return name
    return DURATION_OVER


def analyse(doc: SearchDocument, analyzer: Analyzer) -> AnalysedDocument:
    if not doc.live:
        return AnalysedDocument(id=doc.id, version=doc.version, live=False, source=stored_source(doc, plain=True))
    doc = _capped(doc)
    # The displayed texts are normalised once: for the terms, and to learn whether the highlighter
    # may make do with `fold` at query time (most are Simplified already).
    title, description, *pages = (normalize(t) for t in [doc.title, doc.description, *(p.text for p in doc.pages)])
    transcript = "\n".join(c.text for c in doc.cues)
    spoken = normalize(transcript)
    plain = title == fold(doc.title) and description == fold(doc.description) and all(
        n == fold(p.text) for n, p in zip(pages, doc.pages, strict=True)) and spoken == fold(transcript)
    rest = " ".join(filter(None, [" ".join(doc.tags), doc.chapter_name or "", doc.school_name or "",
                                  doc.owner_name or ""]))
    text = {
        "title_terms": " ".join(analyzer.terms_of_normal(title)),
        "kp_terms": analyzer.indexed(" ".join(doc.knowledge_point_names)),
        "pinyin_terms": " ".join(analyzer.pinyin_terms(" ".join([doc.title, *doc.knowledge_point_names]))),
        "body_terms": " ".join([*analyzer.terms_of_normal(description), *analyzer.terms(rest)]),
        # Subtitle cues count as text inside the resource, as pages do: one field, so adding them
        # changed neither index schema (an existing index needs no rebuild).
        "pages_terms": " ".join([*(" ".join(analyzer.terms_of_normal(page)) for page in pages),
                                 *analyzer.terms_of_normal(spoken)]),
    }
    keywords = {
        "subject": [doc.subject], "stage": [doc.stage], "grade": [doc.grade], "edition": [doc.edition],
        "volume": [doc.volume], "chapter": [doc.chapter], "kind": [doc.kind], "school_id": [doc.school_id],
        "license": [doc.license], "duration": [duration_bucket(doc.duration_s)],
        "kp": doc.knowledge_points, "kp_ancestry": doc.knowledge_point_ancestry,
        "audience": audience_of(visibility=doc.visibility, owner_id=doc.owner_id, school_id=doc.school_id,
                                district_id=doc.district_id),
    }
    return AnalysedDocument(
        id=doc.id, version=doc.version, live=True, text=text,
        keywords={name: [v for v in values if v] for name, values in keywords.items()},
        suggest=analyzer.suggest_keys(doc.title),
        published_at=int(doc.published_at.timestamp()) if doc.published_at else 0,
        views=doc.views, source=stored_source(doc, plain=plain))


def stored_source(doc: SearchDocument, *, plain: bool) -> bytes:
    """What the index stores and returns with a hit: the document, and whether `fold` brings its
    displayed texts to normal form (then highlighting needs no full conversion)."""
    return b'{"plain":%s,"doc":%s}' % (b"true" if plain else b"false", doc.model_dump_json().encode())


def _capped(doc: SearchDocument) -> SearchDocument:
    budget, pages = MAX_PAGE_CHARS, []
    for page in doc.pages:
        if budget <= 0:
            break
        pages.append(page if len(page.text) <= budget else page.model_copy(update={"text": page.text[:budget]}))
        budget -= len(page.text)
    if not (len(pages) == len(doc.pages) and budget >= 0):
        doc = doc.model_copy(update={"pages": pages})
    budget, cues = MAX_CUE_CHARS, []
    for cue in doc.cues:
        budget -= len(cue.text)
        if budget < 0:
            break
        cues.append(cue)
    return doc if len(cues) == len(doc.cues) else doc.model_copy(update={"cues": cues})

"""The development relevance set: a corpus of resources, teachers' queries with graded
judgments, and nDCG@10 of a `SearchEngine` over them.

Everything is based on the seed taxonomy the demo district uses
(`services/api/taxonomy/seed/`: primary mathematics and junior physics, 人教版). Knowledge
points are identified by their seed codes (the API uses opaque ids; here id = code), so the
corpus and the judgments read as what they are.

Files beside this module:

* `corpus.json`: resources, SearchDocument-shaped. Each gives what a teacher enters (title,
  description, tags, kind, subject/stage/grade/edition/chapter codes, the knowledge points
  assigned, page texts of a few documents). What the API derives from the taxonomy when it
  builds a search document is derived here the same way by `load_corpus()`: volume and
  chapter name from the chapter, the ancestry of each knowledge point and the names along it.
* `queries.json`: queries as a teacher types them, optional filters (SearchParams fields) and
  judgments: 3 = exactly this lesson, 2 = relevant, 1 = related; unjudged = 0.

The metric: nDCG@10 with gain 2^rel - 1 and discount log2(rank + 1), the ideal ranking taken
from all of the query's judgments. A query with no judged document is an error.
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from services.common.search import (
    KnowledgePointEntry,
    PageText,
    SearchDocument,
    SearchPrincipal,
    Vocabulary,
    VocabularyEntry,
)

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[2]
SEED_DIR = REPO_ROOT / "services" / "api" / "taxonomy" / "seed"
CORPUS_FILE = HERE / "corpus.json"
QUERIES_FILE = HERE / "queries.json"

DISTRICT = "district-demo"
# The relevance set has one district; its documents are spread over three schools.
SCHOOLS = {"school-urban": "青山区实验小学", "school-town": "河湾镇中心学校", "school-mount": "白云山村教学点"}
_SCHOOL_IDS = list(SCHOOLS)
PRINCIPAL = SearchPrincipal(user_id="teacher-eval", district_id=DISTRICT, school_id="school-town",
                            partner_school_ids=["school-mount"])
K = 10
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


# --------------------------------------------------------------------------- the taxonomy

@dataclass(frozen=True)
class Taxonomy:
    """The seed taxonomy, read from its JSON files (tests must not import the API)."""

    subjects: dict[str, str]
    stages: dict[str, str]
    grades: dict[str, dict[str, Any]]
    editions: dict[str, str]
    volumes: dict[str, dict[str, Any]]
    chapters: dict[str, dict[str, Any]]
    knowledge_points: dict[str, dict[str, Any]]   # code -> entry, parents before children
    ancestry: dict[str, list[str]] = field(default_factory=dict)  # code -> [root, ..., code]
    chapters_of_kp: dict[str, list[str]] = field(default_factory=dict)

    def path(self, code: str) -> str:
        return "/".join(self.ancestry[code])

    def names_along(self, codes: Iterable[str]) -> list[str]:
        """Names of the given points and all their ancestors, once each, shallow first."""
        seen: dict[str, None] = {}
        for code in codes:
            for step in self.ancestry[code]:
                seen.setdefault(step, None)
        return [self.knowledge_points[c]["name"] for c in seen]


@cache
def taxonomy(seed_dir: Path = SEED_DIR) -> Taxonomy:
    vocab = json.loads((seed_dir / "vocabulary.json").read_text("utf-8"))
    volumes: dict[str, dict] = {}
    chapters: dict[str, dict] = {}
    points: dict[str, dict] = {}
    for path in sorted(seed_dir.glob("*.json")):
        if path.name == "vocabulary.json":
            continue
        data = json.loads(path.read_text("utf-8"))
        volumes.update({v["code"]: v for v in data.get("volumes", [])})
        chapters.update({c["code"]: c for c in data.get("chapters", [])})
        points.update({k["code"]: k for k in data.get("knowledge_points", [])})
    ancestry: dict[str, list[str]] = {}
    for code, kp in points.items():  # the seed lists parents before children
        ancestry[code] = [*ancestry[kp["parent"]], code] if kp.get("parent") else [code]
    chapters_of_kp: dict[str, list[str]] = {}
    for code, chapter in chapters.items():
        for kp in chapter["knowledge_points"]:
            chapters_of_kp.setdefault(kp, []).append(code)
    return Taxonomy(
        subjects={s["code"]: s["name"] for s in vocab["subjects"]},
        stages={s["code"]: s["name"] for s in vocab["stages"]},
        grades={g["code"]: g for g in vocab["grades"]},
        editions={e["code"]: e["name"] for e in vocab["editions"]},
        volumes=volumes, chapters=chapters, knowledge_points=points, ancestry=ancestry,
        chapters_of_kp=chapters_of_kp)


def vocabulary(revision: str = "seed") -> Vocabulary:
    """What the API would send the search service for the seed taxonomy (ids = codes), with the
    seed's knowledge-point aliases."""
    tax = taxonomy()
    aliases = json.loads((SEED_DIR / "aliases" / "knowledge_point_aliases.json").read_text("utf-8"))
    return Vocabulary(
        revision=revision,
        subjects=[VocabularyEntry(code=c, name=n) for c, n in tax.subjects.items()],
        stages=[VocabularyEntry(code=c, name=n) for c, n in tax.stages.items()],
        grades=[VocabularyEntry(code=c, name=g["name"]) for c, g in tax.grades.items()],
        editions=[VocabularyEntry(code=c, name=n) for c, n in tax.editions.items()],
        volumes=[VocabularyEntry(code=c, name=v["name"]) for c, v in tax.volumes.items()],
        chapters=[VocabularyEntry(code=c, name=ch["name"]) for c, ch in tax.chapters.items()],
        knowledge_points=[KnowledgePointEntry(id=c, code=c, name=kp["name"], subject=kp["subject"], stage=kp["stage"],
                                              path=tax.path(c), aliases=aliases.get(c, []))
                          for c, kp in tax.knowledge_points.items()],
        schools=[VocabularyEntry(code=c, name=n) for c, n in SCHOOLS.items()],
    )


def complete_document(raw: dict[str, Any], *, district_id: str = DISTRICT) -> SearchDocument:
    """A SearchDocument from what a teacher enters, with what the API derives from the
    taxonomy filled in: stage from the grade, volume and chapter name from the chapter,
    knowledge-point ancestry and names."""
    tax = taxonomy()
    doc = dict(raw)
    chapter = tax.chapters.get(doc.get("chapter") or "")
    if doc.get("chapter") and chapter is None:
        raise ValueError(f"{doc['id']}: unknown chapter {doc['chapter']!r}")
    if chapter:
        volume = tax.volumes[chapter["volume"]]
        doc.setdefault("volume", volume["code"])
        doc.setdefault("grade", volume["grade"])
        doc.setdefault("subject", volume["subject"])
        doc.setdefault("edition", volume["edition"])
        doc["chapter_name"] = chapter["name"]
    if doc.get("grade"):
        doc.setdefault("stage", tax.grades[doc["grade"]]["stage"])
    kps = doc.get("knowledge_points", [])
    for code in kps:
        if code not in tax.knowledge_points:
            raise ValueError(f"{doc['id']}: unknown knowledge point {code!r}")
    doc["knowledge_point_ancestry"] = list(dict.fromkeys(step for code in kps for step in tax.ancestry[code]))
    doc["knowledge_point_names"] = tax.names_along(kps)
    doc["pages"] = [PageText(number=i + 1, text=t) if isinstance(t, str) else PageText(**t)
                    for i, t in enumerate(doc.get("pages", []))]
    doc.setdefault("version", 1)
    doc.setdefault("live", True)
    doc.setdefault("visibility", "public")
    doc.setdefault("license", "cc-by-nc-sa-4.0")
    doc.setdefault("district_id", district_id)
    school = doc.setdefault("school_id", "school-urban")
    doc.setdefault("school_name", SCHOOLS.get(school, school))
    doc.setdefault("owner_id", f"teacher-{school}")
    doc.setdefault("owner_name", "李老师")
    return SearchDocument.model_validate(doc)


# --------------------------------------------------------------------------- the set

@dataclass(frozen=True)
class Query:
    id: str
    q: str
    filters: dict[str, str]
    judgments: dict[str, int]
    note: str = ""
    top: str | None = None  # the one right first hit, for unambiguous queries
    # The class of query it stands for (spaced_pinyin, initials, grade_in_query, kind_word,
    # homophone, alias, ...); "core" for the set's first queries.
    query_class: str = "core"

    def params(self, **extra: Any):
        from services.search.engine import SearchParams
        return SearchParams(q=self.q, size=K, **self.filters, **extra)


def load_corpus() -> list[SearchDocument]:
    raw = json.loads(CORPUS_FILE.read_text("utf-8"))
    docs = []
    for i, entry in enumerate(raw["documents"]):
        entry = dict(entry)
        # Publication dates and views are spread deterministically; they only break ties.
        entry.setdefault("published_at", (T0 + timedelta(days=i % 97, hours=i % 7)).isoformat())
        entry.setdefault("views", (i * 37) % 500)
        entry.setdefault("school_id", _SCHOOL_IDS[i % len(_SCHOOL_IDS)])
        docs.append(complete_document(entry))
    ids = [d.id for d in docs]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate document ids in corpus.json")
    return docs


def load_queries() -> list[Query]:
    raw = json.loads(QUERIES_FILE.read_text("utf-8"))
    known = {d.id for d in load_corpus()}
    queries = []
    for entry in raw["queries"]:
        query = Query(id=entry["id"], q=entry["q"], filters=entry.get("filters", {}),
                      judgments=entry["judgments"], note=entry.get("note", ""), top=entry.get("top"),
                      query_class=entry.get("class", "core"))
        unknown = set(query.judgments) - known
        if unknown:
            raise ValueError(f"query {query.id}: judged documents not in the corpus: {sorted(unknown)}")
        if not any(g > 0 for g in query.judgments.values()):
            raise ValueError(f"query {query.id}: no relevant document judged")
        if query.top and query.judgments.get(query.top) != 3:
            raise ValueError(f"query {query.id}: its top hit must be judged 3")
        queries.append(query)
    if len({q.id for q in queries}) != len(queries):
        raise ValueError("duplicate query ids in queries.json")
    return queries


# --------------------------------------------------------------------------- the metric

def dcg(gains: Iterable[int]) -> float:
    return sum((2 ** g - 1) / math.log2(rank + 2) for rank, g in enumerate(gains))


def ndcg(ranked_ids: list[str], judgments: dict[str, int], k: int = K) -> float:
    ideal = dcg(sorted(judgments.values(), reverse=True)[:k])
    return dcg(judgments.get(i, 0) for i in ranked_ids[:k]) / ideal if ideal else 0.0


def index_corpus(engine, documents: list[SearchDocument] | None = None) -> None:
    """Vocabulary, then the corpus, into a fresh engine."""
    engine.set_vocabulary(vocabulary())
    engine.index(documents if documents is not None else load_corpus())


def run_queries(engine, queries: list[Query] | None = None,
                principal: SearchPrincipal = PRINCIPAL) -> dict[str, dict[str, Any]]:
    """Each query's nDCG@10 and its top ids, on an engine that already holds the corpus."""
    out = {}
    for query in queries if queries is not None else load_queries():
        response = engine.search(query.params(), principal)
        ranked = [hit.id for hit in response.hits]
        out[query.id] = {"q": query.q, "filters": query.filters, "ndcg": round(ndcg(ranked, query.judgments), 4),
                         "top": ranked[:K], "total": response.total, "class": query.query_class}
    return out


def ndcg_at_10(engine, *, index: bool = True) -> dict[str, Any]:
    """Indexes the corpus into `engine` (unless `index=False`: already there) and returns
    {"mean": mean nDCG@10 over the queries, "per_query": {query id: {...}}}."""
    if index:
        index_corpus(engine)
    per_query = run_queries(engine)
    mean = sum(r["ndcg"] for r in per_query.values()) / len(per_query)
    classes: dict[str, list[float]] = {}
    for r in per_query.values():
        classes.setdefault(r["class"], []).append(r["ndcg"])
    return {"mean": round(mean, 4), "queries": len(per_query), "per_query": per_query,
            "per_class": {c: {"mean": round(sum(v) / len(v), 4), "queries": len(v)} for c, v in sorted(classes.items())}}


def main() -> None:
    """Prints the set's nDCG@10 on a fresh tantivy engine: `python -m tests.search.relevance.evaluate`."""
    import tempfile

    from services.search.backends.tantivy_index import TantivyBackend
    from services.search.engine import SearchEngine

    with tempfile.TemporaryDirectory(prefix="lb-relevance-") as tmp:
        engine = SearchEngine(TantivyBackend(Path(tmp) / "index"), Path(tmp) / "vocabulary.json")
        result = ndcg_at_10(engine)
        queries = {q.id: q for q in load_queries()}
        for qid, r in sorted(result["per_query"].items(), key=lambda kv: kv[1]["ndcg"]):
            judged = queries[qid].judgments
            tops = " ".join(f"{i}({judged.get(i, 0)})" for i in r["top"][:5])
            print(f"{r['ndcg']:.3f}  {qid:24s} {r['q']!r:28s} {r['filters'] or ''}  {tops}")
        for name, figures in result["per_class"].items():
            print(f"class {name:16s} nDCG@10 {figures['mean']:.4f} over {figures['queries']} queries")
        print(f"mean nDCG@10 {result['mean']:.4f} over {result['queries']} queries")
        engine.backend.close()


if __name__ == "__main__":
    main()

"""Relevance regression: nDCG@10 of the development relevance set (tests/search/relevance/)
on the embedded tantivy backend, through `SearchEngine` as the service runs it.

The floor sits just below what the ranking measures today, so a change that makes results
worse fails here; one that makes them better should raise the floor. Per-query scores:
`.venv/bin/python -m tests.search.relevance.evaluate`.
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.search.backends.tantivy_index import TantivyBackend
from services.search.engine import SearchEngine
from tests.search.relevance.evaluate import (
    PRINCIPAL,
    index_corpus,
    load_corpus,
    load_queries,
    ndcg_at_10,
    run_queries,
)

# Measured 0.9436 over 37 queries when the set was written (tantivy, jieba-rs search mode);
# 0.9477 over 68 with query understanding and the classes of teachers' queries it handles.
NDCG_FLOOR = 0.93
# Per class of query (spaced pinyin, initials, grade words, kind words, homophones): none may
# fall far behind; the lowest measured was initials, 0.881.
CLASS_FLOOR = 0.85
# No single query may collapse: the worst measured was 0.639 ("歐姆定律 實驗").
PER_QUERY_FLOOR = 0.6


@pytest.fixture(scope="module")
def search_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchEngine]:
    tmp = tmp_path_factory.mktemp("relevance")
    engine = SearchEngine(TantivyBackend(tmp / "index"), tmp / "vocabulary.json")
    index_corpus(engine)
    yield engine
    engine.backend.close()


def test_the_set_is_well_formed() -> None:
    docs, queries = load_corpus(), load_queries()
    assert 80 <= len(docs) <= 120
    assert len(queries) >= 30
    # Every document is a live, public resource of one district, with its taxonomy derived.
    assert {d.district_id for d in docs} == {PRINCIPAL.district_id}
    assert all(d.live and d.visibility == "public" for d in docs)
    assert all(set(d.knowledge_points) <= set(d.knowledge_point_ancestry) for d in docs)


def test_mean_ndcg_at_10_stays_above_the_floor(search_engine: SearchEngine) -> None:
    result = ndcg_at_10(search_engine, index=False)
    worst = sorted(result["per_query"].items(), key=lambda kv: kv[1]["ndcg"])[:5]
    summary = ", ".join(f"{qid} {r['ndcg']:.3f}" for qid, r in worst)
    assert result["mean"] >= NDCG_FLOOR, f"mean nDCG@10 {result['mean']:.4f} < {NDCG_FLOOR}; worst: {summary}"
    low = {qid: r["ndcg"] for qid, r in result["per_query"].items() if r["ndcg"] < PER_QUERY_FLOOR}
    assert not low, f"queries below {PER_QUERY_FLOOR}: {low}"


def test_every_class_of_query_stays_above_its_floor(search_engine: SearchEngine) -> None:
    per_class = ndcg_at_10(search_engine, index=False)["per_class"]
    assert {"spaced_pinyin", "initials", "grade_in_query", "kind_word", "homophone"} <= set(per_class)
    low = {name: figures["mean"] for name, figures in per_class.items() if figures["mean"] < CLASS_FLOOR}
    assert not low, f"classes below {CLASS_FLOOR}: {low}"


UNAMBIGUOUS = [q for q in load_queries() if q.top]


@pytest.mark.parametrize("query", UNAMBIGUOUS, ids=[q.id for q in UNAMBIGUOUS])
def test_the_top_hit_of_an_unambiguous_query_is_the_lesson(search_engine: SearchEngine, query) -> None:
    ranked = run_queries(search_engine, [query])[query.id]["top"]
    assert ranked and ranked[0] == query.top, f"{query.q!r} {query.filters or ''}: top {ranked[:3]}, want {query.top}"


def _before(first: str, second: str):
    def holds(ranked: list[str]) -> bool:
        return first in ranked and (second not in ranked or ranked.index(first) < ranked.index(second))
    return holds


# Rankings the set shows to be wrong today (reported, not fixed: services/search is not ours).
# strict: when the ranking is fixed these start passing and fail, so they move up to the
# checks above.
KNOWN_WRONG = [
    pytest.param("ohm-trad-exp", lambda ranked: ranked[0] in {"iur-inquiry", "voltammetry"},
                 id="ohm-trad-exp: an exercise outranks both experiments",
                 marks=pytest.mark.xfail(strict=True, reason="terms are OR-ed: no preference for matching all")),
    pytest.param("ohm", _before("ch17-review", "newton1"),
                 id="ohm: Newton's first law outranks the chapter review",
                 marks=pytest.mark.xfail(strict=True, reason="a search-mode part (定律) counts like the whole word")),
]


# Fixed, and kept so: "ＰＰＴ" is a kind word now, so the one PPT (courseware) outranks the
# recording of the same lesson.
FIXED = [pytest.param("lens-ppt", lambda ranked: ranked[0] == "lens-imaging", id="lens-ppt: the one PPT comes first")]


@pytest.mark.parametrize(("query_id", "right"), FIXED + KNOWN_WRONG)
def test_known_wrong_rankings(search_engine: SearchEngine, query_id: str, right) -> None:
    query = next(q for q in load_queries() if q.id == query_id)
    ranked = run_queries(search_engine, [query])[query.id]["top"]
    assert right(ranked), f"{query.q!r}: {ranked[:5]}"

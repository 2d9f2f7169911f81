"""The search contract, run over both index backends: embedded tantivy and a real Elasticsearch.

Everything goes through `SearchEngine`, as the service does: Chinese queries (segmentation,
Traditional characters, full-width forms, pinyin), filters, knowledge-point descendants,
facets, highlights, sorts, paging, suggest, visibility, version checks and rebuilds.
"""
from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.common.search import (
    KnowledgePointEntry,
    PageText,
    SearchDocument,
    SearchPrincipal,
    Sort,
    Vocabulary,
    VocabularyEntry,
)
from services.search.backends.base import InvalidCursor
from services.search.backends.tantivy_index import TantivyBackend
from services.search.engine import SearchEngine, SearchParams
from tests.conftest import server_url

DISTRICT, OTHER_DISTRICT = "d-1", "d-2"
SCHOOL_A, SCHOOL_B, SCHOOL_C = "s-a", "s-b", "s-c"  # A and C are paired (结对帮扶); B is not
T0 = datetime(2026, 9, 1, tzinfo=UTC)

VOCABULARY = Vocabulary(
    revision="contract-1",
    subjects=[VocabularyEntry(code="math", name="数学"), VocabularyEntry(code="chinese", name="语文")],
    stages=[VocabularyEntry(code="junior", name="初中")],
    grades=[VocabularyEntry(code="g9", name="九年级"), VocabularyEntry(code="g8", name="八年级")],
    editions=[VocabularyEntry(code="pep", name="人教版")],
    chapters=[VocabularyEntry(code="ch21", name="一元二次方程")],
    knowledge_points=[
        KnowledgePointEntry(id="kp-eq", code="M.EQ", name="方程与不等式", subject="math", stage="junior", path="/kp-eq"),
        KnowledgePointEntry(id="kp-quad", code="M.EQ.Q", name="一元二次方程", subject="math", stage="junior",
                            path="/kp-eq/kp-quad"),
        KnowledgePointEntry(id="kp-complete", code="M.EQ.Q.C", name="配方法", subject="math", stage="junior",
                            path="/kp-eq/kp-quad/kp-complete"),
        KnowledgePointEntry(id="kp-pyth", code="M.G.P", name="勾股定理", subject="math", stage="junior", path="/kp-pyth"),
    ],
    schools=[VocabularyEntry(code=SCHOOL_A, name="城关一中"), VocabularyEntry(code=SCHOOL_B, name="河西中学"),
             VocabularyEntry(code=SCHOOL_C, name="山区教学点")],
)
KP_ANCESTRY = {"kp-eq": ["kp-eq"], "kp-quad": ["kp-eq", "kp-quad"], "kp-complete": ["kp-eq", "kp-quad", "kp-complete"],
               "kp-pyth": ["kp-pyth"]}
KP_NAMES = {kp.id: kp.name for kp in VOCABULARY.knowledge_points}


def doc(id: str, title: str, *, kp: str | None = None, school: str = SCHOOL_A, visibility: str = "public",
        subject: str = "math", grade: str = "g9", description: str = "", pages: list[str] = (),
        days: int = 0, views: int = 0, version: int = 1, district: str = DISTRICT, owner: str = "u-owner",
        kind: str = "courseware") -> SearchDocument:
    ancestry = KP_ANCESTRY[kp] if kp else []
    return SearchDocument(
        id=id, version=version, live=True, title=title, description=description, kind=kind, subject=subject,
        stage="junior", grade=grade, edition="pep", chapter="ch21" if kp and kp != "kp-pyth" else None,
        knowledge_points=[kp] if kp else [], knowledge_point_ancestry=ancestry,
        knowledge_point_names=[KP_NAMES[k] for k in ancestry],
        pages=[PageText(number=i + 1, text=t) for i, t in enumerate(pages)],
        school_id=school, school_name=dict((s.code, s.name) for s in VOCABULARY.schools)[school],
        owner_id=owner, owner_name="王老师", district_id=district, visibility=visibility, license="cc-by-4.0",
        duration_s=None, published_at=T0 + timedelta(days=days), views=views)


CORPUS = [
    doc("quad-complete", "一元二次方程的配方法", kp="kp-complete", days=1, views=40,
        description="通过配方把一元二次方程化为完全平方形式，再直接开平方求解。"),
    doc("quad-formula", "一元二次方程的求根公式", kp="kp-quad", days=2, views=90,
        description="由配方法推导求根公式，并用判别式判断根的情况。"),
    doc("quad-intro", "认识一元二次方程", kp="kp-quad", days=3, views=10, description="方程的概念与一般形式。"),
    doc("pyth", "勾股定理的证明", kp="kp-pyth", grade="g8", days=4, views=70,
        description="用赵爽弦图证明勾股定理。", pages=["第一页：课题引入", "弦图的面积关系", "练习：直角三角形三边"]),
    doc("poem", "《春》朱自清 课件", subject="chinese", days=5, views=5, description="朗读与赏析春天的景色。"),
    doc("slides", "九年级数学第二十一章复习", kp="kp-eq", days=6, views=20,
        pages=["本章知识结构", "复习：因式分解法", "例题讲解：用配方法解方程 x²+6x+4=0"]),
]


def open_backend(name: str):
    if name == "tantivy":
        import tempfile
        from pathlib import Path
        return TantivyBackend(Path(tempfile.mkdtemp(prefix="lb-contract-")))
    from services.search.backends.elastic import ElasticsearchBackend
    return ElasticsearchBackend(server_url("LB_TEST_ES_URL", "Elasticsearch"), alias=f"lb-contract-{uuid.uuid4().hex[:10]}")


def dispose(backend) -> None:
    backend.close()
    if backend.name == "elasticsearch":
        from elasticsearch import Elasticsearch
        with Elasticsearch(backend.url) as client:
            client.indices.delete(index=f"{backend.alias}-*", ignore_unavailable=True, allow_no_indices=True)


@pytest.fixture(params=["tantivy", "elasticsearch"])
def make_engine(request, tmp_path):
    made = []

    def make(documents: list[SearchDocument] = CORPUS) -> SearchEngine:
        engine = SearchEngine(open_backend(request.param), tmp_path / f"vocabulary-{len(made)}.json")
        made.append(engine)
        engine.set_vocabulary(VOCABULARY)
        if documents:
            engine.index(documents)
        return engine

    yield make
    for engine in made:
        dispose(engine.backend)


@pytest.fixture
def engine(make_engine) -> SearchEngine:
    return make_engine()


TEACHER_B = SearchPrincipal(user_id="u-b", district_id=DISTRICT, school_id=SCHOOL_B)


def ids(engine: SearchEngine, principal: SearchPrincipal = TEACHER_B, **params) -> list[str]:
    return [h.id for h in engine.search(SearchParams(**params), principal).hits]


# -- Chinese text ------------------------------------------------------------------------------

def test_the_exact_lesson_comes_first_for_a_two_term_chinese_query(engine):
    found = ids(engine, q="一元二次方程 配方法")
    assert found[0] == "quad-complete"
    assert set(found[:3]) >= {"quad-complete", "quad-formula"}
    assert "poem" not in found


def test_a_taxonomy_term_is_kept_whole_and_its_parts_still_match(engine):
    assert engine.analyzer.words("一元二次方程配方法") == ["一元二次方程", "配方法"]
    assert "quad-intro" in ids(engine, q="二次方程")


@pytest.mark.parametrize("query", ["勾股定理 證明", "ＧＯＵＧＵ", "勾股定理　证明"])
def test_traditional_and_full_width_forms_match_the_simplified_text(engine, query):
    if query == "ＧＯＵＧＵ":  # full-width Latin folds to "gougu": a pinyin prefix, not a term
        assert ids(engine, q="ＧＯＵＧＵＤＩＮＧＬＩ")[0] == "pyth"
    else:
        assert ids(engine, q=query)[0] == "pyth"


@pytest.mark.parametrize(("query", "expected"), [("yiyuanercifangcheng peifangfa", "quad-complete"),
                                                ("yyecfc pff", "quad-complete"), ("gougudingli", "pyth"),
                                                ("ggdl", "pyth")])
def test_full_pinyin_and_initials_find_the_lesson(engine, query, expected):
    assert ids(engine, q=query)[0] == expected


def test_initials_of_a_knowledge_point_find_all_its_lessons(engine):
    assert set(ids(engine, q="yyecfc")[:3]) == {"quad-complete", "quad-formula", "quad-intro"}


def test_text_extracted_from_documents_matches_with_its_page(engine):
    result = engine.search(SearchParams(q="因式分解法"), TEACHER_B)
    assert [h.id for h in result.hits] == ["slides"]
    assert result.hits[0].highlight.page == 2
    assert "<em>因式分解法</em>" in result.hits[0].highlight.text


def test_highlights_mark_the_original_text(engine):
    hit = engine.search(SearchParams(q="勾股定理 證明"), TEACHER_B).hits[0]
    assert hit.highlight.title == "<em>勾股定理</em>的<em>证明</em>"
    # Adjacent matches read as one mark.
    assert hit.highlight.text == "用赵爽弦图<em>证明勾股定理</em>。"


def test_highlights_mark_traditional_and_full_width_originals(make_engine):
    engine = make_engine([doc("trad", "勾股定理的證明（ＰＰＴ）", kp="kp-pyth")])
    hit = engine.search(SearchParams(q="勾股定理 证明 ppt"), TEACHER_B).hits[0]
    assert hit.highlight.title == "<em>勾股定理</em>的<em>證明</em>（<em>ＰＰＴ</em>）"


def test_highlight_escapes_html_in_titles(make_engine):
    engine = make_engine([doc("xss", "<script>配方法</script>", kp="kp-complete")])
    assert engine.search(SearchParams(q="配方法"), TEACHER_B).hits[0].highlight.title == \
        "&lt;script&gt;<em>配方法</em>&lt;/script&gt;"


# -- filters and facets ------------------------------------------------------------------------

def test_filters_narrow_to_exact_values(engine):
    assert ids(engine, subject="chinese") == ["poem"]
    assert set(ids(engine, grade="g8")) == {"pyth"}
    assert ids(engine, q="方程", grade="g8") == []


def test_a_knowledge_point_matches_its_descendants(engine):
    assert set(ids(engine, knowledge_point="kp-eq")) == {"quad-complete", "quad-formula", "quad-intro", "slides"}
    assert set(ids(engine, knowledge_point="kp-quad")) == {"quad-complete", "quad-formula", "quad-intro"}
    assert ids(engine, knowledge_point="kp-complete") == ["quad-complete"]


def test_facets_count_the_matches_with_labels(engine):
    facets = engine.search(SearchParams(q="方程", facets="subject,knowledge_point,school"), TEACHER_B).facets
    subject = {f["value"]: (f["label"], f["count"]) for f in facets["subject"]}
    assert subject == {"math": ("数学", 4)}
    points = {f["value"]: (f["label"], f["count"]) for f in facets["knowledge_point"]}
    assert points["kp-quad"] == ("一元二次方程", 2)
    assert points["kp-complete"] == ("配方法", 1)
    assert {f["value"]: f["count"] for f in facets["school"]} == {SCHOOL_A: 4}
    assert facets["school"][0]["label"] == "城关一中"


def test_facets_without_a_query_count_everything_visible(engine):
    result = engine.search(SearchParams(), TEACHER_B)
    assert result.total == len(CORPUS)
    assert {f["value"]: f["count"] for f in result.facets["subject"]} == {"math": 5, "chinese": 1}
    assert {f["value"]: f["count"] for f in result.facets["grade"]} == {"g9": 5, "g8": 1}


# -- sorting and paging ------------------------------------------------------------------------

def test_sorts_by_newest_and_most_viewed(engine):
    assert ids(engine, sort=Sort.newest) == ["slides", "poem", "pyth", "quad-intro", "quad-formula", "quad-complete"]
    assert ids(engine, sort=Sort.most_viewed)[:3] == ["quad-formula", "pyth", "quad-complete"]
    assert ids(engine, q="一元二次方程", sort=Sort.most_viewed)[0] == "quad-formula"


def test_pages_and_totals(engine):
    first = engine.search(SearchParams(sort=Sort.newest, size=4), TEACHER_B)
    second = engine.search(SearchParams(sort=Sort.newest, size=4, page=2), TEACHER_B)
    assert first.total == second.total == 6
    assert [h.id for h in first.hits + second.hits] == ids(engine, sort=Sort.newest)


@pytest.mark.parametrize("sort", list(Sort))
def test_cursors_walk_every_hit_once(make_engine, sort):
    many = [doc(f"r{i:03}", f"一元二次方程 练习 {i}", kp="kp-quad", days=i % 17, views=i % 5) for i in range(57)]
    engine = make_engine(many)
    seen, cursor = [], None
    for _ in range(20):
        result = engine.search(SearchParams(q="一元二次方程", sort=sort, size=10, cursor=cursor), TEACHER_B)
        seen += [h.id for h in result.hits]
        cursor = result.next_cursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 57


@pytest.mark.parametrize("forged", [{"after": ["not-a-number", 3]}, {"after": [1.5, "x", "y"]}, {"offset": 10**12}])
def test_a_forged_cursor_is_a_clear_error_or_an_empty_page(engine, forged):
    cursor = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode()
    try:
        result = engine.search(SearchParams(sort=Sort.newest, cursor=cursor), TEACHER_B)
    except InvalidCursor:
        return
    assert result.hits == [] and result.next_cursor is None


# -- suggest -----------------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["一元二", "yiyuaner", "yyec", "YYEC"])
def test_suggest_completes_knowledge_points_and_titles(engine, typed):
    suggestions = engine.suggest(typed, TEACHER_B, 10).suggestions
    assert ("knowledge_point", "一元二次方程") in {(s.kind, s.text) for s in suggestions}
    assert {"quad-complete", "quad-formula"} <= {s.id for s in suggestions if s.kind == "title"}


def test_suggest_offers_only_visible_titles(make_engine):
    engine = make_engine([doc("secret", "勾股定理 私人备课", visibility="private", owner="u-a")])
    assert [s.id for s in engine.suggest("ggdl", TEACHER_B, 10).suggestions if s.kind == "title"] == []
    owner = SearchPrincipal(user_id="u-a", district_id=DISTRICT, school_id=SCHOOL_A)
    assert [s.id for s in engine.suggest("ggdl", owner, 10).suggestions if s.kind == "title"] == ["secret"]


# -- visibility --------------------------------------------------------------------------------

VISIBILITY_CORPUS = [
    doc("a-private", "勾股定理 私人", visibility="private", school=SCHOOL_A, owner="u-a", subject="chinese"),
    doc("a-school", "勾股定理 校内", visibility="school", school=SCHOOL_A, owner="u-a2"),
    doc("a-paired", "勾股定理 结对", visibility="paired", school=SCHOOL_A, owner="u-a2"),
    doc("a-district", "勾股定理 区内", visibility="district", school=SCHOOL_A, owner="u-a2"),
    doc("x-district", "勾股定理 外区", visibility="district", school=SCHOOL_B, district=OTHER_DISTRICT, owner="u-x"),
    doc("x-public", "勾股定理 公开", visibility="public", school=SCHOOL_B, district=OTHER_DISTRICT, owner="u-x"),
]


@pytest.mark.parametrize(("who", "expected"), [
    (SearchPrincipal(user_id="u-b", district_id=DISTRICT, school_id=SCHOOL_B), {"a-district", "x-public"}),
    (SearchPrincipal(user_id="u-c", district_id=DISTRICT, school_id=SCHOOL_C, partner_school_ids=[SCHOOL_A]),
     {"a-paired", "a-district", "x-public"}),
    (SearchPrincipal(user_id="u-a3", district_id=DISTRICT, school_id=SCHOOL_A),
     {"a-school", "a-paired", "a-district", "x-public"}),
    (SearchPrincipal(user_id="u-a", district_id=DISTRICT, school_id=SCHOOL_A),
     {"a-private", "a-school", "a-paired", "a-district", "x-public"}),
    (SearchPrincipal(user_id="mod", district_id=DISTRICT, manages_district=True),
     {"a-private", "a-school", "a-paired", "a-district", "x-public"}),
    (SearchPrincipal(user_id="sa", district_id=DISTRICT, school_id=SCHOOL_A, manages_school=True),
     {"a-private", "a-school", "a-paired", "a-district", "x-public"}),
])
def test_visibility_decides_hits(make_engine, who, expected):
    engine = make_engine(VISIBILITY_CORPUS)
    assert set(ids(engine, who, q="勾股定理")) == expected
    assert set(ids(engine, who)) == expected


def test_a_private_resource_of_school_a_is_never_shown_or_counted_for_a_teacher_of_school_b(make_engine):
    engine = make_engine(VISIBILITY_CORPUS)
    result = engine.search(SearchParams(q="勾股定理 私人"), TEACHER_B)
    assert "a-private" not in [h.id for h in result.hits]
    assert result.total == 2  # a-district and x-public, matching on 勾股定理
    # a-private is the only Chinese-subject document: no facet may count it.
    assert all(f["value"] != "chinese" for f in result.facets["subject"])
    assert all(f["count"] <= 2 for values in result.facets.values() for f in values)
    assert engine.search(SearchParams(subject="chinese"), TEACHER_B).total == 0


# -- versions, tombstones, rebuilds ------------------------------------------------------------

def test_older_or_repeated_versions_are_skipped(make_engine):
    engine = make_engine([])
    assert engine.index([doc("r", "配方法 第二版", kp="kp-complete", version=2)]).applied == 1
    outcome = engine.index([doc("r", "配方法 第一版", kp="kp-complete", version=1),
                            doc("r", "配方法 第二版", kp="kp-complete", version=2)])
    assert (outcome.applied, outcome.stale) == (0, 2)
    assert engine.search(SearchParams(q="配方法"), TEACHER_B).hits[0].title == "配方法 第二版"


def test_a_tombstone_removes_and_a_late_older_update_cannot_bring_it_back(make_engine):
    engine = make_engine([doc("r", "配方法", kp="kp-complete", version=3)])
    engine.index([SearchDocument.tombstone("r", 4)])
    assert ids(engine, q="配方法") == []
    assert engine.index([doc("r", "配方法", kp="kp-complete", version=3)]).stale == 1
    assert ids(engine, q="配方法") == []
    assert engine.backend.count() == 0
    assert engine.backend.versions(None, 10)[0] == [("r", 4, False)]


def test_versions_list_every_document_in_pages(make_engine):
    engine = make_engine([doc(f"r{i:02}", "方程", version=i + 1) for i in range(25)])
    engine.index([SearchDocument.tombstone("r03", 99)])
    seen, cursor = [], None
    while True:
        items, cursor = engine.backend.versions(cursor, 10)
        seen += items
        if cursor is None:
            break
    assert [i for i, _, _ in seen] == sorted(f"r{i:02}" for i in range(25))
    assert dict((i, (v, live)) for i, v, live in seen)["r03"] == (99, False)


def test_a_rebuild_swaps_in_a_new_index_without_losing_updates_made_meanwhile(make_engine):
    engine = make_engine(CORPUS)
    engine.backend.begin_rebuild()
    # Searches keep answering from the live index while the new one fills.
    assert ids(engine, q="勾股定理")[0] == "pyth"
    engine.index([d.model_copy(update={"version": 2}) for d in CORPUS if d.id != "poem"])
    engine.index([doc("late", "勾股定理 新课", kp="kp-pyth", version=1)])  # arrives mid-rebuild
    engine.backend.finish_rebuild()
    assert set(ids(engine)) == {d.id for d in CORPUS if d.id != "poem"} | {"late"}
    assert engine.backend.count() == len(CORPUS)


def test_an_aborted_rebuild_leaves_the_live_index_as_it_was(make_engine):
    engine = make_engine(CORPUS)
    engine.backend.begin_rebuild()
    engine.index([doc("new", "勾股定理 新课", kp="kp-pyth")])
    engine.backend.abort_rebuild()
    assert "new" in ids(engine, q="勾股定理")  # the live index got the update too
    assert engine.backend.count() == len(CORPUS) + 1

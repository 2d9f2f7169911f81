"""Query understanding, over both backends: pinyin typed with spaces and initials of whole
terms, grade and subject words as filters, kind words as boosts, homophone typos of taxonomy
terms with "did you mean", and knowledge-point aliases that change without reindexing."""
from __future__ import annotations

from services.common.search import KnowledgePointEntry
from services.search.engine import SearchEngine, SearchParams
from tests.contract.test_search_backends import CORPUS, TEACHER_B, VOCABULARY, doc, ids, make_engine  # noqa: F401


def search(engine: SearchEngine, **params):
    return engine.search(SearchParams(**params), TEACHER_B)


def test_pinyin_typed_with_spaces_finds_the_term(make_engine):  # noqa: F811
    engine = make_engine()
    for typed in ("yi yuan er ci fang cheng", "yiyuan erci fangcheng"):
        found = ids(engine, q=typed)
        assert set(found[:3]) == {"quad-complete", "quad-formula", "quad-intro"}, (typed, found)
    assert ids(engine, q="gou gu ding li")[0] == "pyth"


def test_initials_of_a_whole_term(make_engine):  # noqa: F811
    engine = make_engine()
    assert ids(engine, q="ggdl")[0] == "pyth"
    assert set(ids(engine, q="yyecfc")[:3]) == {"quad-complete", "quad-formula", "quad-intro"}


def test_a_grade_word_narrows_to_that_grade_unless_the_caller_chose_one(make_engine):  # noqa: F811
    engine = make_engine()
    narrowed = search(engine, q="八年级 证明")
    assert [h.id for h in narrowed.hits] == ["pyth"]
    assert narrowed.understood == {"grade": "g8"}
    # All grade 9, though the word itself is in no title.
    nine = search(engine, q="九年级 方程")
    assert nine.understood == {"grade": "g9"} and nine.hits
    assert {h.id for h in nine.hits} <= {"quad-complete", "quad-formula", "quad-intro", "slides"}
    # A grade the caller chose wins; the word is then just a word.
    chosen = search(engine, q="九年级 勾股定理", grade="g8")
    assert chosen.understood == {} and [h.id for h in chosen.hits] == ["pyth"]


def test_a_subject_word_becomes_a_filter(make_engine):  # noqa: F811
    engine = make_engine()
    found = search(engine, q="语文 课件")
    assert found.understood == {"subject": "chinese"}
    assert [h.id for h in found.hits] == ["poem"]


def test_a_kind_word_puts_that_kind_first_without_hiding_the_rest(make_engine):  # noqa: F811
    engine = make_engine([*CORPUS, doc("quad-plan", "解一元二次方程", kp="kp-quad", kind="lesson_plan", days=7)])
    found = ids(engine, q="一元二次方程 教案")
    assert found[0] == "quad-plan"
    assert {"quad-complete", "quad-formula", "quad-intro"} <= set(found)
    assert search(engine, q="一元二次方程 教案").understood == {}  # a boost, not a filter


def test_a_homophone_typo_finds_the_term_and_says_did_you_mean(make_engine):  # noqa: F811
    engine = make_engine()
    typo = search(engine, q="勾股定里")
    assert typo.hits[0].id == "pyth" and typo.did_you_mean == "勾股定理"
    near = search(engine, q="一元二次方城 配方法")
    assert near.hits[0].id == "quad-complete" and near.did_you_mean == "一元二次方程 配方法"
    # Spelled right: nothing to suggest.
    assert search(engine, q="勾股定理").did_you_mean is None


def test_an_alias_finds_its_knowledge_point_and_changes_without_reindexing(make_engine):  # noqa: F811
    engine = make_engine()
    assert "pyth" not in ids(engine, q="毕达哥拉斯")
    with_alias = VOCABULARY.model_copy(update={"revision": "contract-aliases", "knowledge_points": [
        kp.model_copy(update={"aliases": ["毕达哥拉斯定理", "商高定理"]}) if kp.id == "kp-pyth" else kp
        for kp in VOCABULARY.knowledge_points]})
    engine.set_vocabulary(with_alias)
    assert ids(engine, q="毕达哥拉斯定理")[0] == "pyth"
    assert ids(engine, q="商高定理")[0] == "pyth"
    assert isinstance(with_alias.knowledge_points[-1], KnowledgePointEntry)


def test_a_knowledge_point_finds_its_equivalents_in_other_editions_after_its_own(make_engine):  # noqa: F811
    bnu_point = KnowledgePointEntry(id="kp-pyth-bnu", code="M.BNU.P", name="直角三角形三边关系", subject="math",
                                    stage="junior", path="/kp-pyth-bnu", same_as="kp-pyth")
    editions = VOCABULARY.model_copy(update={"revision": "contract-editions",
                                             "knowledge_points": [*VOCABULARY.knowledge_points, bnu_point]})
    bnu_lesson = doc("pyth-bnu", "探索直角三角形三边关系", grade="g8", days=9).model_copy(update={
        "edition": "bnu", "knowledge_points": ["kp-pyth-bnu"], "knowledge_point_ancestry": ["kp-pyth-bnu"],
        "knowledge_point_names": ["直角三角形三边关系"]})
    engine = make_engine([])
    engine.set_vocabulary(editions)
    engine.index([*CORPUS, bnu_lesson])
    # Filed under either edition's point: both found, the point's own edition first.
    assert ids(engine, knowledge_point="kp-pyth") == ["pyth", "pyth-bnu"]
    assert ids(engine, knowledge_point="kp-pyth-bnu") == ["pyth-bnu", "pyth"]
    # A query by one edition's name finds the other's lesson too, after the exact one.
    found = ids(engine, q="勾股定理")
    assert found[0] == "pyth" and "pyth-bnu" in found

"""Subtitle cues in the search contract, over both index backends: text said in a lesson finds
it, and the hit says when it is said (`highlight.at_s`), as a document's hit says its page."""
from __future__ import annotations

from services.common.search import CueText
from services.search.engine import SearchParams
from tests.contract.test_search_backends import CORPUS, TEACHER_B, doc, make_engine  # noqa: F401 - the fixture

CUES = [(1.0, "同学们好，今天我们学习一元二次方程"), (4.2, "先把常数项移到等号右边"),
        (754.2, "两边同时加上一次项系数一半的平方"), (760.0, "这样左边就是完全平方式了")]


def lesson(id="lesson", title="配方法 课堂实录", cues=CUES, **fields):
    return doc(id, title, kind="lesson_recording", **fields).model_copy(update={
        "cues": [CueText(at_s=at, text=text, language="zh", asset_id="sub-1") for at, text in cues]})


def test_words_said_in_a_lesson_find_it_with_their_time(make_engine):
    engine = make_engine([*CORPUS, lesson()])
    result = engine.search(SearchParams(q="一次项系数"), TEACHER_B)
    assert [h.id for h in result.hits] == ["lesson"]
    highlight = result.hits[0].highlight
    assert highlight.at_s == 754.2 and highlight.page is None
    assert "<em>一次项系数</em>" in highlight.text and "同学们好" not in highlight.text


def test_the_cue_matching_most_terms_gives_the_time(make_engine):
    engine = make_engine([lesson()])
    highlight = engine.search(SearchParams(q="左边 完全平方式"), TEACHER_B).hits[0].highlight
    assert highlight.at_s == 760.0
    assert highlight.text == "这样<em>左边</em>就是<em>完全平方式</em>了"


def test_a_page_hit_keeps_its_page_and_has_no_time(make_engine):
    engine = make_engine([*CORPUS, lesson()])
    hit = engine.search(SearchParams(q="因式分解法"), TEACHER_B).hits[0]
    assert hit.highlight.page == 2 and hit.highlight.at_s is None


def test_traditional_forms_in_subtitles_match_a_simplified_query(make_engine):
    engine = make_engine([lesson(cues=[(12.5, "勾股定理的證明")])])
    highlight = engine.search(SearchParams(q="证明"), TEACHER_B).hits[0].highlight
    assert highlight.at_s == 12.5 and highlight.text == "勾股定理的<em>證明</em>"


def test_a_lesson_whose_cues_are_replaced_is_found_by_the_new_words_only(make_engine):
    engine = make_engine([lesson()])
    engine.index([lesson(cues=[(3.0, "今天复习因式分解")]).model_copy(update={"version": 2})])
    assert engine.search(SearchParams(q="一次项系数"), TEACHER_B).hits == []
    assert engine.search(SearchParams(q="因式分解"), TEACHER_B).hits[0].highlight.at_s == 3.0

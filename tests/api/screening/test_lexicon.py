"""The lexicon matcher on its own: every word in one pass, overlapping words each counted, and
the usual disguises normalised away on both sides."""
from __future__ import annotations

from services.api.screening.lexicon import Matcher, normalise


def found(matcher, text):
    return {(hit.word, hit.count) for hit in matcher.find(text)}


def test_overlapping_and_repeated_words_are_each_found():
    matcher = Matcher([("赌", "违法"), ("赌博", "违法"), ("博彩", "违法"), ("Casino", "")])
    assert found(matcher, "赌博博彩，再赌博") == {("赌", 2), ("赌博", 2), ("博彩", 1)}
    assert found(matcher, "分数的加法") == set()
    assert found(Matcher([]), "赌博") == set()


def test_disguises_are_normalised_on_both_sides():
    matcher = Matcher([("六合彩", ""), ("casino", ""), ("賭博", "")])  # a Traditional entry too
    assert found(matcher, "六 合\u200b彩") == {("六合彩", 1)}
    assert found(matcher, "六*合·彩") == {("六合彩", 1)}
    assert found(matcher, "ＣＡＳＩＮＯ") == {("casino", 1)}
    assert found(matcher, "赌博") == {("賭博", 1)}
    assert normalise("ＡＢ　ｃ") == "abc"


def test_a_large_lexicon_over_a_long_text():
    words = [(f"词{i:05d}", "") for i in range(20_000)]
    matcher = Matcher(words)
    assert matcher.size == 20_000
    text = "正常的课文内容。" * 20_000 + "词12345" + "更多内容" * 10_000 + "词00007"
    assert found(matcher, text) == {("词12345", 1), ("词00007", 1)}

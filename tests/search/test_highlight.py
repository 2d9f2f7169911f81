"""The highlighter on its own: marks in the original text, whatever its width and case."""
from services.search.highlight import highlight


def _title(title: str, *terms: str, plain: bool = True) -> str | None:
    return highlight(title=title, passages=[], terms=terms, plain=plain).title


def test_full_width_and_upper_case_originals_are_marked_without_a_folded_copy():
    assert _title("勾股定理ＰＰＴ课件", "ppt") == "勾股定理<em>ＰＰＴ</em>课件"
    assert _title("Ohm 定律 PPT", "ppt", "ohm") == "<em>Ohm</em> 定律 <em>PPT</em>"
    assert _title("第１课时", "第1课时") == "<em>第１课时</em>"


def test_the_longest_term_wins_and_adjacent_marks_merge():
    assert _title("一元二次方程的解法", "一元", "二次", "一元二次方程") == "<em>一元二次方程</em>的解法"
    assert _title("配方法", "配", "方法") == "<em>配方法</em>"


def test_regex_characters_in_terms_are_literal():
    assert _title("a+b 的平方 (a.b)", "a+b", "(a.b)") == "<em>a+b</em> 的平方 <em>(a.b)</em>"
    assert _title("axb", "a.b") is None


def test_the_passage_with_most_distinct_terms_names_its_page():
    result = highlight(title="复习", passages=[("欧姆定律", None), ("PPT 与 ppt", 3), ("欧姆定律 实验", 7)],
                       terms=("欧姆定律", "实验", "ppt"), plain=True)
    # Page 3's PPT and ppt are one term, not two; page 7 matches two distinct terms.
    assert result.page == 7
    assert result.text == "<em>欧姆定律</em> <em>实验</em>"

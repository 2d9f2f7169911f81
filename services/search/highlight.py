"""Highlights on the original text: the index holds segmented, normalised terms, but people read
what the teacher wrote, so matches are found again here and marked with <em> in the original.
Done in the service rather than by a backend's highlighter, so both backends mark the same."""
from __future__ import annotations

import bisect
import functools
import html
import itertools
import re

from services.common.search import Highlight
from services.search.analysis import fold, normalize

SNIPPET_CHARS = 120
_SEPARATOR = "\x00"
_LEAD_CHARS = 24  # context kept before the first match


def _normalized(texts: list[str]) -> list[str]:
    """Each text normalised, in one conversion (a call costs more than its characters)."""
    joined = normalize(_SEPARATOR.join(texts))
    parts = joined.split(_SEPARATOR)
    if len(parts) != len(texts):
        parts = [normalize(t) for t in texts]
    # A conversion that changed a text's length would put marks in the wrong place.
    return [n if len(n) == len(t) else t.lower() for n, t in zip(parts, texts, strict=True)]


@functools.lru_cache(maxsize=1024)
def _matcher(terms: tuple[str, ...]) -> re.Pattern[str]:
    """One alternation of the terms, longest first, so at any place the longest term wins
    (一元二次方程 before 一元) and a text is scanned once, in C, whatever the number of terms.

    It matches width and case itself (terms are normalised: half-width, lower case), so texts
    that need no other normalisation are searched as they are, without a folded copy."""
    alternatives = ("".join(_char_class(c) for c in term) for term in sorted(set(terms), key=len, reverse=True))
    return re.compile("|".join(alternatives), re.IGNORECASE)


def _char_class(char: str) -> str:
    if char == " ":
        return "[ \u3000]"
    if "!" <= char <= "~":  # also its full-width twin (Ａ, １, （), see analysis.fold
        return f"[{re.escape(char)}{chr(ord(char) + 0xFEE0)}]"
    return re.escape(char)


def _spans(normal: str, matcher: re.Pattern[str]) -> list[tuple[int, int]]:
    """Non-overlapping match spans, adjacent ones merged: 配 + 方法 side by side read better as one."""
    merged: list[tuple[int, int]] = []
    for match in matcher.finditer(normal):
        start, end = match.span()
        if merged and merged[-1][1] == start:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def mark(text: str, spans: list[tuple[int, int]]) -> str:
    out, at = [], 0
    for start, end in spans:
        out += [html.escape(text[at:start]), "<em>", html.escape(text[start:end]), "</em>"]
        at = end
    out.append(html.escape(text[at:]))
    return "".join(out)


def _snippet(text: str, spans: list[tuple[int, int]]) -> str:
    start = max(0, spans[0][0] - _LEAD_CHARS)
    end = min(len(text), start + SNIPPET_CHARS)
    inside = [(a - start, b - start) for a, b in spans if a >= start and b <= end]
    return ("…" if start else "") + mark(text[start:end], inside) + ("…" if end < len(text) else "")


def highlight(*, title: str, passages: list[tuple[str, int | None]], terms: tuple[str, ...] | list[str],
              plain: bool, cues: list[tuple[str, float]] | tuple[()] = ()) -> Highlight:
    """`passages`: (text, page number or None for the description). `cues`: (text, start in
    seconds) of a lesson's subtitles, searched as one transcript (hundreds of cues, one scan);
    the best cue is a passage like the others and gives its time. `plain`: `fold` is known to
    normalise these texts (see documents.stored_source), so the matcher, which folds width and
    case itself, runs on them as they are."""
    if not terms:
        return Highlight.model_construct(title=None, text=None, page=None, at_s=None)
    matcher = _matcher(tuple(terms))
    transcript = "\n".join(text for text, _ in cues)
    texts = [title, *(text for text, _ in passages), transcript]
    normal_title, *normal_passages, normal_transcript = texts if plain else _normalized(texts)
    title_spans = _spans(normal_title, matcher)
    # The passage matching the most distinct terms: the description, the best page or the best
    # cue; between equals, the one whose matches are longest (完全平方式 over 平方), then the first.
    best: tuple[tuple[int, int], str, list[tuple[int, int]], int | None, float | None] | None = None
    for (text, page), normal in zip(passages, normal_passages, strict=True):
        spans = _spans(normal, matcher)
        if not spans:
            continue
        distinct = (len({fold(normal[a:b]) for a, b in spans}), max(b - a for a, b in spans))
        if best is None or distinct > best[0]:
            best = (distinct, text, spans, page, None)
    if cues and (spans := _spans(normal_transcript, matcher)):
        starts = list(itertools.accumulate((len(text) + 1 for text, _ in cues[:-1]), initial=0))
        by_cue: dict[int, list[tuple[int, int]]] = {}
        for a, b in spans:
            by_cue.setdefault(bisect.bisect_right(starts, a) - 1, []).append((a, b))
        for index, cue_spans in by_cue.items():
            distinct = (len({fold(normal_transcript[a:b]) for a, b in cue_spans}), max(b - a for a, b in cue_spans))
            if best is None or distinct > best[0]:
                offset = starts[index]
                text, at_s = cues[index]
                best = (distinct, text, [(a - offset, min(b - offset, len(text))) for a, b in cue_spans], None, at_s)
    return Highlight.model_construct(title=mark(title, title_spans) if title_spans else None,
                                     text=_snippet(best[1], best[2]) if best else None,
                                     page=best[3] if best else None, at_s=best[4] if best else None)

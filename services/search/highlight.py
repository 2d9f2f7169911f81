"""Highlights on the original text: the index holds segmented, normalised terms, but people read
what the teacher wrote, so matches are found again here and marked with <em> in the original.
Done in the service rather than by a backend's highlighter, so both backends mark the same."""
from __future__ import annotations

import html
from collections.abc import Iterable

from services.common.search import Highlight, PageText
from services.search.analysis import normalize

SNIPPET_CHARS = 120
_LEAD_CHARS = 24  # context kept before the first match


def _spans(text: str, terms: Iterable[str]) -> list[tuple[int, int]]:
    """Non-overlapping match spans, longest terms first (一元二次方程 before 一元)."""
    normal = normalize(text)
    if len(normal) != len(text):  # a conversion changed lengths: positions would not map back
        normal = text.lower()
    taken: list[tuple[int, int]] = []
    for term in sorted(set(terms), key=len, reverse=True):
        start = normal.find(term)
        while start != -1:
            end = start + len(term)
            if all(end <= a or start >= b for a, b in taken):
                taken.append((start, end))
            start = normal.find(term, end)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(taken):  # 配 + 方法 side by side read better as one mark
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


def highlight(*, title: str, description: str, pages: list[PageText], terms: list[str]) -> Highlight:
    if not terms:
        return Highlight()
    title_spans = _spans(title, terms)
    # The passage matching the most distinct terms: the description, or the best page.
    best: tuple[int, str, list[tuple[int, int]], int | None] | None = None
    for text, page in [(description, None), *((p.text, p.number) for p in pages)]:
        spans = _spans(text, terms)
        if not spans:
            continue
        distinct = len({text[a:b] for a, b in spans})
        if best is None or distinct > best[0]:
            best = (distinct, text, spans, page)
    return Highlight(title=mark(title, title_spans) if title_spans else None,
                     text=_snippet(best[1], best[2]) if best else None,
                     page=best[3] if best else None)

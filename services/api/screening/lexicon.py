"""The district's sensitive-word lexicon (敏感词库) as a matcher: every word found in one pass over
a text (Aho-Corasick, pyahocorasick), whatever the lexicon's size.

Both the words and the text are normalised the same way before matching, so the usual ways of
slipping a word past a filter do not: full-width and compatibility forms (NFKC: ＡＢＣ, ①),
case, Traditional characters (opencc t2s: 敏感詞 is 敏感词), and spaces, zero-width characters or
filler symbols put between the characters (敏 感 词, 敏*感*词).

Matchers are built once per district and lexicon revision and kept in this process; the
revision (one row per district) says when one is stale.
"""
from __future__ import annotations

import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import ahocorasick
import opencc
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.api.screening.models import SensitiveLexicon, SensitiveWord

_t2s = opencc.OpenCC("t2s")
# Dropped before matching: whitespace (incl. the ideographic space), zero-width characters, and
# symbols people put between the characters of a word to hide it.
_FILLERS = dict.fromkeys(map(ord, " \t\r\n\v\f\u3000\u00a0\u200b\u200c\u200d\u2060\ufeff*_-~·•|/\\.。、"), None)


def normalise(text: str) -> str:
    return _t2s.convert(unicodedata.normalize("NFKC", text).casefold()).translate(_FILLERS)


@dataclass(frozen=True)
class Hit:
    word: str       # as the lexicon writes it
    category: str
    count: int


class Matcher:
    """One district's words, compiled."""

    def __init__(self, words: Iterable[tuple[str, str]]) -> None:
        self._automaton = ahocorasick.Automaton()
        for word, category in words:
            key = normalise(word)
            if key and key not in self._automaton:
                self._automaton.add_word(key, (word, category))
        self.size = len(self._automaton)
        if self.size:
            self._automaton.make_automaton()

    def find(self, text: str) -> list[Hit]:
        """The lexicon's words in `text`, each with how often it occurs, most frequent first."""
        if not self.size or not text:
            return []
        counts: dict[tuple[str, str], int] = {}
        for _end, found in self._automaton.iter(normalise(text)):
            counts[found] = counts.get(found, 0) + 1
        return [Hit(word=word, category=category, count=count)
                for (word, category), count in sorted(counts.items(), key=lambda item: (-item[1], item[0][0]))]


EMPTY = Matcher(())
_lock = threading.Lock()
_built: dict[str, tuple[int, Matcher]] = {}


def revisions(session: Session, *, district_ids: Iterable[str]) -> dict[str, int]:
    """Each district's lexicon revision (0: it never had one)."""
    ids = sorted(set(district_ids))
    found = {district_id: revision for district_id, revision in session.execute(
        select(SensitiveLexicon.district_id, SensitiveLexicon.revision).where(SensitiveLexicon.district_id.in_(ids)))}
    return {district_id: found.get(district_id, 0) for district_id in ids}


def matchers(session: Session, *, district_ids: Iterable[str]) -> dict[str, tuple[int, Matcher]]:
    """(revision, matcher) per district: one query when every matcher is current, one more per
    district whose lexicon changed since this process built it."""
    out = {}
    for district_id, revision in revisions(session, district_ids=district_ids).items():
        with _lock:
            built = _built.get(district_id)
        if revision == 0:
            out[district_id] = (0, EMPTY)
            continue
        if built is None or built[0] != revision:
            words = session.execute(select(SensitiveWord.word, SensitiveWord.category)
                                    .where(SensitiveWord.district_id == district_id)).all()
            built = (revision, Matcher(words))
            with _lock:
                _built[district_id] = built
        out[district_id] = built
    return out


class HitCache:
    """Hits in texts that do not change (a document's extracted text, under a deterministic key),
    per lexicon revision: the queue shows a page of resources without reading each document's
    text from storage on every view. Bounded, least recently used out first."""

    def __init__(self, size: int = 2048) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[str, ...], list] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, ...]) -> list | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: tuple[str, ...], value: list) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


def parse_words(lines: Iterator[tuple[str, str]]) -> list[tuple[str, str]]:
    """Unique (word, category) pairs in the order given; the first category of a word wins."""
    seen: dict[str, str] = {}
    for word, category in lines:
        seen.setdefault(word, category)
    return list(seen.items())

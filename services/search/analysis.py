"""Chinese text analysis, done here once so both backends see the same terms.

Text is normalised (full-width -> half-width and other compatibility forms by NFKC, lower case,
Traditional -> Simplified by OpenCC), segmented by jieba-rs (jieba's dictionary and algorithm,
~10 M chars/s against jieba's ~0.3 M) taught the taxonomy's names, and handed to the backends
as whitespace-separated terms: each backend only splits on spaces. Documents and queries are
both cut in search mode, which emits a long word *and* its dictionary parts (一元二次方程 ->
一元 二次 方程 ... 一元二次方程), so the whole term ranks first and its parts still match.

Pinyin: the title's and knowledge points' words also become full pinyin and initials terms
(一元二次方程 -> yiyuanercifangcheng, yyecfc), so a teacher typing pinyin finds the lesson.
"""
from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import opencc
import rjieba
from pypinyin import lazy_pinyin

# Words so common in titles and descriptions that they only add noise to matching.
STOPWORDS = frozenset("的 了 和 与 及 或 是 在 之 等 对 把 被 从 为 以 于 也 就 都 而 着 个 中 上 下".split())
# Dictionary weight of taxonomy names: high enough that jieba keeps them whole.
_USER_WORD_FREQ = 200_000
# Longest prefix (in characters) a suggestion is completed from.
SUGGEST_PREFIX_CHARS = 24
PARTS_CACHE_SIZE = 65536

_t2s = opencc.OpenCC("t2s")
# Full-width ASCII forms (Ａ, １, （, ，) and the ideographic space, to their half-width twins.
_HALF_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_HAS_FULL_WIDTH = re.compile("[\uff01-\uff5e\u3000]")


def normalize(text: str) -> str:
    """Same length as `text` for nearly all input (NFKC and t2s map character to character);
    the highlighter relies on that and checks it."""
    return _t2s.convert(unicodedata.normalize("NFKC", text).lower())


def fold(text: str) -> str:
    """The cheap part of `normalize`: width and case. Equal to `normalize` for most Simplified
    text; the highlighter uses it when index time found it enough (documents.stored_source)."""
    # Searching first is ~10x cheaper than translating, and most texts have nothing to fold.
    return (text.translate(_HALF_WIDTH) if _HAS_FULL_WIDTH.search(text) else text).lower()


# A term has at least one letter, digit or Han character (punctuation and spaces are not terms).
_HAS_WORD_CHAR = re.compile(r"[^\W_]")


def _terms_only(tokens: list[str]) -> list[str]:
    return [t for t in tokens if t not in STOPWORDS and _HAS_WORD_CHAR.search(t)]


class Analyzer:
    """A segmenter with the taxonomy's words. Replaced (not mutated) when the vocabulary
    changes, so a search running meanwhile keeps a consistent one."""

    def __init__(self, user_words: Iterable[str] = ()) -> None:
        self._jieba = rjieba.Jieba()
        self.user_words = sorted({normalize(w).strip() for w in user_words if w and w.strip()})
        for word in self.user_words:
            self._jieba.add_word(word, _USER_WORD_FREQ, None)
        # rjieba's Jieba is not documented as thread-safe for concurrent cuts.
        self._lock = threading.Lock()
        self._parts_of: dict[str, tuple[str, ...]] = {}

    def terms(self, text: str) -> list[str]:
        """Search-mode terms of `text`, normalised, in order, duplicates kept (they count)."""
        return self.terms_of_normal(normalize(text)) if text else []

    def terms_of_normal(self, normal: str) -> list[str]:
        """`terms` of a text already passed through `normalize`."""
        if not normal:
            return []
        with self._lock:
            tokens = self._jieba.cut_for_search(normal, True)
        return _terms_only(tokens)

    def words(self, text: str) -> list[str]:
        """Precise-mode words: the longest dictionary words, for pinyin and highlighting."""
        if not text:
            return []
        with self._lock:
            tokens = self._jieba.cut(normalize(text), True)
        return _terms_only(tokens)

    def indexed(self, text: str) -> str:
        return " ".join(self.terms(text))

    def pinyin_terms(self, text: str) -> list[str]:
        """Full pinyin and initials of every word (Latin words pass through), and the full pinyin
        of the dictionary parts of longer words, so "gang gan" finds 杠杆的分类 as 杠杆 does."""
        out: list[str] = []
        for word in self.words(text):
            full, initials = pinyin_forms(word)
            out.append(full)
            if initials != full:
                out.append(initials)
            if len(word) > 2:
                out += [pinyin_forms(part)[0] for part in self._parts(word)]
        return out

    def _parts(self, word: str) -> tuple[str, ...]:
        parts = self._parts_of.get(word)
        if parts is None:
            with self._lock:
                cut = self._jieba.cut_for_search(word, True)
            parts = tuple(p for p in cut if p != word and len(p) >= 2)
            if len(self._parts_of) < PARTS_CACHE_SIZE:  # words repeat across titles; the cache is per analyzer
                self._parts_of[word] = parts
        return parts

    def suggest_keys(self, text: str) -> list[str]:
        """Every prefix a user may type to be offered `text`: of its normalised characters, of its
        full pinyin and of its initials. Spaces are dropped, so "yi yuan" and "yiyuan" both work.
        The pinyin is put together from the words' (cached) pinyin: words repeat across titles,
        whole titles do not, and pypinyin is the costliest step of indexing otherwise."""
        with self._lock:
            tokens = self._jieba.cut(normalize(text), False)
        tokens = [t for t in tokens if not t.isspace()]
        forms = [pinyin_forms(t) for t in tokens]
        normal = "".join(tokens)
        full, initials = "".join(f for f, _ in forms), "".join(i for _, i in forms)
        keys: set[str] = set()
        for form in (normal, full, initials):
            form = form[:SUGGEST_PREFIX_CHARS]
            keys.update(form[:n] for n in range(1, len(form) + 1))
        return sorted(keys)


@lru_cache(maxsize=65536)
def pinyin_forms(text: str) -> tuple[str, str]:
    """('yiyuanercifangcheng', 'yyecfc') for 一元二次方程; Latin and digits are kept as they are."""
    normal = normalize(text)
    syllables = [s for s in lazy_pinyin(normal, errors=lambda chars: list(chars)) if s.strip()]
    full = "".join(s for s in syllables if s.isalnum())
    # Non-Han text arrives one character per "syllable", so its initial is itself.
    initials = "".join(s[0] for s in syllables if s.isalnum())
    return full, initials


def suggest_key(typed: str) -> str:
    """What a typed prefix is looked up by, normalised like `Analyzer.suggest_keys`."""
    return "".join(normalize(typed).split())[:SUGGEST_PREFIX_CHARS]


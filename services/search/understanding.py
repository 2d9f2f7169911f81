"""What a teacher's query means, beyond its words: taxonomy words turned into filters or boosts,
pinyin typed with spaces, homophone typos of taxonomy terms, and knowledge-point aliases.

It is built from the vocabulary the API sends (so it changes with the taxonomy and its aliases,
without reindexing) and is the same for both backends: it only produces terms, filters and
boosts for the `QueryPlan`.

* Grade, stage and subject words (八年级, 初二, 小学, 数学…) narrow the search to that value,
  unless the caller already filtered on it: "初二 浮力" means buoyancy lessons of grade 8.
* Kind words (课件, 教案, 习题, 优质课…) favour that kind without excluding others: a teacher
  typing "鸡兔同笼 教学设计" wants the lesson plan first, but the courseware is still relevant.
* Latin letters typed with spaces ("ji tu tong long", "jitu tonglong") are also tried joined
  across neighbouring tokens, as the index holds each word's pinyin in one piece.
* A run of Chinese characters that is not a taxonomy term but sounds like one (勾股定里 for
  勾股定理; near-homophones such as zh/z, in/ing too) adds that term, and says "did you mean".
* An alias of a knowledge point (a colloquial name, an old textbook name, a common misspelling)
  adds the point's name; so does the name of a point whose equivalent in another textbook
  edition (`same_as`) is named differently. A filter on a knowledge point covers its
  equivalents, the point's own resources first (`editions_of`, used by the engine).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from pypinyin import lazy_pinyin

from services.common.search import Vocabulary
from services.search.analysis import Analyzer, normalize

# A kind word multiplies the score of resources of that kind by 1 + KIND_BOOST: enough to put the
# lesson plan first for "… 教案" among resources matching as well, not above much better matches.
KIND_BOOST = 0.5
# A knowledge point's own edition before its equivalents in other editions.
EXACT_EDITION_BOOST = 1.0
# Longest run of query tokens joined into one pinyin term, and of Chinese tokens checked as a
# homophone of a taxonomy term.
MAX_PINYIN_SPAN = 8
MAX_HOMOPHONE_SPAN = 4
MIN_HOMOPHONE_CHARS = 2

# Words teachers use for kinds of resources (api.md kinds), beyond the kind names themselves.
KIND_WORDS = {
    "课件": "courseware", "ppt": "courseware", "幻灯片": "courseware",
    "教案": "lesson_plan", "教学设计": "lesson_plan", "学案": "lesson_plan", "导学案": "lesson_plan",
    "习题": "exercise", "练习": "exercise", "练习题": "exercise", "试题": "exercise", "试卷": "exercise",
    "作业": "exercise", "测试题": "exercise", "练习课": "exercise",
    "微课": "micro_lesson", "微视频": "micro_lesson",
    "课堂实录": "lesson_recording", "实录": "lesson_recording", "录像课": "lesson_recording",
    "课堂录像": "lesson_recording",
    "优质课": "excellent_lesson", "优课": "excellent_lesson", "一师一优课": "excellent_lesson",
    "精品课": "excellent_lesson", "公开课": "excellent_lesson", "示范课": "excellent_lesson",
}
# Everyday names of grades and subjects besides the vocabulary's own (which are added too).
GRADE_WORDS = {"初一": "g7", "初二": "g8", "初三": "g9", "七年级": "g7", "八年级": "g8", "九年级": "g9",
               "高一": "g10", "高二": "g11", "高三": "g12"}
SUBJECT_WORDS = {"生物": "biology", "道法": "morality_law", "思品": "morality_law", "政治": "politics",
                 "体育": "pe", "思政": "politics"}
STAGE_WORDS = {"小学": "primary", "初中": "junior", "高中": "senior"}

_LATIN = re.compile(r"^[a-z]+$")
_HAN = re.compile(r"^[\u4e00-\u9fff]+$")
# Near-homophones: sounds many speakers (and pinyin typists) do not tell apart.
_FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("l", "n"))
_FUZZY_FINALS = (("ing", "in"), ("eng", "en"), ("ang", "an"))


def fuzzy_pinyin(syllables: tuple[str, ...]) -> str:
    out = []
    for syllable in syllables:
        for sound, like in _FUZZY_INITIALS:
            if syllable.startswith(sound):
                syllable = like + syllable[len(sound):]
                break
        for sound, like in _FUZZY_FINALS:
            if syllable.endswith(sound):
                syllable = syllable[: -len(sound)] + like
                break
        out.append(syllable)
    return "".join(out)


@lru_cache(maxsize=65536)
def syllables_of(word: str) -> tuple[str, ...]:
    return tuple(s for s in lazy_pinyin(word) if s.isalnum())


@dataclass(frozen=True)
class Understood:
    """The query as the backends should run it."""
    terms: tuple[str, ...]                          # analysed terms, extras included
    filters: dict[str, str] = field(default_factory=dict)   # recognised: request parameter -> value
    boosts: tuple[tuple[str, str, float], ...] = ()         # (keyword field, value, weight)
    did_you_mean: str | None = None


class QueryUnderstanding:
    """Built once per vocabulary (the engine swaps it with the analyzer)."""

    def __init__(self, vocabulary: Vocabulary, analyzer: Analyzer) -> None:
        self.analyzer = analyzer
        grades = {normalize(g.name): g.code for g in vocabulary.grades}
        known_grades = set(grades.values())
        grades |= {word: code for word, code in GRADE_WORDS.items() if code in known_grades}
        subjects = {normalize(s.name): s.code for s in vocabulary.subjects}
        known_subjects = set(subjects.values())
        subjects |= {word: code for word, code in SUBJECT_WORDS.items() if code in known_subjects}
        stages = {normalize(s.name): s.code for s in vocabulary.stages}
        # Word -> (request parameter, value). Longer words win where they overlap (课堂实录 over 实录).
        self.facet_words: dict[str, tuple[str, str]] = {
            **{w: ("kind", k) for w, k in KIND_WORDS.items()},
            **{w: ("stage", c) for w, c in (stages | {w: c for w, c in STAGE_WORDS.items()
                                                      if c in set(stages.values())}).items()},
            **{w: ("subject", c) for w, c in subjects.items()},
            **{w: ("grade", c) for w, c in grades.items()},
        }
        self._longest_facet_word = max((len(w) for w in self.facet_words), default=0)
        # Terms a homophone may stand for: knowledge points, chapters; keyed by pinyin.
        self.terms_by_pinyin: dict[str, str] = {}
        self.terms_by_fuzzy: dict[str, str] = {}
        known: set[str] = set()
        for name in [*(kp.name for kp in vocabulary.knowledge_points), *(c.name for c in vocabulary.chapters)]:
            word = "".join(normalize(name).split())
            if len(word) < MIN_HOMOPHONE_CHARS or not _HAN.match(word):
                continue
            known.add(word)
            syllables = syllables_of(word)
            self.terms_by_pinyin.setdefault("".join(syllables), word)
            self.terms_by_fuzzy.setdefault(fuzzy_pinyin(syllables), word)
        self.known_terms = frozenset(known)
        # Editions: each knowledge point's group of equivalents (same_as links, either way, chained).
        self._edition_group = _edition_groups(vocabulary)
        names = {kp.id: kp.name for kp in vocabulary.knowledge_points}
        # A point's name -> (its id, the names of its equivalents when they differ): a query by one
        # name finds the others, the named point's resources first.
        self.equivalent_names: dict[str, tuple[str, list[str]]] = {}
        for kp in vocabulary.knowledge_points:
            others = sorted({names[i] for i in self._edition_group.get(kp.id, ()) if names[i] != kp.name})
            if others:
                self.equivalent_names.setdefault("".join(normalize(kp.name).split()), (kp.id, others))
        # Aliases: normalised alias -> the knowledge point's name.
        self.aliases: dict[str, str] = {}
        for kp in vocabulary.knowledge_points:
            for alias in kp.aliases:
                self.aliases.setdefault("".join(normalize(alias).split()), kp.name)
        self._longest_alias = max((len(a) for a in self.aliases), default=0)

    def understand(self, q: str, *, already_filtered: set[str]) -> Understood:
        normal = normalize(q)
        filters: dict[str, str] = {}
        boosts: list[tuple[str, str, float]] = []
        compact = "".join(normal.split())
        extra = [term for alias, name in self.aliases.items() if alias in compact for term in self.analyzer.terms(name)]
        for name, (point, others) in self.equivalent_names.items():
            if name in compact:
                # The whole name only (one term, as the index holds a taxonomy name): its parts would
                # outweigh the words the teacher typed.
                extra += ["".join(normalize(other).split()) for other in others]
                boosts.append(("kp_ancestry", point, EXACT_EDITION_BOOST))
        text = self._take_facet_words(normal, filters, boosts, already_filtered)
        terms = self.analyzer.terms_of_normal(text)
        extra += self._joined_pinyin(terms)
        corrections = self._homophones(text)
        for term in corrections.values():
            extra += self.analyzer.terms_of_normal(term)
        did_you_mean = None
        if corrections:
            did_you_mean = normal
            for typed, term in corrections.items():
                did_you_mean = did_you_mean.replace(typed, term)
        return Understood(terms=tuple(dict.fromkeys([*terms, *extra])), filters=filters, boosts=tuple(boosts),
                          did_you_mean=did_you_mean)

    def editions_of(self, knowledge_point_id: str) -> tuple[str, ...]:
        """The point and its equivalents in other editions, the point first."""
        group = self._edition_group.get(knowledge_point_id, ())
        return (knowledge_point_id, *sorted(i for i in group if i != knowledge_point_id))

    def _take_facet_words(self, normal: str, filters: dict[str, str], boosts: list[tuple[str, str, float]],
                          already_filtered: set[str]) -> str:
        """Finds facet words among the query's words (whole words only: 物理 in 物理变化 is not
        the subject) and removes those it turns into filters; kind words stay as text too."""
        words = self.analyzer.words(normal)
        kept = []
        i = 0
        while i < len(words):
            match = None
            # Up to three neighbouring words may make one facet word (八 年级, 课堂 实录).
            for span in (3, 2, 1):
                candidate = "".join(words[i:i + span])
                if i + span <= len(words) and candidate in self.facet_words:
                    match = (span, candidate)
                    break
            if match is None:
                kept.append(words[i])
                i += 1
                continue
            span, word = match
            parameter, value = self.facet_words[word]
            i += span
            if parameter == "kind":
                boosts.append(("kind", value, KIND_BOOST))
                kept.append(word)  # the word may be in titles too (《…》教学设计)
            elif parameter not in already_filtered and parameter not in filters:
                filters[parameter] = value
            else:
                kept.append(word)
        if not filters:
            return normal
        return " ".join(kept)

    def _joined_pinyin(self, terms: list[str]) -> list[str]:
        """Neighbouring Latin tokens joined: "ji tu tong long" also as "jitutonglong" and its
        sub-runs, which is how the index holds a word's pinyin (and its initials: "g g d l")."""
        out: list[str] = []
        run: list[str] = []
        for term in [*terms, ""]:
            if term and _LATIN.match(term):
                run.append(term)
                continue
            for start in range(len(run)):
                for end in range(start + 2, min(len(run), start + MAX_PINYIN_SPAN) + 1):
                    out.append("".join(run[start:end]))
            run = []
        return out

    def _homophones(self, text: str) -> dict[str, str]:
        """Runs of Chinese words that sound like a taxonomy term of the same length but are not
        one: typed run -> the term."""
        words = self.analyzer.words(text)
        found: dict[str, str] = {}
        i = 0
        while i < len(words):
            step = 1
            for span in range(min(MAX_HOMOPHONE_SPAN, len(words) - i), 0, -1):
                typed = "".join(words[i:i + span])
                if len(typed) < MIN_HOMOPHONE_CHARS or not _HAN.match(typed):
                    continue
                if typed in self.known_terms:
                    step = span  # spelled right
                    break
                syllables = syllables_of(typed)
                term = self.terms_by_pinyin.get("".join(syllables)) or self.terms_by_fuzzy.get(fuzzy_pinyin(syllables))
                if term and len(term) == len(typed):
                    found[typed] = term
                    step = span
                    break
            i += step
        return found


def _edition_groups(vocabulary: Vocabulary) -> dict[str, frozenset[str]]:
    """Knowledge points joined by `same_as` (in either direction, chained), by id."""
    parent = {kp.id: kp.id for kp in vocabulary.knowledge_points}

    def root(point: str) -> str:
        while parent[point] != point:
            parent[point] = parent[parent[point]]
            point = parent[point]
        return point

    for kp in vocabulary.knowledge_points:
        if kp.same_as and kp.same_as in parent:
            parent[root(kp.id)] = root(kp.same_as)
    groups: dict[str, set[str]] = {}
    for point in parent:
        groups.setdefault(root(point), set()).add(point)
    return {point: frozenset(group) for group in groups.values() if len(group) > 1 for point in group}

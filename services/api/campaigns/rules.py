"""Quota rules a level's promotions must keep, checked all together before anything changes.

A rule is a small JSON object stored on the level:
- {"rule": "max_share", "share": 0.3, "per": ["stage_code"]}: per group, at most `share` of the
  packages competing at the level (rounded down) may be promoted. 县级：每学段推荐不超过报送数的 30 %.
- {"rule": "max_per", "limit": 1, "per": ["grade_code", "edition_code", "subject_code", "knowledge_point"]}:
  at most `limit` promoted packages share the same values of `per` (no two for the same lesson;
  ["teacher_id"]: one per teacher).
- {"rule": "min_participation", "share": 0.3}: a package is promoted only if at least `share` of its
  school's teachers posted a package to the campaign.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

GROUP_FIELDS = frozenset({"stage_code", "grade_code", "subject_code", "edition_code", "knowledge_point",
                          "teacher_id", "school_id", "district_id", "category"})


@dataclass(frozen=True, slots=True)
class PackageFacts:
    package_id: str
    teacher_id: str
    school_id: str
    district_id: str
    category: str
    stage_code: str | None
    grade_code: str | None
    subject_code: str | None
    edition_code: str | None
    knowledge_point: str | None


@dataclass(frozen=True, slots=True)
class Violation:
    rule: str
    group: dict[str, Any]
    allowed: int | float
    found: int | float
    package_ids: list[str]


def validate(rules: Sequence[dict[str, Any]]) -> str | None:
    """The reason a rule set is unusable, or None."""
    for rule in rules:
        kind = rule.get("rule")
        if kind not in ("max_share", "max_per", "min_participation"):
            return f"unknown quota rule {kind!r}"
        if kind in ("max_share", "min_participation") and not 0 < float(rule.get("share", 0)) <= 1:
            return f"{kind}: share must be in (0, 1]"
        if kind == "max_per" and int(rule.get("limit", 0)) < 1:
            return "max_per: limit must be at least 1"
        if not set(rule.get("per", [])) <= GROUP_FIELDS:
            return f"{kind}: per may name only {sorted(GROUP_FIELDS)}"
    return None


def describe(rule: dict[str, Any]) -> str:
    per = "/".join(rule.get("per", [])) or "level"
    if rule["rule"] == "max_share":
        return f"max_share: at most {rule['share']:.0%} of the competing packages per {per}"
    if rule["rule"] == "max_per":
        return f"max_per: at most {rule['limit']} per {per}"
    return f"min_participation: at least {rule['share']:.0%} of a school's teachers posted"


def _key(facts: PackageFacts, per: Sequence[str]) -> tuple[Any, ...]:
    return tuple([getattr(facts, field) for field in per])


def check(rules: Sequence[dict[str, Any]], *, proposed: Sequence[PackageFacts], competing: Sequence[PackageFacts],
          participation: dict[str, tuple[int, int]]) -> list[Violation]:
    """Every way `proposed` breaks `rules`. `participation`: school id -> (teachers who posted, teachers)."""
    violations: list[Violation] = []
    for rule in rules:
        per = list(rule.get("per", []))
        name = describe(rule)
        if rule["rule"] == "max_share":
            pool = Counter(_key(f, per) for f in competing)
            chosen: dict[tuple[Any, ...], list[str]] = {}
            for facts in proposed:
                chosen.setdefault(_key(facts, per), []).append(facts.package_id)
            for key, ids in chosen.items():
                allowed = math.floor(rule["share"] * pool[key] + 1e-9)
                if len(ids) > allowed:
                    violations.append(Violation(rule=name, group=dict(zip(per, key)), allowed=allowed,
                                                found=len(ids), package_ids=ids))
        elif rule["rule"] == "max_per":
            chosen = {}
            for facts in proposed:
                chosen.setdefault(_key(facts, per), []).append(facts.package_id)
            for key, ids in chosen.items():
                if len(ids) > rule["limit"]:
                    violations.append(Violation(rule=name, group=dict(zip(per, key)), allowed=rule["limit"],
                                                found=len(ids), package_ids=ids))
        else:
            for school_id in sorted({f.school_id for f in proposed}):
                posted, teachers = participation.get(school_id, (0, 0))
                share = posted / teachers if teachers else 0.0
                if share + 1e-9 < rule["share"]:
                    violations.append(Violation(
                        rule=name, group={"school_id": school_id}, allowed=rule["share"], found=round(share, 4),
                        package_ids=[f.package_id for f in proposed if f.school_id == school_id]))
    return violations

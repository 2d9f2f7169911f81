"""Quota rules and the ranking's arithmetic, on their own."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from services.api.campaigns import judging, rules
from services.api.campaigns.errors import ScoreOutOfRange
from services.api.campaigns.models import Aggregation


def facts(package_id: str, *, teacher: str = "t", school: str = "s", stage: str = "junior", point: str = "kp"):
    return rules.PackageFacts(package_id=package_id, teacher_id=teacher, school_id=school, district_id="d",
                              category="lesson", stage_code=stage, grade_code="g8", subject_code="physics",
                              edition_code="pep", knowledge_point=point)


def test_a_county_recommends_at_most_30_percent_per_stage_rounded_down():
    competing = [facts(f"j{i}", teacher=f"t{i}", point=f"kp{i}") for i in range(10)] + \
                [facts(f"p{i}", stage="primary", teacher=f"u{i}", point=f"q{i}") for i in range(3)]
    rule = [{"rule": "max_share", "share": 0.3, "per": ["stage_code"]}]
    assert rules.check(rule, proposed=competing[:3] + competing[10:10], competing=competing, participation={}) == []
    broken = rules.check(rule, proposed=competing[:4] + competing[10:11], competing=competing, participation={})
    # Four of ten junior lessons (three allowed), one of three primary (0.9 rounds down to none).
    assert [(v.group, v.allowed, v.found) for v in broken] == [({"stage_code": "junior"}, 3, 4),
                                                               ({"stage_code": "primary"}, 0, 1)]
    assert broken[0].rule == "max_share: at most 30% of the competing packages per stage_code"


def test_one_per_lesson_and_one_per_teacher():
    lesson_key = ["grade_code", "edition_code", "subject_code", "knowledge_point"]
    pool = [facts("a", teacher="t1"), facts("b", teacher="t2"), facts("c", teacher="t1", point="other")]
    rule = [{"rule": "max_per", "limit": 1, "per": lesson_key}, {"rule": "max_per", "limit": 1, "per": ["teacher_id"]}]
    broken = rules.check(rule, proposed=pool, competing=pool, participation={})
    assert [(v.rule.split(":")[0], v.package_ids) for v in broken] == [("max_per", ["a", "b"]), ("max_per", ["a", "c"])]
    assert rules.check(rule, proposed=pool[1:], competing=pool, participation={}) == []


def test_a_school_below_the_participation_share_cannot_be_recommended():
    rule = [{"rule": "min_participation", "share": 0.3}]
    pool = [facts("a", school="s1"), facts("b", school="s2")]
    broken = rules.check(rule, proposed=pool, competing=pool, participation={"s1": (3, 10), "s2": (2, 10)})
    assert [v.group for v in broken] == [{"school_id": "s2"}]


def test_rule_sets_are_validated():
    assert rules.validate([{"rule": "max_share", "share": 0.3, "per": ["stage_code"]}]) is None
    assert "unknown" in rules.validate([{"rule": "most"}])
    assert "per may name" in rules.validate([{"rule": "max_per", "limit": 1, "per": ["password"]}])


RUBRIC = [{"code": "a", "name": "设计", "weight": 3, "min": 0, "max": 10},
          {"code": "b", "name": "实施", "weight": 1, "min": 0, "max": 5}]


def test_a_score_sheet_is_weighted_onto_100_and_checked_against_the_range():
    assert judging.weighted_total(RUBRIC, {"a": 10, "b": 0}) == (75.0, 10.0)
    with pytest.raises(ScoreOutOfRange):
        judging.weighted_total(RUBRIC, {"a": 10, "b": 6})


@pytest.mark.parametrize(("how", "expected"), [(Aggregation.mean, 62.0), (Aggregation.trimmed_mean, 60.0),
                                               (Aggregation.median, 60.0)])
def test_aggregation(how, expected):
    assert judging.aggregate([40, 60, 60, 60, 90], how) == expected


def test_ties_are_broken_by_the_first_criterion_then_the_earlier_submission():
    t0 = datetime(2026, 5, 1, tzinfo=timezone.utc)
    sheets = [("late", 80, 9), ("early", 80, 9), ("first", 80, 10), ("top", 90, 1), ("same", 80, 9)]
    ranked = judging.rank(sheets, how=Aggregation.mean,
                          submitted_at={"late": t0 + timedelta(days=2), "early": t0, "first": t0, "top": t0,
                                        "same": t0 + timedelta(days=2)})
    assert [(r.package_id, r.rank) for r in ranked] == [("top", 1), ("first", 2), ("early", 3), ("late", 4),
                                                        ("same", 4)]

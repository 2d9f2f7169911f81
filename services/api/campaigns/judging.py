"""Scoring and ranking: a judge's weighted total, the aggregate of a package's judges (mean,
trimmed mean or median, per campaign), and the ranking with its stated tie-break.

Tie-break (stated on every ranking): the higher aggregate score first; then the higher aggregate
of the rubric's first criterion; then the earlier submission; then the package id.
"""
from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.api.campaigns.errors import ScoreOutOfRange, ScoresIncomplete
from services.api.campaigns.models import Aggregation

TIE_BREAK = ("higher aggregate score; then higher aggregate score on the rubric's first criterion; "
             "then earlier submission; then package id")


def weighted_total(rubric: Sequence[dict[str, Any]], scores: dict[str, float]) -> tuple[float, float]:
    """Checks a score sheet against the rubric; returns the weighted total (on a 0-100 scale) and the
    first criterion's score. Every criterion must be scored within its range."""
    missing = [c["code"] for c in rubric if c["code"] not in scores]
    if missing:
        raise ScoresIncomplete(missing=", ".join(missing))
    total = weight_sum = 0.0
    for criterion in rubric:
        score = scores[criterion["code"]]
        low, high = criterion["min"], criterion["max"]
        if not low <= score <= high:
            raise ScoreOutOfRange(criterion=criterion["name"], min=low, max=high)
        total += criterion["weight"] * (score - low) / (high - low)
        weight_sum += criterion["weight"]
    return round(100 * total / weight_sum, 4), float(scores[rubric[0]["code"]])


def aggregate(values: Sequence[float], how: Aggregation) -> float:
    if how is Aggregation.median:
        return float(statistics.median(values))
    if how is Aggregation.trimmed_mean and len(values) >= 3:
        ordered = sorted(values)
        return sum(ordered[1:-1]) / (len(ordered) - 2)
    return sum(values) / len(values)


@dataclass(frozen=True, slots=True)
class Ranked:
    package_id: str
    rank: int
    score: float
    first_criterion: float
    judges: int
    submitted_at: datetime | None


def rank(sheets: Iterable[tuple[str, float, float]], *, how: Aggregation,
         submitted_at: dict[str, datetime | None]) -> list[Ranked]:
    """Ranks packages from their score sheets (package id, total, first criterion). Equal keys
    (the whole tie-break but the id) share a rank; the next rank skips (1, 2, 2, 4)."""
    groups: dict[str, tuple[list[float], list[float]]] = {}
    for package_id, total, first in sheets:
        group = groups.get(package_id)
        if group is None:
            groups[package_id] = group = ([], [])
        group[0].append(total)
        group[1].append(first)
    never = float("inf")  # not submitted (cannot happen for a judged package): last among equals
    keyed = []
    for package_id, (totals, firsts) in groups.items():
        at = submitted_at.get(package_id)
        keyed.append((-round(aggregate(totals, how), 4), -round(aggregate(firsts, how), 4),
                      at.timestamp() if at is not None else never, package_id, len(totals), at))
    keyed.sort()
    ranked: list[Ranked] = []
    previous = None
    for position, (neg_score, neg_first, stamp, package_id, judges, at) in enumerate(keyed, start=1):
        key = (neg_score, neg_first, stamp)
        place = ranked[-1].rank if key == previous else position
        previous = key
        ranked.append(Ranked(package_id=package_id, rank=place, score=-neg_score, first_criterion=-neg_first,
                             judges=judges, submitted_at=at))
    return ranked

"""Semesters as the district counts them: `2026-fall` runs from 1 September 2026 to 1 February
2027, `2027-spring` from 1 February 2027 to 1 September 2027, each boundary at midnight in the
district's time zone (China Standard Time), end excluded."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from services.api.stats.errors import UnknownSemester

# The district's calendar. Timestamps are stored in UTC; a resource published at 07:00 on
# 1 September Beijing time (23:00 UTC the day before) belongs to the fall semester.
DISTRICT_TIME_ZONE = ZoneInfo("Asia/Shanghai")
_CODE = re.compile(r"(?P<year>\d{4})-(?P<term>fall|spring)")
FIRST_YEAR, LAST_YEAR = 2000, 2100  # outside these a code is surely a typo


@dataclass(frozen=True, slots=True)
class Semester:
    code: str
    starts_at: datetime  # inclusive, UTC
    ends_at: datetime    # exclusive, UTC


def _midnight(year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=DISTRICT_TIME_ZONE).astimezone(UTC)


def semester(code: str) -> Semester:
    match = _CODE.fullmatch(code.strip().lower())
    if match is None or not FIRST_YEAR <= int(match["year"]) <= LAST_YEAR:
        raise UnknownSemester(value=code)
    year = int(match["year"])
    if match["term"] == "fall":
        return Semester(code=f"{year}-fall", starts_at=_midnight(year, 9), ends_at=_midnight(year + 1, 2))
    return Semester(code=f"{year}-spring", starts_at=_midnight(year, 2), ends_at=_midnight(year, 9))


def semester_at(moment: datetime) -> Semester:
    """The semester a moment falls in."""
    local = moment.astimezone(DISTRICT_TIME_ZONE)
    if local.month >= 9:
        return semester(f"{local.year}-fall")
    if local.month >= 2:
        return semester(f"{local.year}-spring")
    return semester(f"{local.year - 1}-fall")

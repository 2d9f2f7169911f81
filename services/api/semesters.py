"""School semesters as stable codes: `2026-fall` runs 2026-09-01..2027-02-01 and `2027-spring`
2027-02-01..2027-09-01 (start inclusive, end exclusive, midnight school time), so every day of
the year belongs to exactly one semester. Self-contained: any domain may use it."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.common.problems import DomainError

# Semesters begin at midnight in the schools' own time (as timetables are).
SCHOOL_TIME = ZoneInfo("Asia/Shanghai")
_CODE = re.compile(r"^(\d{4})-(fall|spring)$")


class UnknownSemester(DomainError):
    status = 422
    code = "semester.unknown"
    title = {"zh-CN": "学期代码无效", "en": "Unknown semester"}
    detail = {"zh-CN": "学期“{semester}”无效，应形如 2026-fall（秋季）或 2027-spring（春季）",
              "en": "Semester '{semester}' is not valid; use e.g. 2026-fall or 2027-spring"}

    def __init__(self, *, semester: str, loc: list[str | int] | None = None) -> None:
        super().__init__(errors=[{"loc": loc or ["query", "semester"], "msg": "expected YYYY-fall or YYYY-spring"}],
                         semester=semester[:40])


@dataclass(frozen=True, order=True)
class Semester:
    starts_at: datetime  # aware, school time
    ends_at: datetime    # exclusive
    code: str

    def contains(self, moment: datetime) -> bool:
        return self.starts_at <= moment < self.ends_at

    def elapsed_fraction(self, moment: datetime) -> float:
        """How much of the semester has passed at `moment`: 0 before it, 1 after it."""
        if moment <= self.starts_at:
            return 0.0
        if moment >= self.ends_at:
            return 1.0
        return (moment - self.starts_at) / (self.ends_at - self.starts_at)

    @property
    def label(self) -> str:
        year, season = self.code.split("-")
        return f"{year}年秋季学期" if season == "fall" else f"{year}年春季学期"


def parse(code: str, *, loc: list[str | int] | None = None) -> Semester:
    """`2026-fall`, `2027-Spring`, ` 2026-FALL `: one semester, named by its canonical code."""
    match = _CODE.match((code or "").strip().lower())
    if not match or not 2000 <= int(match.group(1)) <= 2100:
        raise UnknownSemester(semester=code or "", loc=loc)
    year, season = int(match.group(1)), match.group(2)
    code = f"{year}-{season}"
    if season == "fall":
        return Semester(code=code, starts_at=datetime(year, 9, 1, tzinfo=SCHOOL_TIME),
                        ends_at=datetime(year + 1, 2, 1, tzinfo=SCHOOL_TIME))
    return Semester(code=code, starts_at=datetime(year, 2, 1, tzinfo=SCHOOL_TIME),
                    ends_at=datetime(year, 9, 1, tzinfo=SCHOOL_TIME))


def of(moment: datetime) -> Semester:
    """The semester `moment` (aware) falls in."""
    local = moment.astimezone(SCHOOL_TIME)
    if local.month >= 9:
        return parse(f"{local.year}-fall")
    if local.month == 1:
        return parse(f"{local.year - 1}-fall")
    return parse(f"{local.year}-spring")


def following(semester: Semester) -> Semester:
    return of(semester.ends_at + timedelta(hours=1))

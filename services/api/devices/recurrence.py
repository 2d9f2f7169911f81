"""The recurrence rules a timetable needs (RFC 5545 RRULE, FREQ=WEEKLY or DAILY), expanded within
bounds that hold for any input.

dateutil expanded whatever rule it was given, in full: FREQ=SECONDLY made 12 million lessons, and
a rule no day can satisfy (BYMONTH=2;BYMONTHDAY=30) ran 4–30 s of CPU looking for one until the
year 9999, whatever UNTIL said (measured). Here the work is proportional to the lessons produced:
candidate days are computed, not searched for, and expansion stops at the horizon or one past
the caller's limit.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

WEEKDAYS = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}
SUPPORTED_PARTS = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "WKST"}


class UnsupportedRule(ValueError):
    """A rule this timetable does not take (its message says which part)."""


def occurrences(rule: Mapping[str, list[Any]], *, start: datetime, horizon: timedelta, limit: int) -> list[datetime]:
    """The starts of `rule`'s lessons from `start` (included when it matches) to `start + horizon`,
    in order: at most `limit + 1`, so the caller can tell that there were more than `limit`."""
    unknown = set(rule) - SUPPORTED_PARTS
    if unknown:
        raise UnsupportedRule(f"RRULE {','.join(sorted(unknown))} is not supported (FREQ=WEEKLY or DAILY, "
                              "INTERVAL, COUNT, UNTIL, BYDAY)")
    freq = _one(rule, "FREQ", str).upper()
    if freq not in ("WEEKLY", "DAILY"):
        raise UnsupportedRule(f"RRULE FREQ={freq} is not supported: a timetable repeats weekly or daily")
    interval = _one(rule, "INTERVAL", int, default=1)
    count = _one(rule, "COUNT", int, default=None)
    if interval < 1 or (count is not None and count < 1):
        raise UnsupportedRule("RRULE INTERVAL and COUNT must be positive")
    # Without BYDAY a weekly rule repeats on DTSTART's weekday, a daily one on every day.
    weekdays = _weekdays(rule.get("BYDAY"), default={start.weekday()} if freq == "WEEKLY" else set(range(7)))
    week_start = WEEKDAYS.get(_one(rule, "WKST", str, default="MO").upper())
    if week_start is None:
        raise UnsupportedRule("RRULE WKST is not a weekday")
    end = start + horizon
    until = _until(rule, start)
    if until is not None:
        end = min(end, until)
    found: list[datetime] = []
    for day in _days(freq, start=start, interval=interval, weekdays=weekdays, week_start=week_start, end=end):
        if day < start:
            continue
        if day > end or (count is not None and len(found) == count) or len(found) > limit:
            break
        found.append(day)
    return found


def _days(freq: str, *, start: datetime, interval: int, weekdays: set[int], week_start: int,
          end: datetime) -> Iterator[datetime]:
    """Candidate lesson starts in order, at `start`'s wall-clock time, up to the first past `end`.
    Adding days to an aware datetime keeps its wall-clock time, as a timetable does across a
    change of UTC offset."""
    if freq == "DAILY":
        step = 0
        while (day := start + timedelta(days=step)) <= end:
            if day.weekday() in weekdays:
                yield day
            step += interval
        yield day
        return
    first_week = start - timedelta(days=(start.weekday() - week_start) % 7)
    offsets = sorted((weekday - week_start) % 7 for weekday in weekdays)
    week = 0
    while first_week + timedelta(weeks=week) <= end:
        for offset in offsets:
            yield first_week + timedelta(weeks=week, days=offset)
        week += interval
    yield first_week + timedelta(weeks=week)


def _weekdays(values: list[Any] | None, *, default: set[int]) -> set[int]:
    if not values:
        return default
    days = set()
    for value in values:
        day = WEEKDAYS.get(str(value).upper())
        if day is None:  # "1MO", "-1FR": a monthly idea
            raise UnsupportedRule(f"RRULE BYDAY={value} is not supported: name plain weekdays (MO, TU, ...)")
        days.add(day)
    return days


def _until(rule: Mapping[str, list[Any]], start: datetime) -> datetime | None:
    until = _one(rule, "UNTIL", object, default=None)
    if until is None:
        return None
    if isinstance(until, datetime):
        return until if until.tzinfo else until.replace(tzinfo=start.tzinfo)
    if isinstance(until, date):
        return datetime.combine(until, time.max, tzinfo=start.tzinfo)
    raise UnsupportedRule("RRULE UNTIL is not a date")


def _one(rule: Mapping[str, list[Any]], part: str, kind: type, default: Any = ...) -> Any:
    values = rule.get(part)
    if not values:
        if default is ...:
            raise UnsupportedRule(f"RRULE needs {part}")
        return default
    if len(values) != 1:
        raise UnsupportedRule(f"RRULE {part} takes one value")
    value = values[0]
    if kind is int and not isinstance(value, int):
        raise UnsupportedRule(f"RRULE {part} is not a number")
    return str(value) if kind is str else value

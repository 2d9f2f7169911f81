"""Timetables cannot be made to cost what they like (issue 17): who may change the device is
checked before the body is read, and recurrences expand within bounds."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import anyio
import httpx
import pytest
from dateutil.rrule import rrulestr
from icalendar import vRecur

from services.api.devices import recurrence
from services.api.devices.schemas import MAX_SLOTS
from services.api.devices.service import RECURRENCE_HORIZON
from tests.api.devices.test_recordings import ICS_WITH_CLASS, register, school  # noqa: F401 - fixture
from tests.helpers import assert_problem

SHANGHAI = ZoneInfo("Asia/Shanghai")


def calendar(*rules: str) -> bytes:
    events = "".join(
        "BEGIN:VEVENT\r\n"
        f"UID:lesson-{index}@school\r\nDTSTART;TZID=Asia/Shanghai:20260907T080000\r\n"
        f"DTEND;TZID=Asia/Shanghai:20260907T084000\r\nRRULE:{rule}\r\n"
        "X-LB-TEACHER:zhang.laoshi\r\nX-LB-SUBJECT:math\r\nX-LB-GRADE:g3\r\nX-LB-CLASS:三年级二班\r\nEND:VEVENT\r\n"
        for index, rule in enumerate(rules))
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//LessonBridge test//EN\r\n{events}END:VCALENDAR\r\n".encode()


def put_calendar(client, factory, user, device_id, body: bytes):
    return client.put(f"/api/v1/devices/{device_id}/schedule", content=body,
                      headers={**factory.headers(user), "Content-Type": "text/calendar"})


def test_permission_is_checked_before_the_body_is_read(app, client, factory, school):  # noqa: F811
    _, people = school
    device_id, _ = register(client, factory, people["admin"])
    pulled = []

    async def body():
        pulled.append(True)
        yield calendar("FREQ=WEEKLY;COUNT=16")

    async def send(user):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
            return await http.put(f"/api/v1/devices/{device_id}/schedule", content=body(),
                                  headers={**factory.headers(user), "Content-Type": "text/calendar"})

    for outsider in (people["teacher"], people["other_school_admin"]):
        assert_problem(anyio.run(send, outsider), 403, "auth.forbidden")
    assert pulled == []  # not one byte of the calendar was read for them
    # A refusal of the body (unreadable iCalendar) is for those who may change the device only.
    assert_problem(put_calendar(client, factory, people["teacher"], device_id, b"BEGIN:VCALENDAR\r\nnonsense"),
                   403, "auth.forbidden")
    assert anyio.run(send, people["admin"]).status_code == 200
    assert pulled == [True]


def test_a_timetable_expanding_past_the_lesson_limit_is_refused(client, factory, school):  # noqa: F811
    _, people = school
    device_id, _ = register(client, factory, people["admin"])
    # 41 daily rules of 141 lessons each: 5,781. Before, each rule kept up to 500 and all were stored.
    too_many = put_calendar(client, factory, people["admin"], device_id, calendar(*["FREQ=DAILY"] * 41))
    body = assert_problem(too_many, 422, "device.schedule_too_large")
    assert str(MAX_SLOTS) in body["detail"]
    kept = client.get(f"/api/v1/devices/{device_id}/schedule", headers=factory.headers(people["admin"]))
    assert kept.json()["slots"] == []
    # Just under the limit is fine: 35 daily rules, 4,935 lessons.
    fits = put_calendar(client, factory, people["admin"], device_id, calendar(*["FREQ=DAILY"] * 35))
    assert fits.status_code == 200, fits.text
    assert len(fits.json()["slots"]) == 35 * (RECURRENCE_HORIZON.days + 1)


@pytest.mark.parametrize("rule", [
    "FREQ=SECONDLY",                          # 12 million lessons in 140 days
    "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",     # no such day: dateutil searched until 9999 (18 s)
    "FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=30",  # the same, minute by minute (31 s)
    "FREQ=WEEKLY;BYDAY=-1FR",
])
def test_rules_a_timetable_has_no_use_for_are_refused(client, factory, school, rule):  # noqa: F811
    _, people = school
    device_id, _ = register(client, factory, people["admin"])
    body = assert_problem(put_calendar(client, factory, people["admin"], device_id, calendar(rule)),
                          422, "device.invalid_schedule")
    assert "not supported" in body["errors"][0]["msg"]


START = datetime(2026, 9, 7, 8, 0, tzinfo=SHANGHAI)  # a Monday


@pytest.mark.parametrize("rule", [
    "FREQ=WEEKLY", "FREQ=WEEKLY;COUNT=16", "FREQ=WEEKLY;BYDAY=MO,WE,FR", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH",
    "FREQ=WEEKLY;BYDAY=SU,SA;WKST=SU;INTERVAL=3", "FREQ=WEEKLY;UNTIL=20261031T000000Z", "FREQ=DAILY",
    "FREQ=DAILY;INTERVAL=3;BYDAY=MO,TU,WE,TH,FR", "FREQ=DAILY;UNTIL=20260920T000000Z", "FREQ=DAILY;COUNT=40", "FREQ=WEEKLY;UNTIL=20260101T000000Z",
])
def test_expansion_agrees_with_dateutil_on_the_rules_it_takes(rule):
    expected = list(rrulestr(rule, dtstart=START).between(START - timedelta(seconds=1), START + RECURRENCE_HORIZON,
                                                         inc=True))
    assert recurrence.occurrences(vRecur.from_ical(rule), start=START, horizon=RECURRENCE_HORIZON,
                                  limit=MAX_SLOTS) == expected


def test_expansion_stops_one_past_the_limit():
    found = recurrence.occurrences(vRecur.from_ical("FREQ=DAILY"), start=START, horizon=RECURRENCE_HORIZON, limit=10)
    assert len(found) == 11

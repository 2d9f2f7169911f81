"""Behind an edge cache a lesson's segments cross the school's link once, however many classrooms
watch it: the start rung shares the link among the lessons being watched, not the classrooms."""
from __future__ import annotations

import pytest
from sqlalchemy import update

from services.api.orgs.models import School
from tests.api.playback.test_start_rung import first_listed, make_lesson, start


@pytest.fixture
def lesson(app, factory, session):
    made = make_lesson(app.state.blob_store, factory, session, classrooms=10)
    session.execute(update(School).where(School.id == made["school_id"]).values(edge_url="http://edge.school.lan"))
    factory.commit()
    return made


def test_ten_classrooms_of_one_lesson_behind_an_edge_each_start_as_one_would(client, lesson):
    played = [start(client, lesson, headers) for headers in lesson["teachers"]]
    assert all(body["hls_url"].startswith("http://edge.school.lan/api/v1/play/") for body in played)
    assert [body["renditions"][0]["height"] for body in played] == [480] * 10  # as one classroom alone
    assert [first_listed(client, body["hls_url"]) for body in played] == [980_000] * 10


def test_without_the_edge_the_same_ten_share_the_link(client, lesson, session):
    session.execute(update(School).where(School.id == lesson["school_id"]).values(edge_url=None))
    session.commit()
    played = [start(client, lesson, headers) for headers in lesson["teachers"]]
    assert [first_listed(client, body["hls_url"]) for body in played] == [180_000] * 10

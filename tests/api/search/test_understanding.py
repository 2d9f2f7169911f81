"""Query understanding through the API: the taxonomy's aliases reach the search service with
the vocabulary, and what the query's own words meant comes back with the answer."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from services.api.search.documents import build_vocabulary
from services.api.taxonomy.models import KnowledgePoint
from tests.api.search.test_search import app, people, publish, search, search_service  # noqa: F401

pytestmark = pytest.mark.filterwarnings("ignore:You should not use the 'timeout' argument with the TestClient")


def test_aliases_grade_words_and_typos_through_the_api(client, app, factory, people, session):  # noqa: F811
    pigeonhole = session.scalars(select(KnowledgePoint).where(
        KnowledgePoint.code == "math.p.prac.guangjiao.pigeonhole")).one()
    vocabulary = build_vocabulary(session)
    sent = next(kp for kp in vocabulary.knowledge_points if kp.id == pigeonhole.id)
    assert "抽屉原理" in sent.aliases

    lesson = publish(client, factory, people["a"], people["moderator"], title="数学广角 鸽巢问题", grade="g6",
                     knowledge_point_ids=[pigeonhole.id])
    other = publish(client, factory, people["a"], people["moderator"], title="鸽巢问题 拓展", grade="g5")
    app.state.search_relay.run_once()

    by_alias = search(client, factory, people["a"], q="抽屉原理")
    assert by_alias["hits"][0]["id"] == lesson
    narrowed = search(client, factory, people["a"], q="六年级 鸽巢问题")
    assert narrowed["understood"] == {"grade": "g6"}
    assert [h["id"] for h in narrowed["hits"]] == [lesson]
    typo = search(client, factory, people["a"], q="鸽巢问提")
    assert typo["did_you_mean"] == "鸽巢问题"
    assert {h["id"] for h in typo["hits"]} == {lesson, other}

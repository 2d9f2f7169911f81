"""The queue's order and pages (issue 16): resources in review and published resources' pending
revisions are one queue, oldest first by when each began to wait, ties by id, however the page
is cut; and the first page is read through the partial index of resources in review."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, update

from services.api.auth.principal import Principal
from services.api.moderation import service
from services.api.orgs.models import Role
from services.api.pagination import PageParams
from services.api.resources.models import Resource, ResourceRevision
from services.common.db import utcnow

RESOURCES, QUEUE = "/api/v1/resources", "/api/v1/moderation/queue"


@pytest.fixture
def people(factory):
    people = {"owner": factory.user(), "moderator": factory.user(roles=(Role.moderator,))}
    factory.commit()
    return {name: (user, factory.headers(user)) for name, user in people.items()}


def created(client, people, title):
    response = client.post(RESOURCES, json={"title": title, "kind": "courseware"}, headers=people["owner"][1])
    assert response.status_code == 201, response.text
    return response.json()["id"]


def submitted(client, people, title):
    resource_id = created(client, people, title)
    response = client.post(f"{RESOURCES}/{resource_id}/submit", headers=people["owner"][1])
    assert response.status_code == 200, response.text
    return resource_id


def revised(client, people, title):
    """A published resource with a pending revision."""
    resource_id = submitted(client, people, title)
    approved = client.post(f"/api/v1/moderation/resources/{resource_id}/decision", json={"action": "approve"},
                           headers=people["moderator"][1])
    assert approved.status_code == 200, approved.text
    edit = client.patch(f"{RESOURCES}/{resource_id}", json={"title": f"{title}（修订）"}, headers=people["owner"][1])
    assert edit.status_code == 200, edit.text
    return resource_id


def page(client, people, number, size):
    response = client.get(QUEUE, params={"page": number, "size": size}, headers=people["moderator"][1])
    assert response.status_code == 200, response.text
    return response.json()


def test_in_review_and_revisions_are_one_queue_oldest_first_ties_by_id_on_every_page(client, session, people):
    in_review = [submitted(client, people, f"审核{i}") for i in range(5)]
    with_revision = [revised(client, people, f"修订{i}") for i in range(4)]
    created(client, people, "草稿")  # a draft waits for nobody
    # Waiting since: interleaved between the two kinds, with ties inside a kind and across kinds.
    base = utcnow() - timedelta(days=3)
    since = {in_review[0]: base + timedelta(hours=5), in_review[1]: base + timedelta(hours=1),
             in_review[2]: base + timedelta(hours=3), in_review[3]: base + timedelta(hours=3),
             in_review[4]: base + timedelta(hours=7),
             with_revision[0]: base + timedelta(hours=3), with_revision[1]: base,
             with_revision[2]: base + timedelta(hours=6), with_revision[3]: base + timedelta(hours=1)}
    for resource_id in in_review:
        session.execute(update(Resource).where(Resource.id == resource_id).values(updated_at=since[resource_id]))
    for resource_id in with_revision:
        session.execute(update(ResourceRevision).where(ResourceRevision.resource_id == resource_id)
                        .values(created_at=since[resource_id]))
    session.commit()
    expected = sorted(since, key=lambda resource_id: (since[resource_id], resource_id))

    whole = page(client, people, 1, 100)
    assert whole["total"] == 9
    assert [item["id"] for item in whole["items"]] == expected
    assert [item["revision"] is not None for item in whole["items"]] == [r in with_revision for r in expected]
    for size in (1, 2, 4):
        pages = [page(client, people, number, size) for number in range(1, 9 // size + 2)]
        assert {p["total"] for p in pages} == {9}
        assert [item["id"] for p in pages for item in p["items"]] == expected
    assert page(client, people, 4, 4) == {"total": 9, "page": 4, "size": 4, "items": []}


def test_a_resource_in_review_with_a_pending_revision_waits_since_the_revision_unless_the_caller_wrote_it(
        client, session, people):
    """Not made by the API today, but the queue has always read it so: kept as it was."""
    first, second, third = (submitted(client, people, title) for title in ("一", "二", "三"))
    base = utcnow() - timedelta(days=2)
    for hours, resource_id in enumerate((first, second, third)):
        session.execute(update(Resource).where(Resource.id == resource_id).values(updated_at=base + timedelta(hours=hours)))
    owner, moderator = people["owner"][0], people["moderator"][0]
    session.add_all([ResourceRevision(resource_id=first, author_id=owner.id, proposed={}, changes=[], base_version=1,
                                      created_at=base + timedelta(hours=9)),
                     ResourceRevision(resource_id=second, author_id=moderator.id, proposed={}, changes=[],
                                      base_version=1, created_at=base + timedelta(hours=8))])
    session.commit()
    whole = page(client, people, 1, 100)
    assert whole["total"] == 2
    assert [(item["id"], item["revision"] is not None) for item in whole["items"]] == [(third, False), (first, True)]
    assert [item["id"] for number in (1, 2, 3) for item in page(client, people, number, 1)["items"]] == [third, first]


def _statements(session, call):
    seen = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    bind = session.connection()
    event.listen(bind, "before_cursor_execute", capture)
    try:
        call()
    finally:
        event.remove(bind, "before_cursor_execute", capture)
    return seen


def test_the_first_page_reads_resources_in_review_through_their_partial_index(session, people, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("a plan over a handful of rows: PostgreSQL rightly scans them (its plan is in the benchmark)")
    moderator = people["moderator"][0]
    actor = Principal(user_id=moderator.id, roles=frozenset({Role.moderator}), school_id=None,
                      district_id=moderator.district_id)
    statements = _statements(session, lambda: service.queue_page(session, actor=actor,
                                                                 paging=PageParams(page=1, size=20)))
    plans = {statement: " | ".join(row[-1] for row in session.connection().exec_driver_sql(
        "EXPLAIN QUERY PLAN " + statement, parameters)) for statement, parameters in statements
        if "FROM resources" in statement}
    assert plans
    for statement, plan in plans.items():
        in_review = "'pending_review'" in statement
        # Resources in review: found in the queue's order through the partial index, never by
        # walking the table; the count reads the index alone.
        assert not in_review or "ix_resources_review_queue" in plan, plan
        assert not re.search(r"SCAN resources(?! USING)", plan), plan
    [count] = [plan for statement, plan in plans.items() if "count(" in statement]
    assert "COVERING INDEX ix_resources_review_queue" in count, count

"""Search through the API: the outbox written with every change, the relay into the real search
service (its app in-process, tantivy in a temp dir), visibility of hits and facet counts,
suggest, coverage, and the reindex and reconcile operations."""
from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.api.app import create_app
from services.api.orgs.models import Role
from services.api.search import maintenance
from services.api.search.client import SearchClient
from services.api.search.models import SearchOutbox
from services.search.app import create_app as create_search_app
from tests.conftest import SECRET, make_settings
from tests.helpers import assert_problem

# The search service is reached through a TestClient here, which dislikes per-request timeouts
# (the bulk calls of reindex and reconcile set longer ones).
pytestmark = pytest.mark.filterwarnings("ignore:You should not use the 'timeout' argument with the TestClient")


@pytest.fixture
def search_service(tmp_path):
    with TestClient(create_search_app(make_settings(tmp_path / "search", "sqlite://")),
                    base_url="http://search") as client:
        yield client


@pytest.fixture
def app(settings, sessions, search_service):  # type: ignore[no-untyped-def]
    app = create_app(settings, search_http=search_service)
    app.state.sessionmaker = sessions
    return app


@pytest.fixture
def people(factory):
    school_a, school_b, school_c = factory.school(name="城关一中"), factory.school(name="河西中学"), factory.school(name="石桥村小学")
    factory.pairing(school_a, school_c)
    people = {"a": factory.user(school=school_a), "b": factory.user(school=school_b), "c": factory.user(school=school_c),
              "moderator": factory.user(roles=(Role.moderator,)), "schools": (school_a, school_b, school_c)}
    factory.commit()
    return people


def outbox(session, resource_id):
    return [v for (v,) in session.execute(select(SearchOutbox.version).where(SearchOutbox.resource_id == resource_id)
                                          .order_by(SearchOutbox.id))]


def publish(client, factory, owner, moderator, **fields) -> str:
    body = {"kind": "courseware", "subject": "math", "stage": "primary", **fields}
    created = client.post("/api/v1/resources", json=body, headers=factory.headers(owner))
    assert created.status_code == 201, created.text
    resource_id = created.json()["id"]
    assert client.post(f"/api/v1/resources/{resource_id}/submit", headers=factory.headers(owner)).status_code == 200
    approved = client.post(f"/api/v1/moderation/resources/{resource_id}/decision", json={"action": "approve"},
                           headers=factory.headers(moderator))
    assert approved.json()["status"] == "published"
    return resource_id


def search(client, factory, user, **params):
    response = client.get("/api/v1/search", params=params, headers=factory.headers(user))
    assert response.status_code == 200, response.text
    return response.json()


def test_every_change_writes_an_outbox_row_in_its_own_transaction(client, factory, people, session):
    a, moderator = people["a"], people["moderator"]
    resource_id = publish(client, factory, a, moderator, title="数一数")
    # created (1), submitted (2), approved (3)
    assert outbox(session, resource_id) == [1, 2, 3]
    # Narrowing applies at once (a widening would wait for review: tests/api/moderation/test_revisions.py).
    client.patch(f"/api/v1/resources/{resource_id}", json={"visibility": "private"}, headers=factory.headers(a))
    client.post(f"/api/v1/moderation/resources/{resource_id}/decision",
                json={"action": "take_down", "reason_code": "other"}, headers=factory.headers(moderator))
    assert outbox(session, resource_id) == [1, 2, 3, 4, 5]
    assert client.delete(f"/api/v1/resources/{resource_id}", headers=factory.headers(a)).status_code == 204
    assert outbox(session, resource_id) == [1, 2, 3, 4, 5, 6]


def test_a_change_rolled_back_leaves_no_outbox_row(factory, people, sessions):
    from services.api.resources.models import License, Resource, ResourceKind, Visibility
    a = people["a"]
    with sessions() as session:
        session.add(Resource(title="作废", kind=ResourceKind.other, visibility=Visibility.school, license=License.cc_by,
                             owner_id=a.id, school_id=a.school_id, district_id=a.district_id))
        session.flush()
        assert session.scalar(select(SearchOutbox.id).order_by(SearchOutbox.id.desc()).limit(1)) is not None
        session.rollback()
        assert session.scalars(select(SearchOutbox)).all() == []


def test_published_resources_reach_the_index_and_visibility_holds_for_hits_and_facets(client, app, factory, people):
    a, b, c, moderator = people["a"], people["b"], people["c"], people["moderator"]
    ids = {visibility: publish(client, factory, a, moderator, title=f"认识图形 {visibility}", visibility=visibility,
                               subject="physics" if visibility == "private" else "math")
           for visibility in ("private", "school", "paired", "district", "public")}
    assert app.state.search_relay.run_once()["delivered"] >= 5
    assert app.state.search_relay.backlog() == 0

    def found(user, **params):
        body = search(client, factory, user, q="认识图形", **params)
        return {h["id"] for h in body["hits"]}, body

    hits_b, body_b = found(b)
    assert hits_b == {ids["district"], ids["public"]}
    assert body_b["total"] == 2
    # The only physics resource is private to its owner: no facet may count it for others.
    assert [f["value"] for f in body_b["facets"]["subject"]] == ["math"]
    assert sum(f["count"] for f in body_b["facets"]["subject"]) == 2
    assert found(c)[0] == {ids["paired"], ids["district"], ids["public"]}
    assert found(a)[0] == set(ids.values())
    assert found(moderator)[0] == set(ids.values())
    assert found(b, subject="physics")[0] == set()


def test_taken_down_and_deleted_resources_leave_the_index(client, app, factory, people):
    a, b, moderator = people["a"], people["b"], people["moderator"]
    gone = publish(client, factory, a, moderator, title="数一数 第一课", visibility="public")
    deleted = publish(client, factory, a, moderator, title="数一数 第二课", visibility="public")
    kept = publish(client, factory, a, moderator, title="数一数 第三课", visibility="public")
    app.state.search_relay.run_once()
    assert search(client, factory, b, q="数一数")["total"] == 3
    client.post(f"/api/v1/moderation/resources/{gone}/decision", json={"action": "take_down", "reason_code": "other"},
                headers=factory.headers(moderator))
    client.delete(f"/api/v1/resources/{deleted}", headers=factory.headers(a))
    app.state.search_relay.run_once()
    assert [h["id"] for h in search(client, factory, b, q="数一数")["hits"]] == [kept]


def test_rows_wait_while_the_search_service_is_down_and_arrive_after(client, app, factory, people, settings):
    a, b, moderator = people["a"], people["b"], people["moderator"]
    working = app.state.search_relay.client
    app.state.search_relay.client = SearchClient("http://127.0.0.1:9", secret=SECRET)  # nothing listens there
    resource_id = publish(client, factory, a, moderator, title="比多少", visibility="district")
    assert app.state.search_relay.run_once() == {"delivered": 0, "stale": 0}
    assert app.state.search_relay.backlog() == 3
    app.state.search_relay.client = working
    app.state.search_relay.run_once()
    assert app.state.search_relay.backlog() == 0
    assert [h["id"] for h in search(client, factory, b, q="比多少")["hits"]] == [resource_id]


def test_search_unavailable_is_a_problem_not_a_crash(client, app, factory, people):
    app.state.search_client = SearchClient("http://127.0.0.1:9", secret=SECRET)  # nothing listens there
    response = client.get("/api/v1/search", params={"q": "数"}, headers=factory.headers(people["b"]))
    assert_problem(response, 503, "search.unavailable")
    assert response.headers["retry-after"] == "10"  # a client knows when to ask again


def test_bad_parameters_come_back_as_the_search_services_problems(client, factory, people):
    headers = factory.headers(people["b"])
    assert_problem(client.get("/api/v1/search", params={"size": 0}, headers=headers), 422, "request.validation_failed")
    assert_problem(client.get("/api/v1/search", params={"cursor": "!!"}, headers=headers), 400, "search.invalid_cursor")
    assert_problem(client.get("/api/v1/search", params={"facets": "colour"}, headers=headers), 400,
                   "search.unknown_facet")
    assert client.get("/api/v1/search").status_code == 401


def test_suggest_from_pinyin_initials_of_a_knowledge_point_and_a_title(client, app, factory, people):
    a, b, moderator = people["a"], people["b"], people["moderator"]
    point = factory.knowledge_point("math.p.num.int.compare")  # 比多少
    resource_id = publish(client, factory, a, moderator, title="比多少（第一课时）", visibility="public",
                          knowledge_point_ids=[point.id])
    app.state.search_relay.run_once()
    suggestions = client.get("/api/v1/search/suggest", params={"q": "bds"}, headers=factory.headers(b)).json()
    assert ("knowledge_point", point.id) in {(s["kind"], s["id"]) for s in suggestions["suggestions"]}
    assert ("title", resource_id) in {(s["kind"], s["id"]) for s in suggestions["suggestions"]}
    # A knowledge point's ancestors find it too: 整数的认识 is its parent.
    parent = factory.knowledge_point("math.p.num.int")
    body = search(client, factory, b, knowledge_point=parent.id)
    assert [h["id"] for h in body["hits"]] == [resource_id]
    assert body["hits"][0]["knowledge_points"] == [{"id": point.id, "name": "比多少"}]


def test_coverage_counts_points_and_their_descendants(client, factory, people):
    a, moderator = people["a"], people["moderator"]
    count, compare = factory.knowledge_point("math.p.num.int.count"), factory.knowledge_point("math.p.num.int.compare")
    publish(client, factory, a, moderator, title="数一数", knowledge_point_ids=[count.id])
    publish(client, factory, a, moderator, title="数一数 比多少", knowledge_point_ids=[count.id, compare.id])
    unpublished = client.post("/api/v1/resources", json={"title": "草稿", "kind": "courseware",
                                                         "knowledge_point_ids": [compare.id]},
                              headers=factory.headers(a))
    assert unpublished.status_code == 201
    report = client.get("/api/v1/statistics/coverage", params={"subject": "math", "stage": "primary"},
                        headers=factory.headers(moderator)).json()
    by_code = {p["code"]: p["count"] for p in report["points"]}
    assert by_code["math.p.num.int.count"] == 2
    assert by_code["math.p.num.int.compare"] == 1
    assert by_code["math.p.num.int"] == 2 and by_code["math.p"] == 2  # one resource counts once per ancestor
    assert by_code["math.p.num.neg"] == 0
    assert report["points_covered"] == 5  # math.p, math.p.num, math.p.num.int and the two leaves
    assert report["coverage"] == round(5 / report["points_total"], 4)
    # The same figures as CSV for a spreadsheet (UTF-8 with BOM), headings in the reader's language.
    exported = client.get("/api/v1/statistics/coverage", params={"subject": "math", "stage": "primary", "format": "csv"},
                          headers={**factory.headers(moderator), "Accept-Language": "en"})
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("text/csv")
    assert 'filename="coverage-math-primary.csv"' in exported.headers["content-disposition"]
    assert exported.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert {row["code"]: int(row["published_resources"]) for row in rows} == by_code
    assert {row["subject"] for row in rows} == {"math"} and sum(int(row["covered"]) for row in rows) == 5
    assert_problem(client.get("/api/v1/statistics/coverage", params={"subject": "math", "stage": "primary",
                                                                     "format": "xls"},
                              headers=factory.headers(moderator)), 422, "request.validation_failed")
    assert_problem(client.get("/api/v1/statistics/coverage", params={"subject": "math", "stage": "primary",
                                                                     "format": "csv"},
                              headers=factory.headers(a)), 403, "statistics.forbidden")
    assert_problem(client.get("/api/v1/statistics/coverage", params={"subject": "math", "stage": "primary"},
                              headers=factory.headers(a)), 403, "statistics.forbidden")
    assert_problem(client.get("/api/v1/statistics/coverage", params={"subject": "nope", "stage": "primary"},
                              headers=factory.headers(moderator)), 422, "request.validation_failed")


def test_reconcile_finds_and_repairs_drift_and_reindex_rebuilds(client, app, factory, people, sessions):
    a, b, moderator = people["a"], people["b"], people["moderator"]
    ids = [publish(client, factory, a, moderator, title=f"数一数 {n}", visibility="public") for n in range(3)]
    app.state.search_relay.run_once()
    search_client, store = app.state.search_client, app.state.blob_store
    # Drift: a take-down whose outbox row is lost (as if written by a tool that bypassed the API).
    client.post(f"/api/v1/moderation/resources/{ids[0]}/decision", json={"action": "take_down", "reason_code": "other"},
                headers=factory.headers(moderator))
    with sessions() as session:
        session.query(SearchOutbox).delete()
        session.commit()
    with sessions() as session:
        drift = maintenance.reconcile(session, client=search_client, store=store, repair=False)
    assert (drift.missing, drift.stale_live) == ([], [ids[0]])
    with sessions() as session:
        assert maintenance.reconcile(session, client=search_client, store=store, repair=True).repaired == 1
    with sessions() as session:
        assert maintenance.reconcile(session, client=search_client, store=store, repair=False).total == 0
    assert {h["id"] for h in search(client, factory, b, q="数一数")["hits"]} == set(ids[1:])
    with sessions() as session:
        assert maintenance.reindex(session, client=search_client, store=store) >= 3
    assert {h["id"] for h in search(client, factory, b, q="数一数")["hits"]} == set(ids[1:])


def test_the_janitor_backs_off_while_the_search_service_is_down(client, app, factory, people, monkeypatch):
    a, moderator = people["a"], people["moderator"]
    relay = app.state.search_relay
    working = relay.client
    relay.client = SearchClient("http://127.0.0.1:9", secret=SECRET)  # nothing listens there
    publish(client, factory, a, moderator, title="认识钟表", visibility="district")
    now = [1000.0]
    monkeypatch.setattr("services.api.search.relay.time.monotonic", lambda: now[0])
    relay.tick()
    relay.client = working
    relay.tick()  # within the first second's backoff: no round, the rows wait
    assert relay.backlog() == 3
    now[0] += 1.1
    relay.tick()
    assert relay.backlog() == 0

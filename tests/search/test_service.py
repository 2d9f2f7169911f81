"""The search service over HTTP: who may call what, bad input answered with problem details,
and state that survives a restart. Backend behaviour is the contract suite's
(tests/contract/test_search_backends.py)."""
from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient

from services.common.keys import derive_keys
from services.common.search import PRINCIPAL_HEADER, IndexBatch, SearchPrincipal, sign_principal
from services.search.app import create_app
from tests.conftest import SECRET, make_settings
from tests.contract.test_search_backends import CORPUS, VOCABULARY

SEARCH_KEY = derive_keys(SECRET).search_principal
TEACHER = SearchPrincipal(user_id="u-b", district_id="d-1", school_id="s-b")


# Signed when used: a principal lives 60 s, less than collecting a whole test session may take.
def as_teacher() -> dict[str, str]:
    return {PRINCIPAL_HEADER: sign_principal(TEACHER, secret=SEARCH_KEY)}


def as_api() -> dict[str, str]:
    return {PRINCIPAL_HEADER: sign_principal(None, secret=SEARCH_KEY)}


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path, "sqlite://")


@pytest.fixture
def client(settings):
    with TestClient(create_app(settings)) as client:
        assert client.put("/internal/vocabulary", json=VOCABULARY.model_dump(), headers=as_api()).status_code == 200
        batch = IndexBatch(documents=CORPUS).model_dump(mode="json")
        assert client.post("/internal/documents", json=batch, headers=as_api()).json() == {"applied": 6, "stale": 0}
        yield client


def test_search_answers_the_api_contract_shape(client):
    body = client.get("/search", params={"q": "一元二次方程 配方法", "size": 2}, headers=as_teacher()).json()
    assert body["total"] >= 3 and len(body["hits"]) == 2 and body["next_cursor"]
    hit = body["hits"][0]
    assert {"id", "title", "kind", "subject", "grade", "knowledge_points", "school", "highlight", "score"} <= hit.keys()
    assert set(body["facets"]) == {"subject", "stage", "grade", "edition", "kind", "knowledge_point"}
    chosen = client.get("/search", params={"q": "方程", "facets": "school,duration"}, headers=as_teacher()).json()
    assert set(chosen["facets"]) == {"school", "duration"}
    assert client.get("/search", params={"facets": ""}, headers=as_teacher()).json()["facets"] == {}
    following = client.get("/search", params={"q": "一元二次方程 配方法", "size": 2, "cursor": body["next_cursor"]},
                           headers=as_teacher()).json()
    assert {h["id"] for h in following["hits"]}.isdisjoint(h["id"] for h in body["hits"])


@pytest.mark.parametrize(("who", "path"), [
    ("nobody", "/search"),
    ("garbage", "/search"),
    ("foreign", "/search"),
    ("api", "/search"),            # the API's own token names nobody: it may not search
    ("api", "/suggest"),
    ("teacher", "/internal/state"),  # a user's principal may not reach the indexing routes
    ("nobody", "/internal/versions"),
])
def test_callers_without_the_right_principal_are_refused(client, who, path):
    headers = {"nobody": dict, "garbage": lambda: {PRINCIPAL_HEADER: "not-a-token"}, "api": as_api,
               "teacher": as_teacher,
               "foreign": lambda: {PRINCIPAL_HEADER: sign_principal(TEACHER, secret="another-secret-long-enough-0000000")},
               }[who]()
    response = client.get(path, headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "search.invalid_principal"


def test_an_expired_principal_is_refused(client):
    expired = sign_principal(TEACHER, secret=SEARCH_KEY, ttl_s=-1)
    assert client.get("/search", headers={PRINCIPAL_HEADER: expired}).json()["code"] == "search.invalid_principal"


@pytest.mark.parametrize(("params", "status", "code"), [
    ({"size": 0}, 422, "request.validation_failed"),
    ({"size": 51}, 422, "request.validation_failed"),
    ({"page": 0}, 422, "request.validation_failed"),
    ({"sort": "random"}, 422, "request.validation_failed"),
    ({"q": "字" * 201}, 422, "request.validation_failed"),
    ({"page": 1000, "size": 50}, 400, "search.page_too_deep"),
    ({"cursor": "%%%"}, 400, "search.invalid_cursor"),
    ({"facets": "subject,colour"}, 400, "search.unknown_facet"),
    ({"cursor": base64.urlsafe_b64encode(b'{"offset": -5}').decode()}, 400, "search.invalid_cursor"),
    ({"cursor": base64.urlsafe_b64encode(b"[1, 2]").decode()}, 400, "search.invalid_cursor"),
])
def test_bad_search_parameters_get_problem_details(client, params, status, code):
    response = client.get("/search", params=params, headers=as_teacher())
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code


def test_a_bad_document_batch_is_refused_whole_and_the_index_is_unchanged(client):
    before = client.get("/internal/versions", headers=as_api()).json()
    bad = {"documents": [CORPUS[0].model_copy(update={"version": 9}).model_dump(mode="json"),
                         {"id": "x", "version": 0, "live": True}]}
    response = client.post("/internal/documents", json=bad, headers=as_api())
    assert response.status_code == 422 and response.json()["code"] == "request.validation_failed"
    assert client.get("/internal/versions", headers=as_api()).json() == before


def test_suggest_limits_and_empty_input(client):
    assert client.get("/suggest", params={"q": " "}, headers=as_teacher()).json() == {"suggestions": []}
    assert len(client.get("/suggest", params={"q": "y", "limit": 2}, headers=as_teacher()).json()["suggestions"]) <= 2
    assert client.get("/suggest", params={"q": "y", "limit": 500}, headers=as_teacher()).status_code == 422


def test_unknown_rebuild_steps_are_refused(client):
    response = client.post("/internal/rebuild/explode", headers=as_api())
    assert response.status_code == 422


def test_index_and_vocabulary_survive_a_restart(settings, client):
    client.__exit__(None, None, None)  # shuts the app down: the index writer lets go of its lock
    with TestClient(create_app(settings)) as again:
        state = again.get("/internal/state", headers=as_api()).json()
        assert state == {"backend": "tantivy", "live_documents": 6, "vocabulary_revision": VOCABULARY.revision}
        hit = again.get("/search", params={"q": "勾股定理"}, headers=as_teacher()).json()["hits"][0]
        assert hit["school"]["name"] == "城关一中"
        assert again.get("/readyz").status_code == 200

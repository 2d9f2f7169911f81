"""Every wrong request gets a problem detail with a stable code, in the caller's language."""
from __future__ import annotations

from sqlalchemy import func, select

from services.api.orgs.models import Role, School
from services.common import http
from tests.helpers import assert_problem


def test_malformed_json_is_a_400_problem(client, factory):
    user = factory.user()
    factory.commit()
    response = client.post("/api/v1/resources", content=b'{"title": "x", "kind": ',
                           headers={**factory.headers(user), "Content-Type": "application/json"})
    assert_problem(response, 400, "request.malformed_body")


def test_messages_follow_accept_language(client, factory):
    user = factory.user()
    factory.commit()
    headers = factory.headers(user)
    chinese = client.get("/api/v1/resources/nothing", headers=headers).json()
    assert chinese["title"] == "资源不存在"
    english = client.get("/api/v1/resources/nothing", headers={**headers, "Accept-Language": "en-US,en;q=0.9"}).json()
    assert english["title"] == "Resource not found" and english["code"] == chinese["code"]
    preferred = client.get("/api/v1/resources/nothing",
                           headers={**headers, "Accept-Language": "fr;q=1, en;q=0.5, zh;q=0.1"}).json()
    assert preferred["title"] == "Resource not found"
    validation = client.post("/api/v1/resources", json={"kind": "courseware"}, headers=headers).json()
    assert validation["errors"] == [{"loc": ["body", "title"], "msg": "缺少必填字段", "type": "missing"}]
    validation_en = client.post("/api/v1/resources", json={"kind": "courseware"},
                                headers={**headers, "Accept-Language": "en"}).json()
    assert validation_en["errors"] == [{"loc": ["body", "title"], "msg": "Field required", "type": "missing"}]


def test_unknown_routes_and_methods_are_problems(client):
    assert_problem(client.get("/api/v1/no-such-thing"), 404, "request.not_found")
    assert_problem(client.put("/healthz"), 405, "request.method_not_allowed")


def test_every_response_carries_a_request_id(client):
    response = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    forged = client.get("/healthz", headers={"X-Request-ID": "evil\nline"})
    assert forged.headers["x-request-id"] != "evil\nline" and len(forged.headers["x-request-id"]) == 26


def test_metrics_count_requests_by_route_template(client, factory):
    user = factory.user()
    factory.commit()
    client.get("/api/v1/resources/abc", headers=factory.headers(user))
    metrics = client.get("/metrics").text
    assert 'route="/api/v1/resources/{resource_id}"' in metrics
    assert "lb_http_request_duration_seconds_bucket" in metrics


def test_openapi_document_is_served(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/auth/token", "/api/v1/resources/{resource_id}", "/api/v1/taxonomy/knowledge-points",
            "/api/v1/moderation/resources/{resource_id}/decision", "/api/v1/pairings"} <= set(paths)


def test_text_with_a_nul_character_is_refused_wherever_it_comes(client, factory, session):
    """PostgreSQL cannot store U+0000 (probing every route with it gave 500s there); SQLite would
    keep it. Refused on both, before any route runs, and nothing is stored."""
    admin = factory.user(roles=(Role.district_admin,))
    factory.commit()
    headers = factory.headers(admin)
    schools = session.scalar(select(func.count(School.id)))
    refused = client.post("/api/v1/schools", json={"name": "石桥\u0000小学", "kind": "rural", "bandwidth_kbps": 8000},
                          headers=headers)
    assert assert_problem(refused, 422, "request.validation_failed")["errors"][0]["loc"] == ["body"]
    assert session.scalar(select(func.count(School.id))) == schools
    query = client.get("/api/v1/resources", params={"q": "a\u0000"}, headers=headers)
    assert assert_problem(query, 422, "request.validation_failed")["errors"][0]["loc"] == ["query"]
    assert_problem(client.get("/api/v1/resources/a%00b", headers=headers), 422, "request.validation_failed")
    english = client.post("/api/v1/schools", json={"name": "\u0000"}, headers={**headers, "Accept-Language": "en"})
    assert english.json()["detail"] == "Text may not contain NUL (U+0000) characters"
    # A backslash followed by the text "u0000" is just text.
    kept = client.post("/api/v1/schools", json={"name": "石桥\\u0000小学", "kind": "rural", "bandwidth_kbps": 8000},
                       headers=headers)
    assert kept.status_code == 201, kept.text
    assert kept.json()["name"] == "石桥\\u0000小学"


def test_a_json_body_over_the_limit_is_refused_before_it_is_read_whole(client, factory, monkeypatch):
    monkeypatch.setattr(http, "JSON_BODY_LIMIT", 64 * 1024)
    user = factory.user()
    factory.commit()
    body = b'{"title": "' + b"x" * 100_000 + b'", "kind": "courseware"}'
    response = client.post("/api/v1/resources", content=body,
                           headers={**factory.headers(user), "Content-Type": "application/json"})
    assert_problem(response, 413, "request.too_large")
    assert response.headers["connection"] == "close"


def test_a_405_names_every_method_its_path_answers(client):
    # GET and POST /api/v1/resources are two routes; Allow lists both.
    response = client.delete("/api/v1/resources")
    assert_problem(response, 405, "request.method_not_allowed")
    assert response.headers["allow"] == "GET, POST"


def test_every_operation_declares_its_problems_as_problem_details(client):
    """Declared once (services.common.problems.problem_openapi), inherited by every route."""
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and {"ProblemDetails", "ProblemField"} <= set(schemas)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"400", "401", "403", "404", "405", "409", "413", "415", "422", "429", "503"} <= set(responses), path
            for status, response in responses.items():
                if status[0] in "45":
                    assert response["content"] == {"application/problem+json": {
                        "schema": {"$ref": "#/components/schemas/ProblemDetails"}}}, (method, path, status)
            assert "Allow" in responses["405"]["headers"]

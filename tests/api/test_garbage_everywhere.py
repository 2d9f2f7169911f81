"""Every route of the public API, given garbage (wrong ids, odd query values, broken and mistyped
JSON, NUL characters, huge numbers), answers with a problem detail and never with a 5xx.

The routes come from the OpenAPI document (plus the two left out of it), so a new route is probed
without touching this file. Run on SQLite and PostgreSQL: the first runs of this probe found NUL
characters giving 500s on PostgreSQL only, and a playback token with a non-ASCII character giving
500s on both."""
from __future__ import annotations

import json
import re

from sqlalchemy import select

from services.api.demo import seed_demo
from services.api.orgs.models import District, School, User
from services.api.pairing.models import Pairing
from services.api.resources.models import Asset, Resource
from services.api.taxonomy.models import KnowledgePoint

GARBAGE_IDS = ["x", "%00", "A" * 300, "a.%C3%A9"]
QUERY_VALUES = ["-1", "abc", "99999999999999999999999", "", "a\u0000", "1e309", "A" * 5000]
BODIES = [b"not json", b"{}", b"[]", b"null", b'{"a":' * 500 + b"1" + b"}" * 500, b'"text"', b"1e999",
          b'{"name": "\\u0000"}']
FIELD_VALUES = [None, 10**30, -1, "", "x" * 100_000, [], {}, True, "a\u0000b", "2026-13-45T99:99:99"]
# Routes left out of the OpenAPI document: playback links and signed blob URLs.
UNLISTED = {"/api/v1/play/{token}/{path}": {"get": {}}, "/api/v1/blobs/{key}": {"get": {}}}
# The search service does not run in these tests: its routes answer 503 search.unavailable.
UNAVAILABLE = {"/api/v1/search", "/api/v1/search/suggest"}


def _schema(reference: dict, spec: dict) -> dict:
    while "$ref" in reference:
        reference = spec["components"]["schemas"][reference["$ref"].rsplit("/", 1)[1]]
    return reference


def _mistyped_bodies(operation: dict, spec: dict) -> list[bytes]:
    """For each field of the JSON body: every other field a string, this one each wrong value."""
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if not content:
        return []
    fields = list(_schema(content["schema"], spec).get("properties", {}))
    return [json.dumps({**dict.fromkeys(fields, "x"), field: value}).encode()
            for field in fields for value in FIELD_VALUES]


def test_no_route_answers_garbage_with_a_server_error(client, factory, session):
    seed_demo(session, password="demo-password-123")
    session.commit()
    users = {user.username: user for user in session.scalars(select(User))}
    callers = [factory.headers(users[name]) for name in ("district-admin", "moderator", "teacher-urban")]
    real_ids = {
        "resource_id": session.scalars(select(Resource.id).limit(2)).all(),
        "asset_id": session.scalars(select(Asset.id).limit(2)).all(),
        "school_id": session.scalars(select(School.id).limit(2)).all(),
        "user_id": session.scalars(select(User.id).limit(2)).all(),
        "district_id": session.scalars(select(District.id).limit(1)).all(),
        "pairing_id": session.scalars(select(Pairing.id).limit(1)).all(),
        "knowledge_point_id": session.scalars(select(KnowledgePoint.id).limit(1)).all(),
    }
    spec = client.get("/openapi.json").json()
    failures, sent = [], 0
    for template, operations in {**spec["paths"], **UNLISTED}.items():
        names = re.findall(r"{(\w+)}", template)
        ids = sorted({value for name in names for value in real_ids.get(name, [])}) + GARBAGE_IDS
        for method, operation in operations.items():
            queries = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
            bodies = BODIES + _mistyped_bodies(operation, spec) if method in ("post", "put", "patch") else []
            for headers in callers:
                for value in ids if names else [None]:
                    path = template
                    for name in names:  # a real id of the param's own kind where there is one
                        own = real_ids.get(name) or []
                        path = path.replace("{" + name + "}", value if value in own or value in GARBAGE_IDS
                                            else (own or [value])[0])
                    attempts = [(None, None)] + [({q: v}, None) for q in queries for v in QUERY_VALUES]
                    attempts += [(None, body) for body in bodies]
                    for params, body in attempts:
                        sent += 1
                        response = client.request(method.upper(), path, params=params, content=body, headers={
                            **headers, "Content-Type": "application/json", "Tus-Resumable": "1.0.0"})
                        if template in UNAVAILABLE and response.status_code == 503:
                            continue
                        problem = "application/problem+json" in response.headers.get("content-type", "")
                        if response.status_code >= 500 or (response.status_code >= 400 and not problem):
                            failures.append(f"{method.upper()} {path[:80]} {params} {(body or b'')[:60]!r} "
                                            f"-> {response.status_code} {response.text[:120]}")
    assert sent > 5000  # every route was reached
    assert failures == [], "\n".join(failures[:20])

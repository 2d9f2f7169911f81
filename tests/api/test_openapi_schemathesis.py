"""The OpenAPI document tells the truth: schemathesis (the real fuzzer) drives every documented
operation of the real app, as each role, and every answer must be one the document declares —
no server error, a declared status and content type, a body matching its schema — a request
the schema allows is not refused as malformed, and one it forbids is not accepted.

It runs on SQLite only (the fuzzer's value is in the document, not the database; the PostgreSQL
leg of the garbage probe covers the database-specific 5xx) with a seeded demo district. It is slow
(a few minutes): every failure is collected, then listed at once."""
from __future__ import annotations

import os
import re
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.python import asgi as schemathesis_asgi
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, negative_data_rejection,
                                               response_schema_conformance, status_code_conformance)
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.api.app import create_app
from services.api.auth.principal import Principal
from services.api.demo import seed_demo
from services.api.devices import service as devices
from services.api.orgs.models import Role, School, User
from services.common.search import PRINCIPAL_HEADER, SearchPrincipal, sign_principal
from services.search.app import create_app as create_search_app
from tests.conftest import make_settings

pytestmark = [pytest.mark.slow,
              pytest.mark.filterwarnings("ignore:You should not use the 'timeout' argument with the TestClient")]

# Per operation, role and mode: enough to reach every declared status a schema-valid or
# schema-invalid request can draw, few enough for a busy 2-core machine.
EXAMPLES = int(os.environ.get("LB_SCHEMATHESIS_EXAMPLES", "12"))


@schemathesis.check
def schema_valid_request_passes_validation(ctx, response, case) -> bool | None:
    """schemathesis' positive_data_acceptance, minus what a schema cannot say: a schema-valid
    request may be refused by the domain (an unknown knowledge point: a declared 422 or 404),
    never by request validation (a constraint in code the document does not carry) nor as a
    malformed body."""
    if not (case.meta and case.meta.generation.mode.is_positive) or response.status_code not in (400, 422):
        return None
    problem = response.json()
    refused = [error for error in problem.get("errors") or [] if error.get("type")]
    if refused or problem.get("code") == "request.malformed_body":
        raise Failure(operation=case.operation.label, title="Schema-valid request rejected",
                      message=f"{response.status_code} {problem.get('detail')}: {refused} "
                              f"query={case.query!r} body={case.body!r}"[:600])
    return None


POSITIVE_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
                   response_schema_conformance, schema_valid_request_passes_validation]
NEGATIVE_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
                   response_schema_conformance, negative_data_rejection]
# Request validation runs before the role matters: schema-violating requests are sent as one role.
NEGATIVE_ROLE = "district admin"


@schemathesis.serializer("application/offset+octet-stream", "text/csv")
def _raw_bytes(ctx, value) -> bytes:
    """tus bytes and CSV documents: sent as they are (strings as UTF-8)."""
    if isinstance(value, bytes):
        return value
    return value.encode("utf-8", "surrogatepass") if isinstance(value, str) else str(value).encode()


@pytest.fixture
def search_service(tmp_path):
    with TestClient(create_search_app(make_settings(tmp_path / "search", "sqlite://")),
                    base_url="http://search") as client:
        yield client


@pytest.fixture
def app(settings, sessions, search_service):  # type: ignore[no-untyped-def]
    """The API with its search service in process, so /search answers rather than 503s."""
    app = create_app(settings, search_http=search_service)
    app.state.sessionmaker = sessions
    return app


def _callers(session, factory) -> dict[str, dict[str, str]]:
    seed_demo(session, password="demo-password-123")
    users = {user.username: user for user in session.scalars(select(User))}
    school = session.scalars(select(School).order_by(School.name)).first()
    school_admin = factory.user(school=school, roles=[Role.school_admin], username="school-admin")
    admin = users["district-admin"]
    _device, token = devices.register_device(
        session, actor=Principal(user_id=admin.id, roles=frozenset([Role.district_admin]),
                                 school_id=None, district_id=admin.district_id),
        school_id=school.id, classroom="三年级二班", name="录播机")
    session.commit()
    return {"teacher": factory.headers(users["teacher-urban"]), "school admin": factory.headers(school_admin),
            "moderator": factory.headers(users["moderator"]),
            "district admin": factory.headers(users["district-admin"]),
            "device": {"Authorization": f"Bearer {token}"}}


def _failures_of(error: BaseException) -> list[Failure]:
    if isinstance(error, FailureGroup):
        return [failure for inner in error.exceptions for failure in _failures_of(inner)]
    return [error] if isinstance(error, Failure) else []


def _fuzz(operation, mode, checks, role, headers, found) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def probe(case):
        try:
            case.call_and_validate(headers=headers, checks=checks)
        except (Exception, FailureGroup) as error:  # noqa: BLE001 - every failure is collected, the run goes on
            failures = _failures_of(error)
            if not failures:
                found.setdefault((operation.label, role, type(error).__name__), f"{mode}: {error!s:.300}")
            for failure in failures:
                found.setdefault((operation.label, role, failure.title), f"{mode}: {failure.message:.600}")

    try:
        probe()
    except Unsatisfiable:
        assert mode == GenerationMode.NEGATIVE, f"{operation.label}: no schema-valid request can be made"


def _fuzz_all(schema, callers: dict[str, dict[str, str]], *, negative_role: str) -> None:
    """Every operation, as every caller (schema-violating requests as one), then every failure listed."""
    # tus answers a request without `Tus-Resumable: 1.0.0` with the 412 its protocol defines.
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "412"]
    if os.environ.get("LB_SCHEMATHESIS_PATHS"):  # a regex, to look at a few operations while fixing them
        schema = schema.include(path_regex=os.environ["LB_SCHEMATHESIS_PATHS"])
    found: dict[tuple[str, str, str], str] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        for role, headers in callers.items():
            _fuzz(operation, GenerationMode.POSITIVE, POSITIVE_CHECKS, role, headers, found)
            if role == negative_role:
                _fuzz(operation, GenerationMode.NEGATIVE, NEGATIVE_CHECKS, role, headers, found)

    classes = Counter(re.sub(r"\s+", " ", title) for _, _, title in found)
    report = "\n".join(f"{label} [{role}] {title}: {message}"
                       for (label, role, title), message in sorted(found.items()))
    print(f"\nschemathesis mismatches by class: {dict(classes)}\n{report}")
    assert not found, f"{len(found)} mismatches: {dict(classes)}\n{report}"


def test_every_answer_is_one_the_document_declares(database_url, request):
    if not database_url.startswith("sqlite"):  # before the fixtures below migrate a database for nothing
        pytest.skip("the document is the same on every database; fuzzed on SQLite")
    app = request.getfixturevalue("app")
    callers = _callers(request.getfixturevalue("session"), request.getfixturevalue("factory"))
    _fuzz_all(schemathesis.openapi.from_asgi("/openapi.json", app), callers, negative_role=NEGATIVE_ROLE)


def test_the_search_services_answers_are_ones_its_document_declares(tmp_path):
    """The search service's own document (it installs the same problem handlers), as the API
    calls it: signed as the API itself (indexing) and on behalf of a teacher (searching).
    schemathesis runs the app's lifespan (opening its index) and ends it here."""
    search_app = create_search_app(make_settings(tmp_path / "search", "sqlite://"))
    request_shutdown = schemathesis_asgi.shutdown_lifespans
    secret = search_app.state.settings.secret_key
    teacher = SearchPrincipal(user_id="01TEACHER", district_id="01DISTRICT", school_id="01SCHOOL")
    callers = {"the API": {PRINCIPAL_HEADER: sign_principal(None, secret=secret, ttl_s=3600)},
               "a teacher": {PRINCIPAL_HEADER: sign_principal(teacher, secret=secret, ttl_s=3600)}}
    try:
        _fuzz_all(schemathesis.openapi.from_asgi("/openapi.json", search_app), callers, negative_role="the API")
    finally:
        request_shutdown()

"""SPDX license ids match without regard to case: every spelling is accepted, and the canonical
one is stored and answered (rows written before migration 0014 too)."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.api.resources.test_resources import RESOURCES, create, world  # noqa: F401 - fixture
from tests.helpers import assert_problem


@pytest.mark.parametrize(("given", "answered"), [
    ("CC-BY-4.0", "CC-BY-4.0"), ("cc-by-nc-sa-4.0", "CC-BY-NC-SA-4.0"), ("Cc0-1.0", "CC0-1.0"),
    ("SCHOOL-ONLY", "school-only"),
])
def test_any_case_is_accepted_and_the_canonical_spelling_answered(client, world, given, answered):
    resource_id = create(client, world["owner"], title="许可", license=given)
    assert client.get(f"{RESOURCES}/{resource_id}", headers=world["owner"]).json()["license"] == answered
    changed = client.patch(f"{RESOURCES}/{resource_id}", headers=world["owner"], json={"license": given.lower()})
    assert changed.status_code == 200 and changed.json()["license"] == answered


def test_an_unknown_license_is_refused(client, world):
    response = client.post(RESOURCES, headers=world["owner"], json={"title": "x", "kind": "other", "license": "MIT"})
    assert_problem(response, 422, "request.validation_failed")


def test_rows_stored_lower_case_read_canonical(client, world, session):
    resource_id = create(client, world["owner"], title="旧数据", license="CC-BY-SA-4.0")
    session.execute(text("UPDATE resources SET license = 'cc-by-sa-4.0' WHERE id = :id"), {"id": resource_id})
    session.commit()
    assert client.get(f"{RESOURCES}/{resource_id}", headers=world["owner"]).json()["license"] == "CC-BY-SA-4.0"

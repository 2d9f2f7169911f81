"""A school's edge_url: set by its administrators (or the district's) through the school update
route, an http(s) URL or nothing."""
from __future__ import annotations

import pytest

from services.api.orgs.models import Role
from tests.helpers import assert_problem


def test_school_and_district_admins_set_and_clear_a_schools_edge(client, factory):
    school = factory.school()
    school_admin = factory.user(school=school, roles=(Role.school_admin,))
    district_admin = factory.user(roles=(Role.district_admin,))
    teacher = factory.user(school=school)
    factory.commit()
    url = f"/api/v1/schools/{school.id}"
    set_ = client.patch(url, json={"edge_url": "http://edge.school.lan:8080/"}, headers=factory.headers(school_admin))
    assert set_.status_code == 200, set_.text
    assert set_.json()["edge_url"] == "http://edge.school.lan:8080"
    assert client.get(url, headers=factory.headers(teacher)).json()["edge_url"] == "http://edge.school.lan:8080"
    # Other fields leave it alone; "" (or null) takes it away.
    assert client.patch(url, json={"bandwidth_kbps": 4000}, headers=factory.headers(district_admin)).json()[
        "edge_url"] == "http://edge.school.lan:8080"
    cleared = client.patch(url, json={"edge_url": ""}, headers=factory.headers(district_admin))
    assert cleared.status_code == 200 and cleared.json()["edge_url"] is None
    assert_problem(client.patch(url, json={"edge_url": "http://x.lan"}, headers=factory.headers(teacher)),
                   403, "auth.forbidden")


@pytest.mark.parametrize("bad", ["edge.school.lan", "ftp://edge.school.lan", "http://", "http://edge.lan/?a=1",
                                 "http://user:pw@edge.lan", "javascript:alert(1)", "http://edge.lan:99999",
                                 "http://edge .lan", "http://" + "a" * 260 + ".lan"])
def test_an_edge_url_must_be_an_http_url(client, factory, bad):
    admin = factory.user(roles=(Role.district_admin,))
    school = factory.school()
    factory.commit()
    response = client.patch(f"/api/v1/schools/{school.id}", json={"edge_url": bad}, headers=factory.headers(admin))
    assert_problem(response, 422, "request.validation_failed")

"""The resource catalogue: creating, reading, changing and deleting records, and who sees them."""
from __future__ import annotations

import pytest

from services.api.orgs.models import Role
from tests.helpers import assert_problem

RESOURCES = "/api/v1/resources"


@pytest.fixture
def world(factory):
    """An urban school paired with a rural one, and a third school paired with neither."""
    urban, rural, unpaired = factory.school(), factory.school(), factory.school()
    factory.pairing(urban, rural)
    people = {
        "owner": factory.user(school=urban),
        "colleague": factory.user(school=urban),
        "rural": factory.user(school=rural),
        "unpaired": factory.user(school=unpaired),
        "school_admin": factory.user(school=urban, roles=(Role.school_admin,)),
        "moderator": factory.user(roles=(Role.moderator,)),
        "district_admin": factory.user(roles=(Role.district_admin,)),
        "elsewhere": factory.user(school=factory.school(district=factory.district())),
    }
    factory.commit()
    return {name: factory.headers(user) for name, user in people.items()}


def create(client, headers, **fields):
    body = {"title": "一元一次方程 课件", "kind": "courseware", **fields}
    response = client.post(RESOURCES, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def publish(client, world, resource_id):
    assert client.post(f"{RESOURCES}/{resource_id}/submit", headers=world["owner"]).status_code == 200
    decision = client.post(f"/api/v1/moderation/resources/{resource_id}/decision", json={"action": "approve"},
                           headers=world["moderator"])
    assert decision.status_code == 200, decision.text


def test_create_with_taxonomy_and_read_it_back(client, factory, world):
    point = factory.knowledge_point("math.p.num.addsub.carry20")
    resource_id = create(client, world["owner"], title="20以内进位加法 课件", subject="math", stage="primary",
                         grade="g1", edition="pep", volume="pep-math-g1a", knowledge_point_ids=[point.id],
                         tags=["凑十法", "凑十法", "一年级"], visibility="paired", license="cc-by-4.0",
                         description="第八单元")
    body = client.get(f"{RESOURCES}/{resource_id}", headers=world["owner"]).json()
    assert body["status"] == "draft" and body["progress"] == 0 and body["assets"] == []
    assert (body["subject"], body["stage"], body["grade"], body["edition"], body["volume"]) == (
        "math", "primary", "g1", "pep", "pep-math-g1a")
    assert body["knowledge_points"] == [{"id": point.id, "code": point.code, "name": "20以内的进位加法",
                                         "path": point.path}]
    assert body["tags"] == ["凑十法", "一年级"]
    assert body["owner"]["real_name"] and body["school"]["name"]
    assert body["visibility"] == "paired" and body["license"] == "CC-BY-4.0"  # SPDX ids answer in canonical case


@pytest.mark.parametrize(("visibility", "sees"), [
    ("private", {"owner", "school_admin", "moderator", "district_admin"}),
    ("school", {"owner", "colleague", "school_admin", "moderator", "district_admin"}),
    ("paired", {"owner", "colleague", "rural", "school_admin", "moderator", "district_admin"}),
    ("district", {"owner", "colleague", "rural", "unpaired", "school_admin", "moderator", "district_admin"}),
    ("public", {"owner", "colleague", "rural", "unpaired", "school_admin", "moderator", "district_admin",
                "elsewhere"}),
])
def test_published_resource_is_seen_by_exactly_its_audience(client, world, visibility, sees):
    resource_id = create(client, world["owner"], visibility=visibility)
    publish(client, world, resource_id)
    for name, headers in world.items():
        response = client.get(f"{RESOURCES}/{resource_id}", headers=headers)
        if name in sees:
            assert response.status_code == 200, (name, response.text)
        else:
            # Not 403: a resource the caller may not see does not exist for them.
            assert_problem(response, 404, "resource.not_found")


def test_unpublished_resource_is_seen_only_by_owner_and_those_who_manage_it(client, world):
    resource_id = create(client, world["owner"], visibility="public")
    for name in ("colleague", "rural", "unpaired", "elsewhere"):
        assert client.get(f"{RESOURCES}/{resource_id}", headers=world[name]).status_code == 404, name
    for name in ("owner", "school_admin", "moderator", "district_admin"):
        assert client.get(f"{RESOURCES}/{resource_id}", headers=world[name]).status_code == 200, name


def test_only_owner_and_administrators_change_or_delete(client, world):
    resource_id = create(client, world["owner"], visibility="school")
    publish(client, world, resource_id)
    assert_problem(client.patch(f"{RESOURCES}/{resource_id}", json={"title": "改"}, headers=world["colleague"]),
                   403, "resource.not_owner")
    assert_problem(client.delete(f"{RESOURCES}/{resource_id}", headers=world["rural"]), 404, "resource.not_found")
    updated = client.patch(f"{RESOURCES}/{resource_id}", json={"title": "新标题", "grade": None, "tags": ["复习"]},
                           headers=world["owner"])
    assert updated.status_code == 200, updated.text
    # Published: the change waits for review (tests/api/moderation/test_revisions.py), live stays.
    assert updated.json()["title"] == "一元一次方程 课件" and updated.json()["review"]["status"] == "pending"
    by_admin = client.patch(f"{RESOURCES}/{resource_id}", json={"visibility": "private"},
                            headers=world["school_admin"])
    assert by_admin.status_code == 200 and by_admin.json()["visibility"] == "private"
    assert client.delete(f"{RESOURCES}/{resource_id}", headers=world["owner"]).status_code == 204
    assert_problem(client.get(f"{RESOURCES}/{resource_id}", headers=world["owner"]), 404, "resource.not_found")


def test_list_shows_own_and_school_resources_by_status(client, world):
    mine = create(client, world["owner"], title="我的草稿")
    colleagues_published = create(client, world["colleague"], title="同事的", visibility="school")
    assert client.post(f"{RESOURCES}/{colleagues_published}/submit", headers=world["colleague"]).status_code == 200
    client.post(f"/api/v1/moderation/resources/{colleagues_published}/decision", json={"action": "approve"},
                headers=world["moderator"])
    create(client, world["colleague"], title="同事的草稿")  # a colleague's draft stays private to them
    listed = client.get(RESOURCES, headers=world["owner"]).json()
    assert {item["id"] for item in listed["items"]} == {mine, colleagues_published}
    drafts = client.get(f"{RESOURCES}?status=draft", headers=world["owner"]).json()
    assert [item["id"] for item in drafts["items"]] == [mine]
    only_mine = client.get(f"{RESOURCES}?mine=true", headers=world["owner"]).json()
    assert [item["id"] for item in only_mine["items"]] == [mine]
    assert_problem(client.get(f"{RESOURCES}?status=lost", headers=world["owner"]), 422, "request.validation_failed")


def test_bad_resource_input_is_refused_with_field_locations(client, factory, world):
    headers = world["owner"]
    unknown_point = client.post(RESOURCES, headers=headers, json={
        "title": "x", "kind": "courseware", "knowledge_point_ids": [factory.knowledge_point("math.p").id, "01NOPE"]})
    body = assert_problem(unknown_point, 422, "request.validation_failed")
    assert body["errors"][0]["loc"] == ["body", "knowledge_point_ids", 1]
    unknown_subject = client.post(RESOURCES, headers=headers, json={"title": "x", "kind": "courseware",
                                                                    "subject": "alchemy"})
    assert assert_problem(unknown_subject, 422, "request.validation_failed")["errors"][0]["loc"] == ["body", "subject"]
    wrong_enums = client.post(RESOURCES, headers=headers, json={"title": "x", "kind": "film", "visibility": "world",
                                                                "license": "gpl"})
    locs = {tuple(e["loc"]) for e in assert_problem(wrong_enums, 422, "request.validation_failed")["errors"]}
    assert locs == {("body", "kind"), ("body", "visibility"), ("body", "license")}
    oversized = client.post(RESOURCES, headers=headers, json={
        "title": "长" * 201, "kind": "courseware", "description": "x" * 10_001, "tags": ["t" * 33] + ["a"] * 20})
    locs = {tuple(e["loc"]) for e in assert_problem(oversized, 422, "request.validation_failed")["errors"]}
    assert {("body", "title"), ("body", "description"), ("body", "tags")} <= locs
    missing = assert_problem(client.post(RESOURCES, headers=headers, json={}), 422, "request.validation_failed")
    assert {("body", "title"), ("body", "kind")} <= {tuple(e["loc"]) for e in missing["errors"]}
    unknown_upload = client.post(RESOURCES, headers=headers, json={"title": "x", "kind": "courseware",
                                                                   "upload_ids": ["01UPLOAD"]})
    body = assert_problem(unknown_upload, 422, "resource.upload_not_usable")
    assert body["errors"][0]["loc"] == ["body", "upload_ids", 0]
    resource_id = create(client, headers)
    null_title = client.patch(f"{RESOURCES}/{resource_id}", json={"title": None}, headers=headers)
    assert assert_problem(null_title, 422, "request.validation_failed")["errors"][0]["loc"] == ["body", "title"]
    assert client.get(f"{RESOURCES}/{resource_id}", headers=headers).json()["title"] == "一元一次方程 课件"


def test_sql_like_strings_are_just_text(client, world):
    title = "'; DROP TABLE resources; --"
    resource_id = create(client, world["owner"], title=title, tags=["1' OR '1'='1"], description="\" OR 1=1 --")
    body = client.get(f"{RESOURCES}/{resource_id}", headers=world["owner"]).json()
    assert body["title"] == title and body["tags"] == ["1' OR '1'='1"]
    assert client.get(f"{RESOURCES}?subject=' OR 1=1 --", headers=world["owner"]).json()["total"] == 0
    assert_problem(client.get(f"{RESOURCES}/' OR '1'='1", headers=world["owner"]), 404, "resource.not_found")
    assert client.get(RESOURCES, headers=world["owner"]).json()["total"] == 1

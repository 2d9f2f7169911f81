"""Cities and provinces above the districts: operators set them up (`lb region ...`), platform
administrators through `/regions`; bad shapes are refused with a code."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from services.api.audit.models import AuditEvent
from services.api.orgs.models import District, RegionKind, Role
from services.api.regions import service as regions
from services.api.regions.errors import WrongLevel
from tests.helpers import assert_problem

API = "/api/v1"


def test_a_province_a_city_a_district_and_their_administrators(session, factory):
    province = regions.create_region(session, name="某省", kind=RegionKind.province, parent_id=None)
    city = regions.create_region(session, name="某市", kind=RegionKind.city, parent_id=province.id)
    with pytest.raises(WrongLevel):
        regions.create_region(session, name="某县", kind=RegionKind.province, parent_id=city.id)
    district = factory.district()
    assert regions.attach_district(session, district_id=district.id, region_id=city.id).region_id == city.id
    assert [d.id for d in regions.districts_under(session, region_id=province.id)] == [district.id]
    official = factory.user(roles=(Role.teacher,), district=district)
    before = official.token_version
    appointed = regions.appoint_admin(session, user_id=official.id, region_id=province.id)
    assert appointed.region_id == province.id and Role.province_admin.value in appointed.roles
    assert appointed.token_version == before + 1


def test_a_district_administrator_neither_grants_nor_manages_region_roles(client, factory):
    province = regions.create_region(factory.session, name="某省", kind=RegionKind.province, parent_id=None)
    district = factory.district()
    admin = factory.user(roles=(Role.district_admin,), district=district)
    official = regions.appoint_admin(factory.session, user_id=factory.user(roles=(Role.teacher,), district=district).id,
                                     region_id=province.id)
    factory.commit()
    granted = client.post("/api/v1/users", headers=factory.headers(admin), json={
        "username": "would-be-governor", "real_name": "某某", "password": "correct-horse-battery",
        "roles": ["province_admin"]})
    assert granted.status_code == 403, granted.text
    disabled = client.patch(f"/api/v1/users/{official.id}", headers=factory.headers(admin), json={"is_active": False})
    assert disabled.status_code in (403, 404), disabled.text


def test_platform_administrators_build_the_regions_through_the_api(client, factory):
    operator = factory.user(roles=(Role.platform_admin,))
    district_admin = factory.user(roles=(Role.district_admin,))
    east, west = factory.district(name="东区"), factory.district(name="西区")
    factory.commit()
    platform = factory.headers(operator)

    assert_problem(client.post(f"{API}/regions", headers=factory.headers(district_admin),
                               json={"name": "甲省", "kind": "province"}), 403, "auth.forbidden")
    province = client.post(f"{API}/regions", headers=platform, json={"name": "甲省", "kind": "province"})
    assert province.status_code == 201, province.text
    pid = province.json()["id"]
    city = client.post(f"{API}/regions", headers=platform, json={"name": "甲市", "kind": "city", "parent_id": pid})
    assert city.status_code == 201 and city.json()["parent_id"] == pid, city.text
    cid = city.json()["id"]
    lone_city = client.post(f"{API}/regions", headers=platform, json={"name": "乙市", "kind": "city"})
    assert lone_city.status_code == 201, lone_city.text

    # Bad shapes, each with its code.
    assert_problem(client.post(f"{API}/regions", headers=platform, json={"name": "甲市", "kind": "city",
                                                                        "parent_id": pid}),
                   409, "region.duplicate_name")
    assert_problem(client.post(f"{API}/regions", headers=platform, json={"name": "丙市", "kind": "city",
                                                                        "parent_id": "0" * 26}),
                   422, "region.unknown_parent")
    assert_problem(client.post(f"{API}/regions", headers=platform, json={"name": "丙市", "kind": "city",
                                                                        "parent_id": cid}),
                   422, "region.wrong_level")
    assert_problem(client.post(f"{API}/regions", headers=platform, json={"name": "乙省", "kind": "province",
                                                                        "parent_id": pid}),
                   422, "region.wrong_level")
    assert_problem(client.patch(f"{API}/regions/{pid}", headers=platform, json={"parent_id": cid}),
                   422, "region.cycle")
    assert_problem(client.patch(f"{API}/regions/{cid}", headers=platform, json={"parent_id": cid}),
                   422, "region.cycle")
    assert_problem(client.patch(f"{API}/regions/{cid}", headers=platform, json={"name": "乙市"}),
                   409, "region.duplicate_name")
    assert_problem(client.post(f"{API}/regions", headers=platform, json={"name": "", "kind": "city"}),
                   422, "request.validation_failed")
    assert_problem(client.get(f"{API}/regions/{'0' * 26}", headers=platform), 404, "region.not_found")

    # Districts to a city, a city to the province; only a platform administrator attaches.
    assert_problem(client.put(f"{API}/regions/{cid}/districts/{east.id}", headers=factory.headers(district_admin)),
                   403, "auth.forbidden")
    for district in (east, west):
        attached = client.put(f"{API}/regions/{cid}/districts/{district.id}", headers=platform)
        assert attached.status_code == 200, attached.text
    assert [d["name"] for d in attached.json()["districts"]] == ["东区", "西区"]
    assert_problem(client.put(f"{API}/regions/{cid}/districts/{'0' * 26}", headers=platform),
                   404, "region.unknown_district")
    moved = client.patch(f"{API}/regions/{lone_city.json()['id']}", headers=platform, json={"parent_id": pid})
    assert moved.status_code == 200 and moved.json()["parent_id"] == pid, moved.text
    detail = client.get(f"{API}/regions/{pid}", headers=factory.headers(district_admin)).json()
    assert sorted(c["name"] for c in detail["cities"]) == ["乙市", "甲市"]
    renamed = client.patch(f"{API}/regions/{cid}", headers=platform, json={"name": "甲市（新）"})
    assert renamed.json()["name"] == "甲市（新）", renamed.text
    detached = client.delete(f"{API}/regions/{cid}/districts/{west.id}", headers=platform)
    assert [d["name"] for d in detached.json()["districts"]] == ["东区"], detached.text
    assert factory.session.scalar(select(District.region_id).where(District.id == west.id)
                                  .execution_options(populate_existing=True)) is None

    # Paginated lists, filtered by kind and parent.
    listed = client.get(f"{API}/regions?kind=city&size=1", headers=factory.headers(district_admin)).json()
    assert listed["total"] == 2 and len(listed["items"]) == 1 and listed["size"] == 1
    second = client.get(f"{API}/regions?kind=city&size=1&page=2", headers=platform).json()
    assert {listed["items"][0]["id"], second["items"][0]["id"]} == {cid, lone_city.json()["id"]}
    assert client.get(f"{API}/regions?parent_id={pid}", headers=platform).json()["total"] == 2
    assert_problem(client.get(f"{API}/regions?size=1000", headers=platform), 422, "request.validation_failed")
    actions = set(factory.session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == operator.id)))
    assert {"region.create", "region.update", "region.attach_district", "region.detach_district"} <= actions

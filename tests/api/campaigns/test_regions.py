"""Operators set up the organisations above the district (`lb region ...`)."""
from __future__ import annotations

import pytest

from services.api.campaigns import regions
from services.api.campaigns.errors import InvalidCampaign
from services.api.orgs.models import RegionKind, Role


def test_a_province_a_city_a_district_and_their_administrators(session, factory):
    province = regions.create_region(session, name="某省", kind=RegionKind.province, parent_id=None)
    city = regions.create_region(session, name="某市", kind=RegionKind.city, parent_id=province.id)
    with pytest.raises(InvalidCampaign):
        regions.create_region(session, name="某县", kind=RegionKind.province, parent_id=city.id)
    district = factory.district()
    assert regions.attach_district(session, district_id=district.id, region_id=city.id).region_id == city.id
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

"""The organisations above the district that run a campaign's later levels (a city, a province),
set up by operators (`lb region ...`): regions, which region a district is in, who administers one."""
from __future__ import annotations

from sqlalchemy.orm import Session

from services.api.audit.service import record
from services.api.campaigns.errors import InvalidCampaign
from services.api.orgs.models import District, Region, RegionKind, Role, User


def create_region(session: Session, *, name: str, kind: RegionKind, parent_id: str | None) -> Region:
    parent = session.get(Region, parent_id) if parent_id else None
    if parent_id and (parent is None or parent.kind is not RegionKind.province or kind is not RegionKind.city):
        raise InvalidCampaign(reason="a city's parent is a province; a province has none")
    region = Region(name=name, kind=kind, parent_id=parent_id)
    session.add(region)
    session.flush()
    record(session, actor_id=None, district_id=None, action="region.create", target_type="region",
           target_id=region.id, name=name, kind=kind.value, parent_id=parent_id)
    return region


def attach_district(session: Session, *, district_id: str, region_id: str) -> District:
    district, region = session.get(District, district_id), session.get(Region, region_id)
    if district is None or region is None:
        raise InvalidCampaign(reason="no such district or region")
    district.region_id = region.id
    record(session, actor_id=None, district_id=district.id, action="region.attach_district", target_type="district",
           target_id=district.id, region_id=region.id)
    session.flush()
    return district


def appoint_admin(session: Session, *, user_id: str, region_id: str) -> User:
    """Makes a user the city_admin or province_admin (by the region's kind) of a region."""
    user, region = session.get(User, user_id), session.get(Region, region_id)
    if user is None or region is None:
        raise InvalidCampaign(reason="no such user or region")
    role = Role.city_admin if region.kind is RegionKind.city else Role.province_admin
    user.region_id = region.id
    user.roles = sorted({*user.roles, role.value})
    user.token_version += 1  # tokens carrying the old roles stop working
    record(session, actor_id=None, district_id=user.district_id, action="region.appoint_admin", target_type="user",
           target_id=user.id, region_id=region.id, role=role.value)
    session.flush()
    return user

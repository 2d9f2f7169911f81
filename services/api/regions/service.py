"""The organisations above the district (a city, a province) that run a campaign's later
rounds: regions, which region a district is in, who administers one. Operators use `lb region …`;
platform administrators the `/regions` API. Keyword-only functions, no HTTP types."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from services.api.audit.service import record
from services.api.orgs.models import District, Region, RegionKind, Role, User
from services.api.regions.errors import (DuplicateRegionName, RegionCycle, RegionNotFound, UnknownDistrict,
                                         UnknownParent, UnknownUser, WrongLevel)

# How far up a chain of regions can go: a city under a province. A longer walk means bad data.
_MAX_DEPTH = 8


def get_region(session: Session, *, region_id: str) -> Region:
    region = session.get(Region, region_id)
    if region is None:
        raise RegionNotFound()
    return region


def regions_query(*, kind: RegionKind | None = None, parent_id: str | None = None) -> Select[Any]:
    query = select(Region).order_by(Region.kind, Region.name, Region.id)
    if kind is not None:
        query = query.where(Region.kind == kind)
    if parent_id is not None:
        query = query.where(Region.parent_id == parent_id)
    return query


def members(session: Session, *, region_id: str) -> tuple[list[Region], list[District]]:
    """The cities directly under a region and the districts attached to it."""
    cities = list(session.scalars(select(Region).where(Region.parent_id == region_id).order_by(Region.name)))
    districts = list(session.scalars(select(District).where(District.region_id == region_id).order_by(District.name)))
    return cities, districts


def _check_parent(session: Session, *, kind: RegionKind, parent_id: str | None, region_id: str | None) -> None:
    """A province stands alone; a city sits under a province or alone; nothing under itself."""
    if parent_id is None:
        return
    parent = session.get(Region, parent_id)
    if parent is None:
        raise UnknownParent(parent_id=parent_id)
    if region_id is not None:
        cursor: Region | None = parent
        for _ in range(_MAX_DEPTH):
            if cursor is None:
                break
            if cursor.id == region_id:
                raise RegionCycle()
            cursor = session.get(Region, cursor.parent_id) if cursor.parent_id else None
    if kind is RegionKind.province:
        raise WrongLevel(reason="a province has no region above it")
    if parent.kind is not RegionKind.province:
        raise WrongLevel(reason="a city's parent is a province")


def _check_name(session: Session, *, kind: RegionKind, name: str, region_id: str | None) -> None:
    taken = session.scalar(select(Region.id).where(Region.kind == kind, Region.name == name))
    if taken is not None and taken != region_id:
        raise DuplicateRegionName(name=name, kind=kind.value)


def create_region(session: Session, *, name: str, kind: RegionKind, parent_id: str | None,
                  actor_id: str | None = None) -> Region:
    _check_parent(session, kind=kind, parent_id=parent_id, region_id=None)
    _check_name(session, kind=kind, name=name, region_id=None)
    region = Region(name=name, kind=kind, parent_id=parent_id)
    session.add(region)
    session.flush()
    record(session, actor_id=actor_id, district_id=None, action="region.create", target_type="region",
           target_id=region.id, name=name, kind=kind.value, parent_id=parent_id)
    return region


def update_region(session: Session, *, region_id: str, changes: dict[str, Any], actor_id: str | None = None) -> Region:
    """Renames a region or moves a city to another province (`parent_id`, None: to none)."""
    region = get_region(session, region_id=region_id)
    if "parent_id" in changes:
        _check_parent(session, kind=region.kind, parent_id=changes["parent_id"], region_id=region.id)
        region.parent_id = changes["parent_id"]
    if changes.get("name") is not None:
        _check_name(session, kind=region.kind, name=changes["name"], region_id=region.id)
        region.name = changes["name"]
    record(session, actor_id=actor_id, district_id=None, action="region.update", target_type="region",
           target_id=region.id, **{k: v for k, v in changes.items() if k in ("name", "parent_id")})
    session.flush()
    return region


def attach_district(session: Session, *, district_id: str, region_id: str, actor_id: str | None = None) -> District:
    """Puts a district under a city (or directly under a province)."""
    region = get_region(session, region_id=region_id)
    district = session.get(District, district_id)
    if district is None:
        raise UnknownDistrict()
    district.region_id = region.id
    record(session, actor_id=actor_id, district_id=district.id, action="region.attach_district",
           target_type="district", target_id=district.id, region_id=region.id)
    session.flush()
    return district


def detach_district(session: Session, *, district_id: str, region_id: str, actor_id: str | None = None) -> District:
    get_region(session, region_id=region_id)
    district = session.get(District, district_id)
    if district is None or district.region_id != region_id:
        raise UnknownDistrict()
    district.region_id = None
    record(session, actor_id=actor_id, district_id=district.id, action="region.detach_district",
           target_type="district", target_id=district.id, region_id=region_id)
    session.flush()
    return district


def appoint_admin(session: Session, *, user_id: str, region_id: str, actor_id: str | None = None) -> User:
    """Makes a user the city_admin or province_admin (by the region's kind) of a region."""
    region = get_region(session, region_id=region_id)
    user = session.get(User, user_id)
    if user is None:
        raise UnknownUser()
    role = Role.city_admin if region.kind is RegionKind.city else Role.province_admin
    user.region_id = region.id
    user.roles = sorted({*user.roles, role.value})
    user.token_version += 1  # tokens carrying the old roles stop working
    record(session, actor_id=actor_id, district_id=user.district_id, action="region.appoint_admin",
           target_type="user", target_id=user.id, region_id=region.id, role=role.value)
    session.flush()
    return user


def ancestors(session: Session, *, region_id: str | None) -> list[Region]:
    """The region and those above it, nearest first."""
    found: list[Region] = []
    while region_id is not None and len(found) < _MAX_DEPTH:
        region = session.get_one(Region, region_id)
        found.append(region)
        region_id = region.parent_id
    return found


def districts_under(session: Session, *, region_id: str) -> list[District]:
    """Every district in a region: attached to it, or to a city under it."""
    cities = [r.id for r in session.scalars(select(Region).where(Region.parent_id == region_id))]
    return list(session.scalars(select(District).where(District.region_id.in_([region_id, *cities]))
                                .order_by(District.name)))

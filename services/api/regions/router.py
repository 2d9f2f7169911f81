"""`/regions`: cities and provinces above the districts. Anyone signed in reads them; only a
platform administrator creates, changes or attaches."""
from __future__ import annotations

from typing import Annotated

from fastapi import Query, status

from services.api.auth.deps import CurrentUser, require_role
from services.api.db import SessionDep
from services.api.orgs.models import Region, RegionKind, Role
from services.api.pagination import Page, PageDep, fetch_page
from services.api.regions import service
from services.api.regions.schemas import MemberRead, RegionCreate, RegionDetail, RegionRead, RegionUpdate
from services.api.routing import api_router

router = api_router(tags=["regions"])


def _detail(session: SessionDep, region: Region) -> RegionDetail:
    cities, districts = service.members(session, region_id=region.id)
    return RegionDetail(id=region.id, name=region.name, kind=region.kind, parent_id=region.parent_id,
                        created_at=region.created_at,
                        cities=[MemberRead.model_validate(c) for c in cities],
                        districts=[MemberRead.model_validate(d) for d in districts])


@router.get("/regions", response_model=Page[RegionRead])
def list_regions(session: SessionDep, caller: CurrentUser, paging: PageDep, kind: RegionKind | None = None,
                 parent_id: Annotated[str | None, Query(max_length=26)] = None) -> Page[RegionRead]:
    total, rows = fetch_page(session, service.regions_query(kind=kind, parent_id=parent_id), paging)
    return Page(total=total, page=paging.page, size=paging.size, items=[RegionRead.model_validate(r) for r in rows])


@router.post("/regions", response_model=RegionDetail, status_code=status.HTTP_201_CREATED)
def create_region(session: SessionDep, caller: CurrentUser, body: RegionCreate) -> RegionDetail:
    require_role(caller, Role.platform_admin)
    region = service.create_region(session, name=body.name, kind=body.kind, parent_id=body.parent_id,
                                   actor_id=caller.user_id)
    session.commit()
    return _detail(session, region)


@router.get("/regions/{region_id}", response_model=RegionDetail)
def read_region(session: SessionDep, caller: CurrentUser, region_id: str) -> RegionDetail:
    return _detail(session, service.get_region(session, region_id=region_id))


@router.patch("/regions/{region_id}", response_model=RegionDetail)
def update_region(session: SessionDep, caller: CurrentUser, region_id: str, body: RegionUpdate) -> RegionDetail:
    require_role(caller, Role.platform_admin)
    region = service.update_region(session, region_id=region_id, changes=body.model_dump(exclude_unset=True),
                                   actor_id=caller.user_id)
    session.commit()
    return _detail(session, region)


@router.put("/regions/{region_id}/districts/{district_id}", response_model=RegionDetail)
def attach_district(session: SessionDep, caller: CurrentUser, region_id: str, district_id: str) -> RegionDetail:
    require_role(caller, Role.platform_admin)
    service.attach_district(session, district_id=district_id, region_id=region_id, actor_id=caller.user_id)
    session.commit()
    return _detail(session, service.get_region(session, region_id=region_id))


@router.delete("/regions/{region_id}/districts/{district_id}", response_model=RegionDetail)
def detach_district(session: SessionDep, caller: CurrentUser, region_id: str, district_id: str) -> RegionDetail:
    require_role(caller, Role.platform_admin)
    service.detach_district(session, district_id=district_id, region_id=region_id, actor_id=caller.user_id)
    session.commit()
    return _detail(session, service.get_region(session, region_id=region_id))

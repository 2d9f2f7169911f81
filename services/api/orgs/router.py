from __future__ import annotations

from fastapi import status

from services.api.auth.deps import CurrentUser, require_role
from services.api.db import SessionDep
from services.api.orgs import service
from services.api.orgs.models import Role
from services.api.orgs.schemas import (DistrictCreate, DistrictRead, Me, SchoolCreate, SchoolRead, SchoolUpdate,
                                       UserCreate, UserRead, UserUpdate)
from services.api.pagination import Page, PageDep, fetch_page
from services.api.routing import api_router

router = api_router(tags=["organisations"])


@router.get("/me", response_model=Me)
def read_me(session: SessionDep, caller: CurrentUser) -> Me:
    user = service.get_self(session, principal=caller)
    school = service.get_school(session, school_id=user.school_id) if user.school_id else None
    return Me(id=user.id, username=user.username, real_name=user.real_name, roles=user.roles,
              school=SchoolRead.model_validate(school) if school else None,
              district=DistrictRead.model_validate(service.get_district(session, district_id=user.district_id)))


@router.post("/districts", response_model=DistrictRead, status_code=status.HTTP_201_CREATED)
def create_district(session: SessionDep, caller: CurrentUser, body: DistrictCreate) -> DistrictRead:
    require_role(caller, Role.district_admin)
    district = service.create_district(session, name=body.name, actor_id=caller.user_id)
    session.commit()
    return DistrictRead.model_validate(district)


@router.get("/districts/{district_id}", response_model=DistrictRead)
def read_district(session: SessionDep, caller: CurrentUser, district_id: str) -> DistrictRead:
    return DistrictRead.model_validate(service.get_district(session, district_id=district_id))


@router.post("/schools", response_model=SchoolRead, status_code=status.HTTP_201_CREATED)
def create_school(session: SessionDep, caller: CurrentUser, body: SchoolCreate) -> SchoolRead:
    school = service.create_school(session, actor=caller, district_id=body.district_id or caller.district_id,
                                   name=body.name, kind=body.kind, bandwidth_kbps=body.bandwidth_kbps)
    session.commit()
    return SchoolRead.model_validate(school)


@router.get("/schools", response_model=Page[SchoolRead])
def list_schools(session: SessionDep, caller: CurrentUser, paging: PageDep) -> Page[SchoolRead]:
    total, schools = fetch_page(session, service.schools_query(actor=caller), paging)
    return Page(total=total, page=paging.page, size=paging.size,
                items=[SchoolRead.model_validate(s) for s in schools])


@router.get("/schools/{school_id}", response_model=SchoolRead)
def read_school(session: SessionDep, caller: CurrentUser, school_id: str) -> SchoolRead:
    return SchoolRead.model_validate(service.get_school(session, school_id=school_id, district_id=caller.district_id))


@router.patch("/schools/{school_id}", response_model=SchoolRead)
def update_school(session: SessionDep, caller: CurrentUser, school_id: str, body: SchoolUpdate) -> SchoolRead:
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    if "edge_url" in body.model_fields_set:
        changes["edge_url"] = body.edge_url  # null or "" takes the school's edge away
    school = service.update_school(session, actor=caller, school_id=school_id, changes=changes)
    session.commit()
    return SchoolRead.model_validate(school)


@router.post("/users", response_model=UserRead, status_code=status.HTTP_201_CREATED)
def create_user(session: SessionDep, caller: CurrentUser, body: UserCreate) -> UserRead:
    service.require_user_admin(caller)
    user = service.create_user(session, actor=caller, username=body.username, real_name=body.real_name,
                               password=body.password, roles=body.roles, school_id=body.school_id,
                               email=body.email)
    session.commit()
    return UserRead.model_validate(user)


@router.get("/users", response_model=Page[UserRead])
def list_users(session: SessionDep, caller: CurrentUser, paging: PageDep) -> Page[UserRead]:
    service.require_user_admin(caller)
    total, users = fetch_page(session, service.users_query(actor=caller), paging)
    return Page(total=total, page=paging.page, size=paging.size, items=[UserRead.model_validate(u) for u in users])


@router.get("/users/{user_id}", response_model=UserRead)
def read_user(session: SessionDep, caller: CurrentUser, user_id: str) -> UserRead:
    service.require_user_admin(caller)
    return UserRead.model_validate(service.get_user(session, user_id=user_id, actor=caller))


@router.patch("/users/{user_id}", response_model=UserRead)
def update_user(session: SessionDep, caller: CurrentUser, user_id: str, body: UserUpdate) -> UserRead:
    service.require_user_admin(caller)
    user = service.update_user(session, actor=caller, user_id=user_id, real_name=body.real_name,
                               roles=body.roles, is_active=body.is_active, password=body.password)
    session.commit()
    return UserRead.model_validate(user)

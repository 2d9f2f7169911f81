from __future__ import annotations

from fastapi import Response, status
from sqlalchemy import select

from services.api.auth.deps import CurrentUser
from services.api.db import SessionDep
from services.api.orgs.models import School
from services.api.pairing import service
from services.api.pairing.schemas import PairingCreate, PairingRead
from services.api.pagination import Page, PageDep, fetch_page
from services.api.routing import api_router

router = api_router("/pairings", tags=["pairing"])


@router.post("", response_model=PairingRead, status_code=status.HTTP_201_CREATED)
def create_pairing(session: SessionDep, caller: CurrentUser, body: PairingCreate) -> PairingRead:
    pairing = service.create_pairing(session, actor=caller, helper_school_id=body.helper_school_id,
                                     assisted_school_id=body.assisted_school_id)
    session.commit()
    return PairingRead.model_validate(pairing)


@router.get("", response_model=Page[PairingRead])
def list_pairings(session: SessionDep, caller: CurrentUser, paging: PageDep,
                  school_id: str | None = None) -> Page[PairingRead]:
    district_schools = select(School.id).where(School.district_id == caller.district_id)
    total, pairings = fetch_page(session, service.pairings_query(school_ids=district_schools, school_id=school_id),
                                 paging)
    return Page(total=total, page=paging.page, size=paging.size,
                items=[PairingRead.model_validate(p) for p in pairings])


@router.delete("/{pairing_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_pairing(session: SessionDep, caller: CurrentUser, pairing_id: str) -> Response:
    service.delete_pairing(session, actor=caller, pairing_id=pairing_id)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)

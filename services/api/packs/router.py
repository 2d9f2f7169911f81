"""`GET /resources/{id}/pack`, `POST /packs`, `GET /packs/public-key` (api.md, "Paired schools")."""
from __future__ import annotations

from pathlib import Path

from fastapi import Request, status
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from services.api.auth.deps import CurrentUser
from services.api.packs import service, signing
from services.api.packs.schemas import PackCreate, PackPublicKey, PackRead
from services.api.routing import api_router

router = api_router("", tags=["packs"])


def _session(request: Request) -> Session:
    # A plain (reader) session, not the writer a POST gets: packing writes nothing to the database,
    # and the service ends the transaction before the long part (streaming members).
    session: Session = request.app.state.sessionmaker()
    return session


def _work_dir(request: Request) -> Path:
    return request.app.state.settings.core.data_dir / "packs"


@router.get("/resources/{resource_id}/pack", status_code=status.HTTP_307_TEMPORARY_REDIRECT,
            response_class=RedirectResponse)
def resource_pack(request: Request, caller: CurrentUser, resource_id: str) -> RedirectResponse:
    """The resource's pack, built on first request: a redirect to its signed, resumable (Range) URL."""
    store = request.app.state.blob_store
    with _session(request) as session:
        pack = service.resource_pack(session, actor=caller, resource_id=resource_id, store=store,
                                     secret=request.app.state.settings.secret_key, work_dir=_work_dir(request))
    return RedirectResponse(pack.download_url(store), status_code=status.HTTP_307_TEMPORARY_REDIRECT,
                            headers={"X-Pack-Id": pack.id, "X-Pack-Sha256": pack.sha256})


@router.post("/packs", response_model=PackRead, status_code=status.HTTP_201_CREATED)
def create_pack(request: Request, caller: CurrentUser, body: PackCreate) -> PackRead:
    store, secret = request.app.state.blob_store, request.app.state.settings.secret_key
    with _session(request) as session:
        if body.resource_ids is not None:
            pack = service.listed_pack(session, actor=caller, title=body.title, resource_ids=body.resource_ids,
                                       store=store, secret=secret, work_dir=_work_dir(request))
        else:
            assert body.knowledge_point_id is not None  # PackCreate asks for one or the other
            pack = service.unit_pack(session, actor=caller, title=body.title,
                                     knowledge_point_id=body.knowledge_point_id, store=store, secret=secret,
                                     work_dir=_work_dir(request))
    return PackRead(id=pack.id, size=pack.size, sha256=pack.sha256, download_url=pack.download_url(store),
                    manifest=pack.manifest)


@router.get("/packs/public-key", response_model=PackPublicKey)
def public_key(request: Request) -> PackPublicKey:
    """The key packs are signed with, for verifying them offline; public, so no sign-in."""
    key = signing.pack_signing_key(request.app.state.settings.secret_key).public_key()
    return PackPublicKey(algorithm=signing.ALGORITHM, key_id=signing.key_id(key), public_key=signing.public_key_b64(key))

"""`GET /resources/{id}/play` hands out a signed master playlist; `/play/{token}/...` serves it."""
from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import Header, Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from services.api.auth.deps import CurrentUser
from services.api.blobs.responses import blob_response
from services.api.db import SessionDep
from services.api.playback import service
from services.api.playback.tokens import verify
from services.api.routing import api_router

router = api_router(tags=["playback"])

# VOD playlists and segments never change under a prefix once published; the grant in the URL
# keeps caches per caller.
_IMMUTABLE = "private, max-age=86400"


@router.get("/resources/{resource_id}/play")
def play(request: Request, session: SessionDep, caller: CurrentUser, resource_id: str,
         max_height: Annotated[int | None, Query(ge=144, le=4320)] = None) -> dict[str, Any]:
    state = request.app.state
    return service.play(session, actor=caller, resource_id=resource_id, max_height=max_height,
                        store=state.blob_store, secret=state.settings.secret_key,
                        api_url=state.settings.public_api_url)


@router.get("/play/{token}/{path:path}", include_in_schema=False)
def serve(request: Request, token: str, path: str,
          range_header: Annotated[str | None, Header(alias="range")] = None,
          if_none_match: Annotated[str | None, Header()] = None) -> Response:
    store = request.app.state.blob_store
    grant = verify(token, secret=request.app.state.settings.secret_key)
    path = service.checked_path(path)
    if path == "master.m3u8":
        return Response(service.master_playlist(store, grant), media_type=service.PLAYLIST_TYPE,
                        headers={"Cache-Control": "private, no-cache"})
    if path.endswith(".m3u8"):
        return Response(service.media_playlist(store, grant, path), media_type=service.PLAYLIST_TYPE,
                        headers={"Cache-Control": _IMMUTABLE})
    key = f"{grant.prefix}/{path}"
    if store.backend != "local":
        return RedirectResponse(store.presigned_get_url(key, expires_s=max(60, grant.expires - int(time.time()))),
                                status_code=307)
    return blob_response(store=store, key=key, range_header=range_header, if_none_match=if_none_match,
                         filename=None, cache_control=_IMMUTABLE)

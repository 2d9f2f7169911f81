"""`GET /resources/{id}/play` hands out a signed master playlist; `/play/{token}/...` serves it."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from services.api.auth.deps import CurrentUser
from services.api.db import SessionDep
from services.api.playback import service
from services.api.playback.schemas import PlayProgress, PlayRecorded
from services.api.playback.tokens import verify
from services.api.routing import ANY_ORIGIN, api_router

router = api_router(tags=["playback"])

# Playlists are made per grant and their URIs expire with it: nothing for a cache to keep.
_PLAYLIST_CACHE = "private, no-cache"


@router.get("/resources/{resource_id}/play")
def play(request: Request, session: SessionDep, caller: CurrentUser, resource_id: str,
         max_height: Annotated[int | None, Query(ge=144, le=4320)] = None) -> dict[str, Any]:
    state = request.app.state
    return service.play(session, actor=caller, resource_id=resource_id, max_height=max_height,
                        store=state.blob_store, secret=state.settings.secret_key,
                        api_url=state.settings.public_api_url)


@router.post("/resources/{resource_id}/play/progress", response_model=PlayRecorded)
def play_progress(session: SessionDep, caller: CurrentUser, resource_id: str, body: PlayProgress) -> PlayRecorded:
    """A player reports the seconds watched in its play (first without play_id, then with the one returned)."""
    play = service.record_progress(session, actor=caller, resource_id=resource_id, play_id=body.play_id,
                                   seconds=body.seconds, classroom=body.classroom)
    session.commit()
    return PlayRecorded(play_id=play.id, seconds=play.seconds)


@router.get("/play/{token}/{path:path}", include_in_schema=False)
def serve(request: Request, token: str, path: str) -> Response:
    store = request.app.state.blob_store
    grant = verify(token, secret=request.app.state.settings.secret_key)
    path = service.checked_path(path)
    if path == "master.m3u8":
        return Response(service.master_playlist(store, grant), media_type=service.PLAYLIST_TYPE,
                        headers={"Cache-Control": _PLAYLIST_CACHE, **ANY_ORIGIN})
    if path.endswith(".m3u8"):
        return Response(service.media_playlist(store, grant, path), media_type=service.PLAYLIST_TYPE,
                        headers={"Cache-Control": _PLAYLIST_CACHE, **ANY_ORIGIN})
    # Anything else under the grant (a segment asked for by a relative URI): where the store serves it.
    return RedirectResponse(service.file_url(store, grant, f"{grant.prefix}/{path}"), status_code=307,
                            headers=ANY_ORIGIN)

"""`GET /resources/{id}/play` hands out a signed master playlist; `/play/{token}/...` serves it."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from services.api.auth.deps import CurrentUser
from services.api.db import SessionDep, read_on_connection
from services.api.playback import service
from services.api.playback.errors import InvalidPlaybackToken
from services.api.playback.schemas import PlayProgress, PlayRecorded
from services.api.playback.tokens import PlayGrant, verify
from services.api.resources import links
from services.api.subtitles import service as subtitles
from services.api.routing import ANY_ORIGIN, api_router

router = api_router(tags=["playback"])

# Playlists are made per grant and their URIs expire with it: nothing for a cache to keep.
_PLAYLIST_CACHE = "private, no-cache"


@router.get("/resources/{resource_id}/play")
def play(request: Request, session: SessionDep, caller: CurrentUser, resource_id: str,
         max_height: Annotated[int | None, Query(ge=144, le=4320)] = None,
         t: Annotated[str | None, Query(max_length=32, description=(
             "Start playback here, in seconds from the start (e.g. a subtitle hit's `at_s`); "
             "a number from 0 to the video's duration, else 422 `playback.invalid_start`"))] = None) -> dict[str, Any]:
    state = request.app.state
    return service.play(session, actor=caller, resource_id=resource_id, max_height=max_height,
                        store=state.blob_store, secret=state.settings.keys.playback,
                        api_url=state.settings.public_api_url, t=t)


@router.post("/resources/{resource_id}/play/progress", response_model=PlayRecorded)
def play_progress(session: SessionDep, caller: CurrentUser, resource_id: str, body: PlayProgress) -> PlayRecorded:
    """A player reports the seconds watched in its play (first without play_id, then with the one returned)."""
    play = service.record_progress(session, actor=caller, resource_id=resource_id, play_id=body.play_id,
                                   seconds=body.seconds, classroom=body.classroom)
    session.commit()
    return PlayRecorded(play_id=play.id, seconds=play.seconds)


def _master_facts(connection: Connection, grant: PlayGrant) -> tuple[int, list[subtitles.PlayableTrack], bool]:
    """What a master is made from besides the manifest, once the link is checked: the school's
    active plays now, the lesson's subtitle tracks and whether the school plays through an edge."""
    links.check(connection, resource_id=grant.resource_id, epoch=grant.epoch)
    edge = service.behind_edge(connection, school_id=grant.school_id)
    return (service.active_plays(connection, school_id=grant.school_id, edge=edge),
            subtitles.tracks_of(connection, resource_id=grant.resource_id), edge)


@router.get("/play/{token}/v/{version}/check", include_in_schema=False, status_code=204)
async def check(request: Request, token: str, version: str) -> Response:
    """A school edge asks, before serving a cached file of `version` to this token: 204 while the
    token may read that version (signature, expiry, link epoch), with how long the edge may keep
    that answer (service.edge_check_life); 403 otherwise."""
    grant = verify(token, secret=request.app.state.settings.keys.playback)
    if not grant.version or version != grant.version:
        raise InvalidPlaybackToken()
    await read_on_connection(request, lambda connection: links.check(connection, resource_id=grant.resource_id,
                                                                     epoch=grant.epoch))
    return Response(status_code=204, headers={"Cache-Control": f"max-age={service.edge_check_life(grant)}"})


@router.get("/play/{token}/{path:path}", include_in_schema=False)
async def serve(request: Request, token: str, path: str,
                filename: Annotated[str | None, Query(max_length=255)] = None) -> Response:
    # Async, with the one blocking step (reading a playlist) on a worker thread: a segment is a
    # signature check, one primary-key lookup and a presigned URL, with no thread hop.
    store = request.app.state.blob_store
    grant = verify(token, secret=request.app.state.settings.keys.playback)
    checked = service.checked_path(path)
    path = service.unversioned_path(grant, checked)
    # The master is made per grant, never under a version (an edge would keep it for everyone).
    if path == "master.m3u8" and checked == path:
        # The start rung is chosen now, from the plays of the school active at this moment: the
        # classrooms that asked for /play just after this one count too.
        plays, tracks, edge = await read_on_connection(request, lambda connection: _master_facts(connection, grant))
        return Response(await run_in_threadpool(service.master_playlist, store, grant, subtitles.renditions(tracks),
                                                plays=plays, behind_edge=edge),
                        media_type=service.PLAYLIST_TYPE, headers={"Cache-Control": _PLAYLIST_CACHE, **ANY_ORIGIN})
    await read_on_connection(request, lambda connection: links.check(connection, resource_id=grant.resource_id,
                                                                     epoch=grant.epoch))
    if path.startswith(subtitles.PLAY_PREFIX):
        found = await read_on_connection(request, lambda connection: subtitles.locate(
            connection, resource_id=grant.resource_id, path=path))
        text, media_type = await run_in_threadpool(service.subtitle_file, store, grant, found)
        return Response(text, media_type=media_type, headers={"Cache-Control": _PLAYLIST_CACHE, **ANY_ORIGIN})
    if path.endswith(".m3u8"):
        return Response(await run_in_threadpool(service.media_playlist, store, grant, path),
                        media_type=service.PLAYLIST_TYPE, headers={"Cache-Control": _PLAYLIST_CACHE, **ANY_ORIGIN})
    # Anything else under the grant (a segment asked for by a relative URI, the poster, the
    # download): where the store serves it, for minutes.
    return RedirectResponse(service.file_url(store, f"{grant.prefix}/{path}", filename=filename), status_code=307,
                            headers={"Cache-Control": "private, no-store", **ANY_ORIGIN})

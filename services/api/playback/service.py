"""Playback: which rendition a caller gets, the master playlist made for their link, and media
playlists a standard player can follow on either storage backend."""
from __future__ import annotations

import hashlib
import json
import math
import re
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.orm import Session

from services.api.auth.principal import Principal
from services.api.blobs.errors import BlobMissing
from services.api.orgs.models import School
from services.api.playback.errors import InvalidPlaybackToken, InvalidStartTime, NotPlayable, PlayNotFound
from services.api.playback.models import ActivePlay, PlayRecord
from services.api.playback.tokens import PlayGrant, sign
from services.api.resources import links
from services.api.resources import service as resources
from services.api.resources.errors import RenditionUnreadable
from services.api.resources.models import Asset
from services.api.resources.renditions import rendition_of
from services.api.stats import snapshots as participation_snapshots
from services.api.subtitles import service as subtitle_service
from services.common import hls, subtitles
from services.common.db import utcnow
from services.common.ids import new_id
from services.common.jobs import JobKind
from services.common.renditions import MANIFEST, HlsOutput, ResultInvalid, Track, Variant, read_manifest
from services.common.storage import BlobNotFound, BlobStore

PLAY_TTL_S = 4 * 3600  # a lesson with pauses; a player asks again once it expires
# A variant fits a school's link when its peak needs at most this share of it: the link is
# shared, and a player that starts too high stalls before it adapts down.
LINK_SHARE = 0.8
# The platform's players start once START_BUFFER_S seconds of a lesson are buffered (the console's
# startup.js; the ladder's two short first segments: tests/transcoder/test_startup_rule.py). The
# first variant listed must bring those seconds within START_FETCH_S at the play's share of the
# link, so a classroom plays about 3 s after asking, round trips included. A variant that merely
# streams in real time at that share (the rule before) could take 3.2 s for those 4 s alone
# (docs/design.md, "A start that fits a shared link"). The players' ABR climbs from there.
START_BUFFER_S = 4
START_FETCH_S = 2
# ...and that link is divided among the school's plays active now: one opened within the last
# ACTIVE_PLAY_S (a player asks for its master and first segments at once), or whose player
# reported progress within it (players report at least every 30 s). docs/design.md, "A start
# that fits a shared link".
ACTIVE_PLAY_S = 60
PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
# Preferred in this order: the full ladder, then the stream-copied first playable.
_RENDITION_ORDER = (JobKind.ladder, JobKind.first_playable)
_MAIN_ROLES = ("main", "presenter")
# A play's watched seconds are capped at a school day: a player's bad clock counts for no more.
MAX_PLAY_SECONDS = 8 * 3600
# How long a school edge may keep the API's yes to a token (GET /play/{token}/v/{version}/check):
# a revoked link (resources/links.py) stops at the edge within this. A minute is well inside the
# STORAGE_URL_TTL_S a storage URL already outlives a revocation by on the direct path, and costs
# one small request per classroom per minute over the school's link.
EDGE_CHECK_TTL_S = 60
# Where a rendition's immutable files are asked for: `v/{version}/{file}` under the play route.
VERSIONED = "v"
# A master made for a school behind an edge names, on the variant its players start on, the
# segments holding their start (START_BUFFER_S from where the play starts), as `?warm0=..` up to
# `warm{EDGE_WARM_SEGMENTS - 1}`: the edge fetches them into its cache as soon as a classroom asks
# for that playlist, so ten classrooms starting together find them there rather than each waiting
# on nginx's cache lock, re-checked every 500 ms (infra/edge/, docs/design.md "The school edge").
EDGE_WARM_SEGMENTS = 3
_WARMABLE = re.compile(r"[0-9A-Za-z][0-9A-Za-z_.-]*")  # a file beside its playlist (the edge's rule too)
# A held playlist's name, in its start rung's directory: `held-{steady rung}-{first}-{end}.m3u8`.
HELD_PREFIX = "held-"
_RUNG_DIR = re.compile(r"[0-9A-Za-z_]{1,16}")
_HELD = re.compile(rf"{HELD_PREFIX}(?P<steady>{_RUNG_DIR.pattern})-(?P<first>[0-9]{{1,6}})-(?P<end>[0-9]{{1,6}})\.m3u8")


def play(session: Session, *, actor: Principal, resource_id: str, max_height: int | None, store: BlobStore,
         secret: bytes, api_url: str, t: str | None = None) -> dict[str, Any]:
    resource = resources.get_visible(session, actor=actor, resource_id=resource_id)
    asset, rendition = _playable(resource.assets)
    start_s = start_time(t, duration_s=asset.duration_s)
    school = session.get(School, actor.school_id) if actor.school_id else None
    link_bps = int(school.bandwidth_kbps * 1000 * LINK_SHARE) if school else 0
    track = rendition.default_track
    grant = PlayGrant(prefix=rendition.prefix, track=track, start_bps=link_bps, max_height=max_height or 0,
                      expires=int(time.time()) + PLAY_TTL_S, resource_id=resource.id, epoch=resource.link_epoch,
                      school_id=school.id if school else "",
                      version=rendition_version(asset_id=asset.id, rendition=rendition),
                      start_ms=round(start_s * 1000) if start_s else 0)
    # The play's writes, in one transaction that begins with its first write (a GET's session
    # reads concurrently: services.common.db.write_apart): the view, counted with a closed
    # semester's stored figures (stats/snapshots.py; no version bump: a view is not a change
    # search must be told of at once), then the school's active plays. One transaction, not two:
    # on SQLite ten classrooms starting together queue for the write lock once each.
    session.commit()  # what was read
    participation_snapshots.count_play(session, resource_id=resource.id)
    plays = _open_play(session, resource_id=resource.id, user_id=actor.user_id, school_id=grant.school_id)
    session.commit()
    budget = start_budget(link_bps=link_bps, plays=plays)
    variants = listed_variants(rendition.tracks[track], replace(grant, start_bps=budget))
    poster, download = rendition.poster, rendition.tracks[track].download
    # Poster and download go through the play route too, so the grant's link epoch is checked
    # before a storage URL is minted (resources/links.py).
    # A school with an edge cache plays through it (infra/edge/): same paths, its host.
    base = f"{school.edge_url if school and school.edge_url else api_url}/api/v1/play/{sign(grant, secret=secret)}"
    filename = quote(f"{PurePosixPath(asset.filename).stem}.mp4")
    return {
        "hls_url": f"{base}/master.m3u8",
        "poster_url": f"{base}/{VERSIONED}/{grant.version}/{poster}" if poster else None,
        "download_url": (f"{base}/{download}?filename={filename}"
                         if download else f"{api_url}/api/v1/resources/{resource.id}/assets/{asset.id}/download"),
        "renditions": [{"height": v.height, "bandwidth": v.bandwidth} for v in variants],
        "complete": rendition.job == JobKind.ladder.value,
        "start_s": start_s,
        "subtitles": [{"language": r.language, "name": r.name, "default": r.default}
                      for r in subtitle_service.renditions(subtitle_service.tracks_of(session.connection(),
                                                                                      resource_id=resource.id))],
    }


def start_time(raw: str | None, *, duration_s: float | None) -> float | None:
    """`t` as seconds from the start (e.g. a subtitle hit's `at_s`): a finite number from 0 to
    the video's duration, or a 422 that says which."""
    if raw is None or raw == "":
        return None
    duration = f"{duration_s:g} s" if duration_s else "?"
    try:
        value = float(raw)
    except ValueError:
        raise InvalidStartTime(duration=duration, reason=f"{raw[:32]!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise InvalidStartTime(duration=duration, reason=f"{raw[:32]!r} is not a time in the video")
    if duration_s and value > duration_s:
        raise InvalidStartTime(duration=duration, reason=f"{value:g} s is past the end")
    return round(value, 3)


def rendition_version(*, asset_id: str, rendition: HlsOutput) -> str:
    """Names a rendition's content: `{asset id}.{digest of its commit record}` (the manifest the
    transcoder writes last, with its prefix, file list, byte count and measured variants), so a
    file asked for as `v/{version}/{path}` is the same bytes for every caller and forever. A rerun
    that rewrites the files writes a new record, hence a new version. The asset id lets an edge
    find what an offline pack of that asset put in its warm root (docs/design.md)."""
    digest = hashlib.sha256(json.dumps(rendition.stored(), sort_keys=True, ensure_ascii=False, default=str).encode())
    return f"{asset_id}.{digest.hexdigest()[:24]}"


def start_budget(*, link_bps: int, plays: int) -> int:
    """The peak bandwidth the first variant of one play may have (0: no limit): the school's link
    budget shared equally by its active plays, scaled so START_BUFFER_S seconds of the variant
    arrive within START_FETCH_S."""
    return link_bps * START_FETCH_S // (START_BUFFER_S * max(1, plays))


def _open_play(session: Session, *, resource_id: str, user_id: str, school_id: str) -> int:
    """Opens an active play for the school and returns how many of the school's plays are active
    now, this one included, in the caller's writing transaction (`play`: the view is counted in
    it first, by `count_play`), which the caller commits.

    The new row, then the school's row lock, then the count: so plays starting at the same
    instant are counted one after the other and each sees every play opened before it.
    (PostgreSQL: the count runs after the lock is granted, so it sees what the holder committed;
    FOR NO KEY UPDATE, as the insert's foreign key holds FOR KEY SHARE on the school. SQLite: the
    transaction's first write took the database's write lock for all of it.) A player
    asking for its master moments later counts again (`active_plays`), and then also sees the
    plays opened after its own."""
    if not school_id:
        return 1
    now = utcnow()
    session.execute(insert(ActivePlay).values(id=new_id(), school_id=school_id, user_id=user_id,
                                              resource_id=resource_id, seen_at=now))
    session.execute(select(School.id).where(School.id == school_id).with_for_update(key_share=True))
    horizon = now - timedelta(seconds=ACTIVE_PLAY_S)
    session.execute(delete(ActivePlay).where(ActivePlay.school_id == school_id, ActivePlay.seen_at < horizon)
                    .execution_options(synchronize_session=False))
    connection = session.connection()
    return _count_active(connection, school_id=school_id, now=now, edge=behind_edge(connection, school_id=school_id))


def active_plays(connection: Connection, *, school_id: str, edge: bool) -> int:
    """How many of the school's plays share its link now (at least one: the caller's); `edge`:
    whether the school plays through one (`behind_edge`, which the caller also needs)."""
    return max(1, _count_active(connection, school_id=school_id, now=utcnow(), edge=edge)) if school_id else 1


def _count_active(connection: Connection, *, school_id: str, now: Any, edge: bool) -> int:
    """The school's plays sharing its link now. Behind an edge cache (schools.edge_url) plays of
    one lesson fetch its segments over the link once, so they count as one."""
    horizon = now - timedelta(seconds=ACTIVE_PLAY_S)
    counted = func.count(ActivePlay.resource_id.distinct()) if edge else func.count()
    return connection.scalar(select(counted).select_from(ActivePlay)
                             .where(ActivePlay.school_id == school_id, ActivePlay.seen_at >= horizon)) or 0


def behind_edge(connection: Connection, *, school_id: str) -> bool:
    """Whether the school plays through an edge cache of its own (schools.edge_url)."""
    return bool(school_id) and connection.scalar(select(School.edge_url).where(School.id == school_id)) is not None


def _playable(assets: list[Asset]) -> tuple[Asset, HlsOutput]:
    """The main video asset (the presenter's, for a recording) and its best rendition."""
    videos = sorted((a for a in assets if a.category == "video"), key=lambda a: a.role not in _MAIN_ROLES)
    for asset in videos:
        for job in _RENDITION_ORDER:
            rendition = rendition_of(asset, job, HlsOutput)
            if rendition is not None and rendition.tracks:
                return asset, rendition
    raise NotPlayable()


def listed_variants(track: Track, grant: PlayGrant) -> list[Variant]:
    """The track's variants as the master lists them: the one that fits the link first, the
    others from the top down, then the audio-only variant."""
    video = sorted(track.variants, key=lambda v: v.bandwidth, reverse=True)
    if grant.max_height:
        video = [v for v in video if (v.height or 0) <= grant.max_height] or video[-1:]
    fits = [v for v in video if not grant.start_bps or v.bandwidth <= grant.start_bps]
    start = fits[0] if fits else video[-1]
    ordered = [start, *(v for v in video if v is not start)]
    return ordered + ([track.audio] if track.audio else [])


def record_progress(session: Session, *, actor: Principal, resource_id: str, play_id: str | None, seconds: int,
                    classroom: str) -> PlayRecord:
    """Watched time as players report it (the pairing report counts the assisted school's).
    Seconds only grow: a repeated or late report changes nothing. Each report also keeps the
    play active on its school's link (`_keep_active`)."""
    resource = resources.get_visible(session, actor=actor, resource_id=resource_id)
    if play_id is None:
        play = PlayRecord(resource_id=resource.id, user_id=actor.user_id, school_id=actor.school_id,
                          classroom=classroom, seconds=seconds)
        session.add(play)
    else:
        play = session.get(PlayRecord, play_id)
        if play is None or play.user_id != actor.user_id or play.resource_id != resource.id:
            raise PlayNotFound()
        play.seconds = max(play.seconds, seconds)
    session.flush()
    if play.school_id:
        _keep_active(session, play=play, opened=play_id is None)
    return play


def _keep_active(session: Session, *, play: PlayRecord, opened: bool) -> None:
    """A play's first report takes over the active play its player was handed (the caller's
    newest unclaimed one for the resource); later reports refresh that one. A play whose active
    row is gone (stale, then deleted) gets a new one: it is sharing the link again."""
    if opened:
        # SKIP LOCKED (PostgreSQL): two first reports at once take two rows, not the same one.
        query = (select(ActivePlay).where(ActivePlay.user_id == play.user_id,
                                          ActivePlay.resource_id == play.resource_id, ActivePlay.play_id.is_(None))
                 .order_by(ActivePlay.seen_at.desc()).limit(1).with_for_update(skip_locked=True))
    else:
        query = select(ActivePlay).where(ActivePlay.play_id == play.id).limit(1)
    active = session.scalar(query)
    if active is None:
        active = ActivePlay(school_id=play.school_id, user_id=play.user_id, resource_id=play.resource_id)
        session.add(active)
    active.play_id, active.seen_at = play.id, utcnow()
    session.flush()


# --------------------------------------------------------------------------- the play route

def master_playlist(store: BlobStore, grant: PlayGrant,
                    subtitle_renditions: list[subtitles.SubtitleRendition] | None = None, *, plays: int = 1,
                    behind_edge: bool = False) -> str:
    """The master for a grant whose school has `plays` active plays now (`active_plays`): its
    first variant fits the school's link budget shared among them; with the lesson's subtitle
    renditions and the grant's start time. Behind an edge, the first variant names the segments
    of the start for the edge to warm (EDGE_WARM_SEGMENTS)."""
    manifest = _manifest(store, grant.prefix)
    try:
        track = manifest.tracks[grant.track]
    except IndexError:
        raise InvalidPlaybackToken() from None
    budget = start_budget(link_bps=grant.start_bps, plays=plays)
    variants = listed_variants(track, replace(grant, start_bps=budget))
    warm: list[str] = []
    if behind_edge and grant.version:
        variants, warm = _edge_variants(store, grant, track, variants, plays=plays)
    if grant.version:
        # Under the version, so the media playlists' relative segment URIs carry it too.
        variants = [v.model_copy(update={"uri": f"{VERSIONED}/{grant.version}/{v.uri}"}) for v in variants]
    if warm:
        query = "&".join(f"warm{n}={uri}" for n, uri in enumerate(warm))
        variants[0] = variants[0].model_copy(update={"uri": f"{variants[0].uri}?{query}"})
    master = hls.master_playlist(variants)
    if subtitle_renditions or grant.start_ms:
        master = subtitles.with_subtitles(master, subtitle_renditions or [],
                                          start_s=grant.start_ms / 1000 if grant.start_ms else None)
    return master


def _edge_variants(store: BlobStore, grant: PlayGrant, track: Track, variants: list[Variant], *,
                   plays: int) -> tuple[list[Variant], list[str]]:
    """What a master made for a school behind an edge lists, and the start's segments it names for
    the edge to warm (plain file names beside the first variant's playlist, else none).

    Held to one rung: the first variant is a held playlist (`hls.held_playlist`), the start rung's
    segments for the start window and, everywhere else, the highest rung the school's link carries
    for the lessons playing through its edge now (`steady_variant`). The only other rungs listed
    are the lowest, a floor for a player that cannot keep up (a failing link, a slow PC) that adds
    the least to the link, and audio. A player's rate estimate behind an edge measures the LAN or
    its own CPU, not the link: a classroom served from the cache climbs, the one whose requests are
    the cache's misses sees the link shared with those and stays low, a starved browser measures
    small segments slowly and drops a rung, and every rung played crosses the link (docs/design.md,
    "The school edge"). When no rung above the start rung fits the link, the master holds to the
    start rung the same way (it and the floor). A master whose playlists cannot be read or do not
    line up lists the ladder as for any school: this is help, never a reason to fail."""
    start = variants[0]
    try:
        start_text = _read_text(store, f"{grant.prefix}/{start.uri}")
    except BlobMissing:
        return variants, []
    segments = hls.media_segments(start_text)
    first, end = start_window(segments, start_s=grant.start_ms / 1000)
    names = [uri for _, uri in segments[first:end]]
    warm = names if all(_WARMABLE.fullmatch(name) for name in names) else []
    steady = steady_variant(variants, link_bps=grant.start_bps // max(1, plays))
    floor = min((v for v in variants if v.height), key=lambda v: v.bandwidth)
    audio = [v for v in variants if not v.height]
    if steady is None or steady.bandwidth <= start.bandwidth:
        # Nothing above the start rung fits the link: held to it, with the floor below.
        return [start, *([floor] if floor is not start else []), *audio], warm
    if not warm:
        return variants, warm
    start_dir, steady_dir = PurePosixPath(start.uri).parent, PurePosixPath(steady.uri).parent
    if start_dir.parent != steady_dir.parent or not _RUNG_DIR.fullmatch(steady_dir.name):
        return variants, warm
    try:
        steady_text = _read_text(store, f"{grant.prefix}/{steady.uri}")
    except BlobMissing:
        return variants, warm
    if hls.held_playlist(start_text, steady_text, steady_dir=steady_dir.name, first=first, end=end) is None:
        return variants, warm
    held = steady.model_copy(update={"uri": f"{start_dir}/{HELD_PREFIX}{steady_dir.name}-{first}-{end}.m3u8"})
    return [held, floor, *audio], warm


def steady_variant(variants: list[Variant], *, link_bps: int) -> Variant | None:
    """The highest video variant whose peak fits `link_bps` (0: no limit), of those listed."""
    fitting = [v for v in variants if v.height and (not link_bps or v.bandwidth <= link_bps)]
    return max(fitting, key=lambda v: v.bandwidth, default=None)


def start_window(segments: list[tuple[float, str]], *, start_s: float) -> tuple[int, int]:
    """[first, end) of the segments a player buffers before it plays: START_BUFFER_S from
    `start_s`, at most EDGE_WARM_SEGMENTS; empty when `start_s` is at the end."""
    clock, first = 0.0, None
    for index, (duration, _) in enumerate(segments):
        clock += duration
        if clock <= start_s:
            continue
        first = index if first is None else first
        if clock >= start_s + START_BUFFER_S or index + 1 - first == EDGE_WARM_SEGMENTS:
            return first, index + 1
    return (first, len(segments)) if first is not None else (0, 0)


def unversioned_path(grant: PlayGrant, path: str) -> str:
    """A file path asked for under `v/{version}/`, as stored under the grant's prefix. A version
    other than the grant's is refused: an edge keys its cache by version and path, so the API
    must never answer for one version with another's bytes."""
    if not path.startswith(f"{VERSIONED}/"):
        return path
    _, version, rest = path.split("/", 2) if path.count("/") >= 2 else (None, None, "")
    if not grant.version or version != grant.version or not rest:
        raise InvalidPlaybackToken()
    return rest


def edge_check_life(grant: PlayGrant, *, now: float | None = None) -> int:
    """Seconds an edge may keep a yes for this grant: its remaining life, at most EDGE_CHECK_TTL_S."""
    remaining = grant.expires - int(now if now is not None else time.time())
    return max(0, min(remaining, EDGE_CHECK_TTL_S))


def media_playlist(store: BlobStore, grant: PlayGrant, path: str) -> str:
    """A media playlist as stored: its segment (and init segment) URIs are relative, so a player
    asks the play route for each, which checks the grant's link epoch and redirects to a storage
    URL living minutes. Presigning them here, valid as long as the grant, saved that hop but made
    a revoked link play on for hours."""
    held = _HELD.fullmatch(PurePosixPath(path).name)
    if held is not None:
        return _held_text(store, grant, path, held)
    return _read_text(store, f"{grant.prefix}/{path}")


def _held_text(store: BlobStore, grant: PlayGrant, path: str, held: re.Match[str]) -> str:
    """A held playlist the master named (`_edge_variants`), made again from the two rungs' stored
    playlists: the same name always gives the same text, so an edge caches it under the version
    like any stored file. A name that does not make one is a missing file."""
    start_dir = PurePosixPath(path).parent
    steady_dir = start_dir.parent / held["steady"]
    playlists = {PurePosixPath(v.uri).parent: v.uri for track in _manifest(store, grant.prefix).tracks
                 for v in track.variants}
    if start_dir not in playlists or steady_dir not in playlists:
        raise BlobMissing()
    text = hls.held_playlist(_read_text(store, f"{grant.prefix}/{playlists[start_dir]}"),
                             _read_text(store, f"{grant.prefix}/{playlists[steady_dir]}"),
                             steady_dir=held["steady"], first=int(held["first"]), end=int(held["end"]))
    if text is None:
        raise BlobMissing()
    return text


def subtitle_file(store: BlobStore, grant: PlayGrant, found: subtitle_service.SubtitleFile) -> tuple[str, str]:
    """A subtitle playlist or WebVTT file of the grant's resource; the WebVTT is anchored where
    the grant's video segments start, so cues show at their times in every rendition."""
    mpegts = _segments_start(store, grant) if found.extension == "vtt" else None
    return subtitle_service.render(store, found, mpegts=mpegts)


def _segments_start(store: BlobStore, grant: PlayGrant) -> int | None:
    """The first PTS of the first segment of the grant's first variant (all variants of a ladder
    start together). None when it cannot be read: the WebVTT is then served unanchored."""
    try:
        track = _manifest(store, grant.prefix).tracks[grant.track]
        playlist = PurePosixPath(track.variants[0].uri)
        first = next(line for line in _read_text(store, f"{grant.prefix}/{playlist}").splitlines()
                     if line.strip() and not line.startswith("#"))
        head = b"".join(store.open(f"{grant.prefix}/{playlist.parent / first.strip()}", start=0, end=188 * 400 - 1))
    except (BlobMissing, BlobNotFound, RenditionUnreadable, IndexError, StopIteration, ValueError):
        return None
    return subtitles.first_pts(head)


def file_url(store: BlobStore, key: str, *, filename: str | None = None) -> str:
    """Where the store serves a file under a checked grant: S3 itself, or on local disk the signed
    blob route (Range, ETag, cache headers)."""
    return store.presigned_get_url(key, expires_s=links.STORAGE_URL_TTL_S, filename=filename)


def checked_path(path: str) -> str:
    """A file path inside the grant's prefix, or the token is refused."""
    parts = PurePosixPath(path).parts
    if not parts or path.startswith("/") or any(part in ("..", ".") for part in parts) or "\\" in path:
        raise InvalidPlaybackToken()
    return path


def _manifest(store: BlobStore, prefix: str) -> HlsOutput:
    """The HLS manifest published beside the renditions (the transcoder's own model)."""
    key = f"{prefix}/{MANIFEST}"
    try:
        manifest = read_manifest(_read_text(store, key).encode("utf-8"), where=key)
    except ResultInvalid as error:
        raise RenditionUnreadable(where=error.where, problem=error.problem) from None
    if not isinstance(manifest, HlsOutput):
        raise RenditionUnreadable(where=key, problem=f"kind {manifest.kind!r}, not hls")
    return manifest


def _read_text(store: BlobStore, key: str) -> str:
    try:
        return b"".join(store.open(key)).decode("utf-8")
    except BlobNotFound:
        raise BlobMissing() from None

"""Subtitle tracks: attached with the lesson's files (any path that attaches uploads: creating,
adding files, an approved revision, a recording classroom's push), served to players as an HLS
subtitle rendition, and read for search with their cue times.

The file is stored as uploaded (its checks ran when the upload ended, uploads/subtitles.py) and
turned into WebVTT when read: a sidecar is a few hundred KiB of text, parsing it is cheap, and
there is then no second copy to keep in step or to collect."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from services.api.resources.models import Asset, Resource, changed_for_search
from services.api.subtitles.errors import SubtitleBeyondVideo, SubtitleNeedsVideo, SubtitleNotFound
from services.api.subtitles.models import SubtitleTrack
from services.api.uploads.models import Blob, Upload
from services.common import subtitles
from services.common.db import PreparedQuery
from services.common.search import CueText
from services.common.storage import BlobNotFound, BlobStore

log = structlog.get_logger("subtitles")

ROLE = "subtitle"
CATEGORY = "subtitle"
# Cue text sent to search per resource: what the search service indexes at most
# (services/search/documents.MAX_CUE_CHARS); more would only weigh on the relay's batches.
MAX_SEARCH_CHARS = 60_000
# Where a subtitle's files sit under a playback grant (playback/router.py).
PLAY_PREFIX = "subtitles/"


def attach_track(session: Session, *, resource: Resource, asset: Asset, probe: dict[str, Any]) -> SubtitleTrack:
    """Makes a just-attached subtitle asset a track of the resource's video, replacing the track
    of the same language. Refused (and so the whole attach rolled back) without a video, or when
    the cues run past it. Search is told: the cues are part of the resource's document."""
    check_fits(videos=resource.assets, subtitle_probes=[probe])
    facts = probe.get("subtitle") or {}
    end_s = float(facts.get("end_s") or 0)
    language = facts.get("language") or subtitles.DEFAULT_LANGUAGE
    replaced = session.scalars(select(SubtitleTrack).where(SubtitleTrack.resource_id == resource.id,
                                                           SubtitleTrack.language == language)).all()
    for track in replaced:
        old = next((a for a in resource.assets if a.id == track.asset_id), None)
        session.delete(track)
        if old is not None:
            resource.assets.remove(old)  # its blob stays until `lb blobs gc` finds it unused
    session.flush()
    track = SubtitleTrack(resource_id=resource.id, asset_id=asset.id, language=language,
                          format=str(facts.get("format") or "vtt"), cue_count=int(facts.get("cues") or 0), end_s=end_s)
    session.add(track)
    changed_for_search(resource)
    return track


def check_fits(*, videos: list[Asset | Upload], subtitle_probes: list[dict[str, Any]]) -> None:
    """Refuses subtitles (their upload probes) that no video of `videos` (assets or uploads; other
    kinds of file are skipped) can carry: none at all, or all ending before the last cue."""
    if not subtitle_probes:
        return
    videos = [v for v in videos if v.category == "video"]
    if not videos:
        raise SubtitleNeedsVideo()
    durations = [d for v in videos if (d := v.duration_s if isinstance(v, Asset) else v.probe.get("duration_s"))]
    for probe in subtitle_probes:
        end_s = float((probe.get("subtitle") or {}).get("end_s") or 0)
        if durations and end_s > max(durations) + subtitles.END_SLACK_S:
            raise SubtitleBeyondVideo(end_s=f"{end_s:g}", duration_s=f"{max(durations):g}")


# --------------------------------------------------------------------------- playback

@dataclass(frozen=True)
class PlayableTrack:
    asset_id: str
    language: str
    blob_key: str


_TRACKS_OF = PreparedQuery(
    select(SubtitleTrack.asset_id, SubtitleTrack.language, Blob.key.label("blob_key"))
    .join(Asset, Asset.id == SubtitleTrack.asset_id).join(Blob, Blob.id == Asset.blob_id)
    .where(SubtitleTrack.resource_id == bindparam("resource_id"))
    .order_by(SubtitleTrack.created_at, SubtitleTrack.id))
_VIDEO_DURATION = PreparedQuery(
    select(Asset.duration_s).where(Asset.resource_id == bindparam("resource_id"), Asset.category == "video",
                                   Asset.duration_s.is_not(None)))


def tracks_of(connection: Connection, *, resource_id: str) -> list[PlayableTrack]:
    return [PlayableTrack(asset_id=r.asset_id, language=r.language, blob_key=r.blob_key)
            for r in _TRACKS_OF.rows(connection, {"resource_id": resource_id})]


def renditions(tracks: list[PlayableTrack]) -> list[subtitles.SubtitleRendition]:
    """The tracks as a master playlist lists them. Chinese (the platform's language) is the
    default when there is a Chinese track, else the first; players show the default at once."""
    default = next((t for t in tracks if t.language.split("-")[0] == "zh"), tracks[0] if tracks else None)
    return [subtitles.SubtitleRendition(uri=f"{PLAY_PREFIX}{t.asset_id}.m3u8", language=t.language,
                                        name=subtitles.language_name(t.language), default=t is default)
            for t in tracks]


def video_duration(connection: Connection, *, resource_id: str) -> float | None:
    durations = [d for (d,) in _VIDEO_DURATION.rows(connection, {"resource_id": resource_id})]
    return max(durations) if durations else None


@dataclass(frozen=True)
class SubtitleFile:
    """A file asked for under a grant's `subtitles/`, found in the database."""
    track: PlayableTrack
    extension: str               # m3u8 or vtt
    duration_s: float            # of the video, else of the cues


def locate(connection: Connection, *, resource_id: str, path: str) -> SubtitleFile:
    """`<asset_id>.m3u8` or `<asset_id>.vtt` of one of the resource's tracks, or a 404."""
    asset_id, _, extension = path.removeprefix(PLAY_PREFIX).rpartition(".")
    track = next((t for t in tracks_of(connection, resource_id=resource_id) if t.asset_id == asset_id), None)
    if track is None or extension not in ("m3u8", "vtt"):
        raise SubtitleNotFound()
    duration = video_duration(connection, resource_id=resource_id)
    if duration is None:
        duration = connection.scalar(select(SubtitleTrack.end_s).where(SubtitleTrack.asset_id == asset_id)) or 0.0
    return SubtitleFile(track=track, extension=extension, duration_s=duration)


def render(store: BlobStore, file: SubtitleFile, *, mpegts: int | None = None) -> tuple[str, str]:
    """(text, media type): the media playlist of one WebVTT segment lasting the whole video, or
    the cues as WebVTT (an SRT upload converted), anchored at `mpegts`, where the video's
    segments start (subtitles.to_webvtt). Reads blob storage: not on the event loop."""
    if file.extension == "m3u8":
        return (subtitles.subtitle_playlist(f"{file.track.asset_id}.vtt", duration_s=file.duration_s),
                "application/vnd.apple.mpegurl")
    return subtitles.to_webvtt(_parsed(store, file.track.blob_key), mpegts=mpegts), "text/vtt; charset=utf-8"


def _parsed(store: BlobStore, key: str) -> subtitles.Subtitle:
    try:
        return subtitles.parse(b"".join(store.open(key)))
    except BlobNotFound:
        raise SubtitleNotFound() from None


# --------------------------------------------------------------------------- search

def search_cues(session: Session, store: BlobStore, *, resource_ids: list[str]) -> dict[str, list[CueText]]:
    """Per resource, the cues of its subtitle tracks with their start times, for its search
    document. A file that cannot be read is skipped (and logged): search works without it."""
    out: dict[str, list[CueText]] = {}
    if not resource_ids:
        return out
    rows = session.execute(
        select(SubtitleTrack.resource_id, SubtitleTrack.asset_id, SubtitleTrack.language, Blob.key)
        .join(Asset, Asset.id == SubtitleTrack.asset_id).join(Blob, Blob.id == Asset.blob_id)
        .where(SubtitleTrack.resource_id.in_(resource_ids))
        .order_by(SubtitleTrack.resource_id, SubtitleTrack.created_at, SubtitleTrack.id)).all()
    budgets: dict[str, int] = {}
    for resource_id, asset_id, language, key in rows:
        cues = out.setdefault(resource_id, [])
        for cue in read_cues(store, key):
            text = cue.text
            budgets[resource_id] = budgets.get(resource_id, 0) + len(text)
            if budgets[resource_id] > MAX_SEARCH_CHARS:
                break
            if text:
                cues.append(CueText(at_s=round(cue.start_s, 3), text=text, language=language, asset_id=asset_id))
    return out


# --------------------------------------------------------------------------- screening

def blob_keys(session: Session, *, resource_ids: list[str]) -> dict[str, str]:
    """Where each subtitle asset of these resources is stored, by asset id."""
    if not resource_ids:
        return {}
    return dict(session.execute(select(Asset.id, Blob.key).join(Blob, Blob.id == Asset.blob_id).where(
        Asset.resource_id.in_(resource_ids), Asset.category == CATEGORY)).tuples().all())


def read_cues(store: BlobStore, key: str) -> tuple[subtitles.Cue, ...]:
    """A stored subtitle's cues; none (and a log line) when it cannot be read."""
    try:
        return subtitles.parse(b"".join(store.open(key))).cues
    except (BlobNotFound, subtitles.SubtitleInvalid) as error:
        log.warning("subtitle_unreadable", key=key, error=str(error))
        return ()

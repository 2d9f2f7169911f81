"""What each kind of job does: from a claimed job to outputs published in the store.

Outputs are made in a local scratch directory, then published under the job's deterministic
prefix (`media/{asset_id}/{kind}/`), with `manifest.json` written last as the commit record and
anything else under the prefix (the leftovers of an attempt killed mid-publish) removed. A rerun
therefore rewrites the same keys and never duplicates or orphans objects.
"""
from __future__ import annotations

import itertools
import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from services.common import media, sandbox
from services.common.jobs import Claim, JobFailed, JobKind, output_prefix
from services.common.hls import master_playlist as hls_master
from services.common.renditions import MANIFEST, HlsOutput, Output, Skipped, Storyboard, Track, manifest_json
from services.common.storage import BlobStore
from services.transcoder import documents, hls
from services.transcoder import screening
from services.transcoder.ffmpeg_run import run_ffmpeg, run_tool
from services.transcoder.ladder import download_command, first_playable_command, ladder_command, plan_for

POSTER_HEIGHT = 720
STORYBOARD_THUMB_WIDTH = 160
STORYBOARD_MAX_THUMBS = 100
STORYBOARD_COLUMNS = 10
# Camera tracks named like these are the presenter (teacher) view: the default to play.
PRESENTER_NAMES = ("presenter", "teacher", "教师", "老师")
_CONTENT_TYPES = {".m3u8": "application/vnd.apple.mpegurl", ".ts": "video/mp2t", ".mp4": "video/mp4",
                  ".jpg": "image/jpeg", ".vtt": "text/vtt; charset=utf-8", ".json": "application/json"}


@dataclass
class Work:
    """One attempt at a job, as a runner sees it."""

    claim: Claim
    store: BlobStore
    scratch: Path
    report: Callable[[float], None]  # progress, 0.0–1.0
    should_stop: Callable[[], bool]

    @property
    def prefix(self) -> str:
        return output_prefix(self.claim.asset_id, self.claim.kind)

    @property
    def media_type(self) -> str | None:
        return self.claim.source_media_type or None


def time_limit_s(duration_s: float, *, factor: float) -> float:
    """Generous for real lessons, finite for anything: a hung or pathological job ends."""
    return max(300.0, duration_s * factor)


# --------------------------------------------------------------------------- runners

def first_playable(work: Work) -> Output | Skipped:
    """An H.264 source packaged as HLS by stream copy, playable long before the ladder is done."""
    source = work.store.tool_source(work.claim.source_key)
    facts = _probe(work, source)
    track = facts.video[default_track(facts)]
    if track.codec != "h264":
        return Skipped(kind="hls", skipped=f"source video is {track.codec}, not H.264: wait for the ladder")
    out = _out(work)
    run_ffmpeg(first_playable_command(track, audio_codec=facts.audio_codec, source=source, out_dir=out,
                                      media_type=work.media_type),
               scratch=work.scratch, network=media.is_url(source), duration_s=facts.duration_s, time_limit_s=time_limit_s(facts.duration_s, factor=0.5),
               on_progress=lambda f: work.report(f * 0.95), should_stop=work.should_stop)
    variant = hls.measure_variant(out / "index.m3u8", name="source", uri="index.m3u8")
    manifest = HlsOutput(kind="hls", prefix=work.prefix, duration_s=facts.duration_s, default_track=0,
                         tracks=[Track(index=track.index, title=track.title, variants=[variant], audio=None,
                                       download=None)])
    return publish(work.store, prefix=work.prefix, out_dir=out, manifest=manifest)


def ladder(work: Work) -> Output:
    """Every camera track's ladder (one ffmpeg decode each), its audio-only variant and
    download MP4; the poster and storyboard of the default track."""
    source = work.store.tool_source(work.claim.source_key)
    facts = _probe(work, source)
    out = _out(work)
    default = default_track(facts)
    images_share = 0.05
    share = (1.0 - images_share) / len(facts.video)
    tracks = []
    for position, track in enumerate(facts.video):
        plan = plan_for(facts, track, keyframe_interval_s=keyframe_interval(
            source, track, scratch=work.scratch / "probe", media_type=work.media_type))
        track_dir = out / f"t{position}"
        track_dir.mkdir()
        run_ffmpeg(ladder_command(plan, source=source, out_dir=track_dir, media_type=work.media_type),
                   scratch=work.scratch, network=media.is_url(source), duration_s=facts.duration_s,
                   time_limit_s=time_limit_s(facts.duration_s, factor=4.0 * len(plan.rungs)),
                   on_progress=lambda f, base=position * share: work.report(base + f * share),
                   should_stop=work.should_stop)
        download_rung = next(rung.name for rung in plan.rungs if rung.height == plan.download_height)
        run_tool(download_command(track_dir / download_rung / "index.m3u8", track_dir / "download.mp4"),
                 scratch=work.scratch, time_limit_s=time_limit_s(facts.duration_s, factor=0.2))
        variants = [hls.measure_variant(track_dir / name / "index.m3u8", name=name, uri=f"t{position}/{name}/index.m3u8")
                    for name in plan.names]
        audio = (hls.measure_variant(track_dir / "audio" / "index.m3u8", name="audio",
                                     uri=f"t{position}/audio/index.m3u8") if plan.has_audio else None)
        # A static master of the whole ladder, for players outside the platform (offline packs).
        (track_dir / "master.m3u8").write_text(
            hls_master([v.model_copy(update={"uri": v.uri.split("/", 1)[1]})
                        for v in [*variants, *([audio] if audio else [])]]),
            encoding="utf-8")
        tracks.append(Track(index=track.index, title=track.title, variants=variants, audio=audio,
                            download=f"t{position}/download.mp4", copy_top=plan.copy_top))
    poster, storyboard = make_images(work, source, facts, facts.video[default], out)
    work.report(1.0 - images_share / 2)
    manifest = HlsOutput(kind="hls", prefix=work.prefix, duration_s=facts.duration_s, default_track=default,
                         tracks=tracks, poster=poster, storyboard=storyboard,
                         # Pre-screening of the track people will watch (black, frozen, silent), on its smallest rung.
                         checks=screening.ladder_checks(out, tracks[default], duration_s=facts.duration_s))
    return publish(work.store, prefix=work.prefix, out_dir=out, manifest=manifest)


def document(work: Work) -> Output:
    out = _out(work)
    with work.store.local_file(work.claim.source_key) as source:
        made = documents.document_outputs(source, work.claim.source_media_type, prefix=work.prefix,
                                          scratch=work.scratch, out=out)
    made = made.model_copy(update={"checks": screening.document_checks(out / made.text) if made.text else []})
    return publish(work.store, prefix=work.prefix, out_dir=out, manifest=made)


def image(work: Work) -> Output:
    out = _out(work)
    with work.store.local_file(work.claim.source_key) as source:
        made = documents.image_outputs(source, prefix=work.prefix, scratch=work.scratch, out=out)
    return publish(work.store, prefix=work.prefix, out_dir=out, manifest=made)


def audio(work: Work) -> Output:
    out = _out(work)
    source = work.store.tool_source(work.claim.source_key)
    made = documents.audio_outputs(source, _probe(work, source, need_audio=True), media_type=work.media_type,
                                   prefix=work.prefix, scratch=work.scratch, out=out, report=work.report,
                                   should_stop=work.should_stop)
    made = made.model_copy(update={"checks": screening.audio_checks(out / str(made.rendition),
                                                                    duration_s=made.duration_s or 0.0)})
    return publish(work.store, prefix=work.prefix, out_dir=out, manifest=made)


RUNNERS: dict[JobKind, Callable[[Work], Output | Skipped]] = {
    JobKind.first_playable: first_playable, JobKind.ladder: ladder, JobKind.document: document,
    JobKind.image: image, JobKind.audio: audio}


def _out(work: Work) -> Path:
    out = work.scratch / "out"
    out.mkdir(parents=True)
    return out


# --------------------------------------------------------------------------- pieces

def _probe(work: Work, source: str, *, need_audio: bool = False) -> media.MediaFacts:
    """The source's facts for a job (video, unless it is an audio job); bad media fails the job."""
    try:
        return media.probe(source, media_type=work.media_type, scratch=work.scratch / "probe",
                           need_video=not need_audio, need_audio=need_audio)
    except media.MediaProblem as problem:
        raise JobFailed(problem.reason) from None


def default_track(facts: media.MediaFacts) -> int:
    """The presenter's camera when a track is named so, else the first."""
    for position, track in enumerate(facts.video):
        if track.title and any(name in track.title.lower() for name in PRESENTER_NAMES):
            return position
    return 0


def keyframe_interval(source: str, track: media.VideoTrack, *, scratch: Path, media_type: str | None = None,
                      sample_s: int = 30) -> float | None:
    """The longest gap between keyframes in the first `sample_s` seconds (keyframes only are
    decoded, so this is quick); None when it cannot be told."""
    try:
        result = sandbox.run(["ffprobe", "-v", "error", "-select_streams", str(track.index), "-skip_frame", "nokey",
                              "-show_entries", "frame=pts_time", "-read_intervals", f"%+{sample_s}",
                              "-of", "csv=p=0", *media.input_args(source, media_type)],
                             scratch=scratch, network=media.is_url(source), text=True,
                             limits=sandbox.Limits(time_s=120, memory_bytes=2 * sandbox.GiB))
    except sandbox.SandboxTimeout:
        return None
    times = []
    for line in result.stdout.splitlines():
        try:
            times.append(float(line.strip().rstrip(",")))
        except ValueError:
            continue
    if result.returncode != 0 or len(times) < 2:
        return None
    return max(b - a for a, b in itertools.pairwise(times))


def make_images(work: Work, source: str, facts: media.MediaFacts, track: media.VideoTrack,
                out: Path) -> tuple[str, Storyboard]:
    """A poster, and a storyboard: one sprite of thumbnails with a WebVTT index for scrubbing."""
    at = min(facts.duration_s * 0.1, 10.0)
    poster_height = min(POSTER_HEIGHT, track.height - track.height % 2)
    network = media.is_url(source)
    run_tool(["ffmpeg", "-nostdin", "-v", "error", "-y", "-ss", f"{at:.3f}", *media.input_args(source, work.media_type),
              "-map", f"0:{track.index}", "-frames:v", "1", "-vf", f"scale=-2:{poster_height}",
              "-q:v", "3", str(out / "poster.jpg")], scratch=work.scratch, network=network, time_limit_s=300)
    interval = max(2, math.ceil(facts.duration_s / STORYBOARD_MAX_THUMBS))
    count = max(1, math.ceil(facts.duration_s / interval))
    rows = math.ceil(count / STORYBOARD_COLUMNS)
    width = STORYBOARD_THUMB_WIDTH
    height = max(2, round(width * track.height / track.width / 2) * 2)
    # Keyframes only are decoded: a storyboard of a 45-minute lesson costs seconds.
    run_tool(["ffmpeg", "-nostdin", "-v", "error", "-y", "-skip_frame", "nokey",
              *media.input_args(source, work.media_type), "-map", f"0:{track.index}", "-vf",
              f"fps=1/{interval},scale={width}:{height},tile={STORYBOARD_COLUMNS}x{rows}",
              "-frames:v", "1", "-q:v", "5", str(out / "storyboard.jpg")],
             scratch=work.scratch, network=network, time_limit_s=time_limit_s(facts.duration_s, factor=0.5))
    cues = ["WEBVTT", ""]
    for i in range(count):
        start, end = i * interval, min((i + 1) * interval, facts.duration_s)
        x, y = (i % STORYBOARD_COLUMNS) * width, (i // STORYBOARD_COLUMNS) * height
        cues += [f"{_vtt_time(start)} --> {_vtt_time(end)}", f"storyboard.jpg#xywh={x},{y},{width},{height}", ""]
    (out / "storyboard.vtt").write_text("\n".join(cues), encoding="utf-8")
    return "poster.jpg", Storyboard(image="storyboard.jpg", vtt="storyboard.vtt", interval_s=interval,
                                    thumb_width=width, thumb_height=height)


def _vtt_time(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}.{round((seconds - whole) * 1000):03d}"


def publish(store: BlobStore, *, prefix: str, out_dir: Path, manifest: Output) -> Output:
    """Uploads `out_dir` under `prefix`, then the manifest (the commit record), then removes
    whatever else is under the prefix. Returns the manifest, with its files."""
    files = sorted(path for path in out_dir.rglob("*") if path.is_file())
    keys = []
    for path in files:
        relative = path.relative_to(out_dir).as_posix()
        store.put_file(f"{prefix}/{relative}", path, content_type=_CONTENT_TYPES.get(path.suffix, "application/octet-stream"))
        keys.append(relative)
    manifest = manifest.model_copy(update={"files": keys, "bytes": sum(path.stat().st_size for path in files)})
    body = manifest_json(manifest)
    manifest_path = out_dir.parent / MANIFEST
    manifest_path.write_bytes(body)
    store.put_file(f"{prefix}/{MANIFEST}", manifest_path, content_type=_CONTENT_TYPES[".json"])
    remove_outputs(store, prefix, keep={f"{prefix}/{key}" for key in [*keys, MANIFEST]})
    return manifest


def remove_outputs(store: BlobStore, prefix: str, *, keep: frozenset[str] | set[str] = frozenset()) -> int:
    """Deletes everything under `prefix` except `keep`; returns how many objects went."""
    removed = 0
    for info in list(store.list(f"{prefix}/")):
        if info.key not in keep:
            store.delete(info.key)
            removed += 1
    return removed


def clear_scratch(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)

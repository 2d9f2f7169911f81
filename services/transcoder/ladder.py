"""The HLS ladder: which rungs a source gets, and the one ffmpeg command that makes them all.

Choices (docs/design.md, "Video ladder"):
* One decode feeds every rung (split + scale, each rung scaled from the one above it); the
  download MP4 is the 480p (or lower) rung remuxed, not a second encode.
* Capped CRF: CRF decides quality, `maxrate`/`bufsize` cap the peaks. Static classroom footage
  then costs far fewer bits than the cap; a busy scene never exceeds it.
* Short first segments, then 4 s ones: keyframes forced at the segment boundaries only, the same
  times in every rung (no scene-cut keyframes), so a player can switch rungs at any boundary. The
  first INIT_SEGMENTS segments last INIT_SEGMENT_S (2 s each), so a player starting on a slow link
  fetches little before the first frame (issue 18; docs/design.md, "A start that fits a shared
  link"); after them every segment is one 4 s GOP. ffmpeg's `-hls_init_time` would do this for a
  live list, but in a VOD playlist (every segment kept) it makes *every* segment short, so the
  boundaries come from the forced keyframes instead: with `-hls_time` at the short length the
  muxer cuts at every keyframe. A stream-copied top rung keeps the source's keyframes (and 4 s
  segments): its GOPs cannot be shortened without an encode.
* MPEG-TS segments, not fMP4: the players in rural schools include old Android tablets and
  set-top boxes whose HLS support predates fMP4 (HLS version 7); every H.264/AAC HLS client
  plays TS. The cost is muxing overhead: each video frame is its own PES, padded to whole
  188-byte packets, about 40 kbit/s at 25 fps (measured at 240p), a few % on the upper rungs.
* The 240p rung must fit 192 kbit/s *including* audio and TS overhead: 90 kbit/s video cap,
  32 kbit/s mono AAC-LC (the native encoder has no HE-AAC), + ~40 kbit/s TS. Measured on the
  testsrc2 worst case: 162 kbit/s average, 176 peak (docs/benchmarks.md).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from services.common.media import MediaFacts, VideoTrack, input_args
from services.transcoder.ffmpeg_run import FFMPEG_WITH_PROGRESS

SEGMENT_S = 4
INIT_SEGMENT_S = 2
INIT_SEGMENTS = 2
# MPEG-TS costs headers on every 188-byte packet, PES headers, PCR and tables (~8 %), and pads
# each video frame's last packet (~40 kbit/s at 25 fps): measured on the ladder's segments.
TS_OVERHEAD = 1.08
TS_PADDING_BPS = 40_000
KEYFRAME_S = 2  # the keyframe interval before short first segments (bench/transcode.py's baseline)
# Keyframes (and so segment boundaries) at 0, 2, then every SEGMENT_S: 4, 8, 12, ... (2 s, not 1:
# hls.js starts playing on its first segment, and with 1 s of buffer it stalled; bench/weaklink.py)
INIT_END_S = INIT_SEGMENT_S * INIT_SEGMENTS
SHORT_START_KEYFRAMES = (f"expr:if(lt(t,{INIT_END_S}),gte(t,n_forced*{INIT_SEGMENT_S}),"
                         f"gte(t,{INIT_END_S}+(n_forced-{INIT_SEGMENTS})*{SEGMENT_S}))")
MAX_OUTPUT_FPS = 30.0
DOWNLOAD_MAX_HEIGHT = 480


@dataclass(frozen=True)
class Rung:
    name: str
    height: int
    video_kbps: int  # maxrate: the cap on the encoded video
    crf: int
    profile: str
    audio_kbps: int
    audio_channels: int

    @property
    def bufsize_kbps(self) -> int:
        return self.video_kbps * 2  # a 2 s window: one keyframe interval

    @property
    def cap_bps(self) -> int:
        """What the rung's segments may average: the encoders' caps plus MPEG-TS overhead."""
        return int((self.video_kbps + self.audio_kbps) * 1000 * TS_OVERHEAD + TS_PADDING_BPS)


RUNGS = (
    Rung("1080p", 1080, 3000, 23, "high", 96, 2),
    Rung("720p", 720, 1600, 23, "high", 96, 2),
    Rung("480p", 480, 800, 24, "main", 64, 2),
    Rung("360p", 360, 450, 25, "main", 64, 2),
    Rung("240p", 240, 90, 27, "baseline", 32, 1),
)
AUDIO_ONLY_KBPS = 48
# The top rung is stream-copied when the source already is what we would make of it (within
# its video cap, so a copied rung keeps the cap too).
COPY_MAX_KEYFRAME_INTERVAL_S = 2.5


@dataclass(frozen=True)
class Plan:
    track: VideoTrack
    rungs: list[Rung]
    output_fps: float | None  # None: keep the source's
    copy_top: bool
    has_audio: bool
    download_height: int

    @property
    def names(self) -> list[str]:
        return [rung.name for rung in self.rungs]


def plan_for(facts: MediaFacts, track: VideoTrack, *, keyframe_interval_s: float | None) -> Plan:
    """The rungs for one camera track: never upscaled, the smallest source still gets one."""
    rungs = [rung for rung in RUNGS if rung.height <= track.height]
    if not rungs:
        smallest = RUNGS[-1]
        rungs = [Rung(f"{_even(track.height)}p", _even(track.height), smallest.video_kbps, smallest.crf,
                      smallest.profile, smallest.audio_kbps, smallest.audio_channels)]
    fps = track.fps or 25.0
    output_fps = None if fps <= MAX_OUTPUT_FPS else (fps / 2 if fps <= 2 * MAX_OUTPUT_FPS else MAX_OUTPUT_FPS)
    top = rungs[0]
    copy_top = (track.codec == "h264" and track.height == top.height and output_fps is None
                and track.bit_rate is not None and track.bit_rate <= top.video_kbps * 1000
                and keyframe_interval_s is not None and keyframe_interval_s <= COPY_MAX_KEYFRAME_INTERVAL_S)
    return Plan(track=track, rungs=rungs, output_fps=output_fps, copy_top=copy_top,
                has_audio=facts.audio_tracks > 0, download_height=min(DOWNLOAD_MAX_HEIGHT, rungs[0].height))


def ladder_command(plan: Plan, *, source: str, out_dir: Path, media_type: str | None = None) -> list[str]:
    """One ffmpeg process, one decode: every rung and the audio-only variant."""
    encoded = [rung for index, rung in enumerate(plan.rungs) if not (index == 0 and plan.copy_top)]
    args = [*FFMPEG_WITH_PROGRESS, *input_args(source, media_type)]
    if encoded:
        args += ["-filter_complex", _cascade(plan, encoded)]
    # The keyframe rule: with a copied top rung, at the source's keyframes (checked regular at
    # planning); otherwise at the segment boundaries: short first segments, then SEGMENT_S.
    keyframes = "source" if plan.copy_top else SHORT_START_KEYFRAMES
    stream_map = []
    encoded_index = 0
    for video_index, rung in enumerate(plan.rungs):
        if video_index == 0 and plan.copy_top:
            args += ["-map", f"0:{plan.track.index}", f"-c:v:{video_index}", "copy"]
        else:
            args += ["-map", f"[r{encoded_index}]", f"-c:v:{video_index}", "libx264",
                     f"-preset:v:{video_index}", "veryfast", f"-profile:v:{video_index}", rung.profile,
                     f"-crf:v:{video_index}", str(rung.crf), f"-maxrate:v:{video_index}", f"{rung.video_kbps}k",
                     f"-bufsize:v:{video_index}", f"{rung.bufsize_kbps}k",
                     f"-force_key_frames:v:{video_index}", keyframes]
            encoded_index += 1
        stream_map.append(f"v:{video_index}" + (f",a:{video_index},name:{rung.name}" if plan.has_audio
                                                 else f",name:{rung.name}"))
    if plan.has_audio:
        for index, rung in enumerate(plan.rungs):
            args += ["-map", "0:a:0", f"-c:a:{index}", "aac", f"-b:a:{index}", f"{rung.audio_kbps}k",
                     f"-ac:a:{index}", str(rung.audio_channels)]
        audio_only = len(plan.rungs)
        args += ["-map", "0:a:0", f"-c:a:{audio_only}", "aac", f"-b:a:{audio_only}", f"{AUDIO_ONLY_KBPS}k",
                 f"-ac:a:{audio_only}", "2"]
        stream_map.append(f"a:{audio_only},name:audio")
    # Every forced keyframe is a boundary, each at least INIT_SEGMENT_S after the one before, so
    # with -hls_time INIT_SEGMENT_S the muxer (which cuts at the first keyframe past n × hls_time)
    # cuts at each of them.
    segment_s = SEGMENT_S if plan.copy_top else INIT_SEGMENT_S
    return [*args, "-sc_threshold", "0", *hls_output(out_dir / "%v", "-hls_flags", "independent_segments",
                                                     "-var_stream_map", " ".join(stream_map), segment_s=segment_s)]


def hls_output(directory: Path, *options: str, segment_s: float = SEGMENT_S) -> list[str]:
    """The HLS output every ladder-like command writes: VOD, MPEG-TS segments cut at the first
    keyframe past each multiple of `segment_s` (SEGMENT_S unless the keyframes make the cuts)."""
    return ["-f", "hls", "-hls_time", f"{segment_s:g}", "-hls_playlist_type", "vod", "-hls_segment_type", "mpegts",
            *options, "-hls_segment_filename", str(directory / "seg_%05d.ts"), str(directory / "index.m3u8")]


def _cascade(plan: Plan, encoded: list[Rung]) -> str:
    """Each rung scaled from the one above it, not from the source: a 240p rung then reads a
    360p picture, not a 1080p one (scaling was a large share of the CPU)."""
    current = f"[0:{plan.track.index}]" + (f"fps={plan.output_fps:g}," if plan.output_fps else "")
    graph = []
    for i, rung in enumerate(encoded):
        scaled = f"{current}scale=-2:{rung.height}:flags=bicubic,format=yuv420p"
        if i == len(encoded) - 1:
            graph.append(f"{scaled}[r{i}]")
        else:
            graph.append(f"{scaled},split=2[r{i}][c{i}]")
            current = f"[c{i}]"
    return ";".join(graph)


def download_command(rung_playlist: Path, download: Path) -> list[str]:
    """The progressive download MP4 (faststart) remuxed from a rung's segments: no second encode."""
    # Our own playlist, read by the HLS demuxer: its segments are files beside it, and nothing else.
    return ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y",
            *input_args(str(rung_playlist), demuxer="hls"), "-map", "0",
            "-c", "copy", "-bsf:a", "aac_adtstoasc", "-movflags", "+faststart", "-f", "mp4", str(download)]


def first_playable_command(track: VideoTrack, *, audio_codec: str | None, source: str, out_dir: Path,
                           media_type: str | None = None) -> list[str]:
    """Stream copy into HLS: seconds even for a 45-minute lesson. Audio is re-encoded only when
    it is not AAC already."""
    args = [*FFMPEG_WITH_PROGRESS, *input_args(source, media_type), "-map", f"0:{track.index}", "-c:v", "copy"]
    if audio_codec:
        args += ["-map", "0:a:0", "-c:a", "copy" if audio_codec == "aac" else "aac"]
        if audio_codec != "aac":
            args += ["-b:a", "96k"]
    return args + hls_output(out_dir)


def _even(value: int) -> int:
    return max(2, value - value % 2)

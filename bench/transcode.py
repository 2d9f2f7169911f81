"""Transcoding benchmark (issue 4): the ladder pipeline against two baselines, in one run.

    .venv/bin/python bench/transcode.py [--minutes 10] [--worst-minutes 2] [--ssim-seconds 60]

Sources (made once with ffmpeg, cached under bench/work/):
* lesson   1080p25 H.264 High, 2 s GOP, like a recording classroom writes it: a mostly static
           green board on which chalk strokes appear every few seconds, a small presenter moving
           slowly, light sensor noise, and speech-like audio (pink noise at syllable rate);
* worst    1080p25 testsrc2 (motion and detail everywhere), the encoder's worst case.

For each source, measured on this machine in the same run:
* pipeline     the transcoder's real ladder job (services.transcoder.pipeline.ladder): probe,
               keyframe sampling, one ffmpeg for every rung + audio-only + download MP4, poster,
               storyboard, measuring the variants and publishing to a local store;
* per_rung     baseline (a): one ffmpeg process per rung and one for audio-only, each decoding
               and scaling from the source itself, the same encoder settings, the top rung copied
               when the pipeline copies it, the download MP4 remuxed from its rung as the pipeline does;
* one_process  baseline (b): the pipeline's own hand-tuned one-process command (one decode,
               cascaded split + scale, every rung) and the download remux, run bare: no probe,
               keyframe sampling, images, measuring or publishing around them;
* first_playable  the stream-copy packaging, scaled linearly to a 45-minute source.
Per rung: average and peak bit rate from the segments (audio and TS overhead included) against
its cap, and SSIM against the source scaled to the rung (first --ssim-seconds).

Goals: lesson ≥ 2× real time; pipeline ≥ 1.5× faster than (a) and ≥ 0.9× the speed of (b);
first playable ≤ 15 s for 45 minutes. Results: bench/results/transcode.json.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import REPO_ROOT, RESULTS_DIR, machine_info, utc_now, write_json  # noqa: E402

from services.common import media  # noqa: E402
from services.common.jobs import Claim, JobKind  # noqa: E402
from services.common.renditions import HlsOutput  # noqa: E402
from services.common.storage.local import LocalBlobStore  # noqa: E402
from services.transcoder import hls  # noqa: E402
from services.transcoder.ffmpeg_run import run_ffmpeg  # noqa: E402
from services.transcoder.ladder import (AUDIO_ONLY_KBPS, KEYFRAME_S, download_command,  # noqa: E402
                                        first_playable_command, hls_output, ladder_command, plan_for)
from services.transcoder.pipeline import Work, keyframe_interval, ladder  # noqa: E402

WORK = REPO_ROOT / "bench" / "work"
GOALS = {"lesson_realtime_factor": 2.0, "speedup_vs_per_rung": 1.5, "speed_vs_one_process": 0.9,
         "first_playable_45min_s": 15.0}


# --------------------------------------------------------------------------- sources

def lesson_source(minutes: float) -> Path:
    path = WORK / f"lesson-1080p25-{minutes:g}min.mp4"
    if path.exists():
        return path
    seconds = int(minutes * 60)
    # Chalk strokes: one appears every 4 s, left to right, line by line, and stays.
    strokes = []
    for i in range(seconds // 4):
        row, col = divmod(i, 14)
        x, y = 120 + col * 120, 90 + (row % 9) * 100
        strokes.append(f"drawbox=x={x}:y={y}:w={60 + (i * 37) % 50}:h=6:color=white@0.9:t=fill:enable='gte(t,{i * 4})'")
    video = (f"color=c=0x24423a:s=1920x1080:r=25:d={seconds}," + ",".join(strokes) + "[board];"
             f"color=c=0xb07050:s=180x420:r=25:d={seconds}[presenter];"
             "[board][presenter]overlay=x='860+300*sin(t/9)':y=600,noise=alls=5:allf=t,format=yuv420p[v]")
    audio = (f"anoisesrc=c=pink:r=48000:a=0.3:d={seconds},"
             "volume='0.1+0.9*abs(sin(2*PI*2.2*t))*abs(sin(2*PI*0.31*t))':eval=frame,lowpass=f=3500[a]")
    _make(path, ["-filter_complex", f"{video};{audio}", "-map", "[v]", "-map", "[a]"], seconds)
    return path


def worst_source(minutes: float) -> Path:
    path = WORK / f"testsrc2-1080p25-{minutes:g}min.mp4"
    if path.exists():
        return path
    seconds = int(minutes * 60)
    _make(path, ["-f", "lavfi", "-i", f"testsrc2=s=1920x1080:r=25:d={seconds}",
                 "-f", "lavfi", "-i", f"sine=f=440:r=48000:d={seconds}"], seconds)
    return path


def _make(path: Path, inputs: list[str], seconds: int) -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    print(f"making {path.name} ({seconds} s; once, then cached)", flush=True)
    partial = path.with_suffix(".partial.mp4")
    subprocess.run(["ffmpeg", "-v", "error", "-y", *inputs, "-c:v", "libx264", "-preset", "veryfast", "-crf", "21",
                    "-profile:v", "high", "-g", "50", "-keyint_min", "50", "-sc_threshold", "0",
                    "-maxrate", "6M", "-bufsize", "12M", "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart",
                    "-t", str(seconds), str(partial)], check=True)
    partial.rename(path)


# --------------------------------------------------------------------------- the three ways

def run_pipeline(source: Path, scratch: Path) -> tuple[float, HlsOutput]:
    store = LocalBlobStore(root=scratch / "store", url_base="http://127.0.0.1/blobs", url_secret="bench")
    store.put_file("sources/source.mp4", source, content_type="video/mp4")
    claim = Claim(job_id="bench", attempt=1, kind=JobKind.ladder, resource_id="bench", asset_id="bench",
                  source_key="sources/source.mp4", source_media_type="video/mp4", max_attempts=1)
    work = Work(claim=claim, store=store, scratch=scratch / "job", report=lambda _f: None, should_stop=lambda: False)
    started = time.perf_counter()
    manifest = ladder(work)
    assert isinstance(manifest, HlsOutput)
    return time.perf_counter() - started, manifest


def run_one_process(source: Path, plan, out: Path, facts) -> float:
    """Baseline (b): the pipeline's own one-process ffmpeg command (tuned by hand: one decode,
    split + scale, the download MP4 from the same decode), run bare with nothing around it."""
    started = time.perf_counter()
    run_ffmpeg(ladder_command(plan, source=str(source), out_dir=out), scratch=out, duration_s=facts.duration_s,
               time_limit_s=24 * 3600)
    _download(plan, out)
    return time.perf_counter() - started


def _download(plan, out: Path) -> None:
    rung = next(r.name for r in plan.rungs if r.height == plan.download_height)
    subprocess.run(download_command(out / rung / "index.m3u8", out / "download.mp4"), check=True)


def run_per_rung(source: Path, plan, out: Path, facts) -> float:
    """Baseline (a): one ffmpeg process per rung, each decoding the source."""
    started = time.perf_counter()
    keyframes = "source" if plan.copy_top else f"expr:gte(t,n_forced*{KEYFRAME_S})"
    for index, rung in enumerate(plan.rungs):
        rung_dir = out / rung.name
        rung_dir.mkdir(parents=True)
        if index == 0 and plan.copy_top:
            video = ["-map", f"0:{plan.track.index}", "-c:v", "copy"]
        else:
            fps = f"fps={plan.output_fps:g}," if plan.output_fps else ""
            video = ["-map", f"0:{plan.track.index}", "-vf", f"{fps}scale=-2:{rung.height}:flags=bicubic,format=yuv420p",
                     "-c:v", "libx264", "-preset", "veryfast", "-profile:v", rung.profile, "-crf", str(rung.crf),
                     "-maxrate", f"{rung.video_kbps}k", "-bufsize", f"{rung.bufsize_kbps}k",
                     "-force_key_frames", keyframes, "-sc_threshold", "0"]
        audio = ["-map", "0:a:0", "-c:a", "aac", "-b:a", f"{rung.audio_kbps}k", "-ac", str(rung.audio_channels)]
        _hls(source, video + audio, rung_dir)
    audio_dir = out / "audio"
    audio_dir.mkdir(parents=True)
    _hls(source, ["-map", "0:a:0", "-c:a", "aac", "-b:a", f"{AUDIO_ONLY_KBPS}k", "-ac", "2"], audio_dir)
    _download(plan, out)  # the download MP4 remuxed from its rung, as the pipeline does
    return time.perf_counter() - started


def _hls(source: Path, streams: list[str], out: Path) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(source), *streams, *hls_output(out)],
                   check=True)


def run_first_playable(source: Path, out: Path, facts) -> float:
    out.mkdir(parents=True)
    started = time.perf_counter()
    run_ffmpeg(first_playable_command(facts.video[0], audio_codec=facts.audio_codec, source=str(source), out_dir=out),
               scratch=out, duration_s=facts.duration_s, time_limit_s=3600)
    return time.perf_counter() - started


# --------------------------------------------------------------------------- quality

def ssim(variant_playlist: Path, source: Path, *, seconds: int) -> float | None:
    facts = hls.measure_variant(variant_playlist, name=variant_playlist.parent.name, uri=variant_playlist.name)
    if not facts.height:
        return None
    result = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "info", "-t", str(seconds), "-i", str(variant_playlist), "-t", str(seconds),
         "-i", str(source), "-lavfi",
         f"[1:v]scale={facts.width}:{facts.height}:flags=bicubic,format=yuv420p[ref];"
         "[0:v]format=yuv420p[dist];[dist][ref]ssim", "-f", "null", "-"],
        capture_output=True, text=True, check=True)
    found = re.findall(r"All:([0-9.]+)", result.stderr)
    return float(found[-1]) if found else None


# --------------------------------------------------------------------------- run

def bench_source(name: str, source: Path, *, ssim_seconds: int) -> dict:
    facts = media.probe(str(source), need_video=True)
    track = facts.video[0]
    plan = plan_for(facts, track, keyframe_interval_s=keyframe_interval(
        str(source), track, scratch=Path(tempfile.gettempdir()) / "lb-bench-probe"))
    print(f"[{name}] {facts.duration_s:.0f} s, {track.width}x{track.height}, rungs {plan.names}, "
          f"top rung copied: {plan.copy_top}", flush=True)
    with tempfile.TemporaryDirectory(prefix=f"lb-bench-transcode-{name}-") as tmp:
        scratch = Path(tmp)
        print(f"[{name}] pipeline ...", flush=True)
        pipeline_s, manifest = run_pipeline(source, scratch / "pipeline")
        print(f"[{name}] (b) one process ...", flush=True)
        one_process_s = run_one_process(source, plan, _dir(scratch / "one"), facts)
        print(f"[{name}] (a) per rung ...", flush=True)
        per_rung_s = run_per_rung(source, plan, scratch / "per-rung", facts)
        print(f"[{name}] first playable ...", flush=True)
        first_s = run_first_playable(source, scratch / "first", facts)
        rungs = []
        store_root = scratch / "pipeline" / "store" / "objects" / "media" / "bench" / "ladder" / "t0"
        caps = {rung.name: rung.cap_bps for rung in plan.rungs}
        for variant in manifest.tracks[0].variants:
            variant_name, average = str(variant.name), variant.average_bandwidth or variant.bandwidth
            playlist = store_root / variant_name / "index.m3u8"
            print(f"[{name}] SSIM {variant_name} ...", flush=True)
            rungs.append({"name": variant_name, "height": variant.height,
                          "average_bandwidth": average, "peak_bandwidth": variant.bandwidth,
                          # The encoders' caps (video maxrate + audio) plus MPEG-TS overhead.
                          "cap": caps[variant_name],
                          "within_cap": average <= caps[variant_name],
                          "ssim": ssim(playlist, source, seconds=ssim_seconds)})
    duration = facts.duration_s
    return {
        "source": {"file": source.name, "duration_s": duration, "width": track.width, "height": track.height,
                   "bit_rate": facts.bit_rate, "top_rung_copied": plan.copy_top},
        "seconds": {"pipeline": round(pipeline_s, 2), "one_process": round(one_process_s, 2),
                    "per_rung": round(per_rung_s, 2), "first_playable": round(first_s, 2)},
        "realtime_factor": round(duration / pipeline_s, 2),
        "speedup_vs_per_rung": round(per_rung_s / pipeline_s, 3),
        "speed_vs_one_process": round(one_process_s / pipeline_s, 3),
        "first_playable_45min_s": round(first_s * 2700 / duration, 1),
        "rungs": rungs,
        "audio_only": manifest.tracks[0].audio.average_bandwidth if manifest.tracks[0].audio else None,
    }


def _dir(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="lesson source length (10)")
    parser.add_argument("--worst-minutes", type=float, default=2.0, help="testsrc2 source length (2)")
    parser.add_argument("--ssim-seconds", type=int, default=60, help="seconds compared for SSIM (60)")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "transcode.json")
    args = parser.parse_args(argv)
    if not shutil.which("ffmpeg"):
        print("ffmpeg missing: run infra/ffmpeg.sh install", file=sys.stderr)
        return 2
    machine = machine_info()
    version = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True, check=True).stdout.splitlines()[0]
    results = {"lesson": bench_source("lesson", lesson_source(args.minutes), ssim_seconds=args.ssim_seconds),
               "worst": bench_source("worst", worst_source(args.worst_minutes), ssim_seconds=args.ssim_seconds)}
    machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    lesson = results["lesson"]
    met = {"lesson_realtime_factor": lesson["realtime_factor"] >= GOALS["lesson_realtime_factor"],
           "speedup_vs_per_rung": lesson["speedup_vs_per_rung"] >= GOALS["speedup_vs_per_rung"],
           "speed_vs_one_process": lesson["speed_vs_one_process"] >= GOALS["speed_vs_one_process"],
           "first_playable_45min_s": lesson["first_playable_45min_s"] <= GOALS["first_playable_45min_s"],
           "every_rung_within_cap": all(r["within_cap"] for src in results.values() for r in src["rungs"]),
           "rung_240p_within_192k": all(r["average_bandwidth"] <= 192_000 for src in results.values()
                                        for r in src["rungs"] if r["name"] == "240p")}
    document = {"benchmark": "transcode", "date": utc_now(), "machine": machine, "ffmpeg": version,
                "goals": GOALS, "results": results, "meets_goals": met}
    write_json(args.output, document)
    for name, result in results.items():
        print(f"{name}: pipeline {result['seconds']['pipeline']} s ({result['realtime_factor']}x real time), "
              f"vs per-rung {result['speedup_vs_per_rung']}x, vs one-process {result['speed_vs_one_process']}x, "
              f"first playable for 45 min ≈ {result['first_playable_45min_s']} s")
        for rung in result["rungs"]:
            print(f"   {rung['name']:>6}: avg {rung['average_bandwidth'] / 1000:7.1f} kbit/s, peak "
                  f"{rung['peak_bandwidth'] / 1000:7.1f}, cap {rung['cap'] / 1000:6.0f}, "
                  f"SSIM {rung['ssim']}")
    print("goals:", met)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

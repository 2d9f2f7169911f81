"""Media and document checks a reviewer should not have to discover by watching: black or
frozen video, silent audio, documents without extractable text. Soft checks: each flags, none
fails a job.

They run on what processing already made small: the ladder's lowest rung (240p or less, its
audio muxed in) or an audio job's AAC rendition, so decoding costs little next to the encode
(measured in docs/design.md, "Reports and screening"). One ffmpeg run feeds every detector.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from services.common import sandbox
from services.common.checks import AutomaticCheck
from services.common.renditions import Track, read_page_texts
from services.transcoder.ffmpeg_run import FFMPEG_MEMORY

ANALYSIS_FPS = 5
# Detector settings. Noise tolerance for "frozen" is loose because the analysed stream is a
# re-encode: a keyframe of an unchanged picture still differs from the frame before it a little.
BLACK_MIN_S, BLACK_PIXEL_THRESHOLD = 2.0, 0.10
FREEZE_MIN_S, FREEZE_NOISE_DB = 2.0, -45
SILENCE_MIN_S, SILENCE_NOISE_DB = 2.0, -50


@dataclass(frozen=True)
class Threshold:
    """When what a detector found flags the file: as a share of its duration, or one stretch."""

    share: float
    stretch_s: float


THRESHOLDS = {
    "black_video": Threshold(share=0.5, stretch_s=300),
    "frozen_video": Threshold(share=0.5, stretch_s=300),
    # Lessons pause; a recording that is mostly silence lost its microphone.
    "silent_audio": Threshold(share=0.8, stretch_s=900),
}
DETAILS = {
    "black_video": "black picture / 黑屏",
    "frozen_video": "frozen picture / 画面静止",
    "silent_audio": "silence / 无声",
}
_EVENT = re.compile(r"\[(blackdetect|freezedetect|silencedetect) @ [^\]]*\]\s*(.*)")
_VALUE = re.compile(r"(black_start|black_end|freeze_start|freeze_end|silence_start|silence_end)\s*[:=]\s*(-?[\d.]+)")
_DETECTOR_CHECK = {"blackdetect": "black_video", "freezedetect": "frozen_video", "silencedetect": "silent_audio"}


def media_checks(source: str | Path, *, duration_s: float, has_video: bool, has_audio: bool,
                 timeout_s: float) -> list[AutomaticCheck]:
    """Runs the detectors over `source` (already a small stream) in one ffmpeg run."""
    args = ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-v", "info", "-i", str(source)]
    if has_video:
        args += ["-map", "0:v:0", "-vf",
                 f"fps={ANALYSIS_FPS},blackdetect=d={BLACK_MIN_S}:pix_th={BLACK_PIXEL_THRESHOLD},"
                 f"freezedetect=n={FREEZE_NOISE_DB}dB:d={FREEZE_MIN_S}", "-f", "null", "-"]
    if has_audio:
        args += ["-map", "0:a:0", "-af", f"silencedetect=n={SILENCE_NOISE_DB}dB:d={SILENCE_MIN_S}", "-f", "null", "-"]
    names = [*(["black_video", "frozen_video"] if has_video else []), *(["silent_audio"] if has_audio else [])]
    try:
        # Sandboxed like every converter (services/common/sandbox.py): the input is our own
        # rendition, read-only, through the file protocol alone.
        result = sandbox.run([*args[:1], "-protocol_whitelist", "file", *args[1:]], scratch=None,
                             limits=sandbox.Limits(time_s=timeout_s, memory_bytes=FFMPEG_MEMORY), text=True)
    except sandbox.SandboxTimeout:
        # The job's outputs are good; a reviewer looks instead of the detectors.
        return [AutomaticCheck(check=name, result="flag", detail="analysis timed out / 分析超时") for name in names]
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["ffmpeg failed"])[-1]
        return [AutomaticCheck(check=name, result="flag", detail=f"could not be analysed / 无法分析: {last[:200]}")
                for name in names]
    stretches = detected_stretches(result.stderr, duration_s=duration_s)
    checks = []
    if has_video:
        checks += [judge("black_video", stretches["black_video"], duration_s),
                   judge("frozen_video", stretches["frozen_video"], duration_s)]
    if has_audio:
        checks.append(judge("silent_audio", stretches["silent_audio"], duration_s))
    else:
        checks.append(AutomaticCheck(check="silent_audio", result="flag", detail="no audio track / 没有音轨"))
    return checks


def detected_stretches(log: str, *, duration_s: float) -> dict[str, list[tuple[float, float]]]:
    """(start, end) of every stretch each detector reported; one still open at the end of the
    stream runs to its end (not every ffmpeg version reports the end of such a stretch)."""
    stretches: dict[str, list[tuple[float, float]]] = {name: [] for name in _DETECTOR_CHECK.values()}
    open_at: dict[str, float] = {}
    for line in log.splitlines():
        event = _EVENT.search(line)
        if not event:
            continue
        check = _DETECTOR_CHECK[event.group(1)]
        for key, value in _VALUE.findall(event.group(2)):
            if key.endswith("_start"):
                open_at[check] = max(0.0, float(value))
            elif check in open_at:
                stretches[check].append((open_at.pop(check), min(float(value), duration_s)))
    for check, start in open_at.items():
        stretches[check].append((start, duration_s))
    return stretches


def judge(check: str, stretches: list[tuple[float, float]], duration_s: float) -> AutomaticCheck:
    threshold = THRESHOLDS[check]
    total = sum(max(0.0, end - start) for start, end in stretches)
    longest = max((end - start for start, end in stretches), default=0.0)
    share = total / duration_s if duration_s > 0 else 0.0
    facts = {"seconds": round(total, 1), "share": round(share, 3), "longest_s": round(longest, 1)}
    if share >= threshold.share or longest >= threshold.stretch_s:
        return AutomaticCheck(check=check, result="flag", facts=facts,
                              detail=f"{DETAILS[check]}: {total:.0f} s ({share:.0%})")
    return AutomaticCheck(check=check, result="pass", facts=facts)


def document_checks(text_json: Path) -> list[AutomaticCheck]:
    """A document with no extractable text is a scan or a picture: search finds nothing in it
    and no lexicon can read it, so a reviewer reads it instead."""
    pages = read_page_texts(text_json.read_bytes(), where=text_json.name) if text_json.exists() else []
    chars = sum(len(page.text.strip()) for page in pages)
    facts = {"pages": len(pages), "characters": chars}
    if chars == 0:
        return [AutomaticCheck(check="document_text", result="flag", facts=facts,
                               detail="no extractable text (scanned?) / 没有可提取的文字（扫描件？）")]
    return [AutomaticCheck(check="document_text", result="pass", facts=facts)]


def ladder_checks(out: Path, track: Track, *, duration_s: float) -> list[AutomaticCheck]:
    """The checks of a ladder's track, on its lowest rung (its variants run top to bottom)."""
    return media_checks(out / track.variants[-1].uri, duration_s=duration_s, has_video=True,
                        has_audio=track.audio is not None, timeout_s=max(120.0, duration_s * 0.5))


def audio_checks(rendition: Path, *, duration_s: float) -> list[AutomaticCheck]:
    return media_checks(rendition, duration_s=duration_s, has_video=False, has_audio=True,
                        timeout_s=max(120.0, duration_s * 0.5))

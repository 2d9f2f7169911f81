"""Subtitle files (WebVTT and SRT sidecars of a lesson): parsed and checked from their bytes,
written back as WebVTT, and announced to HLS players as a subtitle rendition.

Shared by the API's upload checks (every refusal happens here, before anything is stored), its
play route (the WebVTT a player fetches) and its search documents (cue texts with their times).
No I/O: callers hand in bytes and get text back.
"""
from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass

# A sidecar is text: a 3-hour lesson with a cue every 2 seconds is well under 1 MiB.
MAX_BYTES = 2 * 1024 * 1024
# Cue times beyond this are not a lesson's (and would overflow what players take).
MAX_TIME_S = 100 * 3600
# Cues may end this much after the video's last frame: encoders round durations, and the last
# cue of many hand-made files is stretched to a whole second.
END_SLACK_S = 1.0

EXTENSIONS = {"vtt": "text/vtt", "srt": "application/x-subrip"}
MEDIA_TYPE_VTT = "text/vtt"

# HLS: the one subtitle group every variant of a master names.
GROUP_ID = "subs"
LANGUAGE_NAMES = {"zh": "中文", "zh-cn": "中文（简体）", "zh-hans": "中文（简体）", "zh-tw": "中文（繁體）",
                  "zh-hant": "中文（繁體）", "en": "English", "bo": "བོད་ཡིག", "ug": "ئۇيغۇرچە", "mn": "Монгол",
                  "ii": "ꆈꌠꉙ", "za": "Vahcuengh", "ko": "한국어", "ja": "日本語", "fr": "Français",
                  "de": "Deutsch", "ru": "Русский", "es": "Español"}
DEFAULT_LANGUAGE = "zh"
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{1,8}){0,3}$")

_TIMESTAMP = r"(?:(\d{1,3}):)?(\d{1,2}):(\d{2})[.,](\d{1,3})"
_TIMING = re.compile(rf"^\s*{_TIMESTAMP}\s*-->\s*{_TIMESTAMP}(?:[ \t]+(.*))?$")
_TAG = re.compile(r"<[^>]*>")
# Binary formats a renamed file is most often: media containers, archives, pictures, PDFs.
_BINARY_MAGIC = (b"%PDF-", b"PK\x03\x04", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"RIFF", b"\x1a\x45\xdf\xa3",
                 b"ID3", b"FLV\x01", b"\xd0\xcf\x11\xe0")


class SubtitleInvalid(ValueError):
    """Why a file is not a subtitle we can use. `reason` is stable (the API turns it into a
    problem code), `line` the 1-based line where the trouble was found, when there is one."""

    def __init__(self, reason: str, message: str, *, line: int | None = None) -> None:
        super().__init__(f"{message} (line {line})" if line else message)
        self.reason, self.message, self.line = reason, message, line


@dataclass(frozen=True, slots=True)
class Cue:
    start_s: float
    end_s: float
    payload: str    # the cue text as WebVTT writes it (tags and escapes kept)
    settings: str = ""  # WebVTT cue settings (position, align, ...), kept as given

    @property
    def text(self) -> str:
        """What a person reads: tags dropped, escapes resolved, lines joined."""
        return " ".join(html.unescape(_TAG.sub("", line)).strip() for line in self.payload.splitlines()).strip()


@dataclass(frozen=True, slots=True)
class Subtitle:
    format: str  # "vtt" or "srt", what the file was
    cues: tuple[Cue, ...]

    @property
    def end_s(self) -> float:
        return max(cue.end_s for cue in self.cues)


def parse(data: bytes) -> Subtitle:
    """The cues of a WebVTT or SRT file (told apart by the WEBVTT signature, not the name), or
    SubtitleInvalid: binary, not UTF-8, too large, not parseable, empty, or cues out of order."""
    if len(data) > MAX_BYTES:
        raise SubtitleInvalid("too_large", f"larger than {MAX_BYTES // (1024 * 1024)} MiB")
    if data.startswith(_BINARY_MAGIC) or b"\x00" in data[:65536]:
        raise SubtitleInvalid("binary", "a binary file, not subtitle text")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise SubtitleInvalid("not_utf8", "not UTF-8 text (save the file as UTF-8)", line=line) from None
    if any(ord(c) < 32 and c not in "\t\n\r\f" for c in text):
        raise SubtitleInvalid("binary", "control characters: a binary file, not subtitle text")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines[0] == "WEBVTT" or lines[0].startswith(("WEBVTT ", "WEBVTT\t")):
        cues, kind = _parse_vtt(lines), "vtt"
    else:
        cues, kind = _parse_srt(lines), "srt"
    if not cues:
        raise SubtitleInvalid("unparseable", "no cues found (a WebVTT or SRT file has timed cues)")
    return Subtitle(format=kind, cues=tuple(cue for cue, _ in cues))


def _blocks(lines: list[str], first: int) -> list[tuple[int, list[str]]]:
    """Runs of non-blank lines, each with the 1-based number of its first line."""
    blocks, current, start = [], [], 0
    for number, line in enumerate(lines[first:], start=first + 1):
        if line.strip():
            if not current:
                start = number
            current.append(line)
        elif current:
            blocks.append((start, current))
            current = []
    if current:
        blocks.append((start, current))
    return blocks


def _parse_vtt(lines: list[str]) -> list[tuple[Cue, int]]:
    cues: list[tuple[Cue, int]] = []
    header_end = next((i for i, line in enumerate(lines) if not line.strip()), len(lines))
    for start, block in _blocks(lines, header_end):
        if block[0].startswith(("NOTE", "STYLE", "REGION")) and "-->" not in block[0]:
            continue
        timing_at = 0 if "-->" in block[0] else 1
        if timing_at >= len(block) or "-->" not in block[timing_at]:
            raise SubtitleInvalid("unparseable", "a block with no cue timing (hh:mm:ss.ttt --> hh:mm:ss.ttt)",
                                  line=start)
        _add(cues, block, timing_at, start, vtt=True)
    return cues


def _parse_srt(lines: list[str]) -> list[tuple[Cue, int]]:
    cues: list[tuple[Cue, int]] = []
    for start, block in _blocks(lines, 0):
        # The counter line is optional in practice; its value means nothing.
        timing_at = 1 if block[0].strip().isdigit() and len(block) > 1 else 0
        if "-->" not in block[timing_at]:
            raise SubtitleInvalid("unparseable", "not a WebVTT or SRT cue (expected 00:00:01,000 --> 00:00:02,000)",
                                  line=start)
        _add(cues, block, timing_at, start, vtt=False)
    return cues


def _add(cues: list[tuple[Cue, int]], block: list[str], timing_at: int, start: int, *, vtt: bool) -> None:
    line = start + timing_at
    match = _TIMING.match(block[timing_at])
    if match is None:
        raise SubtitleInvalid("unparseable", "a cue timing that cannot be read", line=line)
    begin, end = _seconds(match.groups()[0:4], line), _seconds(match.groups()[4:8], line)
    if end <= begin:
        raise SubtitleInvalid("out_of_order", "a cue ends before it starts", line=line)
    if end > MAX_TIME_S:
        raise SubtitleInvalid("out_of_order", "a cue time beyond 100 hours", line=line)
    if cues and begin < cues[-1][0].start_s:
        raise SubtitleInvalid("out_of_order", "cues out of order (each must start no earlier than the one before)",
                              line=line)
    text_lines = [t for t in block[timing_at + 1:] if "-->" not in t]
    if len(text_lines) != len(block) - timing_at - 1:
        raise SubtitleInvalid("unparseable", "a cue text holds a second timing (a blank line is missing)", line=line)
    payload = "\n".join(text_lines) if vtt else "\n".join(_srt_to_vtt_text(t) for t in text_lines)
    settings = (match.group(9) or "").strip() if vtt else ""
    cues.append((Cue(start_s=begin, end_s=end, payload=payload, settings=settings), line))


def _seconds(parts: tuple[str | None, ...], line: int) -> float:
    hours, minutes, seconds, fraction = parts
    if int(minutes) > 59 or int(seconds) > 59:
        raise SubtitleInvalid("unparseable", "a timestamp with minutes or seconds over 59", line=line)
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(fraction.ljust(3, "0")) / 1000


# SRT's own markup that WebVTT shares; anything else (<font color=...>, {\an8}) becomes plain text.
_SRT_KEPT = re.compile(r"</?[biu]>", re.IGNORECASE)
_ASS_OVERRIDE = re.compile(r"\{\\[^}]*\}")


def _srt_to_vtt_text(line: str) -> str:
    line = _ASS_OVERRIDE.sub("", line)
    out, at = [], 0
    for match in _TAG.finditer(line):
        out.append(html.escape(html.unescape(line[at:match.start()]), quote=False))
        if _SRT_KEPT.fullmatch(match.group()):
            out.append(match.group().lower())
        at = match.end()
    out.append(html.escape(html.unescape(line[at:]), quote=False))
    return "".join(out)


# ------------------------------------------------------------------------------- writing


def timestamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def to_webvtt(subtitle: Subtitle, *, mpegts: int | None = None) -> str:
    """The cues as a WebVTT file (an SRT file converted; a WebVTT one rewritten cleanly).

    `mpegts`: the 90 kHz timestamp at which the video's MPEG-TS segments start. HLS players
    read WebVTT cue times against that timeline (X-TIMESTAMP-MAP, RFC 8216 3.5); without the
    map a cue at 0 is taken as MPEG-TS time 0, so every cue would show early by the muxer's start
    offset (1.4 s for ffmpeg's, seen in hls.js)."""
    header = f"WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:{mpegts},LOCAL:00:00:00.000" if mpegts is not None else "WEBVTT"
    out = [header, ""]
    for cue in subtitle.cues:
        timing = f"{timestamp(cue.start_s)} --> {timestamp(cue.end_s)}"
        out += [f"{timing} {cue.settings}" if cue.settings else timing, cue.payload, ""]
    return "\n".join(out)


def normalise_language(raw: str | None) -> str | None:
    """A BCP 47 language tag in lower case (zh, en, zh-hans), or None when it is not one."""
    tag = (raw or "").strip().replace("_", "-").lower()
    return tag if _LANGUAGE.fullmatch(tag) else None


def language_from_filename(filename: str) -> str | None:
    """`lesson.en.srt` says English; `lesson.srt` says nothing."""
    parts = filename.rsplit(".", 2)
    return normalise_language(parts[1]) if len(parts) == 3 else None


def language_name(language: str) -> str:
    return LANGUAGE_NAMES.get(language) or LANGUAGE_NAMES.get(language.split("-")[0]) or language


# ------------------------------------------------------------------------------- HLS


@dataclass(frozen=True, slots=True)
class SubtitleRendition:
    """One subtitle track as a master playlist lists it; `uri` relative to the master."""
    uri: str
    language: str
    name: str
    default: bool


def with_subtitles(master: str, renditions: list[SubtitleRendition], *, start_s: float | None) -> str:
    """A master playlist (services/common/hls.py) with the subtitle group every variant names
    and, when given, where playback starts (EXT-X-START, PRECISE so a player starts at that
    frame, not at the segment before it)."""
    lines = master.rstrip("\n").split("\n")
    head = 3 if lines[2:3] == ["#EXT-X-INDEPENDENT-SEGMENTS"] else 2
    added = []
    if start_s is not None:
        added.append(f"#EXT-X-START:TIME-OFFSET={start_s:.3f},PRECISE=YES")
    for rendition in renditions:
        name = rendition.name.replace('"', "'")
        added.append(f'#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="{GROUP_ID}",NAME="{name}",'
                     f'LANGUAGE="{rendition.language}",DEFAULT={"YES" if rendition.default else "NO"},'
                     f'AUTOSELECT=YES,FORCED=NO,URI="{rendition.uri}"')
    body = [f'{line},SUBTITLES="{GROUP_ID}"' if renditions and line.startswith("#EXT-X-STREAM-INF:") else line
            for line in lines[head:]]
    return "\n".join([*lines[:head], *added, *body]) + "\n"


def subtitle_playlist(vtt_uri: str, *, duration_s: float) -> str:
    """A media playlist of one WebVTT segment covering the whole lesson, as many packagers
    write for a sidecar (a player fetches it once)."""
    duration = max(duration_s, 0.001)
    return "\n".join(["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{math.ceil(duration)}",
                      "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:VOD", f"#EXTINF:{duration:.3f},", vtt_uri,
                      "#EXT-X-ENDLIST"]) + "\n"


def first_pts(segment_head: bytes) -> int | None:
    """The presentation timestamp (90 kHz) of the first video frame in the start of an MPEG-TS
    segment (of the first audio frame when there is no video): where a player's timeline begins,
    hls.js putting the first video frame at 0 (the audio, muxed slightly earlier, is trimmed).
    None when no PES header with a PTS is found (not MPEG-TS, or cut short)."""
    first: dict[int, int] = {}
    video: list[int] = []
    for at in range(0, len(segment_head) - 187, 188):
        packet = segment_head[at:at + 188]
        if packet[0] != 0x47 or not packet[1] & 0x40:  # a payload unit must start here
            continue
        pid = ((packet[1] & 0x1F) << 8) | packet[2]
        control = (packet[3] >> 4) & 0x3
        offset = 4 + (1 + packet[4] if control & 0x2 else 0)
        if not control & 0x1 or pid in first or offset + 14 > 188:
            continue
        pes = packet[offset:]
        if pes[:3] != b"\x00\x00\x01" or not 0xC0 <= pes[3] <= 0xEF or not pes[7] & 0x80:
            continue
        p = pes[9:14]
        first[pid] = ((p[0] >> 1) & 0x7) << 30 | p[1] << 22 | (p[2] >> 1) << 15 | p[3] << 7 | p[4] >> 1
        if pes[3] >= 0xE0:
            video.append(first[pid])
    return min(video) if video else min(first.values()) if first else None

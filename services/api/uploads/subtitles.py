"""The upload check of a subtitle sidecar (.vtt, .srt): read whole (it is small), parsed, and
refused with a problem code before anything is kept. Its language and cue summary go into the
upload's probe, where attaching it to a lesson finds them (services/api/subtitles/service.py)."""
from __future__ import annotations

from typing import Any

from services.api.uploads.errors import (SubtitleBadLanguage, SubtitleBinary, SubtitleNotUtf8, SubtitleOutOfOrder,
                                         SubtitleUnparseable, UploadError, UploadTooLarge)
from services.common import subtitles

_REFUSALS: dict[str, type[UploadError]] = {"binary": SubtitleBinary, "not_utf8": SubtitleNotUtf8,
                                           "unparseable": SubtitleUnparseable, "out_of_order": SubtitleOutOfOrder}


def language_of(*, filename: str, metadata: dict[str, str]) -> str:
    """The `language` the client sent with the upload (tus metadata), else the one in a name like
    `lesson.en.srt`, else Chinese; a value that is not a language tag is refused."""
    given = metadata.get("language") or metadata.get("lang")
    if given:
        language = subtitles.normalise_language(given)
        if language is None:
            raise SubtitleBadLanguage(given=given[:40])
        return language
    return subtitles.language_from_filename(filename) or subtitles.DEFAULT_LANGUAGE


def inspect(data: bytes, *, filename: str, metadata: dict[str, str]) -> dict[str, Any]:
    """What the upload is, as `uploads.service._inspect` answers for every file."""
    language = language_of(filename=filename, metadata=metadata)
    try:
        parsed = subtitles.parse(data)
    except subtitles.SubtitleInvalid as invalid:
        if invalid.reason == "too_large":
            raise UploadTooLarge(category="字幕 subtitle", limit_mib=subtitles.MAX_BYTES // (1024 * 1024)) from None
        refusal = _REFUSALS[invalid.reason]
        if refusal is SubtitleNotUtf8:
            raise refusal(line=invalid.line or 1) from None
        reason = f"{invalid.message} (line {invalid.line})" if invalid.line else invalid.message
        raise refusal(reason=reason) from None
    media_type = subtitles.EXTENSIONS[parsed.format]
    return {"media_type": media_type, "category": "subtitle",
            "probe": {"subtitle": {"format": parsed.format, "language": language, "cues": len(parsed.cues),
                                   "end_s": round(parsed.end_s, 3)}}}

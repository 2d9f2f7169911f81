"""Automatic checks (pre-screening): the result of one check on one resource or file, as the
transcoder writes it into a job's manifest (`checks`) and the API shows it in the moderation
queue. A contract between the two services, so neither reads the other's dicts by string keys."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

# pass: nothing found; flag: a reviewer should look (soft); fail: refused outright (hard).
CheckResult = Literal["pass", "flag", "fail"]


class AutomaticCheck(BaseModel):
    check: str  # black_video, frozen_video, silent_audio, document_text, duration, sensitive_words, blocked_content
    result: CheckResult
    detail: str = ""  # for people: what was found (English / 中文)
    facts: dict[str, Any] = Field(default_factory=dict)  # what was measured
    asset_id: str | None = None  # the file it is about, when it is about one (set by the API)


def read_checks(manifest: dict[str, Any]) -> list[AutomaticCheck]:
    """The checks a job's manifest carries; entries that are not checks are skipped."""
    checks = []
    for entry in manifest.get("checks") or []:
        try:
            checks.append(AutomaticCheck.model_validate(entry))
        except ValueError:
            continue  # written by a newer or older worker in another shape: not shown rather than fatal
    return checks

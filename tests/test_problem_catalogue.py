"""Every stable error code the services can answer with is listed in docs/problems.md."""
from __future__ import annotations

import re
from pathlib import Path

import services.api.app  # noqa: F401 - loads every domain, and so every DomainError subclass
import services.search.app  # noqa: F401 - and the search service's
import services.api.backups.errors  # noqa: F401 - `lb backup`'s, which only the CLI loads
from services.common import problems
from services.common.problems import DomainError

CATALOGUE = Path(__file__).resolve().parents[1] / "docs" / "problems.md"


def all_codes() -> set[str]:
    codes, pending = set(), [DomainError]
    while pending:
        cls = pending.pop()
        codes.add(cls.code)
        pending.extend(cls.__subclasses__())
    codes |= {code for code, _ in problems._HTTP_PROBLEMS.values()}
    return codes | {"request.malformed_body", "request.validation_failed", "internal", "service.not_ready"}


def test_every_code_is_documented():
    documented = set(re.findall(r"^\| `([a-z_.]+)` \|", CATALOGUE.read_text("utf-8"), flags=re.M))
    assert all_codes() - documented == set(), "add these codes to docs/problems.md"

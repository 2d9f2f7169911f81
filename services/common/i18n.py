"""Languages for messages shown to people: zh-CN by default, en on request (Accept-Language)."""
from __future__ import annotations

from typing import Literal

Language = Literal["zh-CN", "en"]
DEFAULT_LANGUAGE: Language = "zh-CN"

# A message in every language we serve.
Message = dict[Language, str]


def negotiate_language(accept_language: str | None) -> Language:
    """The best of our languages for an Accept-Language header (RFC 9110 §12.5.4 q-values)."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, position, tag.strip().lower()))
    for negative_quality, _, tag in sorted(ranked):
        if negative_quality >= 0:
            break
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
        if tag == "*":
            return DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


def translate(message: Message, language: Language, **params: object) -> str:
    template = message.get(language) or message[DEFAULT_LANGUAGE]
    return template.format(**params) if params else template

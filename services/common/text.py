"""Rules for the text a caller sends, wherever it arrives (an HTTP request, an imported file).

No NUL (U+0000): PostgreSQL cannot store it in a text column (probing every route with it gave
500s there), and SQLite would keep it where nobody expects it.
"""
from __future__ import annotations

import re

NUL_IN_TEXT = {"zh-CN": "文本不能包含 NUL（U+0000）字符", "en": "Text may not contain NUL (U+0000) characters"}

# In JSON a NUL is the escape \u0000 after an even number of backslashes (after an odd number, the
# escape's own backslash is a literal one).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def json_has_nul(raw: bytes | bytearray) -> bool:
    """Whether a JSON document has a NUL in any of its strings."""
    return _JSON_NUL.search(raw) is not None

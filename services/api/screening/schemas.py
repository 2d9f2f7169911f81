from __future__ import annotations

from pydantic import BaseModel


class LexiconImportReport(BaseModel):
    added: int
    removed: int
    words: int  # in the lexicon now
    revision: int

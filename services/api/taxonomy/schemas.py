"""The taxonomy's read models and its import/export document (JSON; CSV for knowledge points)."""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"[^\s\u0085]")]
Alias = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50, pattern=r"[^\s\u0085]")]
MAX_ALIASES = 30


class VocabularyItem(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    code: str
    name: str


class GradeRead(VocabularyItem):
    stage_code: str
    position: int


class VolumeRead(VocabularyItem):
    edition_code: str
    subject_code: str
    grade_code: str
    term: int


class ChapterRead(VocabularyItem):
    volume_code: str
    position: int


class KnowledgePointRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    code: str
    name: str
    subject_code: str
    stage_code: str
    edition_code: str | None
    parent_id: str | None
    path: str
    depth: int
    same_as_id: str | None
    aliases: list[str] = []


# --- the import/export document -------------------------------------------------------------

class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Code
    name: Name


class SubjectEntry(_Entry):
    pass


class StageEntry(_Entry):
    pass


class EditionEntry(_Entry):
    pass


class GradeEntry(_Entry):
    stage: Code
    position: int = Field(ge=0, le=100)


class VolumeEntry(_Entry):
    edition: Code
    subject: Code
    grade: Code
    term: int = Field(ge=0, le=3)


class ChapterEntry(_Entry):
    volume: Code
    position: int = Field(ge=0, le=1000)
    knowledge_points: list[Code] = Field(default_factory=list, max_length=500)


class KnowledgePointEntry(_Entry):
    subject: Code
    stage: Code
    parent: Code | None = None
    edition: Code | None = None
    same_as: Code | None = None
    # None leaves a point's aliases as they are; a list (even empty) replaces them.
    aliases: list[Alias] | None = Field(None, max_length=MAX_ALIASES)


MAX_ENTRIES = 100_000


class TaxonomyDocument(BaseModel):
    """Every list is optional; entries are matched to what exists by `code` (an upsert)."""

    model_config = ConfigDict(extra="forbid")
    subjects: list[SubjectEntry] = Field(default_factory=list, max_length=MAX_ENTRIES)
    stages: list[StageEntry] = Field(default_factory=list, max_length=MAX_ENTRIES)
    grades: list[GradeEntry] = Field(default_factory=list, max_length=MAX_ENTRIES)
    editions: list[EditionEntry] = Field(default_factory=list, max_length=MAX_ENTRIES)
    volumes: list[VolumeEntry] = Field(default_factory=list, max_length=MAX_ENTRIES)
    chapters: list[ChapterEntry] = Field(default_factory=list, max_length=MAX_ENTRIES)
    knowledge_points: list[KnowledgePointEntry] = Field(default_factory=list, max_length=MAX_ENTRIES)

    def merged(self, other: TaxonomyDocument) -> TaxonomyDocument:
        return TaxonomyDocument(**{field: getattr(self, field) + getattr(other, field)
                                   for field in type(self).model_fields})


class ImportReport(BaseModel):
    created: dict[str, int]
    updated: dict[str, int]

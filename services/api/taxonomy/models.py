from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.api.db import Base, id_column

CODE_LENGTH = 64


class _Vocabulary:
    """Controlled vocabularies: an opaque id, a stable code resources refer to, a display name."""

    id: Mapped[str] = id_column()
    code: Mapped[str] = mapped_column(String(CODE_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(100))


class Subject(_Vocabulary, Base):
    __tablename__ = "subjects"


class Stage(_Vocabulary, Base):
    __tablename__ = "stages"


class Grade(_Vocabulary, Base):
    __tablename__ = "grades"

    stage_code: Mapped[str] = mapped_column(ForeignKey("stages.code"))
    position: Mapped[int]


class Edition(_Vocabulary, Base):
    __tablename__ = "editions"


class Volume(_Vocabulary, Base):
    """One textbook (册次), e.g. 人教版 数学 一年级上册."""

    __tablename__ = "volumes"

    edition_code: Mapped[str] = mapped_column(ForeignKey("editions.code"), index=True)
    subject_code: Mapped[str] = mapped_column(ForeignKey("subjects.code"))
    grade_code: Mapped[str] = mapped_column(ForeignKey("grades.code"))
    term: Mapped[int]  # 1 上册, 2 下册, 0 全一册


chapter_knowledge_points = Table(
    "chapter_knowledge_points", Base.metadata,
    Column("chapter_id", ForeignKey("chapters.id", ondelete="CASCADE"), primary_key=True),
    Column("knowledge_point_id", ForeignKey("knowledge_points.id", ondelete="CASCADE"), primary_key=True),
)


class Chapter(_Vocabulary, Base):
    __tablename__ = "chapters"

    volume_code: Mapped[str] = mapped_column(ForeignKey("volumes.code"), index=True)
    position: Mapped[int]
    knowledge_points: Mapped[list[KnowledgePoint]] = relationship(secondary=chapter_knowledge_points)


class KnowledgePoint(Base):
    """A node of a subject/stage tree. `path` is the chain of codes from the root, so a node's
    descendants are one indexed prefix query away."""

    __tablename__ = "knowledge_points"
    __table_args__ = (Index("ix_knowledge_points_subject_stage", "subject_code", "stage_code"),)

    id: Mapped[str] = id_column()
    code: Mapped[str] = mapped_column(String(CODE_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    subject_code: Mapped[str] = mapped_column(ForeignKey("subjects.code"))
    stage_code: Mapped[str] = mapped_column(ForeignKey("stages.code"))
    edition_code: Mapped[str | None] = mapped_column(ForeignKey("editions.code"))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("knowledge_points.id"), index=True)
    path: Mapped[str] = mapped_column(String(1000), index=True)
    depth: Mapped[int]
    position: Mapped[int] = mapped_column(default=0)
    # The same point in another edition's tree, so a search by one finds the other.
    same_as_id: Mapped[str | None] = mapped_column(ForeignKey("knowledge_points.id"))
    # Other names people search it by (colloquial, older textbooks, misspellings): search expands
    # them to the point's name at query time, so they change without reindexing.
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)

    PATH_SEPARATOR = "/"

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, String, Table, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from services.api.db import Base, created_at_column, id_column
from services.api.taxonomy.models import KnowledgePoint
from services.common.db import EnumText, utcnow


class ResourceKind(StrEnum):
    courseware = "courseware"
    lesson_recording = "lesson_recording"
    excellent_lesson = "excellent_lesson"  # 一师一优课
    micro_lesson = "micro_lesson"
    exercise = "exercise"
    lesson_plan = "lesson_plan"
    other = "other"


class Visibility(StrEnum):
    private = "private"    # the owner (and the people who administer or review them)
    school = "school"      # the owner's school
    paired = "paired"      # the owner's school and every school paired with it
    district = "district"  # every school of the district
    public = "public"      # every signed-in user of the platform


class License(StrEnum):
    """SPDX license ids in their canonical spelling (and two of our own). SPDX ids match without
    regard to case: any spelling is accepted, the canonical one is stored and answered."""

    cc_by = "CC-BY-4.0"
    cc_by_sa = "CC-BY-SA-4.0"
    cc_by_nc = "CC-BY-NC-4.0"
    cc_by_nc_sa = "CC-BY-NC-SA-4.0"
    cc_by_nd = "CC-BY-ND-4.0"
    cc_by_nc_nd = "CC-BY-NC-ND-4.0"
    cc0 = "CC0-1.0"
    school_only = "school-only"
    district_only = "district-only"

    @classmethod
    def _missing_(cls, value: object) -> License | None:
        # Called by License(value), pydantic and EnumText alike (rows written before 0014 say cc-by-4.0).
        if isinstance(value, str):
            folded = value.casefold()
            return next((member for member in cls if member.value.casefold() == folded), None)
        return None


class ResourceStatus(StrEnum):
    draft = "draft"
    uploading = "uploading"
    processing = "processing"
    pending_review = "pending_review"
    published = "published"
    rejected = "rejected"
    taken_down = "taken_down"
    failed = "failed"
    # Withheld from everyone but its owner and managers while reports await a moderator.
    hidden = "hidden"


class ReviewLevel(StrEnum):
    """Who reviews: a school reviewer (the first of two levels), or the district's moderators."""
    school = "school"
    district = "district"


class RevisionStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    superseded = "superseded"  # a later edit replaced it before anyone decided


resource_knowledge_points = Table(
    "resource_knowledge_points", Base.metadata,
    Column("resource_id", ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True),
    Column("knowledge_point_id", ForeignKey("knowledge_points.id"), primary_key=True, index=True),
)


class Resource(Base):
    __tablename__ = "resources"
    __table_args__ = (
        Index("ix_resources_school_status", "school_id", "status"),
        Index("ix_resources_district_status", "district_id", "status"),
        # Participation statistics and the moderation queue (migration 0012): covering indexes.
        Index("ix_resources_district_published", "district_id", "status", "published_at", "school_id", "owner_id",
              "view_count", "stage_code", "subject_code"),
        Index("ix_resources_school_published", "school_id", "status", "published_at", "owner_id", "view_count",
              "stage_code", "subject_code"),
        Index("ix_resources_district_submitted", "district_id", "status", "updated_at", "id", "school_id",
              "stage_code", "subject_code"),
        # The moderation queue (migration 0026): resources in review, in the queue's order, with what
        # its filters read (owner, level, scope, appeal), so a page reads the page and a count the index.
        Index("ix_resources_review_queue", "district_id", "status", "updated_at", "id", "owner_id", "school_id", "kind",
              "review_level", "review_excluded_id", sqlite_where=text("status = 'pending_review'"),
              postgresql_where=text("status = 'pending_review'")),
    )

    id: Mapped[str] = id_column()
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[ResourceKind] = mapped_column(EnumText(ResourceKind, 32))
    subject_code: Mapped[str | None] = mapped_column(ForeignKey("subjects.code"))
    stage_code: Mapped[str | None] = mapped_column(ForeignKey("stages.code"))
    grade_code: Mapped[str | None] = mapped_column(ForeignKey("grades.code"))
    edition_code: Mapped[str | None] = mapped_column(ForeignKey("editions.code"))
    volume_code: Mapped[str | None] = mapped_column(ForeignKey("volumes.code"))
    chapter_code: Mapped[str | None] = mapped_column(ForeignKey("chapters.code"))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    visibility: Mapped[Visibility] = mapped_column(EnumText(Visibility, 16))
    license: Mapped[License] = mapped_column(EnumText(License, 32))
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    # Copied from the owner when created, so visibility checks need no join through users.
    school_id: Mapped[str | None] = mapped_column(ForeignKey("schools.id"))
    district_id: Mapped[str] = mapped_column(ForeignKey("districts.id"))
    status: Mapped[ResourceStatus] = mapped_column(EnumText(ResourceStatus, 20), default=ResourceStatus.draft)
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    progress: Mapped[int] = mapped_column(default=0)
    # Bumped on every change search cares about; the index applies an update only if newer.
    version: Mapped[int] = mapped_column(default=1)
    # Counted on play; not a search-relevant change (no version bump): the index learns it with
    # the next change or reindex.
    view_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # Carried in every media link handed out; moving it revokes them all (resources/links.py).
    link_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None]
    # The review of the resource (pending_review) or of its pending revision: the level it has
    # reached (None: the first level of the district's policy, read when needed), and a reviewer
    # who may not decide it (the one whose rejection is under appeal). Reset by every final decision.
    review_level: Mapped[ReviewLevel | None] = mapped_column(EnumText(ReviewLevel, 16))
    review_excluded_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))

    # Loaded on use (writes); reads fetch what they show with explicit queries (service.read_view).
    knowledge_points: Mapped[list[KnowledgePoint]] = relationship(
        secondary=resource_knowledge_points, order_by=KnowledgePoint.path)

    assets: Mapped[list[Asset]] = relationship(order_by="Asset.created_at", cascade="all, delete-orphan")

    @validates("visibility")
    def _revoke_links_when_narrowed(self, _key: str, visibility: Visibility) -> Visibility:
        # Here, not in a service function: every path that sets visibility passes through it.
        previous = self.visibility
        if previous is not None and _REACH[Visibility(visibility)] < _REACH[previous]:
            self.link_epoch = (self.link_epoch or 0) + 1  # resources/links.py
        return visibility


# How far each visibility reaches: narrowing revokes the links already handed out.
_REACH = {Visibility.private: 0, Visibility.school: 1, Visibility.paired: 2, Visibility.district: 3,
          Visibility.public: 4}


class Asset(Base):
    """One file of a resource, pointing at a stored blob."""

    __tablename__ = "assets"

    id: Mapped[str] = id_column()
    resource_id: Mapped[str] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"), index=True)
    blob_id: Mapped[str] = mapped_column(ForeignKey("blobs.id"), index=True)
    upload_id: Mapped[str | None] = mapped_column(ForeignKey("uploads.id"))
    # main, presenter, students, presentation, composite, lesson_plan, ...
    role: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(16))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    duration_s: Mapped[float | None]
    width: Mapped[int | None]
    height: Mapped[int | None]
    renditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = created_at_column()


class ResourceRevision(Base):
    """A proposed change to what a reviewer approved; the resource stays as it was until a
    reviewer approves it. `proposed` holds the new values in API terms (subject, ...,
    knowledge_point_ids, upload_ids), `changes` the field-by-field diff against the live version
    when it was proposed."""

    __tablename__ = "resource_revisions"
    __table_args__ = (
        Index("ix_resource_revisions_resource_status", "resource_id", "status"),
        # At most one revision waits per resource (a second edit supersedes it), kept by the database too.
        Index("uq_resource_revisions_one_pending", "resource_id", unique=True,
              sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'")),
        # The moderation queue's pending revisions, oldest first (migration 0026).
        Index("ix_resource_revisions_pending_since", "created_at", "resource_id", "author_id",
              sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[str] = id_column()
    resource_id: Mapped[str] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    status: Mapped[RevisionStatus] = mapped_column(EnumText(RevisionStatus, 16), default=RevisionStatus.pending)
    proposed: Mapped[dict[str, Any]] = mapped_column(JSON)
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # The resource's version the diff was taken against.
    base_version: Mapped[int]
    created_at: Mapped[datetime] = created_at_column()
    decided_at: Mapped[datetime | None]


# What the search document of a resource is built from (services/api/search/documents.py): a
# change to any of these must bump `version` through `changed_for_search`, or the index would
# never learn of it. The outbox listener refuses a flush that breaks this.
SEARCHED_COLUMNS = ("title", "description", "kind", "subject_code", "stage_code", "grade_code", "edition_code",
                    "volume_code", "chapter_code", "tags", "visibility", "license", "owner_id", "school_id",
                    "district_id", "status", "published_at", "knowledge_points")
# An asset's part of the document: extracted page text and durations come from its renditions.
SEARCHED_ASSET_COLUMNS = ("renditions", "duration_s")


def changed_for_search(resource: Resource) -> None:
    """The one way to say "search must see this resource again": a new version, which the outbox
    listener turns into a row in the same flush."""
    resource.version += 1

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from services.api.orgs.models import SchoolKind
from services.api.pagination import Page


class SemesterRead(BaseModel):
    code: str
    starts_at: datetime
    ends_at: datetime


class Filters(BaseModel):
    semester: SemesterRead
    stage: str | None
    subject: str | None


class PendingReviews(BaseModel):
    """Resources waiting for review now (whatever the semester), and how long they have waited
    since they were submitted (the moderation queue's `submitted_at`)."""

    count: int
    oldest_age_s: int | None
    median_age_s: int | None


class Partner(BaseModel):
    pairing_id: str
    school_id: str
    school_name: str
    # This school's side of the pair: `helper` (城) helps the partner, `assisted` (乡) is helped.
    role: str
    # Exchange activities (同步课堂, 名师课堂, joint preparation) the pair held in the semester.
    exchanges_held: int = 0


class Publishing(BaseModel):
    teachers: int               # active accounts with the teacher role
    publishing_teachers: int    # of them, those with a resource first published in the semester
    publishing_share: float | None
    resources_published: int    # first published in the semester and published now
    resources_played: int       # of those, played at least once (to date)
    plays: int                  # their plays to date (view_count: a play link handed out)


class SchoolParticipation(Publishing):
    school_id: str
    school_name: str
    school_kind: SchoolKind
    reviews_pending: PendingReviews
    # The pairs, each with the exchanges it held in the semester (services/api/pairing).
    pairings: list[Partner]


class DistrictParticipation(Publishing):
    district_id: str
    schools: int
    schools_publishing: int     # schools with at least one resource published in the semester
    reviews_pending: PendingReviews
    pairings: int
    paired_schools: int
    # Exchange activities the district's pairs held in the semester.
    exchanges_held: int = 0


class DistrictReport(BaseModel):
    filters: Filters
    district: DistrictParticipation


class SchoolReport(BaseModel):
    filters: Filters
    school: SchoolParticipation


class SchoolsReport(Page[SchoolParticipation]):
    filters: Filters

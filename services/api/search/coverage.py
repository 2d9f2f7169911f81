"""学科资源覆盖率: for one subject and stage, how many published resources of the district each
knowledge point has (its own and its descendants'), and the share of points with at least one."""
from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.api.auth.principal import Principal
from services.api.resources.models import Resource, ResourceStatus, resource_knowledge_points
from services.api.search.errors import CoverageNotAllowed
from services.api.taxonomy import service as taxonomy
from services.api.taxonomy.models import KnowledgePoint


class PointCoverage(BaseModel):
    id: str
    code: str
    name: str
    path: str
    parent_id: str | None
    depth: int
    count: int


class Coverage(BaseModel):
    subject: str
    stage: str
    edition: str | None
    points_total: int
    points_covered: int
    coverage: float
    points: list[PointCoverage]


def coverage(session: Session, *, actor: Principal, subject: str, stage: str, edition: str | None) -> Coverage:
    if not actor.reviews_district:
        raise CoverageNotAllowed()
    taxonomy.check_codes(session, subject=subject, stage=stage, edition=edition)
    points = list(session.scalars(select(KnowledgePoint).where(
        KnowledgePoint.subject_code == subject, KnowledgePoint.stage_code == stage).order_by(KnowledgePoint.path)))
    published = (select(resource_knowledge_points.c.resource_id, KnowledgePoint.path)
                 .join(Resource, Resource.id == resource_knowledge_points.c.resource_id)
                 .join(KnowledgePoint, KnowledgePoint.id == resource_knowledge_points.c.knowledge_point_id)
                 .where(Resource.district_id == actor.district_id, Resource.status == ResourceStatus.published,
                        KnowledgePoint.subject_code == subject, KnowledgePoint.stage_code == stage))
    if edition is not None:
        published = published.where(Resource.edition_code == edition)
    # A resource counts once for its point and once for each ancestor (a path is the chain of codes).
    resources_under: dict[str, set[str]] = {}
    for resource_id, path in session.execute(published):
        for code in filter(None, path.split(KnowledgePoint.PATH_SEPARATOR)):
            resources_under.setdefault(code, set()).add(resource_id)
    rows = [PointCoverage(id=p.id, code=p.code, name=p.name, path=p.path, parent_id=p.parent_id, depth=p.depth,
                          count=len(resources_under.get(p.code, ()))) for p in points]
    covered = sum(1 for row in rows if row.count)
    return Coverage(subject=subject, stage=stage, edition=edition, points_total=len(rows), points_covered=covered,
                    coverage=round(covered / len(rows), 4) if rows else 0.0, points=rows)

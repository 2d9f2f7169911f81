"""Review levels: a district's policy (one level, or a school reviewer then the district, per
kind of resource), which level a review awaits, who may decide at a level, and what the owner
is told on `GET /resources/{id}` (`review`)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, Text, and_, bindparam, cast, false, not_, or_, select
from sqlalchemy.orm import Session

from services.api.auth.principal import Principal
from services.api.moderation.models import ModerationAction, ModerationDecision, ReviewPolicy
from services.api.notifications import service as notifications
from services.api.orgs.models import Role, User
from services.api.resources.models import Resource, ResourceKind, ResourceRevision, ResourceStatus, ReviewLevel, \
    RevisionStatus
from services.common.db import PreparedQuery, utcnow

LEVEL_CHOICES = (1, 2)
_OUTCOME = {ModerationAction.approve: "approved", ModerationAction.reject: "rejected",
            ModerationAction.take_down: "taken_down", ModerationAction.restore: "restored"}


def policy(session: Session | Connection, *, district_id: str) -> dict[ResourceKind, int]:
    """Levels per kind; a kind the district has not set has one level."""
    levels = {kind: 1 for kind in ResourceKind}
    levels.update({ResourceKind(kind): n for kind, n in session.execute(
        select(ReviewPolicy.kind, ReviewPolicy.levels).where(ReviewPolicy.district_id == district_id))})
    return levels


def set_policy(session: Session, *, district_id: str, actor_id: str, levels: dict[ResourceKind, int]) -> None:
    """Upserts the kinds given; reviews already past their first level stay where they are, and
    those at their first level follow the new policy at once."""
    for kind, n in levels.items():
        row = session.get(ReviewPolicy, (district_id, kind))
        if row is None:
            session.add(ReviewPolicy(district_id=district_id, kind=kind, levels=n, updated_by=actor_id))
        else:
            row.levels, row.updated_by, row.updated_at = n, actor_id, utcnow()
    session.flush()


def two_level_kinds(session: Session | Connection, *, district_id: str) -> list[ResourceKind]:
    return [kind for kind, n in policy(session, district_id=district_id).items() if n == 2]


def first_level(*, kind: ResourceKind, school_id: str | None, two_level: list[ResourceKind]) -> ReviewLevel:
    # A resource with no school (district staff's) has no school reviewer: the district reviews it.
    return ReviewLevel.school if kind in two_level and school_id is not None else ReviewLevel.district


def awaited_level(session: Session | Connection, *, resource: Any) -> ReviewLevel:
    """The level the resource's current review (or its pending revision's) waits for."""
    if resource.review_level is not None:
        return ReviewLevel(resource.review_level)
    return first_level(kind=ResourceKind(resource.kind), school_id=resource.school_id,
                       two_level=two_level_kinds(session, district_id=resource.district_id))


def may_decide_at(actor: Principal, *, level: ReviewLevel, school_id: str | None) -> bool:
    if level is ReviewLevel.school:
        return actor.reviews_school and school_id == actor.school_id
    return actor.reviews_district


def is_reviewer(actor: Principal) -> bool:
    return actor.reviews_district or actor.reviews_school


def awaits(actor: Principal, *, two_level: list[ResourceKind]) -> ColumnElement[bool]:
    """Resources (or their pending revisions) whose review waits for this reviewer's level and scope."""
    first_is_school = (and_(Resource.school_id.is_not(None), Resource.kind.in_(two_level))
                       if two_level else false())
    scopes = []
    if actor.reviews_district:
        scopes.append(or_(Resource.review_level == ReviewLevel.district,
                          and_(Resource.review_level.is_(None), not_(first_is_school))))
    if actor.reviews_school:
        scopes.append(and_(Resource.school_id == actor.school_id, Resource.review_level.is_(None), first_is_school))
    return or_(*scopes) if scopes else false()


def revision_created(session: Session, *, resource: Resource, revision: ResourceRevision) -> None:
    """Tells the reviewers of its first level that a revision waits."""
    level = awaited_level(session, resource=resource)
    tell_reviewers(session, resource=resource, level=level, kind="revision.waiting",
                   title=f"修订待审核：{resource.title}", exclude={revision.author_id, resource.owner_id},
                    details={"revision_id": revision.id})


def tell_reviewers(session: Session, *, resource: Resource, level: ReviewLevel, kind: str, title: str,
                   exclude: set[str], details: dict[str, Any] | None = None) -> None:
    """Notifies the active reviewers of a level (the school's reviewers, or the district's
    moderators); roles are a JSON list, matched as text so one query serves both databases."""
    role = Role.school_reviewer if level is ReviewLevel.school else Role.moderator
    query = select(User.id).where(User.district_id == resource.district_id, User.is_active.is_(True),
                                  cast(User.roles, Text).like(f'%"{role.value}"%'))
    if level is ReviewLevel.school:
        query = query.where(User.school_id == resource.school_id)
    reviewers = set(session.scalars(query)) - exclude
    notifications.notify_many(session, user_ids=reviewers, kind=kind, title=title, resource_id=resource.id,
                              details={"level": level.value, **(details or {})})


# On the read path of `GET /resources/{id}` (for the owner and those who manage it): prepared once.
_PENDING_REVISION_OF = PreparedQuery(select(ResourceRevision.id).where(
    ResourceRevision.resource_id == bindparam("resource_id"), ResourceRevision.status == RevisionStatus.pending))
_LATEST_DECISION_ON = PreparedQuery(
    select(ModerationDecision.action, ModerationDecision.reason_code, ModerationDecision.note,
           ModerationDecision.created_at, ModerationDecision.level, ModerationDecision.revision_id,
           ModerationDecision.appealed_at)
    .where(ModerationDecision.resource_id == bindparam("resource_id"))
    .order_by(ModerationDecision.created_at.desc(), ModerationDecision.id.desc()).limit(1))


def review_summary(connection: Connection, *, resource: Any) -> dict[str, Any] | None:
    """What the owner is told of the review: the pending one (with its level), else the latest
    decision (with the reviewer's reason and note). None when nothing was ever reviewed."""
    status = ResourceStatus(resource.status)
    pending = (_PENDING_REVISION_OF.one_or_none(connection, {"resource_id": resource.id})
               if status is ResourceStatus.published else None)
    if status is ResourceStatus.pending_review or pending is not None:
        return {"status": "pending", "level": awaited_level(connection, resource=resource),
                "reason_code": None, "note": None, "decided_at": None,
                "revision_id": pending.id if pending else None, "appealed": resource.review_excluded_id is not None}
    latest = _LATEST_DECISION_ON.one_or_none(connection, {"resource_id": resource.id})
    if latest is None:
        return None
    return {"status": _OUTCOME[latest.action], "level": latest.level, "reason_code": latest.reason_code,
            "note": latest.note, "decided_at": latest.created_at, "revision_id": latest.revision_id,
            "appealed": latest.appealed_at is not None}

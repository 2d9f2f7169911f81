"""Review before publication (审核把关): the queue, decisions on resources and their revisions at
one or two levels, appeals, and the district's review policy."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, and_, case, exists, func, literal_column, or_, select, type_coerce, union_all
from sqlalchemy.orm import Session

from services.api.audit import service as audit
from services.api.auth.errors import Forbidden
from services.api.auth.principal import Principal
from services.api.moderation import levels
from services.api.moderation.errors import (AlreadyAppealed, AppealNeedsAnotherReviewer, NothingToAppeal,
                                            NotYourLevel, OwnItem, ReasonRequired, RevisionNotPending, StaleReview)
from services.api.moderation.models import ModerationAction, ModerationDecision, ReasonCode
from services.api.notifications import service as notifications
from services.api.pagination import PageParams
from services.api.resources import revisions
from services.api.resources import service as resources
from services.api.resources.errors import NotResourceManager
from services.api.resources.models import (Resource, ResourceKind, ResourceRevision, ResourceStatus, ReviewLevel,
                                           RevisionStatus)
from services.api.resources.status import ResourceEvent, RevisionEvent, apply_event, apply_revision_event
from services.common.db import utcnow
from services.api.screening import blocklist

_EVENT_FOR = {ModerationAction.approve: ResourceEvent.approve, ModerationAction.reject: ResourceEvent.reject,
              ModerationAction.take_down: ResourceEvent.take_down, ModerationAction.restore: ResourceEvent.restore}
_NEEDS_REASON = {ModerationAction.reject, ModerationAction.take_down}
# Decisions on whether something goes (back) live: nobody takes them on their own work.
_REVIEW_ACTIONS = {ModerationAction.approve, ModerationAction.reject}


@dataclass(frozen=True)
class QueueEntry:
    resource: Resource
    revision: ResourceRevision | None
    level: ReviewLevel


def queue_page(session: Session, *, actor: Principal, paging: PageParams) -> tuple[int, list[QueueEntry]]:
    """What awaits the caller's level and scope, oldest first: resources in review and published
    resources' pending revisions. Never the caller's own work, nor an appeal of their rejection.

    The queue is two sources, each read in its own order by an index, so a page costs about
    its own rows however many wait (issue 16): resources in review with no pending revision
    (waiting since `updated_at`: the partial index `ix_resources_review_queue`), and resources
    with a pending revision (since the revision's `created_at`: `ix_resource_revisions_pending_since`). Each gives at most `offset + size` keys; their union, ordered as one
    queue (since, id), gives the page's ids; then only the page's rows are loaded."""
    _require_reviewer(actor)
    two_level = levels.two_level_kinds(session, district_id=actor.district_id)
    revision = ResourceRevision
    own_scope = (levels.awaits(actor, two_level=two_level), Resource.owner_id != actor.user_id,
                 or_(Resource.review_excluded_id.is_(None), Resource.review_excluded_id != actor.user_id))
    pending = and_(revision.resource_id == Resource.id, revision.status == RevisionStatus.pending)
    # A literal, as the partial index's WHERE is: a bound value would not match it.
    in_review_any = (select(Resource.id.label("id"), Resource.updated_at.label("since"))
                     .where(Resource.district_id == actor.district_id,
                            Resource.status == literal_column("'pending_review'"), *own_scope))
    in_review = in_review_any.where(~exists().where(pending))

    with_revision = (select(Resource.id.label("id"), revision.created_at.label("since"), Resource.status,
                            revision.author_id)
                     .select_from(revision).join(Resource, Resource.id == revision.resource_id)
                     .where(revision.status == literal_column("'pending'"),  # the partial unique index's WHERE
                            # `|| ''`: not index terms (nor the partial index's WHERE), so neither the
                            # district's ~1,000,000 published resources nor its ~10,000 in review are
                            # walked: resources are found from the few pending revisions by key.
                            Resource.district_id.concat("") == actor.district_id,
                            type_coerce(Resource.status, String).concat("").in_(
                                [ResourceStatus.pending_review.value, ResourceStatus.published.value]),
                            *own_scope))
    revised = with_revision.where(revision.author_id != actor.user_id)
    # The total without probing revisions for each resource in review: those counted from the
    # index alone, less those of them with a pending revision (which wait on the other side, if
    # not the caller's own revision), plus that side; the revisions walked once for both.
    side = with_revision.subquery()
    revisions_count = (func.count(case((side.c.author_id != actor.user_id, 1)))
                       - func.count(case((side.c.status == ResourceStatus.pending_review, 1))))
    total = session.scalar(select(select(func.count()).select_from(in_review_any.subquery()).scalar_subquery()
                                  + select(revisions_count).scalar_subquery())) or 0
    enough = paging.offset + paging.size
    heads = [select(head.c.id, head.c.since) for head in (
        in_review.order_by(Resource.updated_at, Resource.id).limit(enough).subquery(),
        revised.order_by(revision.created_at, revision.resource_id).limit(enough).subquery())]
    keys = union_all(*heads).subquery()
    ids = list(session.scalars(select(keys.c.id).order_by(keys.c.since, keys.c.id)
                               .offset(paging.offset).limit(paging.size)))
    if not ids:
        return total, []
    rows = {r.id: (r, rev) for r, rev in session.execute(
        select(Resource, revision).outerjoin(revision, pending).where(Resource.id.in_(ids)))}
    return total, [QueueEntry(resource=r, revision=rev, level=levels.first_level(
        kind=r.kind, school_id=r.school_id, two_level=two_level) if r.review_level is None else r.review_level)
        for r, rev in (rows[i] for i in ids)]


def decide(session: Session, *, actor: Principal, resource_id: str, action: ModerationAction,
           reason_code: ReasonCode | None, note: str, revision_id: str | None = None,
           expected_version: int | None = None, tell_owner: bool = True) -> tuple[ModerationDecision, Resource]:
    """Approve or reject what waits for review (the pending revision of a published resource,
    else the resource itself) at the level it waits for; take down or restore a resource.
    `tell_owner=False` is for a caller that tells the owner in its own words (an upheld report),
    so the owner hears of one take-down once."""
    _require_reviewer(actor)
    if action in _NEEDS_REASON and reason_code is None:
        raise ReasonRequired()
    resource = resources.lock_for_review(session, resources.get_visible(session, actor=actor,
                                                                        resource_id=resource_id))
    if resource.district_id != actor.district_id:
        raise Forbidden()  # public resources of other districts are reviewed by their own moderators
    if expected_version is not None and expected_version != resource.version:
        raise StaleReview(expected=expected_version, current=resource.version)
    if action in _REVIEW_ACTIONS:
        return _review(session, actor=actor, resource=resource, action=action, reason_code=reason_code, note=note,
                       revision_id=revision_id)
    if not actor.reviews_district:
        raise NotYourLevel(level=ReviewLevel.district.value)
    if action is ModerationAction.restore and actor.user_id == resource.owner_id:
        raise OwnItem()
    apply_event(resource, _EVENT_FOR[action])
    blocklist.follow_decision(session, resource=resource, action=action, reason_code=reason_code)
    decision = _record(session, actor=actor, resource=resource, action=action, reason_code=reason_code, note=note,
                       revision=None, level=ReviewLevel.district, on_appeal=False)
    if tell_owner:
        _tell_owner(session, resource=resource, decision=decision, revision=None)
    return decision, resource


def _review(session: Session, *, actor: Principal, resource: Resource, action: ModerationAction,
            reason_code: ReasonCode | None, note: str, revision_id: str | None) -> tuple[ModerationDecision, Resource]:
    revision = (revisions.pending_revision(session, resource_id=resource.id, for_update=True)
                if resource.status is ResourceStatus.published else None)
    if revision_id is not None and (revision is None or revision.id != revision_id):
        raise RevisionNotPending()
    if actor.user_id == resource.owner_id or (revision is not None and actor.user_id == revision.author_id):
        raise OwnItem()
    if resource.review_excluded_id == actor.user_id:
        raise AppealNeedsAnotherReviewer()
    if resource.status is not ResourceStatus.pending_review and revision is None:
        apply_event(resource, _EVENT_FOR[action])  # nothing waits: refused by the status table
    level = levels.awaited_level(session, resource=resource)
    if not levels.may_decide_at(actor, level=level, school_id=resource.school_id):
        raise NotYourLevel(level=level.value)
    on_appeal = resource.review_excluded_id is not None
    if action is ModerationAction.approve and level is ReviewLevel.school:
        resource.review_level = ReviewLevel.district  # passed the first of two levels
    else:
        if revision is not None and action is ModerationAction.approve:
            revisions.approve(session, resource=resource, revision=revision)
        elif revision is not None:
            revisions.reject(revision=revision)
        else:
            apply_event(resource, _EVENT_FOR[action])
        resource.review_level = resource.review_excluded_id = None
    decision = _record(session, actor=actor, resource=resource, action=action, reason_code=reason_code, note=note,
                       revision=revision, level=level, on_appeal=on_appeal)
    _tell_owner(session, resource=resource, decision=decision, revision=revision)
    if resource.review_level is ReviewLevel.district:
        levels.tell_reviewers(session, resource=resource, level=ReviewLevel.district, kind="review.waiting",
                              title=f"待审核（区级）：{resource.title}",
                              exclude={resource.owner_id, *([revision.author_id] if revision else [])})
    return decision, resource


def appeal(session: Session, *, actor: Principal, resource_id: str,
           note: str) -> tuple[ModerationDecision, Resource]:
    """The owner appeals the latest rejection (of the resource or of its latest revision), once:
    it goes before the district's reviewers, except the one who rejected."""
    resource = resources.lock_for_review(session, resources.get_visible(session, actor=actor,
                                                                        resource_id=resource_id))
    if resource.owner_id != actor.user_id:
        raise NotResourceManager()
    rejection = session.scalars(select(ModerationDecision).where(ModerationDecision.resource_id == resource.id)
                                .order_by(ModerationDecision.created_at.desc(), ModerationDecision.id.desc())
                                .limit(1).with_for_update()).one_or_none()
    if rejection is None or rejection.action is not ModerationAction.reject:
        raise NothingToAppeal()
    if rejection.appealed_at is not None or rejection.on_appeal:
        raise AlreadyAppealed()
    if rejection.revision_id is not None:
        latest = session.scalars(revisions.revisions_query(resource_id=resource.id).limit(1)).one()
        if latest.id != rejection.revision_id or resource.status is not ResourceStatus.published:
            raise NothingToAppeal()  # edited again since, or no longer live: nothing to put back
        apply_revision_event(latest, RevisionEvent.appeal)
    else:
        apply_event(resource, ResourceEvent.appeal)
    rejection.appealed_at, rejection.appeal_note = utcnow(), note
    resource.review_level, resource.review_excluded_id = ReviewLevel.district, rejection.moderator_id
    audit.record(session, actor_id=actor.user_id, district_id=resource.district_id, action="moderation.appeal",
                 target_type="resource", target_id=resource.id, decision_id=rejection.id, note=note)
    levels.tell_reviewers(session, resource=resource, level=ReviewLevel.district, kind="appeal.waiting",
                          title=f"申诉待审核：{resource.title}", exclude={rejection.moderator_id, resource.owner_id})
    return rejection, resource


def decisions_of(session: Session, *, revision_ids: list[str]) -> dict[str, ModerationDecision]:
    """The latest decision on each of these revisions."""
    latest: dict[str, ModerationDecision] = {}
    for decision in session.scalars(select(ModerationDecision).where(ModerationDecision.revision_id.in_(revision_ids))
                                    .order_by(ModerationDecision.created_at, ModerationDecision.id)):
        latest[decision.revision_id or ""] = decision
    return latest


def read_policy(session: Session, *, actor: Principal) -> dict[ResourceKind, int]:
    if not (levels.is_reviewer(actor) or actor.is_district_admin):
        raise Forbidden()
    return levels.policy(session, district_id=actor.district_id)


def write_policy(session: Session, *, actor: Principal, policy: dict[ResourceKind, int]) -> dict[ResourceKind, int]:
    if not actor.is_district_admin:
        raise Forbidden()
    levels.set_policy(session, district_id=actor.district_id, actor_id=actor.user_id, levels=policy)
    audit.record(session, actor_id=actor.user_id, district_id=actor.district_id, action="moderation.policy",
                 target_type="district", target_id=actor.district_id,
                 levels={kind.value: n for kind, n in policy.items()})
    return levels.policy(session, district_id=actor.district_id)


def _record(session: Session, *, actor: Principal, resource: Resource, action: ModerationAction,
            reason_code: ReasonCode | None, note: str, revision: ResourceRevision | None, level: ReviewLevel,
            on_appeal: bool) -> ModerationDecision:
    decision = ModerationDecision(resource_id=resource.id, moderator_id=actor.user_id, action=action,
                                  reason_code=reason_code, note=note, revision_id=revision.id if revision else None,
                                  level=level, on_appeal=on_appeal)
    session.add(decision)
    session.flush()
    details: dict[str, Any] = {"reason_code": reason_code.value if reason_code else None, "note": note}
    if revision is not None:
        details["revision_id"] = revision.id
    if level is ReviewLevel.school:
        details["level"] = level.value
    audit.record(session, actor_id=actor.user_id, district_id=resource.district_id,
                 action=f"moderation.{action.value}", target_type="resource", target_id=resource.id, **details)
    return decision


_TOLD = {ModerationAction.approve: ("review.approved", "审核通过"), ModerationAction.reject: ("review.rejected", "审核未通过"),
         ModerationAction.take_down: ("review.taken_down", "已下架"), ModerationAction.restore: ("review.restored", "已恢复")}


def _tell_owner(session: Session, *, resource: Resource, decision: ModerationDecision,
                revision: ResourceRevision | None) -> None:
    kind, outcome = _TOLD[decision.action]
    if decision.action is ModerationAction.approve and resource.review_level is ReviewLevel.district:
        kind, outcome = "review.level_passed", "通过学校审核，等待区级审核"
    what = "修订" if revision is not None else "资源"
    body = "\n".join(filter(None, [f"原因：{decision.reason_code.value}" if decision.reason_code else "",
                                   f"审核意见：{decision.note}" if decision.note else ""]))
    details = {"decision_id": decision.id, "action": decision.action.value, "level": decision.level.value
               if decision.level else None, "reason_code": decision.reason_code.value if decision.reason_code else None,
               "note": decision.note, "revision_id": revision.id if revision else None}
    for user_id in {resource.owner_id, *([revision.author_id] if revision else [])}:
        notifications.notify(session, user_id=user_id, kind=kind, title=f"{what}{outcome}：{resource.title}", body=body,
                             resource_id=resource.id, details=details)


def _require_reviewer(actor: Principal) -> None:
    if not levels.is_reviewer(actor):
        raise Forbidden()

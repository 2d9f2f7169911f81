from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from services.api.audit import service as audit
from services.api.auth.errors import Forbidden
from services.api.auth.principal import Principal
from services.api.moderation.errors import ReasonRequired
from services.api.moderation.models import ModerationAction, ModerationDecision, ReasonCode
from services.api.resources import service as resources
from services.api.resources.models import Resource, ResourceStatus
from services.api.resources.status import ResourceEvent, apply_event
from services.api.screening import blocklist

_EVENT_FOR = {ModerationAction.approve: ResourceEvent.approve, ModerationAction.reject: ResourceEvent.reject,
              ModerationAction.take_down: ResourceEvent.take_down, ModerationAction.restore: ResourceEvent.restore}
_NEEDS_REASON = {ModerationAction.reject, ModerationAction.take_down}


def queue_query(*, actor: Principal) -> Select[tuple[Resource]]:
    """What awaits review in the caller's district, oldest first."""
    _require_reviewer(actor)
    return (select(Resource)
            .where(Resource.district_id == actor.district_id, Resource.status == ResourceStatus.pending_review)
            .order_by(Resource.updated_at, Resource.id))


def decide(session: Session, *, actor: Principal, resource_id: str, action: ModerationAction,
           reason_code: ReasonCode | None, note: str) -> tuple[ModerationDecision, Resource]:
    _require_reviewer(actor)
    if action in _NEEDS_REASON and reason_code is None:
        raise ReasonRequired()
    resource = resources.get_visible(session, actor=actor, resource_id=resource_id)
    if resource.district_id != actor.district_id:
        raise Forbidden()  # public resources of other districts are reviewed by their own moderators
    apply_event(resource, _EVENT_FOR[action])
    blocklist.follow_decision(session, resource=resource, action=action, reason_code=reason_code)
    decision = ModerationDecision(resource_id=resource.id, moderator_id=actor.user_id, action=action,
                                  reason_code=reason_code, note=note)
    session.add(decision)
    session.flush()
    audit.record(session, actor_id=actor.user_id, district_id=resource.district_id,
                 action=f"moderation.{action.value}", target_type="resource", target_id=resource.id,
                 reason_code=reason_code.value if reason_code else None, note=note)
    return decision, resource


def _require_reviewer(actor: Principal) -> None:
    if not actor.reviews_district:
        raise Forbidden()

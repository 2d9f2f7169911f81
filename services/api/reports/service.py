"""Filing reports, hiding what too many people report, and resolving a resource's open reports.

A report never changes a status itself: hiding, un-hiding and taking down go through the status
machine (`apply_event`), and an upheld take-down through the moderation decision, so it is
audited and blocks the content like any other take-down.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.api.audit import service as audit
from services.api.auth.errors import Forbidden
from services.api.auth.principal import Principal
from services.api.moderation import service as moderation
from services.api.moderation.models import ModerationAction, ReasonCode
from services.api.notifications.service import notify, notify_many
from services.api.reports.errors import NoOpenReports, ReportAlreadyOpen
from services.api.reports.models import ReportReason, ReportState, ResolutionOutcome, ResourceReport
from services.api.resources import service as resources
from services.api.resources.models import Resource, ResourceStatus
from services.api.resources.status import ResourceEvent, apply_event
from services.common.db import utcnow

# The moderation reason a report's reason becomes when it is upheld with a take-down.
REASON_CODE_FOR: dict[ReportReason, ReasonCode] = {
    ReportReason.copyright: ReasonCode.copyright,
    ReportReason.factual_error: ReasonCode.inaccurate,
    ReportReason.inappropriate: ReasonCode.inappropriate,
    ReportReason.privacy: ReasonCode.privacy,
    ReportReason.other: ReasonCode.other,
}
REPORTS_SHOWN_PER_RESOURCE = 20


@dataclass(frozen=True)
class ReportGroupRow:
    resource: Resource
    open_reports: int
    reporters: int
    reasons: dict[ReportReason, int]
    first_reported_at: datetime
    last_reported_at: datetime
    reports: list[ResourceReport]


@dataclass(frozen=True)
class Resolution:
    resource: Resource
    outcome: ResolutionOutcome
    resolved: int
    decision_id: str | None


def file_report(session: Session, *, actor: Principal, resource_id: str, reason: ReportReason, detail: str,
                hide_threshold: int) -> ResourceReport:
    """A report by someone who can see the resource. When `hide_threshold` distinct people have
    open reports on a published resource, it is hidden until a moderator resolves them."""
    resource = resources.get_visible(session, actor=actor, resource_id=resource_id)
    # Reports of one resource are counted one at a time (PostgreSQL; SQLite writers are serial).
    session.execute(select(Resource.id).where(Resource.id == resource.id).with_for_update())
    if session.scalar(select(ResourceReport.id).where(ResourceReport.resource_id == resource.id,
                                                      ResourceReport.reporter_id == actor.user_id,
                                                      ResourceReport.state == ReportState.open)):
        raise ReportAlreadyOpen()
    report = ResourceReport(resource_id=resource.id, reporter_id=actor.user_id, district_id=resource.district_id,
                            reason=reason, detail=detail, state=ReportState.open)
    session.add(report)
    try:
        session.flush()
    except IntegrityError:  # the same person's report in a concurrent request
        raise ReportAlreadyOpen() from None
    if resource.status is ResourceStatus.published:
        reporters = session.scalar(select(func.count(func.distinct(ResourceReport.reporter_id))).where(
            ResourceReport.resource_id == resource.id, ResourceReport.state == ReportState.open)) or 0
        if reporters >= hide_threshold:
            _hide(session, resource=resource, reporters=reporters)
    return report


def _hide(session: Session, *, resource: Resource, reporters: int) -> None:
    apply_event(resource, ResourceEvent.hide)
    audit.record(session, actor_id=None, district_id=resource.district_id, action="report.hidden",
                 target_type="resource", target_id=resource.id, reporters=reporters)
    # The owner learns that, and why, but never who reported it.
    reasons = _reason_counts(session, resource_ids=[resource.id]).get(resource.id, {})
    notify(session, user_id=resource.owner_id, kind="report.hidden",
           title=f"您的资源《{resource.title}》因多次被举报已暂时隐藏，等待审核",
           body="审核员处理举报后，您会收到结果通知。", resource_id=resource.id,
           details={"reasons": {reason.value: count for reason, count in reasons.items()}})


def open_groups(session: Session, *, actor: Principal, page: int, size: int) -> tuple[int, list[ReportGroupRow]]:
    """Open reports of the caller's district grouped by resource, the longest waiting first."""
    _require_reviewer(actor)
    scope = (ResourceReport.district_id == actor.district_id, ResourceReport.state == ReportState.open)
    total = session.scalar(select(func.count(func.distinct(ResourceReport.resource_id))).where(*scope)) or 0
    first = func.min(ResourceReport.created_at)
    groups = session.execute(
        select(ResourceReport.resource_id, func.count().label("open_reports"),
               func.count(func.distinct(ResourceReport.reporter_id)).label("reporters"),
               first.label("first_reported_at"), func.max(ResourceReport.created_at).label("last_reported_at"),
               *(func.sum(case((ResourceReport.reason == reason, 1), else_=0)).label(reason.value)
                 for reason in ReportReason))
        .where(*scope).group_by(ResourceReport.resource_id).order_by(first, ResourceReport.resource_id)
        .offset((page - 1) * size).limit(size)).all()
    ids = [group.resource_id for group in groups]
    shown = {resource.id: resource for resource in session.scalars(select(Resource).where(Resource.id.in_(ids)))}
    reports: dict[str, list[ResourceReport]] = {}
    for report in session.scalars(select(ResourceReport).where(ResourceReport.resource_id.in_(ids), *scope)
                                  .order_by(ResourceReport.created_at.desc(), ResourceReport.id.desc())):
        listed = reports.setdefault(report.resource_id, [])
        if len(listed) < REPORTS_SHOWN_PER_RESOURCE:
            listed.append(report)
    return total, [ReportGroupRow(resource=shown[group.resource_id], open_reports=group.open_reports,
                                  reporters=group.reporters,
                                  reasons={reason: int(getattr(group, reason.value) or 0) for reason in ReportReason
                                           if getattr(group, reason.value)},
                                  first_reported_at=group.first_reported_at, last_reported_at=group.last_reported_at,
                                  reports=reports.get(group.resource_id, []))
                   for group in groups]


def resolve(session: Session, *, actor: Principal, resource_id: str, outcome: ResolutionOutcome, note: str,
            take_down: bool, reason_code: ReasonCode | None) -> Resolution:
    """Closes every open report of the resource with one outcome. Upheld with `take_down`, a
    published or hidden resource is taken down by a moderation decision; otherwise a hidden one
    is shown again. Reporters and the owner are told."""
    _require_reviewer(actor)
    open_reports = list(session.scalars(
        select(ResourceReport).where(ResourceReport.resource_id == resource_id,
                                     ResourceReport.district_id == actor.district_id,
                                     ResourceReport.state == ReportState.open)
        .order_by(ResourceReport.created_at).with_for_update()))
    if not open_reports:
        raise NoOpenReports()
    resource = session.get_one(Resource, resource_id)
    decision_id = None
    takes_down = (outcome is ResolutionOutcome.upheld and take_down
                  and resource.status in (ResourceStatus.published, ResourceStatus.hidden))
    if takes_down:
        code = reason_code or REASON_CODE_FOR[_most_given(open_reports)]
        decision, resource = moderation.decide(session, actor=actor, resource_id=resource.id,
                                               action=ModerationAction.take_down, reason_code=code, note=note,
                                               tell_owner=False)  # _tell_outcome tells them, once
        decision_id = decision.id
    elif resource.status is ResourceStatus.hidden:
        apply_event(resource, ResourceEvent.unhide)
    now = utcnow()
    state = ReportState(outcome.value)
    for report in open_reports:
        report.state, report.resolved_at, report.resolved_by = state, now, actor.user_id
        report.resolution_note, report.decision_id = note, decision_id
    audit.record(session, actor_id=actor.user_id, district_id=resource.district_id,
                 action=f"report.{outcome.value}", target_type="resource", target_id=resource.id,
                 reports=len(open_reports), note=note, taken_down=takes_down)
    _tell_outcome(session, resource=resource, outcome=outcome, note=note, taken_down=takes_down,
                  reporter_ids={report.reporter_id for report in open_reports})
    session.flush()
    return Resolution(resource=resource, outcome=outcome, resolved=len(open_reports), decision_id=decision_id)


def _tell_outcome(session: Session, *, resource: Resource, outcome: ResolutionOutcome, note: str, taken_down: bool,
                  reporter_ids: set[str]) -> None:
    upheld = outcome is ResolutionOutcome.upheld
    details: dict[str, Any] = {"outcome": outcome.value, "taken_down": taken_down}
    notify_many(session, user_ids=reporter_ids - {resource.owner_id}, kind="report.resolved",
                title=(f"您对《{resource.title}》的举报已核实处理" if upheld
                       else f"您对《{resource.title}》的举报经审核未予采纳"),
                body=note, resource_id=resource.id, details=details)
    if taken_down:
        title = f"您的资源《{resource.title}》因举报核实已被下架"
    elif upheld:
        title = f"您的资源《{resource.title}》被举报的问题已核实，请修改"
    else:
        title = f"您的资源《{resource.title}》被举报的问题经审核不成立"
    notify(session, user_id=resource.owner_id, kind="report.resolved", title=title, body=note,
           resource_id=resource.id, details={**details, "status": resource.status.value})


def _most_given(reports: list[ResourceReport]) -> ReportReason:
    counts = Counter(report.reason for report in reports)
    return max(ReportReason, key=lambda reason: counts[reason])  # ties: the first in ReportReason


def _reason_counts(session: Session, *, resource_ids: list[str]) -> dict[str, dict[ReportReason, int]]:
    out: dict[str, dict[ReportReason, int]] = {}
    for resource_id, reason, count in session.execute(
            select(ResourceReport.resource_id, ResourceReport.reason, func.count())
            .where(ResourceReport.resource_id.in_(resource_ids), ResourceReport.state == ReportState.open)
            .group_by(ResourceReport.resource_id, ResourceReport.reason)):
        out.setdefault(resource_id, {})[reason] = count
    return out


def _require_reviewer(actor: Principal) -> None:
    if not actor.reviews_district:
        raise Forbidden()

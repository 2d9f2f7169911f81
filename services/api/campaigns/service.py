"""Campaign logic: setting a campaign up, packages and their completeness, judging, promotion
under quotas with a publicity period, and the awards. Keyword-only functions, no HTTP types."""
from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.api.audit.service import record
from services.api.auth.principal import Principal
from services.api.campaigns import judging, rules
from services.api.campaigns.errors import (CampaignNotFound, CertificateNotFound, InvalidCampaign, JudgingClosed,
                                           JudgingIncomplete,
                                           NotCompeting, NotEnoughJudges, NotLevelAdmin, NotParticipating,
                                           NotYourAssignment,
                                           NotYourResource, ObjectionNotFound, PackageChanged, PackageIncomplete,
                                           PackageLocked, PackageNotFound, PublicityOver, PublicityRunning,
                                           QuotaExceeded, RoundNotFound, RoundsBelowRunning, UnknownCategory,
                                           WindowClosed, WrongRound)
from services.api.campaigns.models import (Aggregation, Assignment, Campaign, CampaignLevel, CampaignPackage,
                                           Certificate, Entry, EntryStatus, LevelKind, Objection, ObjectionStatus,
                                           PackageItem, PackageStatus, Panel, RoundStatus)
from services.api.campaigns.status import (EntryEvent, ObjectionEvent, PackageEvent, RoundEvent, apply_entry_event,
                                           apply_objection_event, apply_package_event, apply_round_event)
from services.api.notifications.service import notify_many
from services.api.orgs.models import District, Region, Role, School, User
from services.api.regions import service as regions
from services.api.resources.models import Asset, Resource, ResourceKind, ResourceStatus, Visibility, changed_for_search
from services.api.resources.renditions import readable_renditions
from services.api.uploads.models import Blob
from services.common.db import utcnow
from services.common.ids import new_id
from services.common.jobs import JobKind

LEVEL_LABEL = {LevelKind.district: "县级", LevelKind.city: "市级", LevelKind.province: "省级"}
_ADMIN_ROLE = {LevelKind.district: Role.district_admin, LevelKind.city: Role.city_admin,
               LevelKind.province: Role.province_admin}
# A 32-letter alphabet with no 0/O or 1/I: codes are read off paper.
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


# ---------------------------------------------------------------- setting up


@dataclass(frozen=True, slots=True)
class LevelSpec:
    kind: LevelKind
    submission_opens_at: datetime
    submission_closes_at: datetime
    judging_closes_at: datetime
    publicity_days: int
    judges_per_package: int
    quotas: list[dict[str, Any]]


def create_campaign(session: Session, *, actor: Principal, title: str, categories: dict[str, Any],
                    rubric: list[dict[str, Any]], aggregation: Aggregation, levels: list[LevelSpec]) -> Campaign:
    """A campaign is run by the organisation of its top level: a district administrator's own
    district (a one-level campaign), or the city or province the caller administers, and then
    every district under it takes part. Each organisation has its round at each level (every
    district, every city with districts, the province); a round's promotions go to the round of
    the organisation above it."""
    if not levels or levels[0].kind is not LevelKind.district:
        raise InvalidCampaign(reason="the first level is the district")
    if [lv.kind for lv in levels] != sorted({lv.kind for lv in levels}, key=list(LevelKind).index):
        raise InvalidCampaign(reason="levels go upward (district, city, province), each at most once")
    if not rubric or any(c["max"] <= c["min"] or c["weight"] <= 0 for c in rubric):
        raise InvalidCampaign(reason="a rubric needs criteria with a positive weight and max above min")
    for spec in levels:
        if reason := rules.validate(spec.quotas):
            raise InvalidCampaign(reason=reason)
    top = levels[-1].kind
    region = administered_region(session, actor=actor)
    if top is LevelKind.district:
        if not actor.is_district_admin:
            raise NotLevelAdmin()
        districts = [session.get_one(District, actor.district_id)]
    elif region is None or region.kind.value != top.value:
        raise NotLevelAdmin()
    else:
        districts = regions.districts_under(session, region_id=region.id)
        if not districts:
            raise InvalidCampaign(reason=f"no district is under {region.name}")
    campaign = Campaign(title=title, district_id=actor.district_id, created_by=actor.user_id, categories=categories,
                        rubric=rubric, aggregation=aggregation,
                        region_id=region.id if top is not LevelKind.district and region else None)
    session.add(campaign)
    session.flush()
    rounds = _plan_rounds(session, campaign=campaign, levels=levels, districts=districts)
    session.add_all(rounds)  # parents first: the references are checked row by row
    record(session, actor_id=actor.user_id, district_id=actor.district_id, action="campaign.create",
           target_type="campaign", target_id=campaign.id, title=title, levels=[lv.kind.value for lv in levels],
           region_id=campaign.region_id, districts=[d.id for d in districts])
    session.flush()
    return campaign


def _plan_rounds(session: Session, *, campaign: Campaign, levels: list[LevelSpec],
                 districts: list[District]) -> list[CampaignLevel]:
    """The campaign's rounds, top level first. A district with no city between it and the
    province (a city-less level) sends its promotions to the nearest round above."""
    above: dict[str, dict[str, Region]] = {}  # organisation id -> {region kind: the region above it}

    def regions_above(org: District | Region) -> dict[str, Region]:
        if org.id not in above:
            start = org.region_id if isinstance(org, District) else org.parent_id
            above[org.id] = {r.kind.value: r for r in regions.ancestors(session, region_id=start)}
        return above[org.id]

    made: dict[tuple[int, str], CampaignLevel] = {}
    rounds: list[CampaignLevel] = []
    for position in reversed(range(len(levels))):
        spec = levels[position]
        if spec.kind is LevelKind.district:
            orgs: list[District | Region] = list(districts)
        else:
            orgs = list({r.id: r for d in districts if (r := regions_above(d).get(spec.kind.value))}.values())
        for org in sorted(orgs, key=lambda o: (o.name, o.id)):
            parent = None
            for higher in range(position + 1, len(levels)):
                org_above = regions_above(org).get(levels[higher].kind.value)
                if org_above is not None and (higher, org_above.id) in made:
                    parent = made[(higher, org_above.id)]
                    break
            district = org if isinstance(org, District) else None
            level = CampaignLevel(
                id=new_id(), campaign_id=campaign.id, ordinal=0, position=position, kind=spec.kind,
                name=f"{org.name}{LEVEL_LABEL[spec.kind]}", parent_id=parent.id if parent else None,
                district_id=district.id if district else None, region_id=None if district else org.id,
                status=RoundStatus.open if position == 0 else RoundStatus.pending,
                submission_opens_at=spec.submission_opens_at, submission_closes_at=spec.submission_closes_at,
                judging_closes_at=spec.judging_closes_at, publicity_days=spec.publicity_days,
                publicity_ends_at=None, judges_per_package=spec.judges_per_package, quotas=spec.quotas)
            made[(position, org.id)] = level
            rounds.append(level)
    for ordinal, level in enumerate(sorted(rounds, key=lambda lv: (lv.position, lv.name))):
        level.ordinal = ordinal
    return rounds


def administered_region(session: Session, *, actor: Principal) -> Region | None:
    """The city or province the caller administers (city_admin / province_admin), if any."""
    if not actor.has_any_role(Role.city_admin, Role.province_admin):
        return None
    region_id = session.scalar(select(User.region_id).where(User.id == actor.user_id))
    region = session.get(Region, region_id) if region_id else None
    if region is None or not actor.has_any_role(_ADMIN_ROLE[LevelKind(region.kind.value)]):
        return None
    return region


def get_campaign(session: Session, *, campaign_id: str) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise CampaignNotFound()
    return campaign


def levels_of(session: Session, *, campaign_id: str) -> list[CampaignLevel]:
    """Every round of the campaign, level by level."""
    return list(session.scalars(select(CampaignLevel).where(CampaignLevel.campaign_id == campaign_id)
                                .order_by(CampaignLevel.position, CampaignLevel.ordinal)))


def find_round(session: Session, *, actor: Principal, campaign_id: str, position: int,
               org_id: str | None = None) -> CampaignLevel:
    """The round at a level: the one of `org_id` (a district or region id) when given; else the
    caller's own (their district's, or the region they administer), or the round above their
    district's at that level; else the level's only round."""
    get_campaign(session, campaign_id=campaign_id)
    rounds = list(session.scalars(select(CampaignLevel).where(CampaignLevel.campaign_id == campaign_id,
                                                              CampaignLevel.position == position)))
    if org_id is not None:
        wanted = {org_id}
    else:
        region_id = session.scalar(select(User.region_id).where(User.id == actor.user_id))
        wanted = {actor.district_id, *([region_id] if region_id else [])}
    mine = [r for r in rounds if r.district_id in wanted or r.region_id in wanted]
    if len(mine) == 1:
        return mine[0]
    if org_id is None and len(rounds) == 1:
        return rounds[0]
    if org_id is None and rounds:
        above: CampaignLevel | None = session.scalar(select(CampaignLevel).where(
            CampaignLevel.campaign_id == campaign_id, CampaignLevel.position == 0,
            CampaignLevel.district_id == actor.district_id))
        while above is not None and above.position < position:
            above = session.get(CampaignLevel, above.parent_id) if above.parent_id else None
        if above is not None and above.position == position:
            return above
    if not rounds and org_id is None:
        raise CampaignNotFound()
    raise RoundNotFound(position=position, rounds=len(rounds))


def district_round(session: Session, *, campaign_id: str, district_id: str) -> CampaignLevel:
    """A district's first-level round (where its teachers post), or NotParticipating."""
    level = session.scalar(select(CampaignLevel).where(CampaignLevel.campaign_id == campaign_id,
                                                       CampaignLevel.position == 0,
                                                       CampaignLevel.district_id == district_id))
    if level is None:
        raise NotParticipating()
    return level


def require_level_admin(session: Session, *, actor: Principal, level: CampaignLevel) -> None:
    if not actor.has_any_role(_ADMIN_ROLE[level.kind]):
        raise NotLevelAdmin()
    if level.district_id is not None:
        if actor.district_id != level.district_id:
            raise NotLevelAdmin()
    elif session.scalar(select(User.region_id).where(User.id == actor.user_id)) != level.region_id:
        raise NotLevelAdmin()


def require_round_viewer(session: Session, *, actor: Principal, level: CampaignLevel) -> None:
    """Who reads a round's lists (progress, ranking): its own administrator, or the administrator
    of a city or province above it. A district administrator sees only their district's."""
    try:
        require_level_admin(session, actor=actor, level=level)
        return
    except NotLevelAdmin:
        pass
    region = administered_region(session, actor=actor)
    if region is None or region.id not in _regions_over(session, level=level):
        raise NotLevelAdmin()


def _regions_over(session: Session, *, level: CampaignLevel) -> set[str]:
    """The ids of the round's own region (if a region runs it) and every region above it."""
    start = level.region_id
    if level.district_id is not None:
        start = session.scalar(select(District.region_id).where(District.id == level.district_id))
    return {r.id for r in regions.ancestors(session, region_id=start)}


def rounds_under(session: Session, *, level: CampaignLevel) -> list[CampaignLevel]:
    """The round and every round feeding it, directly or through others."""
    found, frontier = [level], [level.id]
    while frontier:
        children = list(session.scalars(select(CampaignLevel).where(CampaignLevel.parent_id.in_(frontier))))
        found.extend(children)
        frontier = [c.id for c in children]
    return found


# ---------------------------------------------------------------- packages


def create_package(session: Session, *, actor: Principal, campaign_id: str, category: str, title: str,
                   items: dict[str, str]) -> CampaignPackage:
    campaign = get_campaign(session, campaign_id=campaign_id)
    if category not in campaign.categories:
        raise UnknownCategory()
    if actor.school_id is None:
        raise NotYourResource()
    district_round(session, campaign_id=campaign.id, district_id=actor.district_id)
    package = CampaignPackage(campaign_id=campaign.id, category=category, title=title, teacher_id=actor.user_id,
                              school_id=actor.school_id, district_id=actor.district_id, status=PackageStatus.draft)
    session.add(package)
    session.flush()
    _set_items(session, actor=actor, package=package, items=items)
    return package


def get_package(session: Session, *, actor: Principal | None, campaign_id: str, package_id: str) -> CampaignPackage:
    package = session.get(CampaignPackage, package_id)
    if package is None or package.campaign_id != campaign_id or (actor is not None and package.teacher_id != actor.user_id):
        raise PackageNotFound()
    return package


def replace_items(session: Session, *, actor: Principal, campaign_id: str, package_id: str,
                  items: dict[str, str]) -> CampaignPackage:
    package = get_package(session, actor=actor, campaign_id=campaign_id, package_id=package_id)
    if package.status is not PackageStatus.draft:
        raise PackageLocked()
    for item in items_of(session, package_id=package.id):
        session.delete(item)
    session.flush()
    _set_items(session, actor=actor, package=package, items=items)
    return package


def _set_items(session: Session, *, actor: Principal, package: CampaignPackage, items: dict[str, str]) -> None:
    owners = dict(session.execute(select(Resource.id, Resource.owner_id).where(Resource.id.in_(list(items.values())))).all())
    for part, resource_id in items.items():
        if owners.get(resource_id) != actor.user_id:
            raise NotYourResource()
        session.add(PackageItem(package_id=package.id, part=part, resource_id=resource_id))
    session.flush()


def items_of(session: Session, *, package_id: str) -> list[PackageItem]:
    return list(session.scalars(select(PackageItem).where(PackageItem.package_id == package_id)
                                .order_by(PackageItem.part)))


@dataclass(slots=True)
class PartCheck:
    part: str
    required: bool
    resource_id: str | None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def completeness(session: Session, *, campaign: Campaign, package: CampaignPackage) -> list[PartCheck]:
    """Each part of the category, checked: missing, not yet through review, the wrong kind or
    format, a recording outside its duration range, a document that failed to convert."""
    items = {item.part: item.resource_id for item in items_of(session, package_id=package.id)}
    checks = []
    for spec in campaign.categories[package.category]["parts"]:
        check = PartCheck(part=spec["part"], required=spec.get("required", True), resource_id=items.get(spec["part"]))
        checks.append(check)
        if check.resource_id is None:
            if check.required:
                check.problems.append("missing")
            continue
        resource = session.get_one(Resource, check.resource_id)
        assets = list(session.scalars(select(Asset).where(Asset.resource_id == resource.id)))
        if resource.status is ResourceStatus.failed:
            check.problems.append("conversion_failed")
        elif resource.status is not ResourceStatus.published:
            check.problems.append("not_reviewed")
        if spec.get("kinds") and resource.kind.value not in spec["kinds"]:
            check.problems.append("wrong_kind")
        if not assets:
            check.problems.append("no_files")
        formats = spec.get("formats")
        if formats and any(PurePosixPath(a.filename).suffix.lower().lstrip(".") not in formats for a in assets):
            check.problems.append("wrong_format")
        low, high = spec.get("min_duration_s"), spec.get("max_duration_s")
        if low is not None or high is not None:
            videos = [a for a in assets if a.category == "video"]
            if not videos or any(a.duration_s is None or (low is not None and a.duration_s < low)
                                 or (high is not None and a.duration_s > high) for a in videos):
                check.problems.append("duration_out_of_range")
        documents = [a for a in assets if a.category == "document"]
        if any(not any(r.job == JobKind.document.value for r in readable_renditions(a)) for a in documents) \
                and "conversion_failed" not in check.problems:
            check.problems.append("conversion_failed")
    for part in sorted(set(items) - {spec["part"] for spec in campaign.categories[package.category]["parts"]}):
        checks.append(PartCheck(part=part, required=False, resource_id=items[part], problems=["unknown_part"]))
    return checks


def submit_package(session: Session, *, actor: Principal, campaign_id: str, package_id: str,
                   now: datetime | None = None) -> CampaignPackage:
    now = now or utcnow()
    campaign = get_campaign(session, campaign_id=campaign_id)
    package = get_package(session, actor=actor, campaign_id=campaign_id, package_id=package_id)
    _require_window(district_round(session, campaign_id=campaign_id, district_id=package.district_id), now)
    checks = completeness(session, campaign=campaign, package=package)
    failing = [c for c in checks if not c.ok]
    if failing:
        raise PackageIncomplete(count=len(failing), errors=[{"loc": ["parts", c.part], "msg": ", ".join(c.problems)}
                                                           for c in failing])
    apply_package_event(package, PackageEvent.submit)
    main: Resource | None = None
    for item in items_of(session, package_id=package.id):
        resource = session.get_one(Resource, item.resource_id)
        item.resource_version = resource.version
        main = main or resource
    if main is not None:
        points = main.knowledge_points
        package.stage_code, package.grade_code = main.stage_code, main.grade_code
        package.subject_code, package.edition_code = main.subject_code, main.edition_code
        package.knowledge_point = points[0].code if points else None
    record(session, actor_id=actor.user_id, district_id=actor.district_id, action="campaign.package_submit",
           target_type="campaign_package", target_id=package.id, campaign_id=campaign_id)
    session.flush()
    return package


def withdraw_package(session: Session, *, actor: Principal, campaign_id: str, package_id: str,
                     now: datetime | None = None) -> CampaignPackage:
    """Takes a submitted package back (to change it, then submit it again), within the window."""
    package = get_package(session, actor=actor, campaign_id=campaign_id, package_id=package_id)
    _require_window(district_round(session, campaign_id=campaign_id, district_id=package.district_id),
                    now or utcnow())
    apply_package_event(package, PackageEvent.withdraw)
    for item in items_of(session, package_id=package.id):
        item.resource_version = None
    session.flush()
    return package


def _require_window(level: CampaignLevel, now: datetime) -> None:
    if level.status is not RoundStatus.open or not level.submission_opens_at <= now <= level.submission_closes_at:
        raise WindowClosed(opens_at=level.submission_opens_at.isoformat(),
                           closes_at=level.submission_closes_at.isoformat())


def changed_resource(session: Session, *, package_id: str) -> str | None:
    """The first resource of a submitted package that changed since (a newer version, or no longer
    published), or None."""
    rows = session.execute(select(PackageItem.resource_id, PackageItem.resource_version, Resource.version,
                                  Resource.status).join(Resource, Resource.id == PackageItem.resource_id)
                           .where(PackageItem.package_id == package_id))
    for resource_id, snapshot, version, status in rows:
        if snapshot != version or status is not ResourceStatus.published:
            return resource_id
    return None


# ---------------------------------------------------------------- judging


def create_panel(session: Session, *, actor: Principal, level: CampaignLevel, subject_code: str, name: str,
                 judge_ids: list[str]) -> Panel:
    require_level_admin(session, actor=actor, level=level)
    known = set(session.scalars(select(User.id).where(User.id.in_(judge_ids), User.is_active)))
    if known != set(judge_ids) or not judge_ids:
        raise InvalidCampaign(reason="every judge must be an active user")
    panel = Panel(level_id=level.id, subject_code=subject_code, name=name, judge_ids=list(dict.fromkeys(judge_ids)))
    session.add(panel)
    session.flush()
    return panel


def start_judging(session: Session, *, actor: Principal, level: CampaignLevel) -> list[Assignment]:
    """Closes the round to new entries and gives every package `judges_per_package` judges of its
    subject's panel, none from the package's own school, the least loaded first. A district's
    round takes its district's submitted packages; a round above waits until every round feeding
    it is final, so it ranks the promotions of all of them."""
    require_level_admin(session, actor=actor, level=level)
    running = [r.name for r in session.scalars(select(CampaignLevel).where(CampaignLevel.parent_id == level.id)
                                                .order_by(CampaignLevel.ordinal)) if r.status is not RoundStatus.final]
    if running:
        raise RoundsBelowRunning(names="、".join(running))
    apply_round_event(level, RoundEvent.start_judging)
    if level.position == 0:
        submitted = session.scalars(select(CampaignPackage.id).where(
            CampaignPackage.campaign_id == level.campaign_id, CampaignPackage.district_id == level.district_id,
            CampaignPackage.status == PackageStatus.submitted))
        for package_id in submitted:
            session.add(Entry(level_id=level.id, package_id=package_id, status=EntryStatus.competing))
        session.flush()
    panels = {p.subject_code: p for p in session.scalars(select(Panel).where(Panel.level_id == level.id))}
    entries = session.execute(select(Entry, CampaignPackage).join(CampaignPackage, CampaignPackage.id == Entry.package_id)
                              .where(Entry.level_id == level.id).order_by(CampaignPackage.submitted_at, Entry.id)).all()
    judge_ids = {j for p in panels.values() for j in p.judge_ids}
    school_of = dict(session.execute(select(User.id, User.school_id).where(User.id.in_(judge_ids))).all())
    load: Counter[str] = Counter()
    assignments = []
    for entry, package in entries:
        panel = panels.get(package.subject_code or "")
        eligible = [j for j in (panel.judge_ids if panel else []) if school_of.get(j) != package.school_id]
        if len(eligible) < level.judges_per_package:
            raise NotEnoughJudges(package_id=package.id, needed=level.judges_per_package, available=len(eligible))
        chosen = sorted(eligible, key=lambda j: (load[j], j))[:level.judges_per_package]
        for judge_id in chosen:
            load[judge_id] += 1
            assignments.append(Assignment(level_id=level.id, entry_id=entry.id, panel_id=panel.id, judge_id=judge_id))
    session.add_all(assignments)
    notify_many(session, user_ids=set(load), kind="campaign.judging", title=f"{level.name}评审任务",
                body=f"您有 {sum(load.values())} 份评审任务", details={"campaign_id": level.campaign_id})
    record(session, actor_id=actor.user_id, district_id=actor.district_id, action="campaign.start_judging",
           target_type="campaign_level", target_id=level.id, entries=len(entries), assignments=len(assignments))
    session.flush()
    return assignments


def my_assignments(session: Session, *, actor: Principal) -> list[tuple[Assignment, CampaignPackage, CampaignLevel]]:
    return list(session.execute(
        select(Assignment, CampaignPackage, CampaignLevel).join(Entry, Entry.id == Assignment.entry_id)
        .join(CampaignPackage, CampaignPackage.id == Entry.package_id)
        .join(CampaignLevel, CampaignLevel.id == Assignment.level_id)
        .where(Assignment.judge_id == actor.user_id).order_by(CampaignLevel.position, CampaignPackage.submitted_at)
    ))


def score(session: Session, *, actor: Principal, campaign_id: str, assignment_id: str,
          sheet: dict[str, tuple[float, str]], now: datetime | None = None) -> Assignment:
    """A judge's scores and comments per criterion, for a package assigned to them on their panel."""
    assignment = session.get(Assignment, assignment_id)
    level = session.get(CampaignLevel, assignment.level_id) if assignment else None
    if assignment is None or level is None or level.campaign_id != campaign_id or assignment.judge_id != actor.user_id:
        raise NotYourAssignment()
    panel = session.get_one(Panel, assignment.panel_id)
    if actor.user_id not in panel.judge_ids:
        raise NotYourAssignment()
    if level.status is not RoundStatus.judging:
        raise WrongRound(status=level.status.value, event="score")
    if (now or utcnow()) > level.judging_closes_at:
        raise JudgingClosed(closes_at=level.judging_closes_at.isoformat())
    entry = session.get_one(Entry, assignment.entry_id)
    if (changed := changed_resource(session, package_id=entry.package_id)) is not None:
        raise PackageChanged(resource_id=changed)
    campaign = get_campaign(session, campaign_id=campaign_id)
    total, first = judging.weighted_total(campaign.rubric, {code: value for code, (value, _) in sheet.items()})
    assignment.scores = {code: {"score": value, "comment": comment} for code, (value, comment) in sheet.items()}
    assignment.total, assignment.first_criterion, assignment.scored_at = total, first, utcnow()
    session.flush()
    return assignment


def assigned_package(session: Session, *, actor: Principal, campaign_id: str,
                     assignment_id: str) -> list[tuple[PackageItem, Resource, list[tuple[Asset, Blob]]]]:
    """What a judge looks at: the parts of a package assigned to them, with their files, whatever
    the resources' visibility (the assignment is the judge's permission)."""
    assignment = session.get(Assignment, assignment_id)
    level = session.get(CampaignLevel, assignment.level_id) if assignment else None
    if assignment is None or level is None or level.campaign_id != campaign_id or assignment.judge_id != actor.user_id:
        raise NotYourAssignment()
    entry = session.get_one(Entry, assignment.entry_id)
    parts = []
    for item in items_of(session, package_id=entry.package_id):
        resource = session.get_one(Resource, item.resource_id)
        files = list(session.execute(select(Asset, Blob).join(Blob, Blob.id == Asset.blob_id)
                                     .where(Asset.resource_id == resource.id).order_by(Asset.created_at)).all())
        parts.append((item, resource, [(asset, blob) for asset, blob in files]))
    return parts


@dataclass(frozen=True, slots=True)
class PanelProgress:
    panel_id: str
    name: str
    subject_code: str
    judges: int
    assignments: int
    scored: int


def progress(session: Session, *, level: CampaignLevel) -> list[PanelProgress]:
    counts = {panel_id: (total, scored) for panel_id, total, scored in session.execute(
        select(Assignment.panel_id, func.count(), func.count(Assignment.scored_at))
        .where(Assignment.level_id == level.id).group_by(Assignment.panel_id))}
    return [PanelProgress(panel_id=p.id, name=p.name, subject_code=p.subject_code, judges=len(p.judge_ids),
                          assignments=counts.get(p.id, (0, 0))[0], scored=counts.get(p.id, (0, 0))[1])
            for p in session.scalars(select(Panel).where(Panel.level_id == level.id).order_by(Panel.name))]


@dataclass(frozen=True, slots=True)
class RankingRow:
    ranked: judging.Ranked
    package: CampaignPackage
    entry: Entry


def ranking_rows(session: Session, *, level: CampaignLevel) -> list[RankingRow]:
    """The ranking with each package and its entry at the level, for the administrator's list."""
    ranked = ranking(session, level=level)
    found = {package.id: (package, entry) for package, entry in session.execute(
        select(CampaignPackage, Entry).join(Entry, Entry.package_id == CampaignPackage.id)
        .where(Entry.level_id == level.id)).all()}
    return [RankingRow(ranked=r, package=found[r.package_id][0], entry=found[r.package_id][1]) for r in ranked]


def ranking(session: Session, *, level: CampaignLevel) -> list[judging.Ranked]:
    """The level's ranked list from the score sheets handed in so far."""
    campaign = get_campaign(session, campaign_id=level.campaign_id)
    # Plain rows on the connection: a province round reads ~50,000 sheets (bench/campaign_rank.py).
    sheets = session.connection().execute(
        select(Entry.package_id, Assignment.total, Assignment.first_criterion)
        .join(Entry, Entry.id == Assignment.entry_id)
        .where(Assignment.level_id == level.id, Assignment.total.is_not(None),
               Entry.status != EntryStatus.disqualified)).all()
    submitted_at = dict(session.execute(
        select(CampaignPackage.id, CampaignPackage.submitted_at).join(Entry, Entry.package_id == CampaignPackage.id)
        .where(Entry.level_id == level.id)).all())
    return judging.rank(sheets, how=campaign.aggregation, submitted_at=submitted_at)


# ---------------------------------------------------------------- promotion and publicity


_FACT_COLUMNS = (CampaignPackage.id, CampaignPackage.teacher_id, CampaignPackage.school_id,
                 CampaignPackage.district_id, CampaignPackage.category, CampaignPackage.stage_code,
                 CampaignPackage.grade_code, CampaignPackage.subject_code, CampaignPackage.edition_code,
                 CampaignPackage.knowledge_point)


def entry_facts(session: Session, *, level_id: str) -> dict[str, rules.PackageFacts]:
    """What the quota rules look at, for every package at the level (plain columns: a province
    round has tens of thousands)."""
    rows = session.execute(select(*_FACT_COLUMNS).join(Entry, Entry.package_id == CampaignPackage.id)
                           .where(Entry.level_id == level_id)).all()
    return {row[0]: rules.PackageFacts(*row) for row in rows}


def participation(session: Session, *, campaign_id: str, school_ids: set[str] | None = None) -> dict[str, tuple[int, int]]:
    """school id -> (teachers who submitted a package, teachers)."""
    posted = dict(session.execute(
        select(CampaignPackage.school_id, func.count(func.distinct(CampaignPackage.teacher_id)))
        .where(CampaignPackage.campaign_id == campaign_id, CampaignPackage.submitted_at.is_not(None))
        .group_by(CampaignPackage.school_id)).all())
    query = select(User.school_id, User.roles).where(User.is_active, User.school_id.is_not(None))
    if school_ids is not None:
        query = query.where(User.school_id.in_(school_ids))
    teachers: Counter[str] = Counter(school_id for school_id, roles in session.execute(query)
                                     if Role.teacher.value in roles)
    return {school_id: (posted.get(school_id, 0), count) for school_id, count in teachers.items()}


def propose(session: Session, *, actor: Principal, level: CampaignLevel, package_ids: list[str],
            now: datetime | None = None) -> list[Entry]:
    """The level's administrator proposes the top of the ranking for promotion; every quota rule is
    checked first and a breach refused naming the rule. The list then goes to publicity (公示)."""
    require_level_admin(session, actor=actor, level=level)
    if level.status is not RoundStatus.judging:
        raise WrongRound(status=level.status.value, event="propose")
    remaining = session.scalar(select(func.count()).select_from(Assignment).join(Entry, Entry.id == Assignment.entry_id)
                               .where(Assignment.level_id == level.id, Assignment.scored_at.is_(None),
                                      Entry.status != EntryStatus.disqualified)) or 0
    if remaining:
        raise JudgingIncomplete(remaining=remaining)
    facts = entry_facts(session, level_id=level.id)
    by_package = {entry.package_id: entry for entry in session.scalars(
        select(Entry).where(Entry.level_id == level.id, Entry.package_id.in_(package_ids)))}
    if any(by_package.get(pid) is None or by_package[pid].status is not EntryStatus.competing for pid in package_ids) \
            or len(set(package_ids)) != len(package_ids):
        raise NotCompeting()
    # An empty proposal only closes a round with nothing competing (a district that posted nothing),
    # so that the round above it can start.
    if not package_ids and session.scalar(select(func.count()).select_from(Entry).where(
            Entry.level_id == level.id, Entry.status == EntryStatus.competing)):
        raise NotCompeting()
    chosen = [facts[pid] for pid in package_ids]
    for package_id in package_ids:
        if (changed := changed_resource(session, package_id=package_id)) is not None:
            raise PackageChanged(resource_id=changed)
    violations = rules.check(level.quotas, proposed=chosen, competing=list(facts.values()),
                             participation=participation(session, campaign_id=level.campaign_id,
                                                         school_ids={p.school_id for p in chosen}))
    if violations:
        raise QuotaExceeded(rule=violations[0].rule, errors=[
            {"rule": v.rule, "group": v.group, "allowed": v.allowed, "found": v.found, "package_ids": v.package_ids}
            for v in violations])
    entries = {e.package_id: e for e in session.scalars(select(Entry).where(Entry.level_id == level.id))}
    for ranked in ranking(session, level=level):
        entries[ranked.package_id].score, entries[ranked.package_id].rank = ranked.score, ranked.rank
    for package_id in package_ids:
        apply_entry_event(by_package[package_id], EntryEvent.propose)
    apply_round_event(level, RoundEvent.propose)
    level.publicity_ends_at = (now or utcnow()) + timedelta(days=level.publicity_days)
    notify_many(session, user_ids={p.teacher_id for p in chosen}, kind="campaign.proposed",
                title=f"您的课例进入{level.name}推荐公示", details={"campaign_id": level.campaign_id})
    record(session, actor_id=actor.user_id, district_id=actor.district_id, action="campaign.propose",
           target_type="campaign_level", target_id=level.id, package_ids=package_ids)
    session.flush()
    return [by_package[pid] for pid in package_ids]


def disqualify(session: Session, *, actor: Principal, campaign_id: str, entry_id: str, reason: str) -> Entry:
    """The level's administrator takes a competing entry out (a package changed after submission,
    say): its sheets are no longer awaited and it leaves the ranking."""
    entry = session.get(Entry, entry_id)
    level = session.get(CampaignLevel, entry.level_id) if entry else None
    if entry is None or level is None or level.campaign_id != campaign_id:
        raise NotCompeting()
    require_level_admin(session, actor=actor, level=level)
    apply_entry_event(entry, EntryEvent.disqualify)
    teacher = session.scalar(select(CampaignPackage.teacher_id).where(CampaignPackage.id == entry.package_id))
    notify_many(session, user_ids={teacher} if teacher else set(), kind="campaign.disqualified",
                title=f"您的课例未能继续参加{level.name}评审", body=reason, details={"campaign_id": campaign_id})
    record(session, actor_id=actor.user_id, district_id=actor.district_id, action="campaign.disqualify",
           target_type="campaign_entry", target_id=entry.id, reason=reason)
    session.flush()
    return entry


def file_objection(session: Session, *, actor: Principal, campaign_id: str, entry_id: str, reason: str,
                   now: datetime | None = None) -> Objection:
    entry = session.get(Entry, entry_id)
    level = session.get(CampaignLevel, entry.level_id) if entry else None
    if entry is None or level is None or level.campaign_id != campaign_id or entry.status is not EntryStatus.proposed:
        raise NotCompeting()
    if level.status is not RoundStatus.publicity or (now or utcnow()) > (level.publicity_ends_at or utcnow()):
        raise PublicityOver()
    objection = Objection(entry_id=entry.id, filed_by=actor.user_id, reason=reason, status=ObjectionStatus.open)
    session.add(objection)
    session.flush()
    return objection


def decide_objection(session: Session, *, actor: Principal, campaign_id: str, objection_id: str,
                     uphold: bool) -> Objection:
    objection = session.get(Objection, objection_id)
    entry = session.get(Entry, objection.entry_id) if objection else None
    level = session.get(CampaignLevel, entry.level_id) if entry else None
    if objection is None or entry is None or level is None or level.campaign_id != campaign_id:
        raise ObjectionNotFound()
    require_level_admin(session, actor=actor, level=level)
    if uphold:
        apply_objection_event(objection, ObjectionEvent.uphold)
        if entry.status is EntryStatus.proposed:
            apply_entry_event(entry, EntryEvent.uphold_objection)
    else:
        apply_objection_event(objection, ObjectionEvent.dismiss)
    objection.decided_by = actor.user_id
    record(session, actor_id=actor.user_id, district_id=actor.district_id, action="campaign.objection_decide",
           target_type="campaign_objection", target_id=objection.id, uphold=uphold, entry_id=entry.id)
    session.flush()
    return objection


def finalise(session: Session, *, actor: Principal, level: CampaignLevel, now: datetime | None = None) -> list[Certificate]:
    """After the publicity period, with no objection open, the results stand: the proposed are
    promoted and certified; the next level opens with them, or, at the last level, the awarded
    lessons go to the district library with their award."""
    require_level_admin(session, actor=actor, level=level)
    open_objections = session.scalar(select(func.count()).select_from(Objection).join(Entry, Entry.id == Objection.entry_id)
                                      .where(Entry.level_id == level.id, Objection.status == ObjectionStatus.open)) or 0
    if level.status is RoundStatus.publicity and ((now or utcnow()) < level.publicity_ends_at or open_objections):
        raise PublicityRunning(ends_at=level.publicity_ends_at.isoformat(), open_objections=open_objections)
    apply_round_event(level, RoundEvent.finalise)
    following = session.get(CampaignLevel, level.parent_id) if level.parent_id else None
    certificates = []
    promoted_packages = []
    for entry in session.scalars(select(Entry).where(Entry.level_id == level.id).order_by(Entry.rank)):
        if entry.status is EntryStatus.competing:
            apply_entry_event(entry, EntryEvent.pass_over)
        elif entry.status is EntryStatus.proposed:
            apply_entry_event(entry, EntryEvent.confirm)
            certificate = Certificate(code=_certificate_code(), entry_id=entry.id, package_id=entry.package_id,
                                      award=f"{level.name}优课")
            session.add(certificate)
            certificates.append(certificate)
            promoted_packages.append(entry.package_id)
            if following is not None:
                session.add(Entry(level_id=following.id, package_id=entry.package_id, status=EntryStatus.competing))
    if following is not None:
        if following.status is RoundStatus.pending:  # the first round below to finish opens it
            apply_round_event(following, RoundEvent.open)
    else:
        for certificate in certificates:
            _publish_award(session, package_id=certificate.package_id, award=certificate.award)
    teachers = set(session.scalars(select(CampaignPackage.teacher_id).where(CampaignPackage.id.in_(promoted_packages))))
    notify_many(session, user_ids=teachers, kind="campaign.awarded", title=f"您的课例获评{level.name}优课",
                details={"campaign_id": level.campaign_id})
    record(session, actor_id=actor.user_id, district_id=actor.district_id, action="campaign.finalise",
           target_type="campaign_level", target_id=level.id, promoted=promoted_packages)
    session.flush()
    return certificates


def _certificate_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))


def _publish_award(session: Session, *, package_id: str, award: str) -> None:
    """The awarded lesson in the district library: seen district-wide, tagged with its award."""
    for item in items_of(session, package_id=package_id):
        resource = session.get_one(Resource, item.resource_id)
        if resource.visibility in (Visibility.private, Visibility.school, Visibility.paired):
            resource.visibility = Visibility.district
        resource.tags = [*resource.tags, f"获奖:{award}"] if f"获奖:{award}" not in resource.tags else resource.tags
        if resource.kind is ResourceKind.lesson_recording:
            resource.kind = ResourceKind.excellent_lesson
        changed_for_search(resource)


# ---------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Winner:
    level: str
    position: int
    award: str
    rank: int | None
    score: float | None
    package_id: str
    title: str
    teacher: str
    school: str
    certificate_code: str


def winners(session: Session, *, campaign_id: str) -> list[Winner]:
    rows = session.execute(
        select(CampaignLevel, Entry, CampaignPackage, Certificate, User.real_name, School.name)
        .join(Entry, Entry.level_id == CampaignLevel.id).join(Certificate, Certificate.entry_id == Entry.id)
        .join(CampaignPackage, CampaignPackage.id == Entry.package_id)
        .join(User, User.id == CampaignPackage.teacher_id).join(School, School.id == CampaignPackage.school_id)
        .where(CampaignLevel.campaign_id == campaign_id)
        .order_by(CampaignLevel.position.desc(), Entry.rank, CampaignPackage.id))
    return [Winner(level=level.name, position=level.position, award=cert.award, rank=entry.rank, score=entry.score,
                   package_id=package.id, title=package.title, teacher=teacher, school=school,
                   certificate_code=cert.code)
            for level, entry, package, cert, teacher, school in rows]


@dataclass(frozen=True, slots=True)
class SchoolParticipation:
    school_id: str
    school: str
    teachers: int
    posted: int
    share: float
    posted_by: list[str]


def school_participation(session: Session, *, campaign_id: str, district_ids: set[str]) -> list[SchoolParticipation]:
    """Per school of the given districts: its teachers, those who posted, the share."""
    schools = {s.id: s.name for s in session.scalars(select(School).where(School.district_id.in_(district_ids)))}
    counts = participation(session, campaign_id=campaign_id, school_ids=set(schools))
    names: dict[str, list[str]] = {}
    for school_id, name in session.execute(
            select(CampaignPackage.school_id, User.real_name).join(User, User.id == CampaignPackage.teacher_id)
            .where(CampaignPackage.campaign_id == campaign_id, CampaignPackage.submitted_at.is_not(None))
            .distinct().order_by(User.real_name)):
        names.setdefault(school_id, []).append(name)
    return [SchoolParticipation(school_id=sid, school=name, teachers=counts.get(sid, (0, 0))[1],
                                posted=counts.get(sid, (0, 0))[0],
                                share=round(counts[sid][0] / counts[sid][1], 4) if counts.get(sid, (0, 0))[1] else 0.0,
                                posted_by=names.get(sid, []))
            for sid, name in sorted(schools.items(), key=lambda kv: kv[1])]


def participation_scope(session: Session, *, actor: Principal, campaign_id: str,
                        org_id: str | None = None) -> set[str]:
    """The districts whose schools the caller may list: those of the caller's round (or the round
    of `org_id`) and of every round under it."""
    rounds = levels_of(session, campaign_id=get_campaign(session, campaign_id=campaign_id).id)
    if org_id is not None:
        candidates = [r for r in rounds if org_id in (r.district_id, r.region_id)]
    else:
        region = administered_region(session, actor=actor)
        candidates = [r for r in rounds if region is not None and r.region_id == region.id] \
            or [r for r in rounds if r.district_id == actor.district_id]
    if not candidates:
        raise NotLevelAdmin()
    require_round_viewer(session, actor=actor, level=candidates[0])
    return {r.district_id for r in rounds_under(session, level=candidates[0]) if r.district_id}


@dataclass(frozen=True, slots=True)
class CertificateView:
    code: str
    award: str
    campaign: str
    title: str
    teacher: str
    school: str
    issued_at: datetime


def certificate(session: Session, *, code: str, actor: Principal | None = None) -> CertificateView:
    """A certificate by its code: for anyone (verification), or, with `actor`, only for its holder
    or the administrators who may read the round that issued it (the PDF)."""
    row = session.execute(
        select(Certificate, Campaign.title, CampaignPackage.title, User.real_name, School.name,
               CampaignPackage.teacher_id, Entry.level_id)
        .join(Entry, Entry.id == Certificate.entry_id)
        .join(CampaignPackage, CampaignPackage.id == Certificate.package_id)
        .join(Campaign, Campaign.id == CampaignPackage.campaign_id)
        .join(User, User.id == CampaignPackage.teacher_id).join(School, School.id == CampaignPackage.school_id)
        .where(Certificate.code == code.upper())).first()
    if row is None:
        raise CertificateNotFound()
    cert, campaign_title, title, teacher, school, holder_id, level_id = row
    if actor is not None and actor.user_id != holder_id:
        try:
            require_round_viewer(session, actor=actor, level=session.get_one(CampaignLevel, level_id))
        except NotLevelAdmin:
            raise CertificateNotFound() from None
    return CertificateView(code=cert.code, award=cert.award, campaign=campaign_title, title=title, teacher=teacher,
                           school=school, issued_at=cert.issued_at)

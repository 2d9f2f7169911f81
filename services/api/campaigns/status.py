"""The campaign status tables, each with the one function that moves it.

Level (round):  pending ─open─▶ open ─start_judging─▶ judging ─propose─▶ publicity ─finalise─▶ final
Package:        draft ─submit─▶ submitted ─withdraw─▶ draft   (a submitted package never changes)
Entry:          competing ─propose─▶ proposed ─confirm─▶ promoted
                competing ─pass_over─▶ not_promoted;  proposed ─uphold_objection─▶ disqualified
                competing ─disqualify─▶ disqualified (the administrator: e.g. changed after submission)
Objection:      open ─uphold─▶ upheld;  open ─dismiss─▶ dismissed
"""
from __future__ import annotations

from enum import StrEnum

from services.api.campaigns.errors import InvalidTransition
from services.api.campaigns.models import (CampaignLevel, CampaignPackage, Entry, EntryStatus, Objection,
                                           ObjectionStatus, PackageStatus, RoundStatus)
from services.common.db import utcnow


class RoundEvent(StrEnum):
    open = "open"
    start_judging = "start_judging"
    propose = "propose"
    finalise = "finalise"


_ROUND: dict[tuple[RoundStatus, RoundEvent], RoundStatus] = {
    (RoundStatus.pending, RoundEvent.open): RoundStatus.open,
    (RoundStatus.open, RoundEvent.start_judging): RoundStatus.judging,
    (RoundStatus.judging, RoundEvent.propose): RoundStatus.publicity,
    (RoundStatus.publicity, RoundEvent.finalise): RoundStatus.final,
}


def apply_round_event(level: CampaignLevel, event: RoundEvent) -> CampaignLevel:
    try:
        level.status = _ROUND[(level.status, event)]
    except KeyError:
        raise InvalidTransition(what=level.name, status=level.status.value, event=event.value) from None
    return level


class PackageEvent(StrEnum):
    submit = "submit"
    withdraw = "withdraw"


_PACKAGE: dict[tuple[PackageStatus, PackageEvent], PackageStatus] = {
    (PackageStatus.draft, PackageEvent.submit): PackageStatus.submitted,
    (PackageStatus.submitted, PackageEvent.withdraw): PackageStatus.draft,
}


def apply_package_event(package: CampaignPackage, event: PackageEvent) -> CampaignPackage:
    try:
        package.status = _PACKAGE[(package.status, event)]
    except KeyError:
        raise InvalidTransition(what=package.title, status=package.status.value, event=event.value) from None
    package.submitted_at = utcnow() if package.status is PackageStatus.submitted else None
    return package


class EntryEvent(StrEnum):
    propose = "propose"
    confirm = "confirm"
    pass_over = "pass_over"
    uphold_objection = "uphold_objection"
    disqualify = "disqualify"


_ENTRY: dict[tuple[EntryStatus, EntryEvent], EntryStatus] = {
    (EntryStatus.competing, EntryEvent.propose): EntryStatus.proposed,
    (EntryStatus.proposed, EntryEvent.confirm): EntryStatus.promoted,
    (EntryStatus.competing, EntryEvent.pass_over): EntryStatus.not_promoted,
    (EntryStatus.proposed, EntryEvent.uphold_objection): EntryStatus.disqualified,
    (EntryStatus.competing, EntryEvent.disqualify): EntryStatus.disqualified,
}


def apply_entry_event(entry: Entry, event: EntryEvent) -> Entry:
    try:
        entry.status = _ENTRY[(entry.status, event)]
    except KeyError:
        raise InvalidTransition(what=entry.package_id, status=entry.status.value, event=event.value) from None
    return entry


class ObjectionEvent(StrEnum):
    uphold = "uphold"
    dismiss = "dismiss"


_OBJECTION: dict[tuple[ObjectionStatus, ObjectionEvent], ObjectionStatus] = {
    (ObjectionStatus.open, ObjectionEvent.uphold): ObjectionStatus.upheld,
    (ObjectionStatus.open, ObjectionEvent.dismiss): ObjectionStatus.dismissed,
}


def apply_objection_event(objection: Objection, event: ObjectionEvent) -> Objection:
    try:
        objection.status = _OBJECTION[(objection.status, event)]
    except KeyError:
        raise InvalidTransition(what=objection.id, status=objection.status.value, event=event.value) from None
    return objection

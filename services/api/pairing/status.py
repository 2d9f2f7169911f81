"""The activity status machine. `apply_event` is the only place an activity's status changes.

    planned ─recording_filed─▶ held    (the helper's recording classroom filed its lesson)
    planned ─mark_held───────▶ held    (an administrator confirms an exchange held without one)
    held ─recording_filed────▶ held    (a further recording of the same slot)
    planned ─cancel──────────▶ cancelled
"""
from __future__ import annotations

from enum import StrEnum

from services.api.pairing.errors import InvalidActivityTransition
from services.api.pairing.models import ActivityStatus as S
from services.api.pairing.models import PairingActivity
from services.common.db import utcnow


class ActivityEvent(StrEnum):
    recording_filed = "recording_filed"
    mark_held = "mark_held"
    cancel = "cancel"


E = ActivityEvent
_TRANSITIONS: dict[tuple[S, E], S] = {
    (S.planned, E.recording_filed): S.held,
    (S.planned, E.mark_held): S.held,
    (S.held, E.recording_filed): S.held,
    (S.planned, E.cancel): S.cancelled,
}


def next_status(current: S, event: ActivityEvent) -> S:
    try:
        return _TRANSITIONS[(current, event)]
    except KeyError:
        raise InvalidActivityTransition(status=current.value, event=event.value) from None


def apply_event(activity: PairingActivity, event: ActivityEvent) -> PairingActivity:
    activity.status = next_status(activity.status, event)
    if activity.status is S.held and activity.held_at is None:
        activity.held_at = utcnow()
    if activity.status is S.cancelled:
        activity.cancelled_at = utcnow()
    return activity

"""Outbox rows are written by a `before_flush` listener, in the flush (and so the transaction)
that changes the resource: no code path can change a resource and forget to tell search.

What counts as a change: a new resource, a deleted one, or one whose `version` moved. Every
change search cares about bumps it through `resources.models.changed_for_search`; the listener
refuses to commit a transaction that changed what a search document is built from
(`SEARCHED_COLUMNS`, or an asset's renditions) without a new version, so a path that forgets
fails its tests at once.

`install()` registers the listener; the API, its command line and the test harness call it
where they set up, so it is never switched on by the accident of an import.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from services.api.resources.models import SEARCHED_ASSET_COLUMNS, SEARCHED_COLUMNS, Asset, Resource, ResourceStatus
from services.api.search.models import SearchOutbox
from services.api.subtitles.models import SubtitleTrack
from services.common.ids import new_id


class VersionNotBumped(RuntimeError):
    """A change to what search shows, flushed without `changed_for_search`: a bug, never input."""


def install() -> None:
    """Writes outbox rows for every session of this process from now on, and checks versions at
    each commit (idempotent)."""
    for name, listener in (("before_flush", write_outbox_rows), ("before_commit", _check_versions),
                           ("after_commit", _forget), ("after_rollback", _forget)):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


def _changed(obj: Any, columns: tuple[str, ...]) -> list[str]:
    attrs = inspect(obj).attrs
    return [name for name in columns if attrs[name].history.has_changes()]


def _live(resource: Resource) -> bool:
    history = inspect(resource).attrs.status.history
    return ResourceStatus.published in (*history.added, *history.unchanged, *history.deleted)


def _changed_version(resource: Resource) -> bool:
    return inspect(resource).attrs.version.history.has_changes()


def _assigned_id(resource: Resource) -> str:
    # Ids default at INSERT, after this listener: give the new resource its id now.
    if resource.id is None:
        resource.id = new_id()
    return resource.id


_UNBUMPED = "lessonbridge.search_unbumped"


def _track_versions(session: Session) -> None:
    """Notes resources whose searched values changed in this flush, and forgets those whose
    version moved. A flush may come between an edit and its bump (autoflush before a query), so
    the check waits for the commit."""
    unbumped: dict[str, list[str]] = session.info.setdefault(_UNBUMPED, {})
    for obj in session.dirty:
        # Only a live resource's document shows these; any other is a tombstone, and the status
        # event that publishes it bumps the version.
        if isinstance(obj, Resource) and (changed := _changed(obj, SEARCHED_COLUMNS)) and _live(obj):
            unbumped.setdefault(obj.id, []).extend(changed)
        elif isinstance(obj, Asset) and obj.resource_id and (changed := _changed(obj, SEARCHED_ASSET_COLUMNS)):
            owner = session.get(Resource, obj.resource_id)
            if owner is not None and _live(owner):
                unbumped.setdefault(obj.resource_id, []).extend(f"asset {obj.id}: {c}" for c in changed)
    # A subtitle track added or removed changes the cues of the document.
    for obj in (*session.new, *session.deleted):
        if isinstance(obj, SubtitleTrack) and obj.resource_id:
            owner = session.get(Resource, obj.resource_id)
            if owner is not None and _live(owner):
                unbumped.setdefault(obj.resource_id, []).append(f"subtitle track {obj.language}")
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Resource) and (obj in session.new or obj in session.deleted or _changed_version(obj)):
            unbumped.pop(obj.id, None)


def _check_versions(session: Session) -> None:
    session.flush()
    if unbumped := session.info.pop(_UNBUMPED, None):
        raise VersionNotBumped(f"changed without changed_for_search: {unbumped}")


def _forget(session: Session) -> None:
    session.info.pop(_UNBUMPED, None)


def write_outbox_rows(session: Session, _context: Any, _instances: Any) -> None:
    _track_versions(session)
    rows = [SearchOutbox(resource_id=_assigned_id(r), version=r.version or 1)
            for r in session.new if isinstance(r, Resource)]
    rows += [SearchOutbox(resource_id=r.id, version=r.version)
             for r in session.dirty if isinstance(r, Resource) and _changed_version(r)]
    # A deletion is a change too: its tombstone must outrank every version the index has seen.
    rows += [SearchOutbox(resource_id=r.id, version=r.version + 1)
             for r in session.deleted if isinstance(r, Resource)]
    session.add_all(rows)

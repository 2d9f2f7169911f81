"""Outbox rows are written by a `before_flush` listener, in the flush (and so the transaction)
that changes the resource: no code path can change a resource and forget to tell search.

What counts as a change: a new resource, a deleted one, or one whose `version` moved (every
change search cares about bumps it: status transitions, edits, visibility).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from services.api.resources.models import Resource
from services.api.search.models import SearchOutbox
from services.common.ids import new_id


def _changed_version(resource: Resource) -> bool:
    return inspect(resource).attrs.version.history.has_changes()


def _assigned_id(resource: Resource) -> str:
    # Ids default at INSERT, after this listener: give the new resource its id now.
    if resource.id is None:
        resource.id = new_id()
    return resource.id


@event.listens_for(Session, "before_flush")
def write_outbox_rows(session: Session, _context: Any, _instances: Any) -> None:
    rows = [SearchOutbox(resource_id=_assigned_id(r), version=r.version or 1)
            for r in session.new if isinstance(r, Resource)]
    rows += [SearchOutbox(resource_id=r.id, version=r.version)
             for r in session.dirty if isinstance(r, Resource) and _changed_version(r)]
    # A deletion is a change too: its tombstone must outrank every version the index has seen.
    rows += [SearchOutbox(resource_id=r.id, version=r.version + 1)
             for r in session.deleted if isinstance(r, Resource)]
    session.add_all(rows)

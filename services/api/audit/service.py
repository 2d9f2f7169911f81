"""Writing audit rows into the hash chain, finding them, exporting them, and checking the chain."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.api.audit.chain import GENESIS_HASH, ChainBreak, ChainWalker, json_safe, row_hash
from services.api.audit.models import AuditChainHead, AuditEvent
from services.common.db import utcnow
from services.common.ids import new_id
from services.common.problems import InvalidField

_HEAD_ID = 1
VERIFY_BATCH = 1000
EXPORT_BATCH = 1000


def record(session: Session, *, actor_id: str | None, district_id: str | None, action: str,
           target_type: str, target_id: str, **details: Any) -> AuditEvent:
    """Appends one row to the chain, in the caller's transaction.

    The chain head is locked (`FOR UPDATE`) until that transaction ends, so on PostgreSQL
    concurrent writers take turns and each row follows the one committed before it. SQLite has
    one writer at a time anyway (writer sessions begin IMMEDIATE; a plain transaction that read
    an older head cannot write at all). The unique `seq` is the last guard: a fork cannot commit."""
    head = _locked_head(session)
    event = AuditEvent(id=new_id(), at=utcnow(), actor_id=actor_id, district_id=district_id, action=action,
                       target_type=target_type, target_id=target_id, details=json_safe(details),
                       seq=head.seq + 1, prev_hash=head.hash)
    event.hash = row_hash(seq=event.seq, prev_hash=event.prev_hash, id=event.id, at=event.at,
                          actor_id=actor_id, district_id=district_id, action=action, target_type=target_type,
                          target_id=target_id, details=event.details)
    head.seq, head.hash = event.seq, event.hash
    session.add(event)
    return event


def _locked_head(session: Session) -> AuditChainHead:
    # populate_existing: a second record() in one transaction must see the head the first one moved.
    query = select(AuditChainHead).where(AuditChainHead.id == _HEAD_ID).with_for_update()
    head = session.scalars(query.execution_options(populate_existing=True)).one_or_none()
    if head is not None:
        return head
    # The migration writes the head; a schema made without it gets one here.
    try:
        with session.begin_nested():
            session.add(AuditChainHead(id=_HEAD_ID, seq=0, hash=GENESIS_HASH))
    except IntegrityError:  # another writer made it first
        pass
    return session.scalars(query.execution_options(populate_existing=True)).one()


@dataclass(frozen=True)
class AuditFilter:
    """What `GET /audit` narrows by; None means any."""

    actor_id: str | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None   # inclusive
    until: datetime | None = None   # exclusive

    def __post_init__(self) -> None:
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise InvalidField(loc=["query", "to"], msg={"zh-CN": "结束时间必须晚于开始时间",
                                                         "en": "'to' must be later than 'from'"})


def events_query(*, district_id: str, where: AuditFilter) -> Select[tuple[AuditEvent]]:
    """A district's rows matching `where`, newest first."""
    query = select(AuditEvent).where(AuditEvent.district_id == district_id)
    for column, value in ((AuditEvent.actor_id, where.actor_id), (AuditEvent.action, where.action),
                          (AuditEvent.target_type, where.target_type), (AuditEvent.target_id, where.target_id)):
        if value is not None:
            query = query.where(column == value)
    if where.since is not None:
        query = query.where(AuditEvent.at >= where.since)
    if where.until is not None:
        query = query.where(AuditEvent.at < where.until)
    return query.order_by(AuditEvent.seq.desc())


def record_export(session: Session, *, actor_id: str, district_id: str, where: AuditFilter) -> AuditEvent:
    filters = {name: value for name, value in vars(where).items() if value is not None}
    return record(session, actor_id=actor_id, district_id=district_id, action="audit.export",
                  target_type="district", target_id=district_id, filters=filters)


CSV_COLUMNS = ("seq", "at", "actor_id", "district_id", "action", "target_type", "target_id", "details",
               "prev_hash", "hash")
# A cell starting with one of these is a formula to a spreadsheet (CSV injection): prefixed with '.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def export_csv(session: Session, *, district_id: str, where: AuditFilter) -> Iterator[str]:
    """The matching rows as CSV text, oldest first (the order of the chain), read in batches by
    `seq` so an export of any size holds one batch in memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    query = events_query(district_id=district_id, where=where).order_by(None).order_by(AuditEvent.seq)
    after = 0
    while True:
        yield _drain(buffer)
        batch = list(session.scalars(query.where(AuditEvent.seq > after).limit(EXPORT_BATCH)))
        if not batch:
            return
        for event in batch:
            writer.writerow([_cell(v) for v in (
                event.seq, event.at.isoformat(), event.actor_id or "", event.district_id or "", event.action,
                event.target_type, event.target_id, json.dumps(event.details, ensure_ascii=False, sort_keys=True),
                event.prev_hash, event.hash)])
        after = batch[-1].seq


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _cell(value: object) -> str:
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


@dataclass(frozen=True)
class ChainReport:
    rows: int
    head_seq: int
    head_hash: str
    problem: ChainBreak | None

    @property
    def intact(self) -> bool:
        return self.problem is None


def verify_chain(session: Session, *, anchor: tuple[int, str] | None = None) -> ChainReport:
    """Walks every row in `seq` order and names the first that was edited, removed or moved; rows
    cut off the end, or added past the head, are named too. Rows written while it runs are left
    for the next run: it checks the chain up to the head it read first."""
    head = _head(session)
    walker = ChainWalker()
    columns = (AuditEvent.seq, AuditEvent.prev_hash, AuditEvent.hash, AuditEvent.id, AuditEvent.at,
               AuditEvent.actor_id, AuditEvent.district_id, AuditEvent.action, AuditEvent.target_type,
               AuditEvent.target_id, AuditEvent.details)
    query = select(*columns).where(AuditEvent.seq <= head[0]).order_by(AuditEvent.seq).limit(VERIFY_BATCH)
    after: int | None = None  # the first batch has no lower bound: a row below seq 1 is bad too
    problem = None
    while problem is None:
        rows = session.execute(query if after is None else query.where(AuditEvent.seq > after)).all()
        if not rows:
            problem = walker.check_head(head_seq=head[0], head_hash=head[1])
            break
        problem = walker.feed(rows)
        after = rows[-1].seq
    if problem is None and anchor is not None:
        problem = _check_anchor(session, seq=anchor[0], expected_hash=anchor[1])
    if problem is None:
        # Highest row first, then the head: a legitimate write commits both at once, so read in
        # this order the head is never behind the rows unless a row was added around record().
        beyond = session.execute(select(AuditEvent.seq, AuditEvent.id).order_by(AuditEvent.seq.desc()).limit(1)).first()
        if beyond is not None and beyond.seq > _head(session)[0]:
            problem = ChainBreak(beyond.seq, beyond.id, "it lies past the chain head (added outside the chain)")
    return ChainReport(rows=walker.count, head_seq=walker.last_seq, head_hash=walker.last_hash, problem=problem)


def _check_anchor(session: Session, *, seq: int, expected_hash: str) -> ChainBreak | None:
    """A chain rewritten from some row on, every hash recomputed, is consistent in itself; only a
    hash kept outside the database tells. `anchor` is a (seq, hash) an operator wrote down."""
    row = session.execute(select(AuditEvent.id, AuditEvent.hash).where(AuditEvent.seq == seq)).first()
    if row is None or row.hash != expected_hash:
        return ChainBreak(seq, row.id if row else None, "its hash is not the anchored one (the chain was rewritten)")
    return None


def _head(session: Session) -> tuple[int, str]:
    row = session.execute(select(AuditChainHead.seq, AuditChainHead.hash)
                          .where(AuditChainHead.id == _HEAD_ID)).first()
    return (row.seq, row.hash) if row else (0, GENESIS_HASH)

"""The audit hash chain: how one audit row is serialised and hashed, and how a run of rows is
checked. Pure functions, no database: the service and the migration that backfilled old rows
both use them.

The serialisation is a contract with every row already written: changing it makes every
existing chain fail `lb audit verify`. A new form would need a new version marker in the rows.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

# The "hash before" the first row.
GENESIS_HASH = "0" * 64


def json_safe(details: Mapping[str, Any]) -> dict[str, Any]:
    """`details` as plain JSON values (enums, datetimes and the like as strings), exactly as they
    read back from the database, so the hash of a row is the same when written and when checked."""
    return json.loads(json.dumps(dict(details), default=str, ensure_ascii=False, allow_nan=False))


def canonical_at(at: datetime) -> str:
    """A timestamp as both databases give it back: UTC, microseconds."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def row_hash(*, seq: int, prev_hash: str, id: str, at: datetime, actor_id: str | None,  # noqa: A002
             district_id: str | None, action: str, target_type: str, target_id: str,
             details: Mapping[str, Any]) -> str:
    """SHA-256 over the row's canonical JSON (sorted keys, no spaces, UTF-8), which includes the
    hash of the row before: editing, removing or moving any row breaks every hash after it."""
    document = {"seq": seq, "prev_hash": prev_hash, "id": id, "at": canonical_at(at), "actor_id": actor_id,
                "district_id": district_id, "action": action, "target_type": target_type,
                "target_id": target_id, "details": dict(details)}
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ChainRow(Protocol):
    """What the checker needs of a row (an `AuditEvent` or a result row both fit)."""

    seq: int
    prev_hash: str
    hash: str
    id: str
    at: datetime
    actor_id: str | None
    district_id: str | None
    action: str
    target_type: str
    target_id: str
    details: dict[str, Any]


@dataclass(frozen=True)
class ChainBreak:
    """The first row that does not fit the chain, and why."""

    seq: int
    row_id: str | None
    reason: str

    def __str__(self) -> str:
        where = f"row seq={self.seq}" + (f" id={self.row_id}" if self.row_id else "")
        return f"{where}: {self.reason}"


class ChainWalker:
    """Checks rows handed to it in `seq` order, remembering only the last one, so a chain of any
    length is checked in batches."""

    def __init__(self) -> None:
        self.last_seq = 0
        self.last_hash = GENESIS_HASH
        self.count = 0

    def feed(self, rows: Iterable[ChainRow]) -> ChainBreak | None:
        for row in rows:
            expected = self.last_seq + 1
            if row.seq != expected:
                missing = f"rows {expected}..{row.seq - 1} are missing" if row.seq > expected else "out of order"
                return ChainBreak(row.seq, row.id, f"expected seq {expected}; {missing}")
            if row.prev_hash != self.last_hash:
                return ChainBreak(row.seq, row.id, "prev_hash does not match the hash of the row before")
            computed = row_hash(seq=row.seq, prev_hash=row.prev_hash, id=row.id, at=row.at, actor_id=row.actor_id,
                                district_id=row.district_id, action=row.action, target_type=row.target_type,
                                target_id=row.target_id, details=row.details)
            if computed != row.hash:
                return ChainBreak(row.seq, row.id, "its contents do not match its hash (edited)")
            self.last_seq, self.last_hash = row.seq, row.hash
            self.count += 1
        return None

    def check_head(self, *, head_seq: int, head_hash: str) -> ChainBreak | None:
        """The chain head (written with every row) must name the last row: rows cut off the end
        leave it pointing past them."""
        if (head_seq, head_hash) != (self.last_seq, self.last_hash):
            return ChainBreak(self.last_seq + 1, None,
                              f"the chain head names seq {head_seq} but the last row is seq {self.last_seq}"
                              + (" (rows cut off the end)" if head_seq > self.last_seq else ""))
        return None

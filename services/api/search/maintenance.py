"""Whole-index work for operators: rebuild the index from the database, and compare the two."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from services.api.search.client import SearchClient
from services.api.search.documents import all_resource_ids, build_documents, build_vocabulary, database_versions
from services.common.storage.base import BlobStore

BATCH = 500
SAMPLE = 20


def reindex(session: Session, *, client: SearchClient, store: BlobStore,
            progress: Callable[[int], None] = lambda _n: None) -> int:
    """Builds a new index beside the live one from every resource, then swaps it in. Changes
    relayed meanwhile reach both indexes. On any error the new index is dropped."""
    client.rebuild("begin")
    try:
        client.put_vocabulary(build_vocabulary(session))
        sent = 0
        for ids in all_resource_ids(session, BATCH):
            documents = build_documents(session, dict.fromkeys(ids, 1), store)
            session.rollback()  # no read snapshot held across the call
            client.index(documents, bulk=True)
            sent += len(ids)
            progress(len(ids))
        client.rebuild("finish")
        return sent
    except BaseException:
        client.rebuild("abort")
        raise


@dataclass
class Drift:
    checked_database: int = 0
    checked_index: int = 0
    # Published in the database, but absent, older or not live in the index.
    missing: list[str] = field(default_factory=list)
    # Live in the index, but not published (or gone) in the database.
    stale_live: list[str] = field(default_factory=list)
    repaired: int = 0

    @property
    def total(self) -> int:
        return len(self.missing) + len(self.stale_live)

    def summary(self) -> dict[str, object]:
        return {"checked_database": self.checked_database, "checked_index": self.checked_index,
                "missing": len(self.missing), "stale_live": len(self.stale_live), "drift": self.total,
                "repaired": self.repaired, "samples": {"missing": self.missing[:SAMPLE],
                                                       "stale_live": self.stale_live[:SAMPLE]}}


def reconcile(session: Session, *, client: SearchClient, store: BlobStore, repair: bool) -> Drift:
    database = database_versions(session)
    session.rollback()
    index: dict[str, tuple[int, bool]] = {}
    cursor = None
    while True:
        page = client.versions(cursor)
        index.update((item.id, (item.version, item.live)) for item in page.items)
        if page.next_after is None:
            break
        cursor = page.next_after
    drift = Drift(checked_database=len(database), checked_index=len(index))
    for resource_id, (version, live) in database.items():
        held = index.get(resource_id)
        if live and (held is None or not held[1] or held[0] < version):
            drift.missing.append(resource_id)
        elif not live and held is not None and held[1]:
            drift.stale_live.append(resource_id)
    drift.stale_live += [i for i, (_, live) in index.items() if live and i not in database]
    if repair and drift.total:
        # A deleted resource's tombstone must outrank what the index holds.
        versions = {i: index[i][0] + 1 if i not in database else 1 for i in drift.missing + drift.stale_live}
        ids = list(versions)
        for start in range(0, len(ids), BATCH):
            chunk = {i: versions[i] for i in ids[start:start + BATCH]}
            documents = build_documents(session, chunk, store)
            session.rollback()
            drift.repaired += client.index(documents, bulk=True).applied
    return drift

"""The outbox relay: delivers changed resources to the search service, oldest first.

A round reads the oldest outbox rows, builds the *current* documents of their resources, posts
them, and deletes exactly the rows it read once the search service answers (after its index
commit). A failed round keeps the rows for the next one. Several relays at once (API replicas)
only repeat each other's work: the index skips versions it already has.
"""
from __future__ import annotations

import time
from collections.abc import Callable

import structlog
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from services.api.search.client import BatchTooLarge, SearchClient
from services.api.search.documents import build_documents, build_vocabulary
from services.api.search.errors import SearchUnavailable
from services.api.search.models import SearchOutbox
from services.common.search import SearchDocument
from services.common.storage.base import BlobStore

log = structlog.get_logger("search.relay")

BATCH = 500
# Bytes of documents per request, well under the search service's 20 MiB body limit: a batch of
# 500 documents with extracted page text (up to 2 MiB per document asset) would exceed it.
MAX_BATCH_BYTES = 8 * 1024 * 1024
# While the search service is down the janitor's rounds back off, doubling up to this: each failed
# round still read the outbox and built the taxonomy's vocabulary (3.5 % of an idle API's CPU).
MAX_BACKOFF_S = 10.0


class Relay:
    def __init__(self, *, sessionmaker: Callable[[], Session], client: SearchClient, store: BlobStore) -> None:
        self.sessionmaker, self.client, self.store = sessionmaker, client, store
        self._vocabulary_sent: str | None = None
        self._backoff_s = 0.0
        self._resume_at = 0.0

    def tick(self) -> None:
        """The janitor's call: a relay, unless the search service was down moments ago."""
        if time.monotonic() < self._resume_at:
            return
        self.run_once()

    def run_once(self) -> dict[str, int]:
        """Relays until the outbox is empty or a round fails; returns what it delivered."""
        delivered = stale = 0
        try:
            while True:
                outcome = self._round()
                if outcome is None:
                    break
                delivered, stale = delivered + outcome[0], stale + outcome[1]
        except SearchUnavailable:
            self._backoff_s = min(MAX_BACKOFF_S, max(1.0, 2 * self._backoff_s))
            self._resume_at = time.monotonic() + self._backoff_s
            log.warning("search_unavailable", delivered=delivered, waiting=self.backlog(), retry_in_s=self._backoff_s)
        else:
            self._backoff_s = self._resume_at = 0.0
        return {"delivered": delivered, "stale": stale}

    def _round(self) -> tuple[int, int] | None:
        with self.sessionmaker() as session:
            rows = session.execute(select(SearchOutbox.id, SearchOutbox.resource_id, SearchOutbox.version)
                                   .order_by(SearchOutbox.id).limit(BATCH)).all()
            if not rows:
                return None
            versions: dict[str, int] = {}
            for _, resource_id, version in rows:
                versions[resource_id] = max(version, versions.get(resource_id, 0))
            self._send_vocabulary(session)
            documents = build_documents(session, versions, self.store)
            # No read transaction may stay open across the call (SQLite: docs/design.md).
            session.rollback()
        stale = sum(self._send(batch) for batch in batches_by_bytes(documents, MAX_BATCH_BYTES))
        with self.sessionmaker() as session:
            session.execute(delete(SearchOutbox).where(SearchOutbox.id.in_([row.id for row in rows])))
            session.commit()
        return len(documents), stale

    def _send(self, batch: list[SearchDocument]) -> int:
        """Indexes `batch`, halving it while the search service finds it too large; returns the
        stale count. A lone document still refused goes without its page text, then is given up
        on (logged): one resource must never stop indexing for every other, take-downs included."""
        try:
            return self.client.index(batch).stale
        except BatchTooLarge as refused:
            if len(batch) > 1:
                half = len(batch) // 2
                return self._send(batch[:half]) + self._send(batch[half:])
            document = batch[0]
            if document.pages:
                log.warning("search_document_too_large", resource_id=document.id, bytes=refused.args[0],
                            pages=len(document.pages))
                return self._send([document.model_copy(update={"pages": []})])
            log.error("search_document_refused", resource_id=document.id, bytes=refused.args[0])
            return 0

    def _send_vocabulary(self, session: Session) -> None:
        """The taxonomy as the search service needs it, whenever it differs from what it has."""
        vocabulary = build_vocabulary(session)
        if self._vocabulary_sent == vocabulary.revision:
            return
        if self.client.state().get("vocabulary_revision") != vocabulary.revision:
            self.client.put_vocabulary(vocabulary)
        self._vocabulary_sent = vocabulary.revision

    def backlog(self) -> int:
        with self.sessionmaker() as session:
            return session.scalar(select(func.count()).select_from(SearchOutbox)) or 0


def batches_by_bytes(documents: list[SearchDocument], max_bytes: int) -> list[list[SearchDocument]]:
    """`documents` in order, cut into runs whose JSON stays within `max_bytes` (a document larger
    than that alone goes in a run of its own; the search service then says whether it takes it)."""
    batches: list[list[SearchDocument]] = [[]]
    size = 0
    for document in documents:
        length = len(document.__pydantic_serializer__.to_json(document)) + 1
        if batches[-1] and size + length > max_bytes:
            batches.append([])
            size = 0
        batches[-1].append(document)
        size += length
    return [batch for batch in batches if batch]

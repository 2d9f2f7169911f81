"""The embedded backend: a tantivy index on local disk, in this process.

Layout under the index directory: one `gen-N/` per generation and a `CURRENT` file naming the
live one. A rebuild fills `gen-N+1/` while the live generation keeps answering (and keeps
receiving updates: `apply` writes both), then `CURRENT` is replaced atomically.

Version checks need each document's stored version without fetching stored documents: an
`id_key` fast field (64 bits of the id's hash) lets one term-set query read the versions of a
whole batch from fast fields.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tantivy
from tantivy import Occur, Order, Query

from services.common.search import SearchPrincipal
from services.search.backends.base import (
    KEYWORD_FIELDS,
    SUGGEST_FIELD,
    TEXT_FIELDS,
    FACET_SIZE,
    InvalidCursor,
    AnalysedDocument,
    ApplyResult,
    QueryPlan,
    RawHit,
    RawResult,
    audience_for,
)

_WHITESPACE = "lb_whitespace"  # our analysis already produced the terms; split on spaces only
_CURRENT = "CURRENT"
_WRITER_HEAP = 128 * 1024 * 1024
# Facets are a second pass over every match. tantivy releases the GIL while it searches, so that
# pass runs on another core while this thread collects and loads the top hits: on two cores it
# took the p99 of a faceted search from ~11.7 to ~7.0 ms at 100,000 documents (bench/search.py).
_FACET_THREADS = 4


def _schema() -> tantivy.Schema:
    b = tantivy.SchemaBuilder()
    b.add_text_field("id", stored=True, fast=True, tokenizer_name="raw", index_option="basic")
    b.add_unsigned_field("id_key", stored=False, indexed=False, fast=True)
    b.add_integer_field("version", stored=True, indexed=False, fast=True)
    b.add_boolean_field("live", stored=True, indexed=True, fast=True)
    for name in TEXT_FIELDS:
        b.add_text_field(name, stored=False, tokenizer_name=_WHITESPACE, index_option="freq")
    for name in KEYWORD_FIELDS:
        b.add_text_field(name, stored=False, fast=True, tokenizer_name="raw", index_option="basic")
    b.add_text_field(SUGGEST_FIELD, stored=False, tokenizer_name="raw", index_option="basic")
    b.add_integer_field("published_at", stored=False, indexed=True, fast=True)
    b.add_integer_field("views", stored=False, indexed=False, fast=True)
    b.add_bytes_field("source", stored=True, indexed=False, fast=False)
    return b.build()


def id_key(resource_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(resource_id.encode(), digest_size=8).digest(), "big")


@dataclass
class _Generation:
    number: int
    index: tantivy.Index
    writer: tantivy.IndexWriter


class TantivyBackend:
    name = "tantivy"

    def __init__(self, directory: Path, *, writer_threads: int = 0) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.schema = _schema()
        self._writer_threads = writer_threads
        self._write_lock = threading.Lock()
        self._live = self._open(self._current_generation())
        self._rebuilding: _Generation | None = None
        self._facet_pool = ThreadPoolExecutor(_FACET_THREADS, thread_name_prefix="tantivy-facets")

    # -- generations ------------------------------------------------------------------------

    def _current_generation(self) -> int:
        current = self.directory / _CURRENT
        return int(current.read_text().strip()) if current.exists() else 1

    def _open(self, number: int) -> _Generation:
        path = self.directory / f"gen-{number}"
        path.mkdir(parents=True, exist_ok=True)
        index = tantivy.Index(self.schema, path=str(path), reuse=True)
        index.register_tokenizer(_WHITESPACE, tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build())
        writer = index.writer(_WRITER_HEAP, self._writer_threads)
        if not (self.directory / _CURRENT).exists():
            self._write_current(number)
        return _Generation(number, index, writer)

    def _write_current(self, number: int) -> None:
        tmp = self.directory / f"{_CURRENT}.tmp"
        tmp.write_text(str(number))
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, self.directory / _CURRENT)

    def begin_rebuild(self) -> None:
        with self._write_lock:
            if self._rebuilding is not None:
                self._drop(self._rebuilding)
            number = self._live.number + 1
            shutil.rmtree(self.directory / f"gen-{number}", ignore_errors=True)
            self._rebuilding = self._open(number)

    def finish_rebuild(self) -> None:
        with self._write_lock:
            if self._rebuilding is None:
                return
            old, self._live, self._rebuilding = self._live, self._rebuilding, None
            self._write_current(self._live.number)
            self._drop(old)

    def abort_rebuild(self) -> None:
        with self._write_lock:
            if self._rebuilding is not None:
                self._drop(self._rebuilding)
                self._rebuilding = None

    def _drop(self, generation: _Generation) -> None:
        generation.writer.rollback()
        del generation.writer
        shutil.rmtree(self.directory / f"gen-{generation.number}", ignore_errors=True)

    # -- writing ----------------------------------------------------------------------------

    def apply(self, docs: list[AnalysedDocument]) -> ApplyResult:
        newest = _newest_per_id(docs)
        with self._write_lock:
            applied = stale = 0
            for generation in filter(None, [self._live, self._rebuilding]):
                a, s = self._apply_to(generation, newest)
                if generation is self._live:
                    applied, stale = a, s
        return ApplyResult(applied=applied, stale=stale + len(docs) - len(newest))

    def _apply_to(self, generation: _Generation, docs: list[AnalysedDocument]) -> tuple[int, int]:
        held = self._versions_of(generation.index, [d.id for d in docs])
        fresh = [d for d in docs if d.version > held.get(d.id, 0)]
        for doc in fresh:
            generation.writer.delete_documents_by_term("id", doc.id)
            generation.writer.add_document(self._document(doc))
        if fresh:
            generation.writer.commit()
            generation.index.reload()
        return len(fresh), len(docs) - len(fresh)

    def _versions_of(self, index: tantivy.Index, ids: list[str]) -> dict[str, int]:
        if not ids:
            return {}
        searcher = index.searcher()
        found = searcher.search(Query.term_set_query(self.schema, "id", ids), limit=len(ids), count=False)
        addresses = [address for _, address in found.hits]
        keys = searcher.fast_field_values("id_key", addresses)
        versions = searcher.fast_field_values("version", addresses)
        by_key = dict(zip(keys, versions, strict=True))
        return {i: by_key[id_key(i)] for i in ids if id_key(i) in by_key}

    def _document(self, doc: AnalysedDocument) -> tantivy.Document:
        d = tantivy.Document()
        d.add_text("id", doc.id)
        d.add_unsigned("id_key", id_key(doc.id))
        d.add_integer("version", doc.version)
        d.add_boolean("live", doc.live)
        for name, terms in doc.text.items():
            d.add_text(name, terms)
        for name, values in doc.keywords.items():
            for value in values:
                d.add_text(name, value)
        for key in doc.suggest:
            d.add_text(SUGGEST_FIELD, key)
        d.add_integer("published_at", doc.published_at)
        d.add_integer("views", doc.views)
        d.add_bytes("source", doc.source)
        return d

    # -- reading ----------------------------------------------------------------------------

    def _term(self, name: str, value: Any) -> Query:
        return Query.term_query(self.schema, name, value)

    def _visible(self, principal: SearchPrincipal) -> Query:
        # Tombstones have no audience, so this also keeps them out.
        return Query.term_set_query(self.schema, "audience", audience_for(principal))

    def _filtered(self, plan: QueryPlan) -> tuple[Query, Query]:
        """(the scoring query, the filter alone: what facets count over)."""
        musts = [(Occur.Must, self._visible(plan.principal))]
        musts += [(Occur.Must, Query.term_set_query(self.schema, name, list(value)) if isinstance(value, tuple)
                   else self._term(name, value)) for name, value in plan.filters]
        filter_only = Query.boolean_query(musts)
        if not plan.terms:
            if not plan.boosts:
                return filter_only, filter_only
            # Browsing with a boost (an edition's own point before its equivalents): 1 + weight.
            return Query.boolean_query([(Occur.Must, Query.const_score_query(filter_only, 1.0)), *(
                (Occur.Should, Query.const_score_query(self._term(name, value), weight))
                for name, value, weight in plan.boosts)]), filter_only
        matches = [(Occur.Should, Query.boost_query(self._term(name, term), boost))
                   for term in plan.terms for name, boost in TEXT_FIELDS.items()]
        text = Query.boolean_query(matches)
        # A boost adds `weight` times the text score to matching documents (base.QueryPlan).
        boosts = [(Occur.Should, Query.boost_query(Query.boolean_query([
            (Occur.Must, text), (Occur.Must, Query.const_score_query(self._term(name, value), 0.0))]), weight))
            for name, value, weight in plan.boosts]
        # The filter scores nothing: only matching text (and a kind word's boost) decides relevance.
        return Query.boolean_query([(Occur.Must, text),
                                    (Occur.Must, Query.const_score_query(filter_only, 0.0)), *boosts]), filter_only

    def search(self, plan: QueryPlan) -> RawResult:
        query, _ = self._filtered(plan)
        searcher = self._live.index.searcher()
        if plan.cursor is not None and "offset" not in plan.cursor:
            raise InvalidCursor()  # another backend's
        offset = int((plan.cursor or {}).get("offset", plan.offset))
        order = {"newest": "published_at", "most_viewed": "views"}.get(plan.sort.value)
        kwargs: dict[str, Any] = {"order_by_field": order, "order": Order.Desc} if order else {}
        counting = self._facet_pool.submit(self._facets, searcher, query, plan.facets) if plan.facets else None
        found = searcher.search(query, limit=plan.size, count=True, offset=offset, **kwargs)
        hits = []
        for key, address in found.hits:
            stored = searcher.doc(address)
            hits.append(RawHit(id=stored.get_first("id"), score=None if order else float(key),
                               source=bytes(stored.get_first("source"))))
        facets = counting.result() if counting else {}
        after = offset + len(hits)
        cursor = {"offset": after} if hits and after < found.count else None
        return RawResult(total=found.count, hits=hits, facets=facets, cursor=cursor)

    def _facets(self, searcher: tantivy.Searcher, query: Query, names: tuple[str, ...]) -> dict[str, list[tuple[str, int]]]:
        spec = {name: {"terms": {"field": name, "size": FACET_SIZE}} for name in names}
        result = searcher.aggregate(query, spec)
        return {name: [(b["key"], int(b["doc_count"])) for b in result.get(name, {}).get("buckets", [])]
                for name in names}

    def suggest(self, key: str, principal: SearchPrincipal, limit: int) -> list[RawHit]:
        query = Query.boolean_query([(Occur.Must, self._term(SUGGEST_FIELD, key)),
                                     (Occur.Must, self._visible(principal))])
        searcher = self._live.index.searcher()
        found = searcher.search(query, limit=limit, count=False, order_by_field="views", order=Order.Desc)
        out = []
        for _, address in found.hits:
            stored = searcher.doc(address)
            out.append(RawHit(id=stored.get_first("id"), score=None, source=bytes(stored.get_first("source"))))
        return out

    def versions(self, cursor: str | None, size: int) -> tuple[list[tuple[str, int, bool]], str | None]:
        searcher = self._live.index.searcher()
        if cursor is not None and not (cursor.isascii() and cursor.isdigit() and len(cursor) <= 9):  # an offset here
            raise InvalidCursor()
        offset = int(cursor or 0)
        found = searcher.search(Query.all_query(), limit=size, count=True, offset=offset,
                                order_by_field="id", order=Order.Asc)
        items = []
        for _, address in found.hits:
            stored = searcher.doc(address)
            items.append((stored.get_first("id"), int(stored.get_first("version")), bool(stored.get_first("live"))))
        after = offset + len(items)
        return items, (str(after) if items and after < found.count else None)

    def count(self) -> int:
        searcher = self._live.index.searcher()
        return searcher.search(self._term("live", True), limit=1, count=True).count

    def ready(self) -> None:
        self._live.index.searcher()

    def close(self) -> None:
        # The facet pool stays: a closed backend still answers searches (only writing ends).
        with self._write_lock:
            for generation in filter(None, [self._live, self._rebuilding]):
                generation.writer.wait_merging_threads()


def _newest_per_id(docs: list[AnalysedDocument]) -> list[AnalysedDocument]:
    newest: dict[str, AnalysedDocument] = {}
    for doc in docs:
        if doc.id not in newest or doc.version > newest[doc.id].version:
            newest[doc.id] = doc
    return list(newest.values())

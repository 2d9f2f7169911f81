"""The scale-out backend: Elasticsearch 8 through the official client.

Searches go through an alias (`lb-resources`) that points at one versioned index
(`lb-resources-v3`); a rebuild fills the next version while the alias keeps answering, then swaps
the alias in one atomic call. The mapping is the template under `infra/elasticsearch/`, installed
on start. The version check is Elasticsearch's own external versioning: an index operation with a
version not above the stored one is refused as a conflict, which is exactly "stale".
"""
from __future__ import annotations

import base64
import json
import re
import threading
from pathlib import Path
from typing import Any

from elasticsearch import BadRequestError, Elasticsearch, helpers

from services.common.search import SearchPrincipal, Sort
from services.search.backends.base import (
    FACET_SIZE,
    InvalidCursor,
    SUGGEST_FIELD,
    TEXT_FIELDS,
    AnalysedDocument,
    ApplyResult,
    QueryPlan,
    RawHit,
    RawResult,
    audience_for,
)

TEMPLATE = Path(__file__).resolve().parents[3] / "infra" / "elasticsearch" / "lessonbridge-resources.template.json"
TEMPLATE_NAME = "lessonbridge-resources"
_SORTS = {
    Sort.relevance: [{"_score": "desc"}, {"id": "asc"}],
    Sort.newest: [{"published_at": "desc"}, {"id": "asc"}],
    Sort.most_viewed: [{"views": "desc"}, {"id": "asc"}],
}
_SOURCE = ["id", "source"]
# Below Elasticsearch's 100 MB request limit even for a batch of documents with 60,000-character
# page texts (stored twice: as terms and in the base64 source).
_BULK_BYTES = 20 * 1024 * 1024


class ElasticsearchBackend:
    name = "elasticsearch"

    def __init__(self, url: str, *, alias: str = "lb-resources", client: Elasticsearch | None = None) -> None:
        self.url, self.alias = url, alias
        self.client = client or Elasticsearch(url, request_timeout=30, retry_on_timeout=True, max_retries=2)
        template = json.loads(TEMPLATE.read_text("utf-8"))
        self.client.indices.put_index_template(name=TEMPLATE_NAME, body=template)
        # Indexes are created with the template's body as well: an alias outside its pattern (a
        # test's, say) gets the same mapping, and no per-alias template is left behind.
        self._index_body = template["template"]
        # As on tantivy: a batch never straddles the start, end or abort of a rebuild.
        self._write_lock = threading.Lock()
        self._rebuilding: str | None = None
        if not self.client.indices.exists_alias(name=alias):
            self._create(f"{alias}-v1", aliases={alias: {}})

    # -- indexes ----------------------------------------------------------------------------

    def _create(self, index: str, **kwargs: Any) -> None:
        try:
            self.client.indices.create(index=index, settings=self._index_body["settings"],
                                       mappings=self._index_body["mappings"], **kwargs)
        except BadRequestError as e:
            # Another process starting at the same time created it first.
            if e.error != "resource_already_exists_exception" or "aliases" not in kwargs:
                raise
            if not self.client.indices.exists_alias(name=self.alias):
                self.client.indices.put_alias(index=index, name=self.alias)

    def _live_index(self) -> str:
        return next(iter(self.client.indices.get_alias(name=self.alias).body))

    def begin_rebuild(self) -> None:
        with self._write_lock:
            live = self._live_index()
            number = int(re.fullmatch(rf"{re.escape(self.alias)}-v(\d+)", live).group(1)) + 1
            target = f"{self.alias}-v{number}"
            self.client.indices.delete(index=target, ignore_unavailable=True)
            self._create(target)
            self._rebuilding = target

    def finish_rebuild(self) -> None:
        with self._write_lock:
            if self._rebuilding is None:
                return
            old, new = self._live_index(), self._rebuilding
            self.client.indices.refresh(index=new)
            self.client.indices.update_aliases(actions=[{"remove": {"index": old, "alias": self.alias}},
                                                        {"add": {"index": new, "alias": self.alias}}])
            self._rebuilding = None
            self.client.indices.delete(index=old, ignore_unavailable=True)

    def abort_rebuild(self) -> None:
        with self._write_lock:
            if self._rebuilding is not None:
                self.client.indices.delete(index=self._rebuilding, ignore_unavailable=True)
                self._rebuilding = None

    # -- writing ----------------------------------------------------------------------------

    def apply(self, docs: list[AnalysedDocument]) -> ApplyResult:
        newest: dict[str, AnalysedDocument] = {}
        for doc in docs:
            if doc.id not in newest or doc.version > newest[doc.id].version:
                newest[doc.id] = doc
        duplicates = len(docs) - len(newest)
        applied = stale = 0
        with self._write_lock:
            for target in filter(None, [self.alias, self._rebuilding]):
                a, s = self._apply_to(target, list(newest.values()))
                if target == self.alias:
                    applied, stale = a, s
            # An explicit refresh, not refresh=wait_for: that waits for the next scheduled refresh,
            # a second per call whatever the batch. The rebuilt index is refreshed when it goes live.
            if applied:
                self.client.indices.refresh(index=self.alias)
        return ApplyResult(applied=applied, stale=stale + duplicates)

    def _apply_to(self, index: str, docs: list[AnalysedDocument]) -> tuple[int, int]:
        actions = ({"_index": index, "_id": doc.id, "version": doc.version, "version_type": "external",
                    "_source": _body(doc)} for doc in docs)
        applied = stale = 0
        for ok, item in helpers.streaming_bulk(self.client, actions, max_chunk_bytes=_BULK_BYTES,
                                               raise_on_error=False, max_retries=3):
            result = item["index"]
            if ok:
                applied += 1
            elif result.get("status") == 409:
                stale += 1
            else:
                raise RuntimeError(f"Elasticsearch refused {result.get('_id')}: {result.get('error')}")
        return applied, stale

    # -- reading ----------------------------------------------------------------------------

    def _filters(self, plan_filters: tuple[tuple[str, str | tuple[str, ...]], ...],
                 principal: SearchPrincipal) -> list[dict[str, Any]]:
        # Tombstones have no audience either; `live` says so outright.
        return [{"term": {"live": True}}, {"terms": {"audience": audience_for(principal)}},
                *({"terms": {name: list(value)}} if isinstance(value, tuple) else {"term": {name: value}}
                  for name, value in plan_filters)]

    def search(self, plan: QueryPlan) -> RawResult:
        # With no terms, match_all scores every hit 1.0, as tantivy does.
        matches = [{"bool": {"should": [{"term": {name: {"value": term, "boost": boost}}}
                                        for term in plan.terms for name, boost in TEXT_FIELDS.items()]}}
                   ] if plan.terms else [{"match_all": {}}]
        query = {"bool": {"must": matches, "filter": self._filters(plan.filters, plan.principal),
                          # A boost adds `weight` times the text score to matching documents.
                          "should": [{"bool": {"must": matches, "filter": [{"term": {name: value}}], "boost": weight}}
                                     for name, value, weight in plan.boosts]}}
        if plan.cursor is not None and "after" not in plan.cursor:
            raise InvalidCursor()  # another backend's
        after = (plan.cursor or {}).get("after")
        request: dict[str, Any] = {
            "index": self.alias, "query": query, "sort": _SORTS[plan.sort], "track_total_hits": True,
            "source": _SOURCE, "aggs": {name: {"terms": {"field": name, "size": FACET_SIZE}} for name in plan.facets},
        }
        if after is not None:
            # Where a search_after page sits is unknown: one hit more tells whether another follows.
            request.update(search_after=after, size=plan.size + 1)
        else:
            request.update(from_=plan.offset, size=plan.size)
        try:
            response = self.client.search(**request)
        except BadRequestError:
            if after is None:
                raise
            raise InvalidCursor() from None  # values of the wrong type for this sort
        total = response["hits"]["total"]["value"]
        hits = response["hits"]["hits"]
        more = len(hits) > plan.size if after is not None else plan.offset + len(hits) < total
        hits = hits[:plan.size]
        raw_hits = [RawHit(id=h["_source"]["id"], score=h["_score"] if plan.sort is Sort.relevance else None,
                           source=base64.b64decode(h["_source"]["source"])) for h in hits]
        # Elasticsearch orders buckets by count, then key: tantivy's order too.
        facets = {name: [(b["key"], b["doc_count"]) for b in response["aggregations"][name]["buckets"]]
                  for name in plan.facets}
        return RawResult(total=total, hits=raw_hits, facets=facets,
                         cursor={"after": hits[-1]["sort"]} if hits and more else None)

    def suggest(self, key: str, principal: SearchPrincipal, limit: int) -> list[RawHit]:
        response = self.client.search(
            index=self.alias, size=limit, source=_SOURCE, sort=_SORTS[Sort.most_viewed],
            query={"bool": {"filter": [{"term": {SUGGEST_FIELD: key}}, *self._filters((), principal)]}})
        return [RawHit(id=h["_source"]["id"], score=None, source=base64.b64decode(h["_source"]["source"]))
                for h in response["hits"]["hits"]]

    def versions(self, cursor: str | None, size: int) -> tuple[list[tuple[str, int, bool]], str | None]:
        request: dict[str, Any] = {"index": self.alias, "size": size + 1, "sort": [{"id": "asc"}],
                                   "source": ["id", "version", "live"], "query": {"match_all": {}}}
        if cursor is not None:
            request["search_after"] = [cursor]
        hits = self.client.search(**request)["hits"]["hits"]
        items = [(h["_source"]["id"], int(h["_source"]["version"]), bool(h["_source"]["live"])) for h in hits[:size]]
        return items, (items[-1][0] if items and len(hits) > size else None)

    def count(self) -> int:
        return self.client.count(index=self.alias, query={"term": {"live": True}})["count"]

    def ready(self) -> None:
        client = self.client.options(request_timeout=5, max_retries=0)
        # Checked first: cluster health waits for a missing index until its timeout.
        if not client.indices.exists_alias(name=self.alias):
            raise RuntimeError(f"Elasticsearch has no alias {self.alias}")
        if client.cluster.health(index=self.alias)["status"] == "red":
            raise RuntimeError(f"Elasticsearch index {self.alias} is red")

    def close(self) -> None:
        self.client.close()


def _body(doc: AnalysedDocument) -> dict[str, Any]:
    body: dict[str, Any] = {"id": doc.id, "version": doc.version, "live": doc.live,
                            "source": base64.b64encode(doc.source).decode()}
    if doc.live:
        body.update(doc.text)
        body.update(doc.keywords)
        body.update({SUGGEST_FIELD: doc.suggest, "published_at": doc.published_at, "views": doc.views})
    return body

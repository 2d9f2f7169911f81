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
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch

from services.common.search import SearchPrincipal, Sort
from services.search.backends.base import (
    FACET_SIZE,
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
_SORTS = {
    Sort.relevance: [{"_score": "desc"}, {"id": "asc"}],
    Sort.newest: [{"published_at": "desc"}, {"id": "asc"}],
    Sort.most_viewed: [{"views": "desc"}, {"id": "asc"}],
}
_SOURCE = ["id", "source"]


class ElasticsearchBackend:
    name = "elasticsearch"

    def __init__(self, url: str, *, alias: str = "lb-resources", client: Elasticsearch | None = None) -> None:
        self.url, self.alias = url, alias
        self.client = client or Elasticsearch(url, request_timeout=30, retry_on_timeout=True, max_retries=2)
        template = json.loads(TEMPLATE.read_text("utf-8"))
        template["index_patterns"] = [f"{alias}-v*"]
        self.client.indices.put_index_template(name=f"{alias}-template", body=template)
        if not self.client.indices.exists_alias(name=alias):
            self.client.indices.create(index=f"{alias}-v1", aliases={alias: {}})
        self._rebuilding: str | None = None

    # -- indexes ----------------------------------------------------------------------------

    def _live_index(self) -> str:
        return next(iter(self.client.indices.get_alias(name=self.alias).body))

    def begin_rebuild(self) -> None:
        live = self._live_index()
        number = int(re.fullmatch(rf"{re.escape(self.alias)}-v(\d+)", live).group(1)) + 1
        target = f"{self.alias}-v{number}"
        self.client.indices.delete(index=target, ignore_unavailable=True)
        self.client.indices.create(index=target)
        self._rebuilding = target

    def finish_rebuild(self) -> None:
        if self._rebuilding is None:
            return
        old, new = self._live_index(), self._rebuilding
        self.client.indices.refresh(index=new)
        self.client.indices.update_aliases(actions=[{"remove": {"index": old, "alias": self.alias}},
                                                    {"add": {"index": new, "alias": self.alias}}])
        self._rebuilding = None
        self.client.indices.delete(index=old, ignore_unavailable=True)

    def abort_rebuild(self) -> None:
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
        for target in filter(None, [self.alias, self._rebuilding]):
            a, s = self._apply_to(target, list(newest.values()))
            if target == self.alias:
                applied, stale = a, s
        return ApplyResult(applied=applied, stale=stale + duplicates)

    def _apply_to(self, index: str, docs: list[AnalysedDocument]) -> tuple[int, int]:
        if not docs:
            return 0, 0
        operations: list[dict[str, Any]] = []
        for doc in docs:
            operations += [{"index": {"_index": index, "_id": doc.id, "version": doc.version,
                                      "version_type": "external"}}, _body(doc)]
        # wait_for: the documents are searchable when this returns, as on tantivy.
        response = self.client.bulk(operations=operations, refresh="wait_for")
        applied = stale = 0
        for item in response["items"]:
            result = item["index"]
            if result.get("status") == 409:
                stale += 1
            elif "error" in result:
                raise RuntimeError(f"Elasticsearch refused {result['_id']}: {result['error']}")
            else:
                applied += 1
        return applied, stale

    # -- reading ----------------------------------------------------------------------------

    def _filters(self, plan_filters: tuple[tuple[str, str], ...], principal: SearchPrincipal) -> list[dict[str, Any]]:
        # Tombstones have no audience, so this also keeps them out.
        return [{"terms": {"audience": audience_for(principal)}},
                *({"term": {name: value}} for name, value in plan_filters)]

    def search(self, plan: QueryPlan) -> RawResult:
        query: dict[str, Any] = {"bool": {"filter": self._filters(plan.filters, plan.principal)}}
        if plan.terms:
            query["bool"]["must"] = [{"bool": {"should": [
                {"term": {name: {"value": term, "boost": boost}}}
                for term in plan.terms for name, boost in TEXT_FIELDS.items()]}}]
        request: dict[str, Any] = {
            "index": self.alias, "query": query, "size": plan.size, "sort": _SORTS[plan.sort],
            "track_total_hits": True, "source": _SOURCE,
            "aggs": {name: {"terms": {"field": name, "size": FACET_SIZE}} for name in plan.facets},
        }
        if plan.cursor and "after" in plan.cursor:
            request["search_after"] = plan.cursor["after"]
        else:
            request["from_"] = plan.offset
        if plan.sort is Sort.relevance:
            request["track_scores"] = True
        response = self.client.search(**request)
        hits = response["hits"]["hits"]
        total = response["hits"]["total"]["value"]
        raw_hits = [RawHit(id=h["_source"]["id"], score=h["_score"] if plan.sort is Sort.relevance else None,
                           source=base64.b64decode(h["_source"]["source"])) for h in hits]
        facets = {name: [(b["key"], b["doc_count"]) for b in response["aggregations"][name]["buckets"]]
                  for name in plan.facets}
        start = plan.offset if not (plan.cursor and "after" in plan.cursor) else None
        more = len(hits) == plan.size and (start is None or start + len(hits) < total)
        return RawResult(total=total, hits=raw_hits, facets=facets,
                         cursor={"after": hits[-1]["sort"]} if hits and more else None)

    def suggest(self, key: str, principal: SearchPrincipal, limit: int) -> list[RawHit]:
        response = self.client.search(
            index=self.alias, size=limit, source=_SOURCE, sort=_SORTS[Sort.most_viewed],
            query={"bool": {"filter": [{"term": {SUGGEST_FIELD: key}}, *self._filters((), principal)]}})
        return [RawHit(id=h["_source"]["id"], score=None, source=base64.b64decode(h["_source"]["source"]))
                for h in response["hits"]["hits"]]

    def versions(self, cursor: str | None, size: int) -> tuple[list[tuple[str, int, bool]], str | None]:
        request: dict[str, Any] = {"index": self.alias, "size": size, "sort": [{"id": "asc"}],
                                   "source": ["id", "version", "live"], "query": {"match_all": {}}}
        if cursor is not None:
            request["search_after"] = [cursor]
        hits = self.client.search(**request)["hits"]["hits"]
        items = [(h["_source"]["id"], int(h["_source"]["version"]), bool(h["_source"]["live"])) for h in hits]
        return items, (items[-1][0] if len(items) == size else None)

    def count(self) -> int:
        return self.client.count(index=self.alias, query={"term": {"live": True}})["count"]

    def ready(self) -> None:
        health = self.client.cluster.health(index=self.alias, timeout="2s")
        if health["status"] == "red":
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

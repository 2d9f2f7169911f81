"""The API's HTTP client for the search service. Every call carries a signed principal: the
caller's for searches, the API's own for indexing."""
from __future__ import annotations

from typing import Any

import httpx

from services.api.search.errors import SearchUnavailable
from services.common.search import (
    PRINCIPAL_HEADER,
    IndexBatch,
    IndexedVersions,
    IndexOutcome,
    SearchDocument,
    SearchPrincipal,
    Vocabulary,
    sign_principal,
)

TIMEOUT = httpx.Timeout(10.0, connect=2.0)


class BatchTooLarge(Exception):
    """The search service refused an index batch for its size: send less at once."""

# Reindexing posts large batches and a rebuild step may wait on Elasticsearch.
BULK_TIMEOUT = httpx.Timeout(120.0, connect=2.0)


class SearchClient:
    def __init__(self, base_url: str, *, secret: str | bytes, http: httpx.Client | None = None) -> None:
        """`http`: a client of one's own (tests pass a TestClient of the search app itself)."""
        self._secret = secret
        self._http = http or httpx.Client(base_url=base_url, timeout=TIMEOUT)

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, *, principal: SearchPrincipal | None = None,
              headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        headers = {**(headers or {}), PRINCIPAL_HEADER: sign_principal(principal, secret=self._secret)}
        try:
            return self._http.request(method, path, headers=headers, **kwargs)
        except httpx.TransportError as error:
            raise SearchUnavailable() from error

    def _internal(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._call(method, path, **kwargs)
        if response.status_code >= 500:
            raise SearchUnavailable()
        response.raise_for_status()
        return response.json()

    # -- forwarded for users: the search service's answer, problem or not, goes back as it is

    def forward(self, path: str, *, principal: SearchPrincipal, params: list[tuple[str, str]],
                language: str | None) -> httpx.Response:
        headers = {"Accept-Language": language} if language else {}
        response = self._call("GET", path, principal=principal, params=params, headers=headers)
        if response.status_code >= 500:
            raise SearchUnavailable()
        return response

    # -- indexing

    def index(self, documents: list[SearchDocument], *, bulk: bool = False) -> IndexOutcome:
        """Raises BatchTooLarge when the search service refuses the body's size (413)."""
        body = IndexBatch(documents=documents).model_dump_json().encode()
        response = self._call("POST", "/internal/documents", content=body,
                              headers={"Content-Type": "application/json"}, timeout=BULK_TIMEOUT if bulk else TIMEOUT)
        if response.status_code == 413:
            raise BatchTooLarge(len(body))
        if response.status_code >= 500:
            raise SearchUnavailable()
        response.raise_for_status()
        return IndexOutcome.model_validate_json(response.content)

    def put_vocabulary(self, vocabulary: Vocabulary) -> None:
        self._internal("PUT", "/internal/vocabulary", json=vocabulary.model_dump(), timeout=BULK_TIMEOUT)

    def state(self) -> dict[str, Any]:
        return self._internal("GET", "/internal/state")

    def versions(self, cursor: str | None, size: int = 5000) -> IndexedVersions:
        params = {"size": size, **({"cursor": cursor} if cursor else {})}
        return IndexedVersions.model_validate(self._internal("GET", "/internal/versions", params=params,
                                                             timeout=BULK_TIMEOUT))

    def rebuild(self, step: str) -> None:
        self._internal("POST", f"/internal/rebuild/{step}", timeout=BULK_TIMEOUT)

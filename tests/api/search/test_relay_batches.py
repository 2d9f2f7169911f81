"""What the relay sends: page text numbered as a viewer counts pages, and batches that stay
within the search service's body limit, so one large resource never stops indexing."""
from __future__ import annotations

import hashlib
import io
import json

import pytest

from services.api.resources.models import Asset
from services.api.search import relay as relay_module
from services.api.search.documents import build_documents, build_vocabulary
from services.api.uploads.models import Blob
from services.common.search import SearchDocument
from tests.api.search.test_search import app, outbox, people, publish, search, search_service  # noqa: F401

pytestmark = pytest.mark.filterwarnings("ignore:You should not use the 'timeout' argument with the TestClient")


def attach_document_text(factory, store, resource_id: str, pages: list[str]) -> Asset:
    """A converted document asset whose extracted text (text.json) holds `pages`, page 1 first."""
    text = json.dumps([{"page": n, "text": t} for n, t in enumerate(pages, start=1)], ensure_ascii=False).encode()
    prefix = f"renditions/{hashlib.sha256(text).hexdigest()[:16]}"
    store.put(f"{prefix}/text.json", io.BytesIO(text), length=len(text), content_type="application/json")
    blob = Blob(sha256=hashlib.sha256(prefix.encode()).hexdigest(), size=1, media_type="application/pdf",
                backend="local", key=f"{prefix}/source")
    factory.session.add(blob)
    factory.session.flush()
    asset = Asset(resource_id=resource_id, blob_id=blob.id, role="main", filename="讲义.pdf",
                  media_type="application/pdf", category="document", size=1, sha256=blob.sha256,
                  renditions=[{"job": "document", "kind": "document", "prefix": prefix, "text": "text.json"}])
    factory.session.add(asset)
    factory.session.flush()
    return asset


def test_page_text_keeps_each_pages_own_number(client, app, factory, people):  # noqa: F811
    resource_id = publish(client, factory, people["a"], people["moderator"], title="勾股定理讲义")
    # Page 1 is a cover with no text; the hit on 弦图 is on page 3 of the document.
    asset = attach_document_text(factory, app.state.blob_store, resource_id, ["", "直角三角形", "赵爽弦图的证明"])
    factory.commit()
    (document,) = build_documents(factory.session, {resource_id: 1}, app.state.blob_store)
    assert [(p.number, p.text, p.asset_id) for p in document.pages] == [
        (2, "直角三角形", asset.id), (3, "赵爽弦图的证明", asset.id)]

    app.state.search_relay.run_once()
    hits = search(client, factory, people["a"], q="弦图")["hits"]
    assert [h["id"] for h in hits] == [resource_id]
    assert hits[0]["highlight"]["page"] == 3


def test_batches_are_cut_by_bytes_in_order():
    documents = [SearchDocument(id=f"r{i}", version=1, live=True, title="x" * 300) for i in range(10)]
    size = len(documents[0].model_dump_json()) + 1
    batches = relay_module.batches_by_bytes(documents, size * 3)
    assert [len(b) for b in batches] == [3, 3, 3, 1]
    assert [d.id for b in batches for d in b] == [d.id for d in documents]
    # A document larger than the limit travels alone rather than being dropped here.
    assert [len(b) for b in relay_module.batches_by_bytes(documents, 10)] == [1] * 10


def test_a_batch_refused_as_too_large_is_split_and_one_huge_resource_stops_nothing(
        client, app, factory, people, monkeypatch):  # noqa: F811
    # The search service's body limit made small, and the relay's own cap above it, so batches
    # reach the service too large and are refused with 413, as a 20 MiB batch is in production.
    # The taxonomy goes first, at the normal limit (it is larger than the small one).
    app.state.search_relay.client.put_vocabulary(build_vocabulary(factory.session))
    monkeypatch.setattr("services.common.http.JSON_BODY_LIMIT", 48 * 1024)
    monkeypatch.setattr(relay_module, "MAX_BATCH_BYTES", 1024 * 1024)
    ordinary = [publish(client, factory, people["a"], people["moderator"], title=f"分数的意义{i}",
                        description="分数" * 4000) for i in range(6)]
    huge = publish(client, factory, people["a"], people["moderator"], title="整本教材扫描件")
    attach_document_text(factory, app.state.blob_store, huge, ["一元一次方程" * 5000])
    factory.commit()

    assert app.state.search_relay.run_once()["delivered"] == 7
    assert app.state.search_relay.backlog() == 0
    found = {h["id"] for h in search(client, factory, people["a"], q="分数的意义", size=20)["hits"]}
    assert found == set(ordinary)
    # The huge one is indexed by what fits (its title), without its page text.
    assert [h["id"] for h in search(client, factory, people["a"], q="教材扫描件")["hits"]] == [huge]
    assert search(client, factory, people["a"], q="一元一次方程")["total"] == 0

    # Indexing goes on: a take-down after it still reaches the index.
    taken = client.post(f"/api/v1/moderation/resources/{ordinary[0]}/decision",
                        json={"action": "take_down", "reason_code": "copyright"},
                        headers=factory.headers(people["moderator"]))
    assert taken.status_code == 200, taken.text
    app.state.search_relay.run_once()
    assert app.state.search_relay.backlog() == 0
    assert ordinary[0] not in {h["id"] for h in search(client, factory, people["a"], q="分数的意义", size=20)["hits"]}

"""The search service's HTTP face. It owns the index: the API feeds it documents through the
internal routes (the outbox relay, reindex, reconcile) and forwards users' searches with a signed
principal, so visibility is enforced here, on every hit and every facet count.

Why HTTP and not a Celery queue for indexing: the embedded index has exactly one writer, which
lives in this process, and the relay must learn that a batch is committed to the index before it
marks outbox rows delivered; a synchronous answer gives both, and back-pressure for free.
"""
from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response
import structlog
from prometheus_client import Counter
from starlette.concurrency import run_in_threadpool

from services.common.edge import install_edge
from services.common.gc_tuning import freeze_startup_objects
from services.common.http import install_request_context, operations_router
from services.common.logging import configure_logging
from services.common.problems import install_problem_handlers
from services.common.search import (
    PRINCIPAL_HEADER,
    IndexBatch,
    IndexedVersion,
    IndexedVersions,
    IndexOutcome,
    InvalidPrincipal,
    SearchPrincipal,
    SearchResponse,
    SuggestResponse,
    Vocabulary,
    verify_principal,
)
from services.common.settings import Settings
from services.search.backends.base import SearchBackend
from services.search.engine import SearchEngine, SearchParams

DOCUMENTS = Counter("lb_search_documents_total", "Documents received for indexing", ["outcome"])
MAX_SUGGESTIONS = 20


def open_backend(settings: Settings) -> SearchBackend:
    if settings.search.es_url:
        from services.search.backends.elastic import ElasticsearchBackend
        return ElasticsearchBackend(settings.search.es_url, alias=settings.search.es_alias)
    from services.search.backends.tantivy_index import TantivyBackend
    return TantivyBackend(settings.core.data_dir / "search-index" / "tantivy")


# The dependencies are `async def` and routes make at most one worker-thread hop: each hop cost
# more than checking a signature (anyio's thread handoff was ~40 % of the service's Python time
# per suggest), and a sync dependency or a model dependency is a hop of its own.

async def caller(request: Request, token: Annotated[str | None, Header(alias=PRINCIPAL_HEADER)] = None) -> SearchPrincipal:
    principal = verify_principal(token, secret=request.app.state.settings.search_principal_key)
    if principal is None:  # the API's own token names no user: it may index, not search
        raise InvalidPrincipal()
    return principal


async def the_api(request: Request, token: Annotated[str | None, Header(alias=PRINCIPAL_HEADER)] = None) -> None:
    if verify_principal(token, secret=request.app.state.settings.search_principal_key) is not None:
        raise InvalidPrincipal()


Caller = Annotated[SearchPrincipal, Depends(caller)]


def create_app(settings: Settings, *, backend: SearchBackend | None = None) -> FastAPI:
    configure_logging(json=settings.log_json, level=settings.core.log_level)
    settings.search_principal_key  # noqa: B018 - refuse to start without the one key this service needs
    if settings.search.principal_key is not None and settings.auth.secret_key is not None:
        # It would use only its own key, but a process that holds the master can mint API tokens.
        structlog.get_logger().warning("search_holds_master_secret",
                                       advice="unset LB_SECRET_KEY for the search service; it needs only "
                                              "LB_SEARCH_PRINCIPAL_KEY")
    state_dir = settings.core.data_dir / "search-index"
    state_dir.mkdir(parents=True, exist_ok=True)
    engine = SearchEngine(backend or open_backend(settings), state_dir / "vocabulary.json")

    public = APIRouter()

    @public.get("/search", response_model=SearchResponse)
    async def search(params: Annotated[SearchParams, Query()], principal: Caller) -> Response:
        # Serialised here by pydantic-core: FastAPI would validate the whole response model again.
        body = await run_in_threadpool(lambda: engine.search(params, principal).model_dump_json())
        return Response(body, media_type="application/json")

    @public.get("/suggest", response_model=SuggestResponse)
    async def suggest(principal: Caller,
                      q: Annotated[str, Query(max_length=64)] = "",
                      limit: Annotated[int, Query(ge=1, le=MAX_SUGGESTIONS)] = 10) -> Response:
        body = await run_in_threadpool(lambda: engine.suggest(q, principal, limit).model_dump_json())
        return Response(body, media_type="application/json")

    internal = APIRouter(prefix="/internal", dependencies=[Depends(the_api)])

    @internal.post("/documents", response_model=IndexOutcome)
    def index_documents(batch: IndexBatch) -> IndexOutcome:
        outcome = engine.index(batch.documents)
        DOCUMENTS.labels("applied").inc(outcome.applied)
        DOCUMENTS.labels("stale").inc(outcome.stale)
        return outcome

    @internal.put("/vocabulary")
    def put_vocabulary(vocabulary: Vocabulary) -> dict[str, str]:
        engine.set_vocabulary(vocabulary)
        return {"revision": vocabulary.revision}

    @internal.get("/state")
    def index_state() -> dict[str, object]:
        return {"backend": engine.backend.name, "live_documents": engine.backend.count(),
                "vocabulary_revision": engine.vocabulary_revision}

    @internal.get("/versions", response_model=IndexedVersions)
    def versions(cursor: str | None = None, size: Annotated[int, Query(ge=1, le=10_000)] = 5000) -> IndexedVersions:
        items, after = engine.backend.versions(cursor, size)
        return IndexedVersions(items=[IndexedVersion(id=i, version=v, live=lv) for i, v, lv in items],
                               next_after=after)

    @internal.post("/rebuild/{step}")
    def rebuild(step: Literal["begin", "finish", "abort"]) -> dict[str, str]:
        steps: dict[str, Callable[[], None]] = {"begin": engine.backend.begin_rebuild,
                                                 "finish": engine.backend.finish_rebuild,
                                                 "abort": engine.backend.abort_rebuild}
        steps[step]()
        return {"step": step}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        engine.backend.close()

    app = FastAPI(title="LessonBridge search", version="1", lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = engine
    app.include_router(public)
    app.include_router(internal)
    app.include_router(operations_router(checks={"index": engine.backend.ready}))
    install_problem_handlers(app)
    install_request_context(app, service="search")
    install_edge(app, settings)

    return app


def create_app_from_env() -> FastAPI:
    """Entry point for `uvicorn --factory`: one app for the life of the process."""
    app = create_app(Settings.from_env())
    freeze_startup_objects()
    return app


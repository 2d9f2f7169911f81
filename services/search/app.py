"""The search service's application. Indexing and querying arrive with the search issue; this
is its shell: settings, logging, errors, health and metrics."""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.common.http import install_request_context, operations_router
from services.common.logging import configure_logging
from services.common.problems import install_problem_handlers
from services.common.settings import Settings


def create_app(settings: Settings) -> FastAPI:
    configure_logging(json=settings.log_json, level=settings.core.log_level)
    index_dir = (settings.core.data_dir / "search-index").resolve()
    index_dir.mkdir(parents=True, exist_ok=True)

    def index_ready() -> None:
        probe = Path(index_dir) / ".ready"
        probe.write_text("ok")

    app = FastAPI(title="LessonBridge search", version="1")
    app.state.settings = settings
    app.include_router(operations_router(checks={"index": index_ready}))
    install_problem_handlers(app)
    install_request_context(app, service="search")
    return app


def create_app_from_env() -> FastAPI:
    return create_app(Settings.from_env())

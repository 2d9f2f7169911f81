"""The API application: `create_app(settings)` wires settings, database, routes and errors."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
import httpx
from fastapi import FastAPI
from sqlalchemy import text

from services.api.audit.router import router as audit_router
from services.api.blobs.router import router as blobs_router
from services.api.campaigns.router import router as campaigns_router
from services.api.devices.router import router as devices_router
from services.api.janitor import Janitor
from services.api.auth.router import router as auth_router
from services.api.moderation.router import router as moderation_router
from services.api.notifications.mailer import Mailer
from services.api.notifications.router import router as notifications_router
from services.api.orgs.router import router as orgs_router
from services.api.regions.router import router as regions_router
from services.api.pairing.router import router as pairing_router
from services.api.packs.router import router as packs_router
from services.api.reports.router import router as reports_router
from services.api.screening.router import router as screening_router
from services.api.playback.router import router as playback_router
from services.api.resources import processing
from services.api.resources.router import router as resources_router
from services.api.search import outbox
from services.api.stats import snapshots as participation_snapshots
from services.api.search.client import SearchClient
from services.api.search.relay import Relay
from services.api.search.router import router as search_router
from services.api.stats.router import router as stats_router
from services.api.taxonomy.router import router as taxonomy_router
from services.api.uploads.hashing import RunningHashes
from services.api.uploads.in_flight import UploadsInFlight
from services.api.uploads import service as uploads
from services.api.uploads.router import router as uploads_router
from services.common import jobs
from services.console.app import console_app
from services.common.db import create_db_engine, create_sessionmaker, writer_session
from services.common.db import utcnow
from services.common.edge import install_edge
from services.common.gc_tuning import freeze_startup_objects
from services.common.http import install_request_context, operations_router
from services.common.logging import configure_logging
from services.common.problems import install_problem_handlers
from services.common.settings import Settings
from services.common.storage import create_blob_store
from services.common.tasks import check_broker, create_celery

JANITOR_INTERVAL_S = 600


def create_app(settings: Settings, *, search_http: httpx.Client | None = None) -> FastAPI:
    """`search_http`: how to reach the search service (tests pass a client of the search app)."""
    configure_logging(json=settings.log_json, level=settings.core.log_level)
    outbox.install()  # every resource change this process flushes writes its search outbox row
    participation_snapshots.install()  # and removes the closed semesters' figures it may change
    settings.keys  # noqa: B018 - refuse to start without the master secret the API's keys come from
    engine = create_db_engine(settings.database_url, echo=settings.database.echo, pool_size=settings.database.pool_size,
                              check_writers=settings.database.check_writers)
    celery = create_celery(settings, name="lessonbridge-api")
    blob_store = create_blob_store(settings)

    def expire_uploads() -> int:
        with writer_session(app.state.sessionmaker) as session:
            return uploads.expire_uploads(session, store=blob_store, spool_root=settings.core.data_dir / "uploads")

    janitor = Janitor(interval_s=JANITOR_INTERVAL_S, jobs={"expire_uploads": expire_uploads})

    def store_last_semester() -> int:  # a semester that has ended: its participation figures
        with writer_session(app.state.sessionmaker) as session:
            return participation_snapshots.store_last_semester(session, now=utcnow())

    janitor.jobs["store_last_semester"] = store_last_semester

    def apply_finished_jobs() -> dict[str, int]:
        with writer_session(app.state.sessionmaker) as session:
            return processing.apply_finished_jobs(session)

    # Media processing: send queued jobs, rescue stalled ones, fold finished ones into resources.
    media_janitor = Janitor(interval_s=settings.api.media_poll_s, jobs={
        "dispatch_jobs": lambda: jobs.dispatch(engine, celery),
        "sweep_jobs": lambda: jobs.sweep(engine, celery),
        "apply_finished_jobs": apply_finished_jobs,
    })

    search_client = SearchClient(settings.search_url, secret=settings.search_principal_key, http=search_http)
    search_relay = Relay(sessionmaker=lambda: app.state.sessionmaker(), client=search_client, store=blob_store)
    # Feeds the search service from the outbox; rows wait while it is down.
    relay_janitor = Janitor(interval_s=settings.api.search_relay_s, jobs={"relay_search_outbox": search_relay.tick})

    # Emails pending notifications when SMTP is configured; app.state.mailer is None otherwise.
    mailer = (Mailer(settings=settings.mail, sessionmaker=lambda: app.state.sessionmaker())
              if settings.mail.smtp_host else None)
    mail_janitor = Janitor(interval_s=settings.mail.poll_s,
                           jobs={"send_notification_emails": mailer.send_pending} if mailer else {})

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Sync routes run on these threads. Python runs one at a time (the GIL); past a few,
        # more threads only add switching (measured: 40 threads at 32 concurrent reads spent
        # most of their CPU contending). Requests beyond them wait in the event loop instead.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.api.worker_threads
        janitor.start()
        if settings.api.media_poll_s > 0:  # 0: tests drive it by hand
            media_janitor.start()
        if settings.api.search_relay_s > 0:
            relay_janitor.start()
        if mailer is not None and settings.mail.poll_s > 0:
            mail_janitor.start()
        yield
        mail_janitor.stop()
        relay_janitor.stop()
        media_janitor.stop()
        janitor.stop()
        search_client.close()

    app = FastAPI(title="LessonBridge API", version="1", openapi_url="/openapi.json",
                  docs_url="/docs", redoc_url=None, lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = create_sessionmaker(engine)
    app.state.celery = celery
    app.state.blob_store = blob_store
    app.state.upload_hashes = RunningHashes()
    app.state.uploads_in_flight = UploadsInFlight(per_uploader=settings.uploads.per_uploader,
                                                  per_school=settings.uploads.per_school)
    app.state.janitor = janitor
    app.state.media_janitor = media_janitor
    app.state.search_client = search_client
    app.state.search_relay = search_relay
    app.state.mailer = mailer

    def database_ready() -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    # Routes are matched in this order: the most requested (resource reads) first.
    for router in (resources_router, auth_router, orgs_router, pairing_router, taxonomy_router,
                   moderation_router, audit_router, blobs_router, uploads_router, devices_router, playback_router,
                   search_router, notifications_router):
        app.include_router(router)
    app.include_router(campaigns_router)
    app.include_router(reports_router)
    app.include_router(screening_router)
    app.include_router(stats_router)
    app.include_router(packs_router)
    app.include_router(regions_router)
    app.mount("/console", console_app())  # the web console: static files, same origin as /api/v1
    app.include_router(operations_router(checks={"database": database_ready, "broker": lambda: check_broker(celery),
                                                 "storage": blob_store.ping}))
    install_problem_handlers(app)
    install_request_context(app, service="api")
    install_edge(app, settings)
    return app


def create_app_from_env() -> FastAPI:
    """Entry point for `uvicorn --factory`: one app for the life of the process."""
    app = create_app(Settings.from_env())
    freeze_startup_objects()
    return app

"""The worker's entry point: `celery -A services.transcoder.worker:celery worker`.
As an entry point it is where settings are read from the environment."""
from __future__ import annotations

from celery.signals import worker_ready

from services.common.logging import configure_logging
from services.common.settings import Settings
from services.common.tasks import check_broker
from services.transcoder.app import create_worker
from services.transcoder.health import serve_health

settings = Settings.from_env()
configure_logging(json=settings.log_json, level=settings.core.log_level)
celery = create_worker(settings)


@worker_ready.connect
def _start_health_server(**_kwargs: object) -> None:
    serve_health(host="127.0.0.1", port=settings.transcoder.health_port, ready=lambda: check_broker(celery))

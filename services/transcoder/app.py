"""The transcoder's Celery application, built from settings (tests build their own)."""
from __future__ import annotations

import structlog
from celery import Celery

from services.common.settings import Settings
from services.common.tasks import PING, create_celery

log = structlog.get_logger("transcoder")


def create_worker(settings: Settings) -> Celery:
    celery = create_celery(settings, name="lessonbridge-transcoder")

    @celery.task(name=PING.name, shared=False)  # per app: tests build several
    def ping(payload: dict) -> str:
        nonce = PING.parse(payload).nonce
        log.info("ping", nonce=nonce)
        return nonce

    return celery

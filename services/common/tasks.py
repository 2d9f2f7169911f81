"""Task contracts: the only way services ask each other for background work.

A contract names a Celery task, the queue it runs on and the pydantic payload it takes; the
sender and the worker both import it from here, so neither imports the other.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from celery import Celery
from pydantic import BaseModel

from services.common.settings import Settings

Payload = TypeVar("Payload", bound=BaseModel)


@dataclass(frozen=True)
class TaskContract(Generic[Payload]):
    name: str
    queue: str
    payload: type[Payload]

    def send(self, celery: Celery, payload: Payload, *, countdown_s: float | None = None) -> str:
        """Queue the task (call it from an after-commit hook) and return its task id."""
        if not isinstance(payload, self.payload):
            raise TypeError(f"{self.name} takes {self.payload.__name__}, not {type(payload).__name__}")
        result = celery.send_task(self.name, kwargs={"payload": payload.model_dump(mode="json")},
                                  queue=self.queue, countdown=countdown_s)
        return str(result.id)

    def parse(self, raw: dict) -> Payload:
        return self.payload.model_validate(raw)


class Ping(BaseModel):
    """Asks a worker to prove it consumes its queue (readiness and broker tests)."""

    nonce: str


PING = TaskContract(name="system.ping", queue="system", payload=Ping)


def create_celery(settings: Settings, *, name: str) -> Celery:
    """A Celery app on the configured broker: Redis/RabbitMQ by URL, else the embedded spool."""
    celery = Celery(name)
    if settings.broker.url:
        celery.conf.broker_url = settings.broker.url
    else:
        spool = settings.broker_dir
        for folder in ("queue", "processed", "control"):
            (spool / folder).mkdir(parents=True, exist_ok=True)
        celery.conf.broker_url = "filesystem://"
        celery.conf.broker_transport_options = {
            "data_folder_in": str(spool / "queue"),
            "data_folder_out": str(spool / "queue"),
            "processed_folder": str(spool / "processed"),
            # Exchange bindings; kombu's default is "control" under the working directory.
            "control_folder": str(spool / "control"),
            "store_processed": False,
        }
    celery.conf.update(
        task_serializer="json",
        accept_content=["json"],
        # Results travel through the database (job ledger), not a result backend.
        task_ignore_result=True,
        # Late acks plus one message at a time: a task is redelivered if its worker dies.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )
    return celery


def check_broker(celery: Celery) -> None:
    """Raises unless the broker accepts a connection now (readiness)."""
    with celery.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=2)

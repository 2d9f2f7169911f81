"""Alembic environment. The database URL comes from the caller (`services.api.migrate`), or
from settings when run as `alembic upgrade head`."""
from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from services.api.models import Base
from services.common import jobs
from services.common.db import EnumText, create_db_engine
from services.common.settings import Settings

config = context.config


def render_item(type_: str, obj: object, _context: object) -> str | bool:
    # Enum columns are plain VARCHARs in the schema; the enum lives in Python only.
    if type_ == "type" and isinstance(obj, EnumText):
        return f"sa.String(length={obj.impl.length})"
    return False


def run(connection: Connection) -> None:
    # The API's tables and the processing job ledger it shares with the transcoder.
    context.configure(connection=connection, target_metadata=[Base.metadata, jobs.metadata],
                      render_item=render_item,
                      # SQLite can't ALTER most things in place: batch mode copies the table.
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    url = config.attributes.get("url") or Settings.from_env().database_url
    engine = create_db_engine(url)
    with engine.connect() as conn:
        run(conn)
    engine.dispose()

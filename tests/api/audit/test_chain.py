"""The audit hash chain: every row links to the one before; `lb audit verify` names the first row
edited, removed or moved, on SQLite and PostgreSQL; concurrent writers keep it linear."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, delete, func, select, text, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from services.api.audit import service as audit
from services.api.audit.models import AuditChainHead, AuditEvent
from services.api.cli import app as cli
from services.api.migrate import alembic_config, upgrade
from services.common.db import create_sessionmaker, writer_session
from tests.live import committing_engine


def write_rows(session: Session, count: int, **details: object) -> list[AuditEvent]:
    events = [audit.record(session, actor_id=None, district_id=None, action="test.action", target_type="thing",
                           target_id=f"t{n}", n=n, **details) for n in range(count)]
    session.flush()
    return events


def test_rows_link_to_the_row_before(session):
    first, second, third = write_rows(session, 3, when=date(2026, 9, 1), text="语文")
    assert (second.seq, third.seq) == (first.seq + 1, first.seq + 2)
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    assert first.details == {"n": 0, "when": "2026-09-01", "text": "语文"}  # stored as it hashes
    head = session.get(AuditChainHead, 1)
    assert (head.seq, head.hash) == (third.seq, third.hash)
    report = audit.verify_chain(session)
    assert report.intact and report.head_seq == third.seq


def test_an_edited_row_is_named(session):
    rows = write_rows(session, 4)
    session.execute(update(AuditEvent).where(AuditEvent.id == rows[1].id).values(target_id="someone-else"))
    report = audit.verify_chain(session)
    assert report.problem is not None and report.problem.seq == rows[1].seq and report.problem.row_id == rows[1].id
    assert "edited" in report.problem.reason


def test_a_deleted_row_is_named_by_the_row_after_it(session):
    rows = write_rows(session, 4)
    session.execute(delete(AuditEvent).where(AuditEvent.id == rows[1].id))
    report = audit.verify_chain(session)
    assert report.problem is not None and report.problem.seq == rows[2].seq
    assert "missing" in report.problem.reason


def test_reordered_rows_are_named(session):
    rows = write_rows(session, 4)
    (a, a_seq), (b, b_seq) = (rows[1], rows[1].seq), (rows[2], rows[2].seq)
    # Swap their places in the chain (through a free number: seq is unique).
    session.execute(update(AuditEvent).where(AuditEvent.id == a.id).values(seq=-1))
    session.execute(update(AuditEvent).where(AuditEvent.id == b.id).values(seq=a_seq))
    session.execute(update(AuditEvent).where(AuditEvent.id == a.id).values(seq=b_seq))
    report = audit.verify_chain(session)
    assert report.problem is not None and report.problem.seq == a_seq and report.problem.row_id == b.id


def test_rows_cut_off_the_end_or_added_past_it_are_named(session):
    rows = write_rows(session, 3)
    session.execute(delete(AuditEvent).where(AuditEvent.id == rows[-1].id))
    report = audit.verify_chain(session)
    assert report.problem is not None and "cut off" in report.problem.reason
    session.rollback()

    rows = write_rows(session, 2)
    session.add(AuditEvent(action="forged", target_type="x", target_id="x", details={}, seq=rows[-1].seq + 1,
                           prev_hash=rows[-1].hash, hash="f" * 64))
    session.flush()
    report = audit.verify_chain(session)
    assert report.problem is not None and report.problem.seq == rows[-1].seq + 1 and "past the chain head" in str(
        report.problem)


def test_an_anchor_catches_a_chain_rewritten_hashes_and_all(session):
    rows = write_rows(session, 3)
    anchor = (rows[1].seq, rows[1].hash)
    assert audit.verify_chain(session, anchor=anchor).intact
    # Someone with database access rewrites everything from row 1 on, recomputing each hash.
    head = session.get(AuditChainHead, 1)
    session.execute(delete(AuditEvent).where(AuditEvent.seq >= rows[1].seq))
    head.seq, head.hash = rows[0].seq, rows[0].hash
    session.flush()
    write_rows(session, 2, rewritten=True)
    assert audit.verify_chain(session).intact  # consistent in itself...
    report = audit.verify_chain(session, anchor=anchor)
    assert report.problem is not None and report.problem.seq == rows[1].seq  # ...but not with the anchor


@pytest.fixture
def live_engine(database_url: str, tmp_path: Path) -> Iterator[Engine]:
    """A database of its own that really commits (the CLI and other threads must see the rows)."""
    with committing_engine(database_url, tmp_path) as engine:
        yield engine


def test_concurrent_writers_keep_one_linear_chain(live_engine):
    sessions = create_sessionmaker(live_engine)
    threads, per_thread, errors = 6, 15, []
    start = threading.Barrier(threads)

    def writer(number: int) -> None:
        try:
            start.wait()
            for n in range(per_thread):
                with writer_session(sessions) as session:
                    # Something else in the transaction first, as in a real request.
                    session.execute(select(func.count()).select_from(AuditEvent))
                    audit.record(session, actor_id=None, district_id=None, action="test.concurrent",
                                 target_type="thread", target_id=str(number), n=n)
                    session.commit()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    workers = [threading.Thread(target=writer, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    with sessions() as session:
        report = audit.verify_chain(session)
        seqs = list(session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
    assert report.intact, report.problem
    assert seqs == list(range(1, len(seqs) + 1)) and report.rows == len(seqs) >= threads * per_thread


def _tamper_edit(session: Session, rows: list[AuditEvent]) -> int:
    session.execute(update(AuditEvent).where(AuditEvent.id == rows[2].id).values(details={"n": 99}))
    return rows[2].seq


def _tamper_delete(session: Session, rows: list[AuditEvent]) -> int:
    session.execute(delete(AuditEvent).where(AuditEvent.id == rows[2].id))
    return rows[3].seq


def _tamper_reorder(session: Session, rows: list[AuditEvent]) -> int:
    (first, first_seq), (second, second_seq) = (rows[2], rows[2].seq), (rows[3], rows[3].seq)
    session.execute(update(AuditEvent).where(AuditEvent.id == first.id).values(seq=-5))
    session.execute(update(AuditEvent).where(AuditEvent.id == second.id).values(seq=first_seq))
    session.execute(update(AuditEvent).where(AuditEvent.id == first.id).values(seq=second_seq))
    return first_seq


@pytest.mark.parametrize("tamper", [_tamper_edit, _tamper_delete, _tamper_reorder], ids=["edit", "delete", "reorder"])
def test_lb_audit_verify_exits_non_zero_naming_the_first_bad_row(live_engine, monkeypatch, tmp_path, tamper):
    monkeypatch.setenv("LB_DATABASE_URL", live_engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("LB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("LB_ENV", raising=False)
    with Session(live_engine, expire_on_commit=False) as session:
        rows = write_rows(session, 5)
        session.commit()
    runner = CliRunner()
    intact = runner.invoke(cli, ["audit", "verify"])
    assert intact.exit_code == 0, intact.output
    assert "audit chain intact" in intact.output
    with Session(live_engine) as session:
        bad_seq = tamper(session, rows)
        session.commit()
    broken = runner.invoke(cli, ["audit", "verify"])
    assert broken.exit_code == 1, broken.output
    assert f"seq={bad_seq} " in broken.output


def test_the_migration_chains_rows_written_before_it(live_engine):
    """Rows from before the chain existed are linked in the order they were written."""
    with live_engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        # To just before the chain, whatever migrations come after it.
        command.downgrade(config, ScriptDirectory.from_config(config).get_revision("0009").down_revision)
    with live_engine.begin() as connection:
        for n in range(3):
            connection.execute(text(
                "INSERT INTO audit_events (id, at, action, target_type, target_id, details) "
                f"VALUES ('01OLD{n:021d}', :at, 'old.action', 'thing', 'x{n}', :details)"),
                {"at": f"2026-0{n + 1}-01 00:00:00", "details": '{"n": %d}' % n})
    upgrade(live_engine)
    with Session(live_engine) as session:
        write_rows(session, 1)
        session.commit()
        report = audit.verify_chain(session)
        ids = list(session.scalars(select(AuditEvent.target_id).order_by(AuditEvent.seq)))
    assert report.intact, report.problem
    assert ids[:3] == ["x0", "x1", "x2"] and ids[-1] == "t0"

"""`lb backup` against real databases (SQLite, and PostgreSQL databases of its own) and local
disk: incremental copies, verification that catches damage, an interrupted backup that leaves
the previous one whole, restores that refuse to overwrite data or to use a damaged backup, and
retention. The whole-platform drill (a transcoded lesson, MinIO) is tests/e2e/test_restore_drill.py."""
from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from services.api.audit.models import AuditEvent
from services.api.backups import service as backups
from services.api.backups.errors import BackupCorrupt
from services.api.backups.target import BackupTarget
from services.api.cli import app
from services.api.migrate import upgrade
from services.api.orgs.models import User
from services.api.search.models import SearchOutbox
from services.api.uploads.models import Blob
from services.common.db import create_db_engine, create_sessionmaker
from services.common.settings import CoreSettings, DatabaseSettings, Settings
from services.common.storage import BlobInfo, create_blob_store
from tests.conftest import SECRET
from tests.factories import Factory

runner = CliRunner()


def new_database(base_url: str, directory: Path) -> str:
    """An empty database of the test's own: a SQLite file, or a PostgreSQL database named after
    the suite's (`<its name>_bk_<random>`)."""
    if base_url.startswith("sqlite"):
        directory.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{directory / 'lessonbridge.db'}"
    name = f"{make_url(base_url).database}_bk_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    if url.startswith("sqlite"):
        return
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


class Platform:
    """One deployment's database and data directory (with its local-disk storage)."""

    def __init__(self, database_url: str, data_dir: Path) -> None:
        self.url, self.data_dir = database_url, data_dir
        self.settings = Settings(core=CoreSettings(env="test", data_dir=data_dir),
                                 database=DatabaseSettings(url=database_url), auth={"secret_key": SECRET})
        self.store = create_blob_store(self.settings)
        self.engine = create_db_engine(database_url)

    def env(self, monkeypatch) -> None:
        monkeypatch.setenv("LB_ENV", "test")
        monkeypatch.setenv("LB_SECRET_KEY", SECRET)
        monkeypatch.setenv("LB_DATABASE_URL", self.url)
        monkeypatch.setenv("LB_DATA_DIR", str(self.data_dir))
        monkeypatch.setenv("LB_SEARCH_URL", "http://127.0.0.1:9")  # nothing listens: search is down

    def put(self, key: str, data: bytes, *, recorded: bool = True, content_type: str = "application/pdf") -> None:
        self.store.put(key, io.BytesIO(data), length=len(data), content_type=content_type)
        if recorded:
            with Session(self.engine) as session:
                session.add(Blob(sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                                 media_type="application/octet-stream", backend=self.store.backend, key=key))
                session.commit()

    def contents(self) -> dict[str, tuple[str, str]]:
        return {info.key: (hashlib.sha256(b"".join(self.store.open(info.key))).hexdigest(), info.content_type)
                for info in self.store.list("")}

    def usernames(self) -> set[str]:
        with self.engine.connect() as connection:
            return set(connection.scalars(select(User.username)))


@pytest.fixture
def databases(database_url, tmp_path):
    made: list[str] = []

    def make(name: str) -> str:
        url = new_database(database_url, tmp_path / name)
        made.append(url)
        return url

    yield make
    for url in made:
        drop_database(url)


@pytest.fixture
def live(databases, tmp_path, monkeypatch):
    """A platform in use: users, recorded blobs, and a processing output the database does not list."""
    platform = Platform(databases("live"), tmp_path / "live")
    upgrade(platform.engine)
    with Session(platform.engine) as session:
        factory = Factory(session=session, secret=SECRET)
        factory.user(username="teacher-a")
        factory.user(username="teacher-b")
        session.commit()
    platform.put("blobs/aa/lesson-plan", "教案：认识钟表".encode() * 1000)
    platform.put("blobs/bb/slides", b"\x00\x01slides" * 50_000)
    platform.put("media/asset1/ladder/240p/seg-00001.ts", b"G" * 188 * 100, recorded=False, content_type="video/mp2t")
    platform.env(monkeypatch)
    yield platform
    platform.engine.dispose()


def lb(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["backup", *args])
    return result.exit_code, result.output


def test_backup_then_restore_into_an_empty_platform(live, databases, tmp_path, monkeypatch):
    target = tmp_path / "backups"
    code, output = lb("create", str(target))
    assert code == 0, output
    listed = runner.invoke(app, ["backup", "list", str(target), "--json"])
    [entry] = [json.loads(line) for line in listed.stdout.splitlines()]
    manifest = backups.list_backups(target=target)[0].manifest
    assert entry["id"] == manifest.id and entry["files"] == 3
    # The manifest says what is in it: schema revision, the dump's sha256, every blob's sha256 and size.
    with live.engine.connect() as connection:
        assert manifest.schema_revision == connection.scalar(text("SELECT version_num FROM alembic_version"))
    dump = target / "sets" / manifest.id / manifest.database.file
    assert manifest.database.sha256 == hashlib.sha256(dump.read_bytes()).hexdigest()
    assert {b.key: (b.sha256, b.content_type) for b in manifest.blobs} == live.contents()
    assert {b.key: b.size for b in manifest.blobs}["blobs/bb/slides"] == 8 * 50_000
    with Session(live.engine) as session:
        assert session.scalar(select(func.count()).where(AuditEvent.action == "backup.create")) == 1

    fresh = Platform(databases("fresh"), tmp_path / "fresh")
    fresh.env(monkeypatch)
    code, output = lb("restore", str(target))
    assert code == 0, output
    assert "search index was not rebuilt" in output  # the search service is down in this test
    assert fresh.contents() == live.contents()
    assert fresh.usernames() == live.usernames() >= {"teacher-a", "teacher-b"}
    with Session(fresh.engine) as session:
        restored = session.scalars(select(AuditEvent).where(AuditEvent.action == "backup.restore")).one()
        assert restored.target_id == manifest.id
        # The backup's own audit row is not in it: it was written once the backup was finished.
        assert session.scalar(select(func.count()).where(AuditEvent.action == "backup.create")) == 0
    fresh.engine.dispose()


def test_a_second_backup_copies_only_what_changed(live, tmp_path):
    target = tmp_path / "backups"
    first = backups.create_backup(target=target, database_url=live.url, sessions=create_sessionmaker(live.engine),
                                  store=live.store)
    assert first.copied_blobs == 3
    live.put("blobs/cc/worksheet", b"new worksheet" * 100)
    second = backups.create_backup(target=target, database_url=live.url,
                                   sessions=create_sessionmaker(live.engine), store=live.store)
    assert (second.copied_blobs, second.copied_bytes) == (1, len(b"new worksheet" * 100))
    third = backups.create_backup(target=target, database_url=live.url, sessions=create_sessionmaker(live.engine),
                                  store=live.store)
    assert third.copied_blobs == 0 and len(third.manifest.blobs) == 4
    assert len(list((target / "blobs").glob("*/*"))) == 4  # each content once, for all three backups
    assert [s.id for s in backups.list_backups(target=target)] == [first.manifest.id, second.manifest.id,
                                                                    third.manifest.id]
    code, output = lb("verify", str(target))
    assert code == 0, output


def test_verify_finds_damage_and_restore_refuses_it(live, databases, tmp_path, monkeypatch):
    target = tmp_path / "backups"
    assert lb("create", str(target))[0] == 0
    [summary] = backups.list_backups(target=target)
    slides = next(b for b in summary.manifest.blobs if b.key == "blobs/bb/slides")
    pooled = target / "blobs" / slides.sha256[:2] / slides.sha256
    data = bytearray(pooled.read_bytes())
    data[1000] ^= 0xFF
    pooled.write_bytes(bytes(data))  # same size, one byte flipped
    code, output = lb("verify", str(target))
    assert code == 1 and "blobs/bb/slides" in output and "sha256 mismatch" in output

    fresh = Platform(databases("fresh"), tmp_path / "fresh")
    fresh.env(monkeypatch)
    code, output = lb("restore", str(target))
    assert code == 1 and "corrupt" in output.lower()
    assert fresh.contents() == {} and not _has_users_table(fresh)  # refused before touching anything

    pooled.unlink()
    code, output = lb("verify", str(target))
    assert code == 1 and "missing" in output
    (target / "sets" / summary.id / "manifest.json").write_text("{}")
    code, output = lb("verify", str(target))
    assert code == 1 and "manifest.json does not match" in output
    with pytest.raises(BackupCorrupt):
        backups.restore_backup(target=target, backup_id=None, database_url=fresh.url, store=fresh.store,
                               search=None, force=True)
    fresh.engine.dispose()


def _has_users_table(platform: Platform) -> bool:
    with platform.engine.connect() as connection:
        return "users" in connection.dialect.get_table_names(connection)


def test_an_interrupted_backup_leaves_the_previous_one_whole(live, tmp_path, monkeypatch):
    target = tmp_path / "backups"
    assert lb("create", str(target))[0] == 0
    live.put("blobs/dd/new", b"arrived after the first backup" * 1000)
    opened = []
    real_open = type(live.store).open

    def failing_open(store, key, **kwargs):
        opened.append(key)
        if len(opened) == 1:  # the new blob is the only one read; die in the middle of its copy
            chunks = real_open(store, key, **kwargs)
            yield next(chunks)[:100]
            raise OSError("disk unplugged")
        yield from real_open(store, key, **kwargs)

    monkeypatch.setattr(type(live.store), "open", failing_open)
    code, output = lb("create", str(target))
    assert code != 0 and opened == ["blobs/dd/new"]
    assert len(backups.list_backups(target=target)) == 1
    assert any((target / "tmp").iterdir())  # the partial work, never listed
    code, output = lb("verify", str(target))
    assert code == 0, output

    monkeypatch.setattr(type(live.store), "open", real_open)
    assert lb("create", str(target))[0] == 0
    assert len(backups.list_backups(target=target)) == 2 and not any((target / "tmp").iterdir())
    assert lb("verify", str(target))[0] == 0


def test_restore_refuses_a_platform_holding_data_unless_forced(live, tmp_path):
    target = tmp_path / "backups"
    assert lb("create", str(target))[0] == 0
    with Session(live.engine) as session:
        Factory(session=session, secret=SECRET).user(username="after-the-backup")
        session.commit()
    live.store.delete("blobs/aa/lesson-plan")
    code, output = lb("restore", str(target))
    assert code == 1 and "--force" in output and "database" in output
    assert "after-the-backup" in live.usernames()
    code, output = lb("restore", str(target), "--force")
    assert code == 0, output
    assert "after-the-backup" not in live.usernames() and "teacher-a" in live.usernames()
    assert live.store.exists("blobs/aa/lesson-plan")
    with Session(live.engine) as session:
        # Every restored resource waits in the outbox for the relay (none here), and the
        # restore is on record.
        assert session.scalar(select(func.count()).select_from(SearchOutbox)) == 0
        assert session.scalar(select(func.count()).where(AuditEvent.action == "backup.restore")) == 1


def test_prune_keeps_the_newest_and_the_files_they_need(live, tmp_path):
    target = tmp_path / "backups"
    assert lb("create", str(target))[0] == 0
    live.store.delete("blobs/bb/slides")
    live.put("blobs/cc/worksheet", b"worksheet" * 10)
    assert lb("create", str(target))[0] == 0
    assert lb("create", str(target))[0] == 0
    first, second, third = [s.id for s in backups.list_backups(target=target)]
    code, output = lb("prune", str(target), "--keep", "2")
    assert code == 0, output
    assert f"removed {first}" in output
    assert [s.id for s in backups.list_backups(target=target)] == [second, third]
    # The slides were only in the first backup: gone with it.
    assert len(list((target / "blobs").glob("*/*"))) == 3
    assert lb("verify", str(target))[0] == 0
    assert lb("prune", str(target), "--keep", "0")[0] != 0
    with BackupTarget.existing(target).locked():  # a backup already running
        code, output = lb("create", str(target))
        assert code == 1 and "in use" in output


def test_a_backup_killed_mid_copy_leaves_the_previous_one_whole(live, tmp_path):
    target = tmp_path / "backups"
    assert lb("create", str(target))[0] == 0
    recording = tmp_path / "recording.bin"
    with recording.open("wb") as out:
        for n in range(96):  # 96 MiB: long enough to be caught in the middle of its copy
            out.write(bytes([n]) * 2**20)
    live.store.put_file("blobs/ee/recording", recording, content_type="video/mp4")
    with Session(live.engine) as session:
        session.add(Blob(sha256=hashlib.sha256(recording.read_bytes()).hexdigest(), size=96 * 2**20,
                         media_type="video/mp4", backend=live.store.backend, key="blobs/ee/recording"))
        session.commit()
    process = subprocess.Popen([str(Path(sys.executable).parent / "lb"), "backup", "create", str(target)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not any(name.startswith("blob-") and size > 0 for name, size in _files(target / "tmp")):
        assert process.poll() is None, "the backup finished before it could be killed"
        assert time.monotonic() < deadline, "the copy never started"
        time.sleep(0.005)
    process.kill()
    process.wait(timeout=30)

    assert len(backups.list_backups(target=target)) == 1
    code, output = lb("verify", str(target))
    assert code == 0, output
    assert lb("create", str(target))[0] == 0
    assert [len(s.manifest.blobs) for s in backups.list_backups(target=target)] == [3, 4]
    assert lb("verify", str(target))[0] == 0


def _files(directory: Path) -> list[tuple[str, int]]:
    """Names and sizes of the files in `directory` now (they come and go while a backup runs)."""
    found = []
    for path in directory.iterdir() if directory.is_dir() else []:
        try:
            found.append((path.name, path.stat().st_size))
        except FileNotFoundError:
            continue
    return found


def test_an_object_removed_during_the_backup_is_left_out(live, tmp_path, monkeypatch):
    real_list = type(live.store).list

    def listing_with_a_ghost(store, prefix):
        yield from real_list(store, prefix)
        yield BlobInfo(key="blobs/ff/collected-meanwhile", size=10, etag="x", content_type="text/plain")

    monkeypatch.setattr(type(live.store), "list", listing_with_a_ghost)
    report = backups.create_backup(target=tmp_path / "backups", database_url=live.url,
                                   sessions=create_sessionmaker(live.engine), store=live.store)
    assert {b.key for b in report.manifest.blobs} == {i.key for i in real_list(live.store, "")}

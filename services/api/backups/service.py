"""Creating, listing, verifying, restoring and pruning backups.

A backup is the database (dumped first) and then every stored object, so every blob the dump
refers to is in it (objects only appear before the rows that name them). Blobs are copied into
the target's content-addressed pool only when it lacks them: an object whose key, size and etag
match the previous backup's, or whose sha256 the database already records, is not read again."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session, sessionmaker

from services.api import migrate
from services.api.audit import service as audit
from services.api.backups import database
from services.api.backups.errors import BackupCorrupt, BackupNotFound, BackupSchemaUnknown, RestoreTargetNotEmpty
from services.api.backups.manifest import BlobEntry, DatabaseDump, Manifest
from services.api.backups.target import BackupTarget, sha256_of
from services.api.resources.models import Resource
from services.api.search import maintenance
from services.api.search.client import SearchClient
from services.api.search.documents import resource_count
from services.api.search.errors import SearchUnavailable
from services.api.search.models import SearchOutbox
from services.api.uploads.models import Blob, Upload, UploadStatus
from services.common.db import create_db_engine, create_sessionmaker, utcnow, writer_session
from services.common.storage import BlobInfo, BlobNotFound, BlobStore

# (step, done, total): what the CLI turns into progress bars; total None while unknown.
ProgressFn = Callable[[str, int, int | None], None]


def _no_progress(_step: str, _done: int, _total: int | None) -> None:
    pass


@dataclass(frozen=True)
class BackupReport:
    manifest: Manifest
    path: Path
    copied_blobs: int
    copied_bytes: int


def create_backup(*, target: Path, database_url: str, sessions: sessionmaker[Session], store: BlobStore,
                  progress: ProgressFn = _no_progress) -> BackupReport:
    """Backs up the database and the stored files into `target` (a directory, created if new)."""
    backups = BackupTarget.create(target)
    with backups.locked():
        backups.clear_leftovers()
        started = utcnow()
        backup_id = f"{started:%Y%m%dT%H%M%S.%f}Z"  # sorts by time; one at a time (the lock)
        work = backups.work_dir(backup_id)
        kind = database.kind_of(database_url)
        dump_path = work / database.dump_file_name(kind)
        # The revision first: a migration running meanwhile would only make the dump newer.
        revision = _live_revision(sessions)
        database.dump(database_url, dump_path, progress=lambda done, total: progress("database", done, total))
        if kind == "sqlite":
            revision = database.sqlite_schema_revision(dump_path)
        dump = DatabaseDump(kind=kind, file=dump_path.name, sha256=sha256_of(dump_path),
                            size=dump_path.stat().st_size)

        known, receiving = _storage_facts(sessions)
        previous = _latest_readable(backups)
        unchanged = {(b.key, b.size, b.etag): b for b in previous.blobs} if previous else {}
        objects = [info for info in store.list("") if info.key not in receiving]
        entries: list[BlobEntry] = []
        copied = copied_bytes = 0
        progress("blobs", 0, len(objects))
        for number, info in enumerate(objects, 1):
            try:
                entry, added = _back_up_object(backups, store, info, before=unchanged.get(
                    (info.key, info.size, info.etag)), known_sha256=known.get((info.key, info.size)))
            except BlobNotFound:
                continue  # removed since the listing (`lb blobs gc` removes only what nothing uses)
            entries.append(entry)
            copied, copied_bytes = copied + added, copied_bytes + (entry.size if added else 0)
            progress("blobs", number, len(objects))
        manifest = Manifest(id=backup_id, created_at=started, finished_at=utcnow(), schema_revision=revision,
                            storage_backend=store.backend, database=dump, blobs=entries)
        path = backups.publish(work, manifest)
    with writer_session(sessions) as session:
        audit.record(session, actor_id=None, district_id=None, action="backup.create", target_type="backup",
                     target_id=backup_id, target=str(backups.root), schema_revision=revision,
                     blobs=len(entries), blob_bytes=manifest.blob_bytes, copied_blobs=copied,
                     copied_bytes=copied_bytes, database_sha256=dump.sha256)
        session.commit()
    return BackupReport(manifest=manifest, path=path, copied_blobs=copied, copied_bytes=copied_bytes)


def _back_up_object(backups: BackupTarget, store: BlobStore, info: BlobInfo, *, before: BlobEntry | None,
                    known_sha256: str | None) -> tuple[BlobEntry, bool]:
    """The object's manifest entry, and whether its bytes had to be added to the pool."""
    sha256 = before.sha256 if before else known_sha256
    if sha256 is not None and backups.has_blob(sha256, info.size):
        # S3's listing has no content types: an object new to the backups costs one HEAD for its own.
        content_type = before.content_type if before else store.stat(info.key).content_type
        return BlobEntry(key=info.key, sha256=sha256, size=info.size, content_type=content_type,
                         etag=info.etag), False
    content_type = store.stat(info.key).content_type
    sha256, size, added = backups.add_blob(store.open(info.key))
    # Rewritten since the listing (a retried job's output): what was copied is what is recorded,
    # and no etag, so that the next backup reads it again.
    etag = info.etag if size == info.size else ""
    return BlobEntry(key=info.key, sha256=sha256, size=size, content_type=content_type, etag=etag), added


@dataclass(frozen=True)
class BackupSummary:
    id: str
    manifest: Manifest | None
    problem: str | None  # why the manifest could not be read


def list_backups(*, target: Path) -> list[BackupSummary]:
    """Every finished backup, oldest first."""
    backups = BackupTarget.existing(target)
    summaries = []
    for backup_id in backups.backup_ids():
        try:
            summaries.append(BackupSummary(id=backup_id, manifest=backups.read_manifest(backup_id), problem=None))
        except ValueError as error:
            summaries.append(BackupSummary(id=backup_id, manifest=None, problem=str(error)))
    return summaries


@dataclass
class VerifyReport:
    checked: list[str] = field(default_factory=list)  # backup ids
    files: int = 0
    bytes: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.checked)


def verify_backups(*, target: Path, backup_id: str | None = None,
                   progress: ProgressFn = _no_progress) -> VerifyReport:
    """Re-hashes every file of one backup (or of all): the database dump and each blob."""
    backups = BackupTarget.existing(target)
    ids = [backup_id] if backup_id else backups.backup_ids()
    if backup_id and backup_id not in backups.backup_ids():
        raise BackupNotFound(target=str(target), backup_id=backup_id)
    report = VerifyReport()
    manifests: list[Manifest] = []
    for each in ids:
        report.checked.append(each)
        try:
            manifests.append(backups.read_manifest(each))
        except ValueError as error:
            report.problems.append(f"{each}: {error}")
    # A blob shared by several backups is hashed once.
    wanted: dict[tuple[str, int], list[str]] = {}
    for manifest in manifests:
        for blob in manifest.blobs:
            wanted.setdefault((blob.sha256, blob.size), []).append(f"{manifest.id}: blob {blob.key}")
    total = len(manifests) + len(wanted)
    progress("verifying", 0, total)
    done = 0
    for manifest in manifests:
        dump = backups.set_dir(manifest.id) / manifest.database.file
        report.problems += [f"{manifest.id}: database {problem}"
                            for problem in _check_file(dump, manifest.database.sha256, manifest.database.size)]
        report.files, report.bytes, done = report.files + 1, report.bytes + manifest.database.size, done + 1
        progress("verifying", done, total)
    for (sha256, size), users in wanted.items():
        for problem in _check_file(backups.blob_path(sha256), sha256, size):
            report.problems += [f"{user} ({sha256[:12]}): {problem}" for user in users]
        report.files, report.bytes, done = report.files + 1, report.bytes + size, done + 1
        progress("verifying", done, total)
    return report


def _check_file(path: Path, sha256: str, size: int) -> list[str]:
    try:
        actual_size = path.stat().st_size
    except FileNotFoundError:
        return ["missing"]
    if actual_size != size:
        return [f"size {actual_size}, expected {size}"]
    if sha256_of(path) != sha256:
        return ["sha256 mismatch"]
    return []


@dataclass(frozen=True)
class RestoreReport:
    manifest: Manifest
    blobs: int
    search_rebuilt: int | None  # resources reindexed, or None when the search service did not answer


def restore_backup(*, target: Path, backup_id: str | None, database_url: str, store: BlobStore,
                   search: SearchClient | None, force: bool, progress: ProgressFn = _no_progress) -> RestoreReport:
    """Verifies a backup (the newest by default), then puts its files back into storage and its
    database in place of the one at `database_url`, migrates it to this code's schema, and
    rebuilds the search index from it. Refuses a corrupt backup, and a target that holds data
    unless `force`. Stop the API and the workers first: the restore replaces what they use."""
    backups = BackupTarget.existing(target)
    # Held throughout, so that no prune removes the files between their check and their copy.
    with backups.locked():
        ids = backups.backup_ids()
        backup_id = backup_id or (ids[-1] if ids else None)
        if backup_id is None or backup_id not in ids:
            raise BackupNotFound(target=str(target), backup_id=backup_id or "(none)")
        checked = verify_backups(target=target, backup_id=backup_id, progress=progress)
        if checked.problems:
            raise BackupCorrupt(backup_id=backup_id, count=len(checked.problems), example=checked.problems[0])
        manifest = backups.read_manifest(backup_id)
        _check_revision(manifest.schema_revision)
        database.ensure_exists(database_url)
        engine = create_db_engine(database_url)
        try:
            return _restore(backups, manifest, database_url=database_url, engine=engine, store=store,
                            search=search, force=force, progress=progress)
        finally:
            engine.dispose()


def _restore(backups: BackupTarget, manifest: Manifest, *, database_url: str, engine: Engine, store: BlobStore,
             search: SearchClient | None, force: bool, progress: ProgressFn) -> RestoreReport:
    backup_id = manifest.id
    if not force:
        if database.holds_data(engine):
            raise RestoreTargetNotEmpty(what=f"the database ({engine.url.render_as_string()})")
        if next(iter(store.list("")), None) is not None:
            raise RestoreTargetNotEmpty(what=f"the file storage ({store.backend})")

    # Files first, then the database that names them: an interrupted restore never leaves rows
    # pointing at files that are not there yet (run it again with --force).
    progress("files", 0, len(manifest.blobs))
    for number, blob in enumerate(manifest.blobs, 1):
        store.put_file(blob.key, backups.blob_path(blob.sha256), content_type=blob.content_type)
        progress("files", number, len(manifest.blobs))
    dump = backups.set_dir(backup_id) / manifest.database.file
    database.restore(database_url, dump, engine=engine,
                     progress=lambda done, total: progress("database", done, total))
    migrate.upgrade(engine)

    sessions = create_sessionmaker(engine)
    with writer_session(sessions) as session:
        # Every resource goes through the outbox again: an index emptied with the data fills up
        # from it by the API's relay, even if the search service is down now.
        rows = [{"resource_id": resource_id, "version": version, "created_at": utcnow()}
                for resource_id, version in session.execute(select(Resource.id, Resource.version))]
        if rows:
            session.execute(insert(SearchOutbox), rows)
        audit.record(session, actor_id=None, district_id=None, action="backup.restore", target_type="backup",
                     target_id=backup_id, target=str(backups.root), schema_revision=manifest.schema_revision,
                     blobs=len(manifest.blobs), forced=force, backup_created_at=manifest.created_at.isoformat())
        session.commit()
    rebuilt = None
    if search is not None:
        # A rebuild, not just the outbox: an index that outlived the data may hold newer versions
        # than the backup, which the relay's versioned updates would leave in place.
        with sessions() as session:
            try:
                count = resource_count(session)
                progress("search index", 0, count)
                rebuilt = maintenance.reindex(session, client=search, store=store,
                                              progress=_counter(progress, "search index", count))
            except SearchUnavailable:
                rebuilt = None
    return RestoreReport(manifest=manifest, blobs=len(manifest.blobs), search_rebuilt=rebuilt)


@dataclass(frozen=True)
class PruneReport:
    kept: list[str]
    removed: list[str]
    removed_blobs: int
    freed_bytes: int


def prune_backups(*, target: Path, keep: int) -> PruneReport:
    """Keeps the newest `keep` backups, removes the others, then the blobs no kept backup lists."""
    if keep < 1:
        raise ValueError("keep at least one backup")
    backups = BackupTarget.existing(target)
    with backups.locked():
        backups.clear_leftovers()
        ids = backups.backup_ids()
        kept, removed = ids[-keep:], ids[:-keep]
        for backup_id in removed:
            backups.discard(backup_id)
        referenced: set[str] = set()
        for backup_id in kept:
            try:
                referenced |= {blob.sha256 for blob in backups.read_manifest(backup_id).blobs}
            except ValueError:
                # An unreadable manifest might list any blob: remove none.
                return PruneReport(kept=kept, removed=removed, removed_blobs=0, freed_bytes=0)
        removed_blobs = freed = 0
        for path in list(backups.pooled_blobs()):
            if path.name not in referenced:
                freed += path.stat().st_size
                path.unlink()
                removed_blobs += 1
    return PruneReport(kept=kept, removed=removed, removed_blobs=removed_blobs, freed_bytes=freed)


def _live_revision(sessions: sessionmaker[Session]) -> str | None:
    with sessions() as session:
        return database.schema_revision(session.connection())


def _storage_facts(sessions: sessionmaker[Session]) -> tuple[dict[tuple[str, int], str], set[str]]:
    """The sha256 the database records per (key, size), and the keys of uploads still arriving
    (their bytes are incomplete, and their clients resume them against the live system)."""
    with sessions() as session:
        known = {(key, size): sha256 for key, size, sha256 in session.execute(select(Blob.key, Blob.size, Blob.sha256))}
        receiving = set(session.scalars(select(Upload.staging_key).where(Upload.status == UploadStatus.receiving)))
    return known, receiving


def _latest_readable(backups: BackupTarget) -> Manifest | None:
    for backup_id in reversed(backups.backup_ids()):
        try:
            return backups.read_manifest(backup_id)
        except ValueError:
            continue
    return None


def _check_revision(revision: str | None) -> None:
    if revision is None:
        return
    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    try:
        scripts.get_revision(revision)
    except Exception:  # noqa: BLE001 - alembic raises several kinds for an unknown revision
        raise BackupSchemaUnknown(revision=revision) from None


def _counter(progress: ProgressFn, step: str, total: int) -> Callable[[int], None]:
    done = 0

    def advance(amount: int) -> None:
        nonlocal done
        done += amount
        progress(step, done, total)

    return advance

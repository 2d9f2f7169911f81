"""A backup target directory and its layout:

    LESSONBRIDGE-BACKUPS         marks the directory as ours (and its layout's version)
    .lock                        held by a backup, a prune or a restore
    blobs/<ab>/<sha256>          stored files, content-addressed, shared by every backup
    sets/<backup id>/            one finished backup: manifest.json, manifest.sha256, the database
    tmp/                         work in progress; a set appears in sets/ only by a rename at its end

So a backup that dies midway leaves only files in tmp/ (and blobs nothing lists yet, which the
next backup reuses and prune removes): every backup in sets/ stays whole."""
from __future__ import annotations

import fcntl
import hashlib
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from services.api.backups.errors import BackupBusy, BackupTargetInvalid
from services.api.backups.manifest import Manifest

MARKER = "LESSONBRIDGE-BACKUPS"
MANIFEST = "manifest.json"
MANIFEST_SUM = "manifest.sha256"
CHUNK = 1024 * 1024


class BackupTarget:
    def __init__(self, root: Path) -> None:
        if str(root).startswith("s3:/"):  # s3://bucket, as a Path made it
            raise BackupTargetInvalid(target=str(root), reason="only a directory is supported as a target")
        self.root = root.resolve()
        self.blobs, self.sets, self.tmp = self.root / "blobs", self.root / "sets", self.root / "tmp"

    # --- opening -------------------------------------------------------------------------

    @classmethod
    def create(cls, root: Path) -> BackupTarget:
        """The target at `root`, laid out anew if it is an empty or missing directory."""
        target = cls(root)
        if target.root.exists() and not target.root.is_dir():
            raise BackupTargetInvalid(target=str(root), reason="not a directory")
        if not (target.root / MARKER).exists():
            if target.root.exists() and any(target.root.iterdir()):
                raise BackupTargetInvalid(target=str(root), reason="not empty, and holds no LessonBridge backups")
            target.root.mkdir(parents=True, exist_ok=True)
            (target.root / MARKER).write_text("1\n")
        for directory in (target.blobs, target.sets, target.tmp):
            directory.mkdir(exist_ok=True)
        return target

    @classmethod
    def existing(cls, root: Path) -> BackupTarget:
        target = cls(root)
        if not (target.root / MARKER).is_file():
            raise BackupTargetInvalid(target=str(root), reason="holds no LessonBridge backups")
        return target

    @contextmanager
    def locked(self) -> Iterator[None]:
        """One backup, prune or restore at a time; a second is refused, not queued."""
        with (self.root / ".lock").open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise BackupBusy(target=str(self.root)) from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # --- sets ----------------------------------------------------------------------------

    def backup_ids(self) -> list[str]:
        """Finished backups, oldest first (ids sort by time)."""
        return sorted(path.name for path in self.sets.iterdir() if path.is_dir()) if self.sets.is_dir() else []

    def set_dir(self, backup_id: str) -> Path:
        path = (self.sets / backup_id).resolve()
        if path.parent != self.sets:
            raise BackupTargetInvalid(target=str(self.root), reason=f"not a backup id: {backup_id}")
        return path

    def read_manifest(self, backup_id: str) -> Manifest:
        """Raises ValueError when the manifest is missing, altered or unreadable."""
        directory = self.set_dir(backup_id)
        try:
            raw = (directory / MANIFEST).read_bytes()
            recorded = (directory / MANIFEST_SUM).read_text().split()[0]
        except (OSError, IndexError) as error:
            raise ValueError(f"manifest unreadable: {error}") from None
        if hashlib.sha256(raw).hexdigest() != recorded:
            raise ValueError("manifest.json does not match manifest.sha256")
        try:
            return Manifest.model_validate_json(raw)
        except ValueError as error:
            raise ValueError(f"manifest invalid: {error}") from None

    def work_dir(self, backup_id: str) -> Path:
        path = self.tmp / f"{backup_id}.partial"
        path.mkdir()
        return path

    def publish(self, work: Path, manifest: Manifest) -> Path:
        """Writes the manifest into `work`, then renames `work` into sets/: the one step that
        makes the backup exist."""
        raw = manifest.model_dump_json(indent=1).encode()
        _write_synced(work / MANIFEST, raw)
        _write_synced(work / MANIFEST_SUM, f"{hashlib.sha256(raw).hexdigest()}  {MANIFEST}\n".encode())
        _fsync_directory(work)
        final = self.set_dir(manifest.id)
        os.rename(work, final)
        _fsync_directory(self.sets)
        return final

    def discard(self, backup_id: str) -> None:
        """Removes a finished backup: renamed out of sets/ first, so it is never seen half gone."""
        doomed = self.tmp / f"{backup_id}.pruned-{secrets.token_hex(4)}"
        os.rename(self.set_dir(backup_id), doomed)
        _fsync_directory(self.sets)
        shutil.rmtree(doomed)

    def clear_leftovers(self) -> None:
        """What a backup or prune that died left in tmp/ (called with the lock held)."""
        for path in self.tmp.iterdir():
            shutil.rmtree(path) if path.is_dir() else path.unlink()

    # --- blobs ---------------------------------------------------------------------------

    def blob_path(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256: {sha256}")
        return self.blobs / sha256[:2] / sha256

    def has_blob(self, sha256: str, size: int) -> bool:
        try:
            return self.blob_path(sha256).stat().st_size == size
        except FileNotFoundError:
            return False

    def add_blob(self, chunks: Iterator[bytes]) -> tuple[str, int, bool]:
        """Stores the bytes unless the pool has them; returns (sha256, size, copied). Written to
        tmp/ and renamed into place, so a blob in the pool is always whole."""
        temporary = self.tmp / f"blob-{secrets.token_hex(8)}"
        digest, size = hashlib.sha256(), 0
        try:
            with temporary.open("wb") as out:
                for chunk in chunks:
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha256 = digest.hexdigest()
            if self.has_blob(sha256, size):
                return sha256, size, False
            path = self.blob_path(sha256)
            path.parent.mkdir(exist_ok=True)
            os.replace(temporary, path)
            _fsync_directory(path.parent)
            return sha256, size, True
        finally:
            temporary.unlink(missing_ok=True)

    def pooled_blobs(self) -> Iterator[Path]:
        yield from (path for path in self.blobs.glob("*/*") if path.is_file())


def sha256_of(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _write_synced(path: Path, data: bytes) -> None:
    with path.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)

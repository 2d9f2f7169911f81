"""Blobs on local disk: written to a temporary file, fsynced, then renamed into place, so a
reader never sees half a blob and a crash never leaves one."""
from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from services.common.direct_io import write_all
from services.common.storage.base import BlobInfo, BlobNotFound, MultipartPart, PartBytes, validate_key
from services.common.storage.signing import sign_blob_url

CHUNK = 1024 * 1024


class LocalBlobStore:
    backend = "local"

    def __init__(self, *, root: Path, url_base: str, url_secret: str | bytes | None) -> None:
        """`url_secret`: the blob-URL key; None in a process that hands out no links (a worker)."""
        self.root = root.resolve()
        self.objects = self.root / "objects"
        self.staging = self.root / ".staging"
        for directory in (self.objects, self.staging):
            directory.mkdir(parents=True, exist_ok=True)
        self.url_base, self.url_secret = url_base, url_secret

    # --- single blobs ----------------------------------------------------------------------

    def put(self, key: str, stream: BinaryIO, *, length: int, content_type: str) -> BlobInfo:
        temporary = self._temporary()
        try:
            with temporary.open("wb") as out:
                remaining = length
                while remaining > 0:
                    chunk = stream.read(min(CHUNK, remaining))
                    if not chunk:
                        raise ValueError(f"stream ended {remaining} bytes short of {length}")
                    out.write(chunk)
                    remaining -= len(chunk)
                out.flush()
                os.fsync(out.fileno())
            return self._commit(temporary, key, content_type)
        finally:
            temporary.unlink(missing_ok=True)

    def put_file(self, key: str, path: Path, *, content_type: str) -> BlobInfo:
        with path.open("rb") as stream:
            return self.put(key, stream, length=path.stat().st_size, content_type=content_type)

    def open(self, key: str, *, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        path = self._path(key)
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            raise BlobNotFound(key) from None
        return self._read(handle, start, end)

    @staticmethod
    def _read(handle: BinaryIO, start: int, end: int | None) -> Iterator[bytes]:
        with handle:
            handle.seek(start)
            remaining = None if end is None else end - start + 1
            while remaining is None or remaining > 0:
                chunk = handle.read(CHUNK if remaining is None else min(CHUNK, remaining))
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    def stat(self, key: str) -> BlobInfo:
        path = self._path(key)
        try:
            status = path.stat()
        except FileNotFoundError:
            raise BlobNotFound(key) from None
        return BlobInfo(key=key, size=status.st_size, etag=_etag(status), content_type=self._content_type(path),
                         modified=datetime.fromtimestamp(status.st_mtime, UTC))

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        path.with_name(path.name + ".type").unlink(missing_ok=True)

    def copy(self, source: str, destination: str) -> BlobInfo:
        source_path = self._path(source)
        if not source_path.is_file():
            raise BlobNotFound(source)
        temporary = self._temporary()
        try:
            shutil.copyfile(source_path, temporary)
            return self._commit(temporary, destination, self._content_type(source_path))
        finally:
            temporary.unlink(missing_ok=True)

    def move(self, source: str, destination: str) -> BlobInfo:
        source_path = self._path(source)
        if not source_path.is_file():
            raise BlobNotFound(source)
        content_type = self._content_type(source_path)
        info = self._commit(source_path, destination, content_type)
        source_path.with_name(source_path.name + ".type").unlink(missing_ok=True)
        return info

    def keep(self, source: str, content_key: str) -> str:
        self.move(source, content_key)
        return content_key

    def direct_path(self, key: str) -> Path | None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    @contextmanager
    def local_file(self, key: str) -> Iterator[Path]:
        path = self._path(key)
        if not path.is_file():
            raise BlobNotFound(key)
        yield path

    def tool_source(self, key: str, *, expires_s: int = 3600) -> str:
        path = self._path(key)
        if not path.is_file():
            raise BlobNotFound(key)
        return str(path)

    def list(self, prefix: str) -> Iterator[BlobInfo]:
        base = self.objects / prefix.rstrip("/") if prefix else self.objects
        start = base if base.is_dir() else base.parent
        if not start.exists():
            return
        for path in sorted(start.rglob("*")):
            if path.is_file() and not path.name.endswith(".type"):
                key = path.relative_to(self.objects).as_posix()
                if key.startswith(prefix):
                    yield self.stat(key)

    def presigned_get_url(self, key: str, *, expires_s: int, filename: str | None = None) -> str:
        validate_key(key)
        if self.url_secret is None:
            raise RuntimeError("this process holds no blob-URL key (LB_SECRET_KEY) and cannot sign links")
        return sign_blob_url(base_url=self.url_base, secret=self.url_secret, key=key, expires_s=expires_s,
                             filename=filename)

    def ping(self) -> None:
        probe = self.staging / f".ping-{secrets.token_hex(4)}"
        probe.write_bytes(b"ok")
        probe.unlink()

    # --- multipart: parts are appended to one assembly file, so completing is a rename ------

    def create_multipart(self, key: str, *, content_type: str) -> str:
        validate_key(key)
        upload_id = secrets.token_hex(16)
        directory = self._multipart_dir(upload_id)
        directory.mkdir(parents=True)
        (directory / "assembly").touch()
        self._write_manifest(directory, {"key": key, "content_type": content_type, "parts": []})
        return upload_id

    def upload_parts(self, key: str, upload_id: str, parts: list[tuple[int, PartBytes]]) -> list[MultipartPart]:
        """Appends the parts to the assembly file and syncs it once for all of them (one fsync per
        8 MiB part kept the sender behind the network; measured, docs/benchmarks.md)."""
        directory = self._multipart_dir(upload_id)
        manifest = self._read_manifest(directory, key)
        sent = manifest["parts"]
        if parts and sent and sent[-1]["number"] == parts[0][0]:
            sent.pop()  # a retry of the last part replaces it
        added = []
        with (directory / "assembly").open("r+b") as out:
            offset = sum(p["size"] for p in sent)
            out.truncate(offset)
            for number, data in parts:
                if sent and number <= sent[-1]["number"]:
                    raise ValueError(f"part {number} after part {sent[-1]['number']}: parts must ascend")
                size = _append_part(out.fileno(), data, offset=offset)
                offset += size
                sent.append({"number": number, "etag": f"{number:x}-{size:x}", "size": size})
                added.append(MultipartPart(**sent[-1]))
            os.fsync(out.fileno())
        self._write_manifest(directory, manifest)
        return added

    def complete_multipart(self, key: str, upload_id: str, parts: list[MultipartPart]) -> BlobInfo:
        directory = self._multipart_dir(upload_id)
        manifest = self._read_manifest(directory, key)
        if [(p.number, p.etag) for p in parts] != [(p["number"], p["etag"]) for p in manifest["parts"]]:
            raise ValueError("the parts given do not match the parts uploaded")
        info = self._commit(directory / "assembly", key, manifest["content_type"])
        shutil.rmtree(directory, ignore_errors=True)
        return info

    def abort_multipart(self, key: str, upload_id: str) -> None:
        shutil.rmtree(self._multipart_dir(upload_id), ignore_errors=True)

    # --- internals -----------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        path = (self.objects / validate_key(key)).resolve()
        # validate_key already refuses traversal; this is the belt to its braces.
        if not path.is_relative_to(self.objects):
            raise ValueError(key)
        return path

    def _temporary(self) -> Path:
        return self.staging / f"tmp-{secrets.token_hex(8)}"

    def _commit(self, temporary: Path, key: str, content_type: str) -> BlobInfo:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.with_name(path.name + ".type").write_text(content_type)
        os.replace(temporary, path)
        _fsync_directory(path.parent)
        return self.stat(key)

    @staticmethod
    def _content_type(path: Path) -> str:
        try:
            return path.with_name(path.name + ".type").read_text()
        except FileNotFoundError:
            return "application/octet-stream"

    def _multipart_dir(self, upload_id: str) -> Path:
        if not upload_id.isalnum():
            raise ValueError(upload_id)
        return self.staging / f"multipart-{upload_id}"

    @staticmethod
    def _read_manifest(directory: Path, key: str) -> dict:
        try:
            manifest = json.loads((directory / "manifest.json").read_text())
        except FileNotFoundError:
            raise BlobNotFound(f"multipart upload for {key}") from None
        if manifest["key"] != key:
            raise ValueError("upload id belongs to another key")
        return manifest

    @staticmethod
    def _write_manifest(directory: Path, manifest: dict) -> None:
        temporary = directory / "manifest.json.tmp"
        temporary.write_text(json.dumps(manifest))
        os.replace(temporary, directory / "manifest.json")


def _append_part(destination: int, data: PartBytes, *, offset: int) -> int:
    """Writes a part at `offset`; returns its size. A file is copied with copy_file_range, so its
    bytes never pass through Python."""
    if isinstance(data, memoryview):
        write_all(destination, data, offset)
        return len(data)
    size = data.stat().st_size
    with data.open("rb") as source:
        copied = 0
        while copied < size:
            done = os.copy_file_range(source.fileno(), destination, size - copied, copied, offset + copied)
            if done == 0:
                raise OSError(f"part ended after {copied} of {size} bytes")
            copied += done
    return size


def _etag(status: os.stat_result) -> str:
    # Size and modification time, as nginx does: cheap, and changes whenever the bytes do.
    return f"{status.st_size:x}-{status.st_mtime_ns:x}"


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)

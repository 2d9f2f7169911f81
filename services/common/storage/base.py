"""The blob storage interface every backend implements, and what it returns."""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol

# Keys are made by our code (content hashes, upload ids), never by users; this keeps them so.
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")
MAX_KEY_LENGTH = 512
# S3's floor for every part but the last.
MIN_PART_SIZE = 5 * 1024 * 1024


PartBytes = Path | memoryview  # a multipart part's bytes: a file, or a buffer in memory


class BlobNotFound(Exception):
    pass


class InvalidKey(ValueError):
    pass


def validate_key(key: str) -> str:
    if len(key) > MAX_KEY_LENGTH or not _KEY.match(key) or any(part in (".", "..") for part in key.split("/")):
        raise InvalidKey(key)
    return key


@dataclass(frozen=True)
class BlobInfo:
    key: str
    size: int
    etag: str
    content_type: str
    # When the bytes were last written, where the backend says (GC leaves recent ones alone).
    modified: datetime | None = None


@dataclass(frozen=True)
class MultipartPart:
    number: int
    etag: str
    size: int


class BlobStore(Protocol):
    """What the platform needs of object storage. Every method takes validated keys."""

    backend: str  # recorded with each stored blob, so blobs can later move between backends

    def put(self, key: str, stream: BinaryIO, *, length: int, content_type: str) -> BlobInfo:
        """Stores `length` bytes read from `stream`, atomically: readers see all of it or nothing."""
        ...

    def put_file(self, key: str, path: Path, *, content_type: str) -> BlobInfo: ...

    def open(self, key: str, *, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The bytes of [start, end] (inclusive, like HTTP Range), streamed in chunks."""
        ...

    def stat(self, key: str) -> BlobInfo: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Removes a blob; removing one that is absent is not an error."""
        ...

    def copy(self, source: str, destination: str) -> BlobInfo: ...

    def move(self, source: str, destination: str) -> BlobInfo:
        """Renames a blob (atomic on local disk; copy then delete on S3)."""
        ...

    def keep(self, source: str, content_key: str) -> str:
        """Makes finished content permanent and returns the key it lives at: `content_key` where
        renaming is free (local disk: a content-addressed layout), `source` where it would mean
        copying every byte (S3: a server-side copy of a 2 GiB object took 8.5 s)."""
        ...

    def direct_path(self, key: str) -> Path | None:
        """The plain file a new blob's bytes may be written straight into, once, where they will
        stay (local disk), or None where there is no such file (S3: bytes go as multipart parts).
        Its parent directory exists. For keys nobody reads until the writer is done (staging keys):
        unlike `put`, nothing here is atomic, and the writer syncs the file itself."""
        ...

    def local_file(self, key: str) -> AbstractContextManager[Path]:
        """A file with the blob's bytes for libraries that need one (zipfile, Pillow): the blob
        itself on local disk, a temporary download on S3, removed on exit. Do not write to it."""
        ...

    def tool_source(self, key: str, *, expires_s: int = 3600) -> str:
        """Where a command-line tool (ffprobe, ffmpeg) reads the blob, seeking as it likes:
        a path on local disk, a presigned URL on S3."""
        ...

    def list(self, prefix: str) -> Iterator[BlobInfo]: ...

    def presigned_get_url(self, key: str, *, expires_s: int, filename: str | None = None) -> str:
        """A URL anyone holding it may GET (with Range) until it expires; tampering voids it."""
        ...

    # Multipart: parts are uploaded in ascending order; repeating the last one (a retry)
    # replaces it. Every part but the last is at least MIN_PART_SIZE.

    def create_multipart(self, key: str, *, content_type: str) -> str: ...

    def upload_parts(self, key: str, upload_id: str, parts: list[tuple[int, PartBytes]]) -> list[MultipartPart]:
        """Sends the parts (number, file or bytes), in ascending numbers, and returns them in that
        order once every one is durable. A batch lets each backend do what is cheap for it: the
        local store appends them all and syncs once, S3 sends several at a time."""
        ...

    def complete_multipart(self, key: str, upload_id: str, parts: list[MultipartPart]) -> BlobInfo: ...

    def abort_multipart(self, key: str, upload_id: str) -> None: ...

    def ping(self) -> None:
        """Raises unless the backend answers (readiness)."""
        ...

"""The bytes of an upload between the network and blob storage.

`Spool` (S3): segment files on local disk, each becoming one multipart part once full
(PART_SIZE) or once the upload ends. `InPlace` (local disk): the bytes go straight into the
blob's own file, once, and there are never parts to send.

Segment files are named by the part number they will become. What the database says was
received (`offset`) is the truth: on reopening, bytes on disk beyond it (from a request that
died before committing) are cut off.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from services.common.direct_io import Appender
from services.api.uploads.limits import PART_SIZE


class Spool:
    def __init__(self, directory: Path, *, first_part: int, kept_bytes: int, part_size: int = PART_SIZE) -> None:
        """`kept_bytes`: bytes received but not yet sent as parts, per the database."""
        self.directory, self.first_part, self.part_size = directory, first_part, part_size
        directory.mkdir(parents=True, exist_ok=True)
        self._reconcile(kept_bytes)
        self.size = kept_bytes
        self._writing: tuple[int, Appender] | None = None  # the open segment, kept across chunks

    def _segment(self, number: int) -> Path:
        return self.directory / f"part-{number:05d}"

    def _reconcile(self, kept_bytes: int) -> None:
        for path in self.directory.glob("part-*"):
            number = int(path.name.removeprefix("part-"))
            start = (number - self.first_part) * self.part_size
            if number < self.first_part or start >= kept_bytes:
                path.unlink()  # already sent as a part, or never committed
            elif path.stat().st_size > kept_bytes - start:
                os.truncate(path, min(kept_bytes - start, self.part_size))
        missing = kept_bytes - sum(p.stat().st_size for p in self.directory.glob("part-*"))
        if missing:
            raise RuntimeError(f"spool {self.directory} lost {missing} committed bytes")

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            index, used = divmod(self.size, self.part_size)
            take = min(self.part_size - used, len(view))
            self._handle(self.first_part + index).write(view[:take])
            self.size += take
            view = view[take:]

    def _handle(self, number: int) -> Appender:
        # Opening a file per 64 KiB chunk cost ~8% of an upload (measured); keep it open.
        if self._writing is None or self._writing[0] != number:
            self.close()
            path = self._segment(number)
            self._writing = (number, Appender(path, offset=path.stat().st_size if path.exists() else 0))
        return self._writing[1]

    def close(self) -> None:
        if self._writing is not None:
            writing, self._writing = self._writing[1], None
            writing.close()

    def sync(self) -> None:
        """fsync every segment: bytes about to be committed that are not in a part yet."""
        open_number = self._writing[0] if self._writing is not None else None
        if self._writing is not None:
            self._writing[1].sync()
        for number, path in self.all_segments():
            if number != open_number:
                with path.open("rb+") as handle:
                    os.fsync(handle.fileno())

    def truncate(self, size: int) -> None:
        """Drops bytes past `size` (a chunk that failed its checksum)."""
        self.close()
        self._reconcile(size)
        self.size = size

    def full_segments(self) -> list[tuple[int, Path]]:
        """Segments holding a whole part, closed: another thread may read them now."""
        full = [(self.first_part + i, self._segment(self.first_part + i)) for i in range(self.size // self.part_size)]
        if self._writing is not None and any(number == self._writing[0] for number, _ in full):
            self.close()
        return full

    def all_segments(self) -> list[tuple[int, Path]]:
        count = -(-self.size // self.part_size)
        return [(self.first_part + i, self._segment(self.first_part + i)) for i in range(count)]

    def sent(self, number: int) -> None:
        """Part `number` is in blob storage now; its segment can go."""
        if self._writing is not None and self._writing[0] == number:
            self.close()
        path = self._segment(number)
        size = path.stat().st_size
        path.unlink()
        self.first_part = number + 1
        self.size -= size

    def discard(self) -> None:
        self.close()
        shutil.rmtree(self.directory, ignore_errors=True)


class InPlace:
    """An upload written where its blob will stay (the local store's file for its staging key):
    no second copy, and nothing to send. Same interface as Spool, with no segments ever."""

    def __init__(self, path: Path, *, offset: int) -> None:
        self.path = path
        self._appender: Appender | None = Appender(path, offset=offset)
        self.size = offset

    def write(self, data: bytes) -> None:
        self._writer().write(data)
        self.size += len(data)

    def sync(self) -> None:
        self._writer().sync()

    def truncate(self, size: int) -> None:
        """Drops bytes past `size` (a chunk that failed its checksum)."""
        self.close()
        self._appender = Appender(self.path, offset=size)
        self.size = size

    def full_segments(self) -> list[tuple[int, Path]]:
        return []

    def all_segments(self) -> list[tuple[int, Path]]:
        return []

    def sent(self, number: int) -> None:
        raise AssertionError("an upload written in place has no parts to send")

    def close(self) -> None:
        """Lets go of the file; writing again reopens it."""
        if self._appender is not None:
            appender, self._appender = self._appender, None
            appender.close()

    def discard(self) -> None:
        """Done receiving. The file is the blob itself: it stays (the caller deletes or keeps it)."""
        self.close()

    def _writer(self) -> Appender:
        if self._appender is None:
            self._appender = Appender(self.path, offset=self.size)
        return self._appender

"""The bytes of an upload between the network and blob storage.

`Spool` (S3): the upload's next parts, each filled in memory and sent from there as one
multipart part once full (PART_SIZE) or once the upload ends. `InPlace` (local disk): the bytes go
straight into the blob's own file, once, and there are never parts to send.

A part goes to disk only when it must: at the end of a request (the bytes not yet in a part are
made durable before the offset covers them), or when the upload holds as many parts in memory as
it may (PARTS_IN_MEMORY: a client faster than blob storage, or a chunk held for its checksum).
Until session 9 every part was written to a file and read back to be sent; with those files on
tmpfs instead of the disk MinIO also writes to, an upload here ran 190 MB/s instead of 152
(measured, docs/benchmarks.md). A client on a school's link, slower than blob storage, now
costs the API's disk only the tail of each request.

Segment files are named by the part number they will become. What the database says was
received (`offset`) is the truth: on reopening, bytes on disk beyond it (from a request that
died before committing) are cut off.
"""
from __future__ import annotations

import mmap
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from services.common.direct_io import Appender, give_back, read_file, take_buffer, write_file
from services.common.storage import PartBytes
from services.api.uploads.limits import PART_SIZE, PARTS_IN_MEMORY

Segment = tuple[int, PartBytes]  # a part to send: its number, and its bytes (in memory or a file)


class SpoolLost(RuntimeError):
    """The spool holds fewer bytes than the database says it does: this API's data directory was
    replaced (a container recreated without a volume), or another replica holds the spool."""


@dataclass
class _Part:
    """One future part: its bytes in `buffer` (while in memory) and/or in its file."""

    number: int
    size: int = 0
    buffer: mmap.mmap | None = None  # aligned, from direct_io's pool
    on_disk: int = 0              # how many of its bytes its file holds
    synced: bool = True           # whether those are on disk for sure (fsynced)
    sending: bool = False         # handed out to be sent: neither changed nor spilled meanwhile

    def view(self) -> memoryview:
        return memoryview(self.buffer)[:self.size]


class Spool:
    def __init__(self, directory: Path, *, first_part: int, kept_bytes: int, part_size: int = PART_SIZE,
                 in_memory: int | None = None) -> None:
        """`kept_bytes`: bytes received but not yet sent as parts, per the database."""
        self.directory, self.first_part, self.part_size = directory, first_part, part_size
        self.in_memory = PARTS_IN_MEMORY if in_memory is None else in_memory
        directory.mkdir(parents=True, exist_ok=True)
        self._recover_checkpoint()
        self._parts: list[_Part] = self._reconcile(kept_bytes)
        self.size = kept_bytes
        self._checkpoint: tuple[int, int] | None = None

    def _segment(self, number: int) -> Path:
        return self.directory / f"part-{number:05d}"

    def _kept(self, number: int) -> Path:
        return self.directory / f"kept-{number:05d}"

    def _recover_checkpoint(self) -> None:
        """A request with a checksum died after sending a part of its chunk: nothing it did was
        committed, so the copies it kept of the committed parts are the spool again. Copies made
        before a commit that went through (their part numbers are behind `first_part`, or their
        part is still there) are stale."""
        for kept in self.directory.glob("kept-*"):
            number = int(kept.name.removeprefix("kept-"))
            if number >= self.first_part and not self._segment(number).exists():
                kept.rename(self._segment(number))
            else:
                kept.unlink()

    def _reconcile(self, kept_bytes: int) -> list[_Part]:
        """The parts on disk, cut to what the database says was received."""
        for path in self.directory.glob("part-*"):
            number = int(path.name.removeprefix("part-"))
            start = (number - self.first_part) * self.part_size
            if number < self.first_part or start >= kept_bytes:
                path.unlink()  # already sent as a part, or never committed
            elif path.stat().st_size > kept_bytes - start:
                os.truncate(path, min(kept_bytes - start, self.part_size))
        parts = [_Part(number, size=size, on_disk=size) for number, size in (
            (int(path.name.removeprefix("part-")), path.stat().st_size)
            for path in sorted(self.directory.glob("part-*")))]
        missing = kept_bytes - sum(part.size for part in parts)
        if missing:
            raise SpoolLost(f"spool {self.directory} lost {missing} committed bytes")
        return parts

    def write(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while view:
            part = self._filling()
            take = min(self.part_size - part.size, len(view))
            part.buffer[part.size:part.size + take] = view[:take]
            part.size += take
            self.size += take
            view = view[take:]

    def _filling(self) -> _Part:
        """The part the next byte goes into, in memory."""
        if not self._parts or self._parts[-1].size == self.part_size:
            self._parts.append(_Part(self.first_part + len(self._parts)))
        part = self._parts[-1]
        if part.buffer is None:
            self._make_room()
            part.buffer = take_buffer(self.part_size)
            if part.on_disk:  # the tail a previous request left: appended to in memory
                read_file(self._segment(part.number), part.buffer)
        return part

    def _make_room(self) -> None:
        """Before another buffer is taken: if the upload holds `in_memory` parts already, the oldest
        whole ones waiting go to their files. Parts being sent stay (they leave memory soon)."""
        held = [part for part in self._parts if part.buffer is not None]
        waiting = [part for part in held if part.size == self.part_size and not part.sending]
        for part in waiting[:max(len(held) + 1 - self.in_memory, 0)]:
            if part.on_disk < part.size:
                write_file(self._segment(part.number), part.view())
                part.on_disk, part.synced = part.size, False
            self._forget_buffer(part)

    def _forget_buffer(self, part: _Part) -> None:
        if part.buffer is not None:
            buffer, part.buffer = part.buffer, None
            give_back(buffer)

    def sync(self) -> None:
        """Every byte held is on disk: bytes about to be committed that are not in a part yet."""
        for part in self._parts:
            path = self._segment(part.number)
            if part.on_disk < part.size:
                write_file(path, part.view())
                part.on_disk, part.synced = part.size, False
            if not part.synced:
                fd = os.open(path, os.O_RDONLY)
                try:
                    os.fdatasync(fd)
                finally:
                    os.close(fd)
                part.synced = True

    def truncate(self, size: int) -> None:
        """Drops bytes past `size` (a chunk that failed its checksum). What a request started
        from is on disk (synced by the request before), so the files are the truth again."""
        self.close()
        self._parts = self._reconcile(size)
        self.size = size

    def checkpoint(self) -> None:
        """Keeps what the spool holds now (the bytes the committed offset covers, all on disk and
        less than a part when the previous request ended normally) so that `restore` can bring it
        back after this request sent parts of a chunk that then fails its checksum: the chunk's
        parts go to blob storage as it streams, and only the copy of that tail stays behind."""
        self.close()
        for part in self._parts:
            shutil.copyfile(self._segment(part.number), self._kept(part.number))
        self._checkpoint = (self.first_part, self.size)

    def restore(self) -> None:
        """Back to the checkpoint: this request's bytes are dropped, parts it sent are forgotten
        (their numbers are sent again, which replaces them in blob storage)."""
        if self._checkpoint is None:
            raise AssertionError("restore without a checkpoint")
        self.close()
        self.first_part, size = self._checkpoint
        for path in self.directory.glob("part-*"):
            path.unlink()
        for kept in self.directory.glob("kept-*"):
            kept.rename(self._segment(int(kept.name.removeprefix("kept-"))))
        self._parts = self._reconcile(size)
        self.size = size

    def drop_checkpoint(self) -> None:
        for kept in self.directory.glob("kept-*"):
            kept.unlink()
        self._checkpoint = None

    def full_segments(self) -> list[Segment]:
        """Whole parts, not being sent yet: they are the sender's until `sent`."""
        return self._hand_out([part for part in self._parts if part.size == self.part_size and not part.sending])

    def all_segments(self) -> list[Segment]:
        """Every part not being sent yet, the last (short) one too: the upload is whole."""
        return self._hand_out([part for part in self._parts if not part.sending])

    def _hand_out(self, parts: list[_Part]) -> list[Segment]:
        for part in parts:
            part.sending = True
        return [(part.number, part.view() if part.buffer is not None else self._segment(part.number))
                for part in parts]

    def sent(self, number: int) -> None:
        """Part `number` is in blob storage now: its memory and file can go."""
        part = self._parts.pop(0)
        if part.number != number:
            raise AssertionError(f"part {number} sent before part {part.number}")
        self._forget_buffer(part)
        if part.on_disk:
            self._segment(number).unlink()
        self.first_part = number + 1
        self.size -= part.size

    def close(self) -> None:
        """Lets go of the memory. Bytes not synced are dropped: no offset covers them."""
        for part in self._parts:
            self._forget_buffer(part)
            part.sending = False

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
        self._checkpoint = offset

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

    def checkpoint(self) -> None:
        self._checkpoint = self.size

    def restore(self) -> None:
        """Drops this request's bytes: they are past the checkpoint, in the file itself."""
        self.truncate(self._checkpoint)

    def drop_checkpoint(self) -> None:
        pass

    def full_segments(self) -> list[Segment]:
        return []

    def all_segments(self) -> list[Segment]:
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

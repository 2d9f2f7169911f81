"""Writing and reading large upload files without going through the page cache.

Received bytes are written once with O_DIRECT, from an aligned buffer, in whole blocks: they go
to the disk without the kernel first copying them into newly allocated page-cache pages. On this
project's test machines (virtual machines whose freed memory goes back to the host) that copy
was the largest cost of an upload: buffered, 2 GiB took 4.6–6.4 CPU-seconds of kernel time and
5.6–7.5 s; with O_DIRECT, 0.27 CPU-seconds and 1.5 s (measured, docs/benchmarks.md). It also
keeps an 8 GiB recording from pushing everything else out of the page cache.

What is not a whole block yet stays in the buffer; `sync` writes it through the page cache
and makes everything durable. Where O_DIRECT is refused (tmpfs before Linux 6.6, non-Linux),
every write goes through the page cache instead: the same bytes, only slower.
"""
from __future__ import annotations

import mmap
import os
import queue
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

BLOCK = 4096  # O_DIRECT alignment: a multiple of every logical block size in use
BUFFER_BYTES = 4 * 1024 * 1024  # two per file being written: 8 MiB per upload receiving
_DIRECT = getattr(os, "O_DIRECT", 0)
_KEPT_BUFFERS = 6  # per size: an upload's four parts in memory and two read back on their way to S3

_buffers: dict[int, queue.SimpleQueue[mmap.mmap]] = defaultdict(queue.SimpleQueue)


def take_buffer(size: int) -> mmap.mmap:
    """A page-aligned buffer of at least `size` bytes (rounded up to a power of two); `give_back`
    it when done. A fresh 8 MiB buffer per segment or part cost 2,048 page faults
    and as many zeroed pages each time: a fifth of the API's CPU in an S3 upload (perf,
    docs/benchmarks.md). Kept by size, so a part's buffer never displaces a writer's."""
    size = max(BLOCK, 1 << (size - 1).bit_length())
    try:
        return _buffers[size].get_nowait()
    except queue.Empty:
        return mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)


def give_back(buffer: mmap.mmap) -> None:
    kept = _buffers[len(buffer)]
    if kept.qsize() < _KEPT_BUFFERS:
        kept.put(buffer)


@contextmanager
def aligned_buffer(size: int) -> Iterator[mmap.mmap]:
    buffer = take_buffer(size)
    try:
        yield buffer
    finally:
        give_back(buffer)


class Appender:
    """Appends to `path` from `offset` on; bytes already past `offset` (from a writer that died
    before they were committed) are cut off. One writer at a time.

    Two buffers: while a full one is written to disk on a writer thread, the caller fills the
    other. O_DIRECT writes wait for the disk; done inline, they held up the thread that also
    hashes the upload for ~40 % of its time."""

    def __init__(self, path: Path, *, offset: int, buffer_bytes: int = BUFFER_BYTES) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        self._direct: int | None = None
        self._buffer: mmap.mmap | None = None
        self._spare: mmap.mmap | None = None
        self._writing: Future[None] | None = None  # the full buffer on its way to disk
        try:
            found = os.fstat(self._fd).st_size
            if found < offset:
                raise RuntimeError(f"{path} holds {found} bytes but {offset} were committed")
            os.ftruncate(self._fd, offset)
            self._direct = _open_direct(path)
            self._buffer = take_buffer(buffer_bytes)  # aligned, as O_DIRECT needs
            self._spare = take_buffer(len(self._buffer))
            # The buffer always starts at a block boundary of the file: a partial last block is
            # read back and rewritten whole.
            self._start = offset - offset % BLOCK
            self._used = offset - self._start
            if self._used:
                self._buffer[:self._used] = os.pread(self._fd, self._used, self._start)
        except BaseException:
            self._fd, fd = -1, self._fd
            os.close(fd)
            self.close()
            raise
        self.size = offset

    def write(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while view:
            take = min(len(view), len(self._buffer) - self._used)
            self._buffer[self._used:self._used + take] = view[:take]
            self._used += take
            view = view[take:]
            if self._used == len(self._buffer):
                self._hand_over()
        self.size += len(data)

    def flush(self) -> None:
        """Every byte appended so far is in the file (not necessarily on disk yet)."""
        self._wait()
        whole = self._used - self._used % BLOCK
        if whole:
            self._write(memoryview(self._buffer)[:whole], self._start)
            rest = self._used - whole
            self._buffer[:rest] = self._buffer[whole:self._used]
            self._start, self._used = self._start + whole, rest
        if self._used:  # a partial block: through the page cache; rewritten whole later
            write_all(self._fd, memoryview(self._buffer)[:self._used], self._start)

    def sync(self) -> None:
        """Every byte appended so far is on disk when this returns."""
        self.flush()
        os.fdatasync(self._fd)

    def close(self) -> None:
        """Flushes, then lets go of the file."""
        try:
            if self._fd >= 0:
                self.flush()
        finally:
            self._wait(raise_error=False)
            for fd in (self._direct, self._fd):
                if fd is not None and fd >= 0:
                    os.close(fd)
            self._direct, self._fd = None, -1
            for buffer in (self._buffer, self._spare):
                if buffer is not None:
                    give_back(buffer)
            self._buffer = self._spare = None

    def _hand_over(self) -> None:
        """The buffer is full (a whole number of blocks): it goes to disk on the writer thread
        while the caller fills the spare."""
        self._wait()
        full, start = self._buffer, self._start
        self._writing = _WRITER.submit(self._write, memoryview(full), start)
        self._buffer, self._spare = self._spare, full
        self._start, self._used = start + len(full), 0

    def _wait(self, *, raise_error: bool = True) -> None:
        if self._writing is not None:
            writing, self._writing = self._writing, None
            error = writing.exception()
            if error is not None and raise_error:
                raise error

    def _write(self, blocks: memoryview, offset: int) -> None:
        if self._direct is not None:
            try:
                write_all(self._direct, blocks, offset)
                return
            except OSError:
                # Refused at write time (some filesystems only say so then): buffered from now on.
                os.close(self._direct)
                self._direct = None
        write_all(self._fd, blocks, offset)


_WRITER = ThreadPoolExecutor(max_workers=4, thread_name_prefix="direct-io")  # one write per file at a time


def read_file(path: Path, buffer: mmap.mmap) -> memoryview:
    """Reads a whole file into `buffer` (at least its size rounded up to BLOCK), with O_DIRECT
    where allowed, and returns the view of its bytes. Reading back a spooled part this way, into
    a buffer used over and over, allocates no memory at all."""
    size = os.stat(path).st_size
    if len(buffer) < size + (-size % BLOCK):
        raise ValueError(f"{path}: {size} bytes do not fit a {len(buffer)}-byte buffer")
    view = memoryview(buffer)
    fd = _open_direct(path, os.O_RDONLY)
    if fd is None:
        fd = os.open(path, os.O_RDONLY)
    try:
        got = 0
        while got < size:  # whole blocks at block offsets: O_DIRECT stops short only at the end
            read = os.preadv(fd, [view[got:size + (-size % BLOCK)]], got)
            if read == 0:
                raise OSError(f"{path} ended after {got} of {size} bytes")
            got += read
    finally:
        os.close(fd)
    return view[:size]


def write_file(path: Path, data: memoryview) -> None:
    """Makes `data` the whole of `path`, not synced: whole blocks with O_DIRECT (`data` starts at
    an aligned buffer's start), the rest through the page cache."""
    whole = len(data) - len(data) % BLOCK
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        direct = _open_direct(path) if whole else None
        try:
            write_all(direct if direct is not None else fd, data[:whole], 0)
        except OSError:
            if direct is None:
                raise
            write_all(fd, data[:whole], 0)  # refused at write time: through the page cache
        finally:
            if direct is not None:
                os.close(direct)
        write_all(fd, data[whole:], whole)
        os.ftruncate(fd, len(data))
    finally:
        os.close(fd)


def _open_direct(path: Path, flags: int = os.O_WRONLY) -> int | None:
    if not _DIRECT:
        return None
    try:
        return os.open(path, flags | _DIRECT)
    except OSError:
        return None


def write_all(fd: int, data: memoryview, offset: int) -> None:
    """pwrite until every byte of `data` is at `offset` (a write may stop short)."""
    while data:
        written = os.pwrite(fd, data, offset)
        data, offset = data[written:], offset + written

"""Files written and read past the page cache: the same bytes as plain writes and reads, whatever
the offsets, reopened anywhere, with or without O_DIRECT."""
from __future__ import annotations

import mmap
import os
import random

import pytest

from services.common import direct_io
from services.common.direct_io import BLOCK, Appender, read_file


@pytest.fixture(params=["direct", "buffered"])
def mode(request, monkeypatch):
    if request.param == "buffered":
        monkeypatch.setattr(direct_io, "_DIRECT", 0)
    return request.param


def test_appends_in_pieces_of_every_size_and_resumes_mid_block(tmp_path, mode):
    path = tmp_path / "blob"
    rng = random.Random(7)
    data = rng.randbytes(3 * 1024 * 1024 + 1234)
    written = 0
    while written < len(data):  # each "PATCH" reopens where the last one synced
        writer = Appender(path, offset=written, buffer_bytes=64 * 1024)
        end = min(len(data), written + rng.choice([1, BLOCK - 1, BLOCK, 70_001, 300_000]))
        while written < end:
            step = min(end - written, rng.choice([1, 17, BLOCK + 3, 65_536]))
            writer.write(data[written:written + step])
            written += step
        writer.sync()
        writer.close()
        assert path.read_bytes() == data[:written]


def test_uses_o_direct_where_the_filesystem_allows(tmp_path, mode):
    writer = Appender(tmp_path / "blob", offset=0)
    try:
        assert (writer._direct is not None) == (mode == "direct" and hasattr(os, "O_DIRECT"))
    finally:
        writer.close()


def test_bytes_past_the_committed_offset_are_cut_off(tmp_path, mode):
    path = tmp_path / "blob"
    path.write_bytes(b"a" * 10_000)  # 10,000 on disk, 6,000 committed: the rest died with a request
    writer = Appender(path, offset=6000)
    writer.write(b"b" * 10)
    writer.close()
    assert path.read_bytes() == b"a" * 6000 + b"b" * 10


def test_refuses_to_resume_past_what_the_file_holds(tmp_path, mode):
    path = tmp_path / "blob"
    path.write_bytes(b"a" * 100)
    with pytest.raises(RuntimeError, match="committed"):
        Appender(path, offset=200)


@pytest.mark.parametrize("size", [0, 1, BLOCK - 1, BLOCK, 3 * BLOCK + 5])
def test_read_file_returns_exactly_the_files_bytes(tmp_path, mode, size):
    path = tmp_path / "part"
    data = os.urandom(size)
    path.write_bytes(data)
    assert bytes(read_file(path, mmap.mmap(-1, 4 * BLOCK))) == data


def test_read_file_refuses_a_buffer_too_small(tmp_path, mode):
    path = tmp_path / "part"
    path.write_bytes(b"x" * (BLOCK + 1))  # needs two whole blocks
    with pytest.raises(ValueError, match="do not fit"):
        read_file(path, mmap.mmap(-1, BLOCK))


def test_a_direct_write_refused_at_write_time_goes_through_the_page_cache(tmp_path, monkeypatch):
    path = tmp_path / "blob"
    writer = Appender(path, offset=0, buffer_bytes=64 * 1024)
    if writer._direct is None:
        writer.close()
        pytest.skip("O_DIRECT is not available on this filesystem: nothing to fall back from")
    real = direct_io.write_all

    def refuse_direct(fd, data, offset):
        if fd == writer._direct:
            raise OSError(22, "Invalid argument")  # as some filesystems answer only at write time
        real(fd, data, offset)

    monkeypatch.setattr(direct_io, "write_all", refuse_direct)
    data = os.urandom(300_000)
    writer.write(data)
    writer.sync()
    assert writer._direct is None
    writer.close()
    assert path.read_bytes() == data

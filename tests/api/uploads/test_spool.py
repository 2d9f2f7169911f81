"""The S3 spool: parts are filled and sent from memory, go to disk only when they must (a request
ends, or more wait than memory may hold), and no byte is lost or changed on the way."""
from __future__ import annotations

import random

import pytest

from services.api.uploads.spool import Spool
from services.common import direct_io

PART = 64 * 1024  # small parts, same rules


@pytest.fixture(params=["direct", "buffered"])
def mode(request, monkeypatch):
    if request.param == "buffered":
        monkeypatch.setattr(direct_io, "_DIRECT", 0)
    return request.param


def read(segment) -> bytes:
    _, data = segment
    return bytes(data) if isinstance(data, memoryview) else data.read_bytes()


def in_memory(spool: Spool) -> int:
    return sum(part.buffer is not None for part in spool._parts)


def files(spool: Spool) -> list[str]:
    return sorted(path.name for path in spool.directory.glob("part-*"))


def test_requests_of_every_size_resume_and_the_parts_hold_the_bytes(tmp_path, mode):
    """Each "request" reopens from what was committed, sends some whole parts, syncs the rest."""
    rng = random.Random(3)
    data = rng.randbytes(11 * PART + 777)
    sent: list[bytes] = []
    received = 0
    while received < len(data):
        spool = Spool(tmp_path / "u", first_part=len(sent) + 1, kept_bytes=received - len(sent) * PART,
                      part_size=PART)
        end = min(len(data), received + rng.choice([1, 4095, PART, 3 * PART + 5, 5 * PART]))
        while received < end:
            step = min(end - received, rng.choice([1, 100, 4096, 30_000]))
            spool.write(data[received:received + step])
            received += step
            if rng.random() < 0.1:
                segments = spool.full_segments()
                sent += [read(segment) for segment in segments]
                for number, _ in segments:
                    spool.sent(number)
        if received == len(data):
            segments = spool.all_segments()
            sent += [read(segment) for segment in segments]
            for number, _ in segments:
                spool.sent(number)
        spool.sync()
        spool.close()
    assert b"".join(sent) == data
    assert all(len(part) == PART for part in sent[:-1])


def test_parts_waiting_beyond_memory_go_to_disk_and_come_back_whole(tmp_path, mode):
    data = random.Random(5).randbytes(9 * PART + 10)
    spool = Spool(tmp_path / "u", first_part=1, kept_bytes=0, part_size=PART, in_memory=3)
    for start in range(0, len(data), 1000):
        spool.write(data[start:start + 1000])
        assert in_memory(spool) <= 3
    assert files(spool) == [f"part-{n:05d}" for n in range(1, 8)]  # parts 1–7; 8, 9 and the tail in memory
    segments = spool.all_segments()
    assert [isinstance(data, memoryview) for _, data in segments] == [False] * 7 + [True] * 3
    assert b"".join(read(segment) for segment in segments) == data


def test_a_part_being_sent_is_neither_spilled_nor_changed(tmp_path, mode):
    data = random.Random(6).randbytes(8 * PART)
    spool = Spool(tmp_path / "u", first_part=1, kept_bytes=0, part_size=PART, in_memory=3)
    spool.write(data[:2 * PART])
    sending = spool.full_segments()
    assert [number for number, _ in sending] == [1, 2]
    spool.write(data[2 * PART:])  # parts 3–8 while 1 and 2 are on their way
    assert all(isinstance(data, memoryview) for _, data in sending)  # still in memory, not spilled
    assert [read(segment) for segment in sending] == [data[:PART], data[PART:2 * PART]]
    assert files(spool) == [f"part-{n:05d}" for n in range(3, 8)]  # room made for the next; 8 in memory
    assert spool.full_segments() and spool.full_segments() == []  # 3–8 handed out once, not twice
    for number, _ in sending:
        spool.sent(number)
    with pytest.raises(AssertionError, match="before part 3"):
        spool.sent(4)


def test_sync_makes_every_byte_durable_and_a_new_request_finds_them(tmp_path, mode):
    data = random.Random(7).randbytes(4 * PART + 123)
    spool = Spool(tmp_path / "u", first_part=1, kept_bytes=0, part_size=PART, in_memory=1)
    spool.write(data)
    spool.sync()
    spool.close()
    assert [path.stat().st_size for path in sorted((tmp_path / "u").glob("part-*"))] == [PART] * 4 + [123]
    reopened = Spool(tmp_path / "u", first_part=1, kept_bytes=len(data), part_size=PART)
    reopened.write(b"more")
    assert b"".join(read(segment) for segment in reopened.all_segments()) == data + b"more"


def test_a_refused_chunk_is_dropped_and_what_came_before_stays(tmp_path, mode):
    before = random.Random(8).randbytes(PART + 500)
    spool = Spool(tmp_path / "u", first_part=1, kept_bytes=0, part_size=PART, in_memory=1)
    spool.write(before)
    spool.sync()
    spool.write(random.Random(9).randbytes(5 * PART))  # a chunk whose checksum then fails
    spool.truncate(len(before))
    assert spool.size == len(before)
    spool.write(b"again")
    assert b"".join(read(segment) for segment in spool.all_segments()) == before + b"again"


def test_bytes_no_offset_covers_are_cut_off_on_reopening(tmp_path, mode):
    spool = Spool(tmp_path / "u", first_part=1, kept_bytes=0, part_size=PART)
    spool.write(b"a" * (PART + 10))
    spool.sync()  # then the request died before committing more than PART + 4
    spool.close()
    reopened = Spool(tmp_path / "u", first_part=1, kept_bytes=PART + 4, part_size=PART)
    assert b"".join(read(segment) for segment in reopened.all_segments()) == b"a" * (PART + 4)
    with pytest.raises(RuntimeError, match="lost"):
        Spool(tmp_path / "u", first_part=1, kept_bytes=PART + 100, part_size=PART)

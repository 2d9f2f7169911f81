"""Identifiers: ULIDs in Crockford base32, sortable by creation time."""
import random

from services.common.ids import ID_LENGTH, new_id, ulid

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _reference(milliseconds: int, randomness: bytes) -> str:
    """The ULID spec's encoding digit by digit: 26 base-32 digits of the 128-bit value."""
    value = milliseconds << 80 | int.from_bytes(randomness, "big")
    return "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(ID_LENGTH)))


def test_the_encoding_matches_the_spec_at_the_edges_and_at_random():
    rng = random.Random(7)
    cases = [(0, bytes(10)), (2**48 - 1, b"\xff" * 10), (1_763_950_000_000, bytes(range(10)))]
    cases += [(rng.getrandbits(48), rng.randbytes(10)) for _ in range(1000)]
    for milliseconds, randomness in cases:
        assert ulid(milliseconds, randomness) == _reference(milliseconds, randomness)
    assert ulid(0, bytes(10)) == "0" * 26 and ulid(2**48 - 1, b"\xff" * 10) == "7" + "Z" * 25


def test_new_ids_are_unique_and_sort_by_time():
    ids = [new_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids) and all(len(i) == ID_LENGTH for i in ids)
    assert ulid(1000, b"\xff" * 10) < ulid(1001, bytes(10))

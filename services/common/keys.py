"""Signing keys, one per purpose, derived from the master secret (LB_SECRET_KEY) with HKDF.

Each process holds only the keys for what it signs or verifies: the search service gets the
search-principal key alone (LB_SEARCH_PRINCIPAL_KEY), so a leak there cannot mint API access
tokens, playback links or blob links. Keys are bytes; JWTs and HMACs take them as they are.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

_HASH_LEN = hashlib.sha256().digest_size
# Fixed, public, and part of every key: changing it changes every key (and logs everyone out).
_SALT = b"lessonbridge key derivation v1"
KEY_LENGTH = 32


class Purpose(StrEnum):
    access_token = "access-token"        # API access JWTs (services/common/tokens.py)
    search_principal = "search-principal"  # the API's calls to the search service (common/search.py)
    playback = "playback"                # /play/{token}/ links (api/playback/tokens.py)
    blob_url = "blob-url"                # signed local-disk blob URLs (common/storage/signing.py)
    pack_signing = "pack-signing"        # the Ed25519 seed offline packs are signed with (api/packs/signing.py)


def hkdf_sha256(ikm: bytes, *, salt: bytes, info: bytes, length: int = KEY_LENGTH) -> bytes:
    """HKDF (RFC 5869) with HMAC-SHA256: extract, then expand."""
    if not 0 < length <= 255 * _HASH_LEN:
        raise ValueError("HKDF-SHA256 output must be 1..8160 bytes")
    prk = hmac.new(salt or bytes(_HASH_LEN), ikm, hashlib.sha256).digest()
    okm, block = b"", b""
    for counter in range(1, -(-length // _HASH_LEN) + 1):
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        okm += block
    return okm[:length]


def derive_key(master: str, purpose: Purpose) -> bytes:
    return hkdf_sha256(master.encode(), salt=_SALT, info=f"lessonbridge/{purpose.value}".encode())


@dataclass(frozen=True, slots=True)
class Keys:
    """Every key the API holds, derived from the master secret."""

    access_token: bytes
    search_principal: bytes
    playback: bytes
    blob_url: bytes
    pack_signing: bytes


@lru_cache(maxsize=8)
def derive_keys(master: str) -> Keys:
    keys = {purpose.name: derive_key(master, purpose) for purpose in Purpose}
    # In its text form (as bytes): the search service is given it as text (LB_SEARCH_PRINCIPAL_KEY,
    # `lb keys search-principal`), and both sides must sign with the very same bytes.
    keys["search_principal"] = key_text(keys["search_principal"]).encode()
    return Keys(**keys)


def key_text(key: bytes) -> str:
    """A derived key as configuration text (LB_SEARCH_PRINCIPAL_KEY); `key_bytes` of it is what signs."""
    return base64.urlsafe_b64encode(key).decode().rstrip("=")


def key_bytes(key: str | bytes) -> bytes:
    """A key given in configuration (text) or derived (bytes), as bytes."""
    return key if isinstance(key, bytes) else key.encode()

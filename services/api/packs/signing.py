"""The platform's pack signing key: Ed25519, derived from the platform secret, so every API
process signs with the same key and nothing new has to be stored or backed up; verifiers need
only the public half (`GET /packs/public-key`)."""
from __future__ import annotations

import base64
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from services.common.keys import Purpose, derive_key

ALGORITHM = "ed25519"


def pack_signing_key(secret: str) -> Ed25519PrivateKey:
    # The seed is the platform's pack-signing key, derived like every key of the platform.
    return Ed25519PrivateKey.from_private_bytes(derive_key(secret, Purpose.pack_signing))


def public_key_b64(public_key: Ed25519PublicKey) -> str:
    return base64.b64encode(public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode("ascii")


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short name for the key, written into each manifest, so a verifier holding several
    (after a secret rotation) knows which one to try."""
    return hashlib.sha256(public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()[:16]


def load_public_key(encoded: str) -> Ed25519PublicKey:
    """A raw 32-byte Ed25519 public key in base64; ValueError when it is not one."""
    try:
        raw = base64.b64decode(encoded.strip(), validate=True)
    except (ValueError, TypeError) as error:
        raise ValueError("the public key is not base64") from error
    if len(raw) != 32:
        raise ValueError("the public key is not 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def sign(private_key: Ed25519PrivateKey, data: bytes) -> bytes:
    """The signature as it is stored in `manifest.sig`: base64 text."""
    return base64.b64encode(private_key.sign(data)) + b"\n"


def signature_holds(public_key: Ed25519PublicKey, data: bytes, signature: bytes) -> bool:
    try:
        public_key.verify(base64.b64decode(signature.strip(), validate=True), data)
    except (InvalidSignature, ValueError):
        return False
    return True

"""Signed, expiring URLs for blobs served by our own HTTP routes (the local-disk backend), signed
with the blob-URL key (services/common/keys.py)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import quote, urlencode

from services.common.keys import key_bytes


def _signature(secret: str | bytes, key: str, expires: int, filename: str) -> str:
    message = f"{key}\n{expires}\n{filename}".encode()
    digest = hmac.new(key_bytes(secret), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign_blob_url(*, base_url: str, secret: str | bytes, key: str, expires_s: int, filename: str | None) -> str:
    expires = int(time.time()) + expires_s
    params = {"expires": str(expires), "signature": _signature(secret, key, expires, filename or "")}
    if filename:
        params["filename"] = filename
    return f"{base_url.rstrip('/')}/{quote(key)}?{urlencode(params)}"


def verify_blob_signature(*, secret: str | bytes, key: str, expires: int, filename: str | None, signature: str,
                          now: float | None = None) -> bool:
    if expires < (now if now is not None else time.time()):
        return False
    expected = _signature(secret, key, expires, filename or "")
    # As bytes: compare_digest refuses str with non-ASCII characters (a 500 for `signature=é`).
    return hmac.compare_digest(expected.encode(), signature.encode())

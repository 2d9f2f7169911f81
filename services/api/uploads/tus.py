"""The tus 1.0.0 wire format: headers in, headers out."""
from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from services.api.uploads import limits
from services.api.uploads.errors import BadUploadRequest, UnsupportedChecksum, UnsupportedTusVersion

VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,termination,checksum,expiration"
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
CHECKSUMS: dict[str, Callable[[], Any]] = {"sha1": hashlib.sha1, "md5": hashlib.md5, "sha256": hashlib.sha256}


# Problems only tus answers (beyond the common ones every operation declares).
PROBLEMS: dict[int | str, dict[str, Any]] = {
    410: {"description": "The upload expired, was terminated or refused"},
    412: {"description": "Tus-Resumable is missing or not 1.0.0"},
    423: {"description": "Another request is writing this upload"},
    460: {"description": "The Upload-Checksum does not match the bytes"},
}


def header(name: str, schema: dict[str, Any], description: str, *, required: bool = True) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": required, "schema": schema, "description": description}


def headers_in(*extra: dict[str, Any]) -> dict[str, Any]:
    """`openapi_extra` of a tus route: the headers it reads (they are not FastAPI parameters)."""
    return {"parameters": [header("Tus-Resumable", {"type": "string", "enum": [VERSION]}, "The tus version"),
                           *extra]}


def require_version(headers: Any) -> None:
    if headers.get("tus-resumable") != VERSION:
        raise UnsupportedTusVersion()


def parse_metadata(raw: str | None) -> dict[str, str]:
    """`key base64value,key2 base64value2` (values optional), decoded as UTF-8."""
    metadata: dict[str, str] = {}
    if not raw:
        return metadata
    if len(raw) > 16 * 1024:
        raise BadUploadRequest(reason="Upload-Metadata is too long")
    for pair in raw.split(","):
        key, _, value = pair.strip().partition(" ")
        if not key or " " in value.strip():
            raise BadUploadRequest(reason=f"malformed Upload-Metadata pair {pair.strip()!r}")
        try:
            metadata[key] = base64.b64decode(value.strip(), validate=True).decode("utf-8") if value else ""
        except (binascii.Error, UnicodeDecodeError):
            raise BadUploadRequest(reason=f"Upload-Metadata value of {key!r} is not base64 UTF-8") from None
    return metadata


def encode_metadata(metadata: dict[str, str]) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" if v else k for k, v in metadata.items())


def parse_offset(raw: str | None) -> int:
    if not is_ascii_count(raw):
        raise BadUploadRequest(reason="Upload-Offset must be a non-negative integer")
    return int(raw)


def is_ascii_count(raw: str | None) -> bool:
    """A non-negative integer in ASCII digits, as tus says. `str.isdigit` and `int` also take
    other digits ('²', a latin-1 byte in a header, is one int() then refuses: a 500), and int()
    refuses more than 4300 digits; 19 digits hold any size we could take."""
    return raw is not None and 0 < len(raw) <= 19 and raw.isascii() and raw.isdigit()


def parse_checksum(raw: str | None) -> tuple[str, bytes] | None:
    if raw is None:
        return None
    algorithm, _, encoded = raw.strip().partition(" ")
    if algorithm not in CHECKSUMS:
        raise UnsupportedChecksum(algorithms=",".join(CHECKSUMS))
    try:
        return algorithm, base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise BadUploadRequest(reason="Upload-Checksum value is not base64") from None


def expires_header(expires_at: datetime) -> str:
    return format_datetime(expires_at, usegmt=True)


def capability_headers() -> dict[str, str]:
    return {"Tus-Resumable": VERSION, "Tus-Version": VERSION, "Tus-Extension": EXTENSIONS,
            "Tus-Max-Size": str(limits.LARGEST), "Tus-Checksum-Algorithm": ",".join(CHECKSUMS)}

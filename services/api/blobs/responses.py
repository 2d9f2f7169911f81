"""One way to send stored bytes: Range (RFC 9110 §14) with If-Range, ETag/If-None-Match, and a download
name that survives Chinese characters (RFC 6266 filename*)."""
from __future__ import annotations

import re
from urllib.parse import quote

from starlette.responses import Response, StreamingResponse

from services.api.blobs.errors import BlobMissing, RangeNotSatisfiable
from services.common.storage import BlobNotFound, BlobStore

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def blob_response(*, store: BlobStore, key: str, range_header: str | None, if_none_match: str | None,
                  filename: str | None, cache_control: str, inline: bool = False,
                  if_range: str | None = None) -> Response:
    try:
        info = store.stat(key)
    except BlobNotFound:
        raise BlobMissing() from None
    etag = f'"{info.etag}"'
    headers = {"ETag": etag, "Accept-Ranges": "bytes", "Cache-Control": cache_control}
    if filename:
        headers["Content-Disposition"] = content_disposition(filename, inline=inline)
    if if_none_match and etag in {tag.strip() for tag in if_none_match.split(",")}:
        return Response(status_code=304, headers=headers)
    if if_range is not None and if_range.strip() != etag:
        # A resumed download asks for the rest only if the bytes are still those it has (RFC 9110
        # §13.1.5): any other validator, a date included (we send no Last-Modified), gets them all.
        range_header = None
    start, end = _byte_range(range_header, info.size)
    if (start, end) == (0, info.size - 1) or info.size == 0:
        headers["Content-Length"] = str(info.size)
        return StreamingResponse(store.open(key) if info.size else iter([b""]), media_type=info.content_type,
                                 headers=headers)
    headers["Content-Range"] = f"bytes {start}-{end}/{info.size}"
    headers["Content-Length"] = str(end - start + 1)
    return StreamingResponse(store.open(key, start=start, end=end), status_code=206, media_type=info.content_type,
                             headers=headers)


def _byte_range(header: str | None, size: int) -> tuple[int, int]:
    """The one range asked for, clamped to the blob; several ranges are served whole."""
    if not header or size == 0:
        return 0, max(size - 1, 0)
    match = _RANGE.match(header.strip())
    if not match or "," in header:
        return 0, size - 1
    first, last = match.groups()
    if first == "":  # the last N bytes
        if last == "" or int(last) == 0:
            raise RangeNotSatisfiable(size=size)
        return max(size - int(last), 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise RangeNotSatisfiable(size=size)
    return start, end


def content_disposition(filename: str, *, inline: bool = False) -> str:
    # An ASCII fallback for old clients, the real (often Chinese) name in filename* for the rest.
    fallback = filename.encode("ascii", "replace").decode().replace('"', "").replace("?", "_") or "download"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Query, Request
from starlette.responses import Response

from services.api.blobs.errors import InvalidBlobSignature
from services.api.blobs.responses import blob_response
from services.api.routing import ANY_ORIGIN, api_router
from services.common.storage import InvalidKey, validate_key
from services.common.storage.signing import verify_blob_signature

router = api_router("/blobs", tags=["blobs"])


@router.get("/{key:path}", include_in_schema=False)
def signed_blob(request: Request, key: str, expires: Annotated[int, Query()],
                signature: Annotated[str, Query(max_length=100)],
                filename: Annotated[str | None, Query(max_length=255)] = None,
                range_header: Annotated[str | None, Header(alias="range")] = None,
                if_none_match: Annotated[str | None, Header()] = None,
                if_range: Annotated[str | None, Header()] = None) -> Response:
    """Bytes behind a signed, expiring URL made by the local blob store."""
    try:
        validate_key(key)
    except InvalidKey:
        raise InvalidBlobSignature() from None
    if not verify_blob_signature(secret=request.app.state.settings.keys.blob_url, key=key, expires=expires,
                                 filename=filename, signature=signature):
        raise InvalidBlobSignature()
    response = blob_response(store=request.app.state.blob_store, key=key, range_header=range_header,
                             if_none_match=if_none_match, if_range=if_range, filename=filename,
                             cache_control="private, max-age=3600")
    # The signature is the credential, so any web page may fetch it: a web player on another
    # origin loads HLS segments with XHR (as S3 allows for presigned URLs).
    response.headers.update(ANY_ORIGIN)
    return response

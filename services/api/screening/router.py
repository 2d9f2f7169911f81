from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Request
from fastapi.responses import Response

from services.api.auth.deps import CurrentUser
from services.api.db import SessionDep
from services.api.routing import TEXT, answers, api_router, body_of
from services.api.screening import service
from services.api.screening.schemas import LexiconImportReport
from services.common.problems import BodyTooLarge

router = api_router("/moderation/lexicon", tags=["moderation"])
MAX_LEXICON_BYTES = 5 * 1024 * 1024


async def lexicon_body(request: Request) -> bytes:
    """The request body, refused with a 413 as soon as it passes the limit."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_LEXICON_BYTES:
        raise BodyTooLarge(limit_mib=MAX_LEXICON_BYTES // 2**20)
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_LEXICON_BYTES:
            raise BodyTooLarge(limit_mib=MAX_LEXICON_BYTES // 2**20)
    return bytes(raw)


@router.put("", response_model=LexiconImportReport, openapi_extra=body_of({"text/plain": TEXT, "text/csv": TEXT}))
def import_lexicon(request: Request, session: SessionDep, caller: CurrentUser,
                   raw: Annotated[bytes, Depends(lexicon_body)],
                   mode: Literal["replace", "merge"] = "replace") -> LexiconImportReport:
    """The district's sensitive-word lexicon, as text/plain (one word a line) or text/csv
    (`word,category`); `mode=merge` keeps the words the document does not name."""
    report = service.import_lexicon(session, actor=caller, raw=raw, media_type=request.headers.get("content-type", ""),
                                    replace=mode == "replace")
    session.commit()
    return LexiconImportReport(**report)


@router.get("", response_class=Response,
            responses=answers({"text/csv": TEXT, "text/plain": TEXT}, description="The lexicon as CSV (`format=csv`) or one word a line"))
def export_lexicon(session: SessionDep, caller: CurrentUser, format: Literal["text", "csv"] = "csv") -> Response:
    body = service.export_lexicon(session, actor=caller, as_csv=format == "csv")
    if format == "csv":
        return Response(body, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="sensitive-words.csv"'})
    return Response(body, media_type="text/plain; charset=utf-8")

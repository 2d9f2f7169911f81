"""An asset's `preview` (api.md): signed links to what processing made for people to look at
without downloading the original: a document's PDF and first-page thumbnail, a video's poster
and storyboard, a picture's preview, a recording's AAC rendition."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from services.api.resources.errors import NoDocumentPreview
from services.api.resources.models import Asset
from services.api.resources.renditions import renditions_of
from services.common.jobs import JobKind
from services.common.renditions import AudioOutput, DocumentOutput, HlsOutput, ImageOutput, Output, Rendition
from services.common.storage import BlobStore

# A storage URL cannot be revoked (resources/links.py): a page asks again after this.
PREVIEW_URL_TTL_S = 15 * 60
# Which finished job shows an asset best, in this order.
_SHOWN_BY = (JobKind.document, JobKind.ladder, JobKind.first_playable, JobKind.image, JobKind.audio)


def preview_for(store: BlobStore, renditions: list[Rendition]) -> dict[str, Any] | None:
    by_job = {rendition.job: rendition for rendition in renditions}
    for job in _SHOWN_BY:
        rendition = by_job.get(job.value)
        if rendition is None:
            continue
        main, thumbnail = _shown(rendition)
        if main is None:
            continue
        preview: dict[str, Any] = {"kind": rendition.kind or job.value, "url": _url_of(store, rendition, main),
                                   "thumbnail_url": _url_of(store, rendition, thumbnail) if thumbnail else None}
        if isinstance(rendition, DocumentOutput):
            preview["pages"] = rendition.pages
        if isinstance(rendition, HlsOutput) and rendition.storyboard:
            preview["storyboard_vtt_url"] = _url_of(store, rendition, rendition.storyboard.vtt)
        return preview
    return None


def _shown(rendition: Rendition) -> tuple[str | None, str | None]:
    """The file a rendition is previewed by and its thumbnail: a document's PDF, a ladder's
    poster (its own thumbnail), a picture's preview, a recording's AAC; none for a first playable."""
    match rendition:
        case DocumentOutput() | ImageOutput():
            return rendition.preview, rendition.thumbnail
        case HlsOutput(job="ladder"):
            return rendition.poster, rendition.poster
        case AudioOutput():
            return rendition.rendition, None
    return None, None


def _url_of(store: BlobStore, rendition: Output, name: str) -> str:
    return store.presigned_get_url(rendition.key(name), expires_s=PREVIEW_URL_TTL_S)


class PreviewPage(BaseModel):
    number: int
    image_url: str


class DocumentPreview(BaseModel):
    """`GET /resources/{id}/preview` (api.md): a document's PDF and its page images."""
    asset_id: str
    pdf_url: str
    page_count: int  # pages in the PDF; the first `len(pages)` of them have images
    pages: list[PreviewPage]


def document_preview(store: BlobStore, assets: list[Asset], *, asset_id: str | None) -> DocumentPreview:
    """The preview of `asset_id`, or of the resource's first converted document (its main one
    first). Raises NoDocumentPreview when there is none (not a document, not converted yet, or
    its conversion failed)."""
    candidates = [a for a in assets if asset_id is None or a.id == asset_id]
    candidates.sort(key=lambda a: a.role != "main")
    for asset in candidates:
        rendition = next((r for r in renditions_of(asset) if isinstance(r, DocumentOutput) and r.preview), None)
        if rendition is None or rendition.preview is None:
            continue
        return DocumentPreview(
            asset_id=asset.id, pdf_url=_url_of(store, rendition, rendition.preview), page_count=rendition.pages,
            pages=[PreviewPage(number=n, image_url=_url_of(store, rendition, rendition.page_image_name(n)))
                   for n in range(1, rendition.page_images + 1)])
    raise NoDocumentPreview()

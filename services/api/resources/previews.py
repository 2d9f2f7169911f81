"""An asset's `preview` (api.md): signed links to what processing made for people to look at
without downloading the original: a document's PDF and first-page thumbnail, a video's poster
and storyboard, a picture's preview, a recording's AAC rendition."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from services.api.resources.errors import NoDocumentPreview
from services.api.resources.models import Asset
from services.common.storage import BlobStore

# A storage URL cannot be revoked (resources/links.py): a page asks again after this.
PREVIEW_URL_TTL_S = 15 * 60
# Which finished job shows an asset best, and which of its files are the preview and thumbnail.
_SHOWN_BY = (("document", "preview", "thumbnail"), ("ladder", "poster", "poster"),
             ("first_playable", None, None), ("image", "preview", "thumbnail"), ("audio", "rendition", None))


def preview_for(store: BlobStore, renditions: list[dict[str, Any]]) -> dict[str, Any] | None:
    by_job = {rendition.get("job"): rendition for rendition in renditions}
    for job, main, thumbnail in _SHOWN_BY:
        rendition = by_job.get(job)
        if rendition is None or main is None or not rendition.get(main):
            continue
        preview: dict[str, Any] = {"kind": rendition.get("kind", job), "url": _url(store, rendition, main),
                                   "thumbnail_url": _url(store, rendition, thumbnail) if thumbnail else None}
        if job == "document":
            preview["pages"] = rendition.get("pages")
        if job == "ladder" and rendition.get("storyboard"):
            preview["storyboard_vtt_url"] = _url_of(store, rendition["prefix"], rendition["storyboard"]["vtt"])
        return preview
    return None


def _url(store: BlobStore, rendition: dict[str, Any], field: str) -> str | None:
    name = rendition.get(field)
    return _url_of(store, rendition["prefix"], name) if name else None


def _url_of(store: BlobStore, prefix: str, name: str) -> str:
    return store.presigned_get_url(f"{prefix}/{name}", expires_s=PREVIEW_URL_TTL_S)


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
        rendition = next((r for r in asset.renditions or [] if r.get("job") == "document" and r.get("preview")), None)
        if rendition is None:
            continue
        template = rendition.get("page_image")
        images = rendition.get("page_images", 0) if template else 0
        return DocumentPreview(
            asset_id=asset.id, pdf_url=_url(store, rendition, "preview") or "", page_count=rendition.get("pages") or 0,
            pages=[PreviewPage(number=n, image_url=_url_of(store, rendition["prefix"], template.format(page=n)))
                   for n in range(1, images + 1)])
    raise NoDocumentPreview()

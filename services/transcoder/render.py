"""Rasterising, in a sandboxed child process (documents.py starts it through
services/common/sandbox.py): PDF pages to images and text, pictures to a preview. The parsers
(PDFium, Pillow) read hostile bytes, so they never run in the worker itself.

    python -m services.transcoder.render pages PDF OUT_DIR MAX_PAGES
    python -m services.transcoder.render image PICTURE OUT_DIR

Writes into OUT_DIR and prints one JSON object on stdout: the facts, or {"error": reason}.
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

PAGE_IMAGE_WIDTH = 1280
# A page image is at most this tall: a page 1 pt wide and 14400 pt tall would otherwise become a
# bitmap of 1280 × 18 million pixels. Pages past it are scaled down to fit, and listed.
PAGE_IMAGE_MAX_HEIGHT = 4 * PAGE_IMAGE_WIDTH
THUMBNAIL_WIDTH = 320
IMAGE_PREVIEW_SIDE = 1600


def page_scale(width_pt: float, height_pt: float) -> tuple[float, bool]:
    """The render scale of a page: PAGE_IMAGE_WIDTH wide, unless that makes it too tall (or the
    size is absurd); then what fits. Returns (scale, capped)."""
    if not (math.isfinite(width_pt) and math.isfinite(height_pt)) or width_pt <= 0 or height_pt <= 0:
        raise ValueError("a page without a usable size")
    scale = PAGE_IMAGE_WIDTH / width_pt
    if height_pt * scale <= PAGE_IMAGE_MAX_HEIGHT:
        return scale, False
    return PAGE_IMAGE_MAX_HEIGHT / height_pt, True


def render_pages(pdf: Path, out: Path, *, max_pages: int) -> dict[str, Any]:
    import pypdfium2 as pdfium
    from PIL import Image

    from services.common.renditions import PageText, page_texts_json

    try:
        document = pdfium.PdfDocument(str(pdf))
    except pdfium.PdfiumError:
        return {"error": "the PDF cannot be read / PDF 文件无法读取"}
    capped_pages = []
    try:
        total = len(document)
        pages_dir = out / "pages"
        pages_dir.mkdir()
        texts = []
        for number in range(1, min(total, max_pages) + 1):
            page = document[number - 1]
            try:
                scale, capped = page_scale(page.get_width(), page.get_height())
            except ValueError:
                return {"error": f"page {number} has no usable size / 第 {number} 页尺寸无效"}
            if capped:
                capped_pages.append(number)
            image = page.render(scale=scale).to_pil().convert("RGB")
            image.save(pages_dir / f"{number:04d}.jpg", quality=82, optimize=True)
            texts.append(PageText(page=number, text=page.get_textpage().get_text_range().strip()))
    finally:
        document.close()
    (out / "text.json").write_bytes(page_texts_json(texts))
    if total:
        with Image.open(pages_dir / "0001.jpg") as first:
            _thumbnail(first, out / "thumbnail.jpg")
    return {"pages": total, "page_images": min(total, max_pages), "capped_pages": capped_pages}


def render_image(source: Path, out: Path) -> dict[str, Any]:
    from PIL import Image, ImageOps

    try:
        with Image.open(source) as opened:
            image = ImageOps.exif_transpose(opened).convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        return {"error": "the picture cannot be read / 图片无法读取"}
    preview = image.copy()
    preview.thumbnail((IMAGE_PREVIEW_SIDE, IMAGE_PREVIEW_SIDE))
    preview.save(out / "preview.jpg", quality=85, optimize=True)
    _thumbnail(image, out / "thumbnail.jpg")
    return {"width": image.width, "height": image.height}


def _thumbnail(image: Any, path: Path) -> None:
    thumbnail = image.copy()
    thumbnail.thumbnail((THUMBNAIL_WIDTH, THUMBNAIL_WIDTH * 4))
    thumbnail.save(path, quality=80, optimize=True)


def main(argv: list[str]) -> int:
    command, source, out = argv[0], Path(argv[1]), Path(argv[2])
    if command == "pages":
        facts = render_pages(source, out, max_pages=int(argv[3]))
    elif command == "image":
        facts = render_image(source, out)
    else:
        raise SystemExit(f"unknown command {command}")
    print(json.dumps(facts, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

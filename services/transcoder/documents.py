"""Office documents, pictures and sound: previews a teacher can look at without downloading.

* Documents (PPT/PPTX/DOC/DOCX/XLS/XLSX/ODP/ODT/ODS) become a PDF through LibreOffice headless,
  rendered with Chinese (zh-CN) fonts; PDFs are used as they are. Every page then gets an image
  and its text (pypdfium2), the text stored per page for search ("page 7").
* Pictures get a preview and a thumbnail (EXIF orientation applied).
* Audio gets an AAC rendition every player can stream.
A file that cannot be converted fails the job with a reason; the original stays downloadable.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
from PIL import Image, ImageOps

from services.common import media
from services.common.jobs import JobFailed
from services.transcoder.ffmpeg_run import FFMPEG_WITH_PROGRESS, run_ffmpeg

LIBREOFFICE_TIMEOUT_S = 300
MAX_PAGES = 300             # pages given images and text; longer files keep their full PDF
PAGE_IMAGE_WIDTH = 1280
THUMBNAIL_WIDTH = 320
IMAGE_PREVIEW_SIDE = 1600
AUDIO_KBPS = 96

# What LibreOffice must be told the file is: it picks its import filter by the extension.
OFFICE_EXTENSIONS = {
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-powerpoint": ".ppt",
    "application/msword": ".doc",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.oasis.opendocument.presentation": ".odp",
    "application/vnd.oasis.opendocument.text": ".odt",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
}
PDF = "application/pdf"


def document_outputs(source: Path, media_type: str, *, scratch: Path, out: Path) -> dict[str, Any]:
    """preview.pdf, pages/NNNN.jpg and text.json in `out`; returns their manifest entries."""
    pdf = out / "preview.pdf"
    if media_type == PDF:
        shutil.copyfile(source, pdf)
    elif media_type in OFFICE_EXTENSIONS:
        convert_to_pdf(source, OFFICE_EXTENSIONS[media_type], scratch=scratch, pdf=pdf)
    else:
        raise JobFailed(f"no preview for {media_type or 'this type'} / 该文件类型无法预览")
    try:
        document = pdfium.PdfDocument(str(pdf))
    except pdfium.PdfiumError:
        raise JobFailed("the PDF cannot be read / PDF 文件无法读取") from None
    try:
        total = len(document)
        pages_dir = out / "pages"
        pages_dir.mkdir()
        texts = []
        for number in range(1, min(total, MAX_PAGES) + 1):
            page = document[number - 1]
            width = page.get_width() or 1
            image = page.render(scale=PAGE_IMAGE_WIDTH / width).to_pil().convert("RGB")
            image.save(pages_dir / f"{number:04d}.jpg", quality=82, optimize=True)
            texts.append({"page": number, "text": page.get_textpage().get_text_range().strip()})
    finally:
        document.close()
    (out / "text.json").write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    first = Image.open(pages_dir / "0001.jpg") if total else None
    if first is not None:
        _thumbnail(first, out / "thumbnail.jpg")
    return {"kind": "document", "preview": "preview.pdf", "pages": total, "page_images": min(total, MAX_PAGES),
            "page_image": "pages/{page:04d}.jpg", "text": "text.json",
            "thumbnail": "thumbnail.jpg" if first is not None else None}


def convert_to_pdf(source: Path, extension: str, *, scratch: Path, pdf: Path) -> None:
    work = scratch / "libreoffice"
    work.mkdir(parents=True)
    named = work / f"source{extension}"
    shutil.copyfile(source, named)
    # A profile of its own per conversion: two soffice processes sharing one refuse to run.
    profile = (work / "profile").as_uri()
    env = {**os.environ, "HOME": str(work), "LANG": "zh_CN.UTF-8", "LC_ALL": "C.UTF-8", "FC_LANG": "zh-cn",
           "SAL_USE_VCLPLUGIN": "svp"}
    try:
        result = subprocess.run(
            ["soffice", f"-env:UserInstallation={profile}", "--headless", "--norestore", "--nolockcheck",
             "--nodefault", "--nofirststartwizard", "--convert-to", "pdf", "--outdir", str(work), str(named)],
            capture_output=True, text=True, timeout=LIBREOFFICE_TIMEOUT_S, env=env, check=False,
            start_new_session=True)
    except subprocess.TimeoutExpired:
        raise JobFailed("converting the document took too long / 文档转换超时") from None
    except FileNotFoundError:
        raise JobFailed("LibreOffice is not installed on this worker (infra/libreoffice.sh)") from None
    produced = work / "source.pdf"
    if result.returncode != 0 or not produced.exists() or produced.stat().st_size == 0:
        raise JobFailed("the document could not be converted to PDF (damaged or unsupported) / 文档无法转换为 PDF")
    shutil.move(produced, pdf)


def image_outputs(source: Path, *, out: Path) -> dict[str, Any]:
    try:
        with Image.open(source) as opened:
            image = ImageOps.exif_transpose(opened).convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError):
        raise JobFailed("the picture cannot be read / 图片无法读取") from None
    preview = image.copy()
    preview.thumbnail((IMAGE_PREVIEW_SIDE, IMAGE_PREVIEW_SIDE))
    preview.save(out / "preview.jpg", quality=85, optimize=True)
    _thumbnail(image, out / "thumbnail.jpg")
    return {"kind": "image", "preview": "preview.jpg", "thumbnail": "thumbnail.jpg",
            "width": image.width, "height": image.height}


def audio_outputs(source: str, facts: media.MediaFacts, *, out: Path, report: Any, should_stop: Any) -> dict[str, Any]:
    run_ffmpeg([*FFMPEG_WITH_PROGRESS, "-i", source, "-map", "0:a:0", "-vn", "-c:a", "aac", "-b:a", f"{AUDIO_KBPS}k",
                "-movflags", "+faststart", str(out / "audio.m4a")],
               duration_s=facts.duration_s, time_limit_s=max(300.0, facts.duration_s), on_progress=report,
               should_stop=should_stop)
    return {"kind": "audio", "rendition": "audio.m4a", "duration_s": facts.duration_s, "bit_rate": AUDIO_KBPS * 1000}


def _thumbnail(image: Image.Image, path: Path) -> None:
    thumbnail = image.copy()
    thumbnail.thumbnail((THUMBNAIL_WIDTH, THUMBNAIL_WIDTH * 4))
    thumbnail.save(path, quality=80, optimize=True)

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
import shutil
from pathlib import Path
from typing import Any

from services.common import media, sandbox
from services.common.jobs import JobFailed
from services.common.renditions import AudioOutput, DocumentOutput, ImageOutput
from services.transcoder.ffmpeg_run import FFMPEG_WITH_PROGRESS, run_ffmpeg

LIBREOFFICE_LIMITS = sandbox.Limits(time_s=300, memory_bytes=4 * sandbox.GiB, file_bytes=2 * sandbox.GiB)
RENDER_LIMITS = sandbox.Limits(time_s=600, memory_bytes=3 * sandbox.GiB, file_bytes=1 * sandbox.GiB)
MAX_PAGES = 300             # pages given images and text; longer files keep their full PDF
AUDIO_KBPS = 96

# LibreOffice's settings for a hostile document, written into the conversion's own profile:
# links (to other files, to URLs, to data sources) are never updated, linked content from
# untrusted documents is not fetched, and no macro runs.
LIBREOFFICE_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="DisableMacrosExecution" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="BlockUntrustedRefererLinks" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Writer/Content/Update"><prop oor:name="Link" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Content/Update"><prop oor:name="Link" oor:op="fuse"><value>1</value></prop></item>
</oor:items>
"""

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


def document_outputs(source: Path, media_type: str, *, prefix: str, scratch: Path, out: Path) -> DocumentOutput:
    """preview.pdf, pages/NNNN.jpg and text.json in `out`; returns their manifest (to be
    published under `prefix`)."""
    pdf = out / "preview.pdf"
    if media_type == PDF:
        shutil.copyfile(source, pdf)
    elif media_type in OFFICE_EXTENSIONS:
        convert_to_pdf(source, OFFICE_EXTENSIONS[media_type], scratch=scratch, pdf=pdf)
    else:
        raise JobFailed(f"no preview for {media_type or 'this type'} / 该文件类型无法预览")
    facts = _render(scratch, "pages", pdf, out, str(MAX_PAGES))
    capped: dict[str, Any] = {}
    if facts["capped_pages"]:
        # Said, not hidden: these pages' images are smaller than the others.
        capped = {"note": (f"{len(facts['capped_pages'])} page(s) of absurd size rendered scaled down"
                           " / 部分页面尺寸异常，已缩小显示"),
                  "capped_pages": facts["capped_pages"]}
    return DocumentOutput(kind="document", prefix=prefix, preview="preview.pdf", pages=facts["pages"],
                          page_images=facts["page_images"], page_image="pages/{page:04d}.jpg", text="text.json",
                          thumbnail="thumbnail.jpg" if facts["pages"] else None, **capped)


def _render(scratch: Path, command: str, source: Path, out: Path, *args: str) -> dict[str, Any]:
    """Runs services/transcoder/render.py in the sandbox; its verdict, or JobFailed."""
    argv, env = sandbox.python_module("services.transcoder.render", command, str(source), str(out), *args)
    try:
        result = sandbox.run(argv, scratch=scratch, limits=RENDER_LIMITS, env=env, text=True)
    except sandbox.SandboxTimeout:
        raise JobFailed("rendering took too long / 渲染超时") from None
    try:
        facts = json.loads(result.stdout.strip().splitlines()[-1]) if result.returncode == 0 else None
    except (ValueError, IndexError):
        facts = None
    if facts is None:
        # Killed by a limit (memory, CPU, file size) or crashed in a parser: the file is the cause.
        raise JobFailed("the file is too demanding to render, or damaged / 文件过于复杂或已损坏，无法渲染")
    if "error" in facts:
        raise JobFailed(facts["error"])
    return facts


def convert_to_pdf(source: Path, extension: str, *, scratch: Path, pdf: Path) -> None:
    work = scratch / "libreoffice"
    work.mkdir(parents=True)
    named = work / f"source{extension}"
    shutil.copyfile(source, named)
    # A profile of its own per conversion: two soffice processes sharing one refuse to run.
    profile = work / "profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(LIBREOFFICE_PROFILE, encoding="utf-8")
    env = {"LANG": "zh_CN.UTF-8", "LC_ALL": "C.UTF-8", "FC_LANG": "zh-cn", "SAL_USE_VCLPLUGIN": "svp"}
    if shutil.which("soffice", path=sandbox.SYSTEM_PATH) is None:
        raise JobFailed("LibreOffice is not installed on this worker (infra/libreoffice.sh)")
    try:
        result = sandbox.run(
            ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore", "--nolockcheck",
             "--nodefault", "--nofirststartwizard", "--convert-to", "pdf", "--outdir", str(work), str(named)],
            scratch=scratch, limits=LIBREOFFICE_LIMITS, env=env, text=True, private_tmp=True)
    except sandbox.SandboxTimeout:
        raise JobFailed("converting the document took too long / 文档转换超时") from None
    produced = work / "source.pdf"
    if result.returncode != 0 or not produced.exists() or produced.stat().st_size == 0:
        raise JobFailed("the document could not be converted to PDF (damaged or unsupported) / 文档无法转换为 PDF")
    shutil.move(produced, pdf)


def image_outputs(source: Path, *, prefix: str, scratch: Path, out: Path) -> ImageOutput:
    facts = _render(scratch, "image", source, out)
    return ImageOutput(kind="image", prefix=prefix, preview="preview.jpg", thumbnail="thumbnail.jpg",
                       width=facts["width"], height=facts["height"])


def audio_outputs(source: str, facts: media.MediaFacts, *, media_type: str | None, prefix: str, scratch: Path,
                  out: Path, report: Any, should_stop: Any) -> AudioOutput:
    run_ffmpeg([*FFMPEG_WITH_PROGRESS, *media.input_args(source, media_type), "-map", "0:a:0", "-vn", "-c:a", "aac",
                "-b:a", f"{AUDIO_KBPS}k", "-movflags", "+faststart", str(out / "audio.m4a")],
               scratch=scratch, network=media.is_url(source), duration_s=facts.duration_s,
               time_limit_s=max(300.0, facts.duration_s), on_progress=report,
               should_stop=should_stop)
    return AudioOutput(kind="audio", prefix=prefix, rendition="audio.m4a", duration_s=facts.duration_s,
                       bit_rate=AUDIO_KBPS * 1000)

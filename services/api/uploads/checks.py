"""The checks a finished upload must pass before anything is kept. Each refusal is a domain
error the client sees as a problem detail."""
from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from PIL import Image

from services.api.uploads import limits
from services.api.uploads.errors import MediaOutOfLimits, UnreadableMedia, UnsafeFile, UnsupportedFileType
from services.common import media

_OOXML_BY_FOLDER = {
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_ODF = {"application/vnd.oasis.opendocument.presentation", "application/vnd.oasis.opendocument.text"}
# Legacy Office streams are named in UTF-16 in the compound file's directory.
_OLE_STREAMS = {
    "PowerPoint Document".encode("utf-16-le"): "application/vnd.ms-powerpoint",
    "WordDocument".encode("utf-16-le"): "application/msword",
    "Workbook".encode("utf-16-le"): "application/vnd.ms-excel",
    "Book".encode("utf-16-le"): "application/vnd.ms-excel",
}


def office_zip_type(path: Path) -> str:
    """The Office/ODF type of a zip, after refusing bombs and XML entity tricks."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise UnsafeFile(reason="damaged zip archive / 压缩包已损坏") from None
    with archive:
        entries = archive.infolist()
        if len(entries) > limits.ZIP_MAX_ENTRIES:
            raise UnsafeFile(reason=f"{len(entries)} entries in the archive / 压缩包条目过多")
        total = sum(entry.file_size for entry in entries)
        if total > limits.ZIP_MAX_TOTAL_UNCOMPRESSED:
            raise UnsafeFile(reason="expands to more than 1 GiB (zip bomb) / 解压后超过 1 GiB（疑似压缩炸弹）")
        for entry in entries:
            if entry.file_size > limits.MiB and entry.file_size > limits.ZIP_MAX_RATIO * max(entry.compress_size, 1):
                raise UnsafeFile(reason=f"{entry.filename} compresses {entry.file_size // max(entry.compress_size, 1)}:1"
                                        " (zip bomb) / 压缩比异常（疑似压缩炸弹）")
        names = {entry.filename for entry in entries}
        media_type = _zip_media_type(archive, names)
        for entry in entries:
            if entry.filename.endswith((".xml", ".rels")):
                _refuse_xml_tricks(archive, entry)
    return media_type


def _zip_media_type(archive: zipfile.ZipFile, names: set[str]) -> str:
    if "mimetype" in names:
        declared = _read_capped(archive, archive.getinfo("mimetype"), 200).decode("ascii", "replace").strip()
        if declared in _ODF:
            return declared
    if "[Content_Types].xml" in names:
        for folder, media_type in _OOXML_BY_FOLDER.items():
            if any(name.startswith(folder) for name in names):
                return media_type
    raise UnsupportedFileType()


def _refuse_xml_tricks(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> None:
    # Office XML never needs a DTD; one in an upload is an entity-expansion or XXE attempt.
    head = _read_capped(archive, entry, limits.ZIP_MAX_XML_PART)
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise UnsafeFile(reason=f"{entry.filename} declares XML entities / 文件含有 XML 实体声明")


def _read_capped(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, cap: int) -> bytes:
    """At most `cap` decompressed bytes: a header that lies about its size cannot make us read more."""
    with archive.open(entry) as stream:
        data = stream.read(cap + 1)
    if len(data) > cap:
        raise UnsafeFile(reason=f"{entry.filename} is larger than it may be / 文件内容超出限制")
    return data


def ole_office_type(head: bytes) -> str:
    for stream_name, media_type in _OLE_STREAMS.items():
        if stream_name in head:
            return media_type
    raise UnsupportedFileType()


def check_image(path: Path) -> dict[str, Any]:
    try:
        with Image.open(path) as image:
            width, height = image.size
            if width > limits.IMAGE_MAX_SIDE or height > limits.IMAGE_MAX_SIDE or width * height > limits.IMAGE_MAX_PIXELS:
                raise UnsafeFile(reason=f"{width}×{height} pixels is too large / 图片尺寸过大")
            if max(width, height) > limits.IMAGE_MAX_ASPECT * max(min(width, height), 1):
                raise UnsafeFile(reason=f"{width}×{height} pixels is not a usable picture / 图片长宽比异常")
            image.verify()  # decodes enough to catch truncated or corrupt files
    except UnsafeFile:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise UnsafeFile(reason=f"not a readable image ({type(error).__name__}) / 图片无法读取") from None
    return {"width": width, "height": height}


def probe_media(source: str, *, category: str) -> dict[str, Any]:
    """ffprobe's facts about a video or audio file, refused if unreadable or out of limits."""
    try:
        facts = media.probe(source, need_video=category == "video", need_audio=category == "audio")
    except media.MediaProblem as problem:
        raise (UnreadableMedia if problem.unreadable else MediaOutOfLimits)(reason=problem.reason) from None
    return facts.summary()

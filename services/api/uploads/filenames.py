"""File names as people gave them, made safe to store and to send back in a header."""
from __future__ import annotations

import unicodedata

from services.api.uploads.errors import BadUploadRequest

MAX_NAME_BYTES = 240


def clean_filename(raw: str) -> str:
    """Unicode kept (一元二次方程 第1课.pptx stays itself); separators and control characters
    become '_'; a name that tries to climb directories is refused outright."""
    name = unicodedata.normalize("NFC", raw).strip()
    segments = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or ".." in segments or (len(name) > 1 and name[1] == ":"):
        raise BadUploadRequest(reason=f"file name {raw!r} is a path, not a name / 文件名不能包含路径")
    cleaned = "".join("_" if ch in "/\\" or unicodedata.category(ch).startswith("C") else ch for ch in name)
    cleaned = cleaned.strip(" .")
    while len(cleaned.encode()) > MAX_NAME_BYTES:  # keep the extension when shortening
        stem, dot, extension = cleaned.rpartition(".")
        cleaned = f"{stem[:-1]}{dot}{extension}" if dot and len(extension) < 10 else cleaned[:-1]
    if not cleaned:
        raise BadUploadRequest(reason="empty file name / 文件名为空")
    return cleaned


def extension_of(filename: str) -> str:
    _, dot, extension = filename.rpartition(".")
    return extension.lower() if dot else ""

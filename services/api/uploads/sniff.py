"""What a file really is, from its bytes: never from its name or the type a client declared.

Each accepted format is named by its media type and belongs to one category (document, video,
audio, image). Zip- and OLE-based Office files need a look inside the container, done by
`checks.py` with the whole file at hand; here they are only recognised as containers.
"""
from __future__ import annotations

from dataclasses import dataclass

HEAD_BYTES = 64 * 1024  # what sniffing reads from the start of a file

ZIP_CONTAINER = "application/zip"
OLE_CONTAINER = "application/x-ole-storage"

CATEGORY_OF = {
    "application/pdf": "document",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "document",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "document",
    "application/vnd.ms-powerpoint": "document",
    "application/msword": "document",
    "application/vnd.ms-excel": "document",
    "application/vnd.oasis.opendocument.presentation": "document",
    "application/vnd.oasis.opendocument.text": "document",
    "video/mp4": "video",
    "video/quicktime": "video",
    "video/x-matroska": "video",
    "video/webm": "video",
    "video/x-flv": "video",
    "video/mp2t": "video",
    "video/x-msvideo": "video",
    "audio/mpeg": "audio",
    "audio/mp4": "audio",
    "audio/wav": "audio",
    "audio/aac": "audio",
    "image/png": "image",
    "image/jpeg": "image",
    "image/gif": "image",
    "image/webp": "image",
    # Subtitle sidecars are text and never sniffed: these only guess the category from a declared type.
    "text/vtt": "subtitle",
    "application/x-subrip": "subtitle",
}

# Names and declared types, used only to guess a category (and its size limit) before any byte
# arrives; the bytes decide afterwards.
EXTENSION_CATEGORY = {
    **dict.fromkeys(["pdf", "ppt", "pptx", "doc", "docx", "xls", "xlsx", "odp", "odt"], "document"),
    **dict.fromkeys(["mp4", "mov", "mkv", "flv", "ts", "webm", "avi", "m4v"], "video"),
    **dict.fromkeys(["mp3", "m4a", "wav", "aac"], "audio"),
    **dict.fromkeys(["png", "jpg", "jpeg", "gif", "webp"], "image"),
    **dict.fromkeys(["vtt", "srt"], "subtitle"),
}


@dataclass(frozen=True)
class Sniffed:
    media_type: str  # a key of CATEGORY_OF, or one of the containers, or "" when unknown


def sniff(head: bytes) -> Sniffed:
    return Sniffed(media_type=_sniff(head))


def _sniff(head: bytes) -> str:
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"PK\x03\x04"):
        return ZIP_CONTAINER
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return OLE_CONTAINER
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video/x-msvideo"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"M4A ", b"M4B "):
            return "audio/mp4"
        if brand == b"qt  ":
            return "video/quicktime"
        return "video/mp4"
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free"):  # old QuickTime without ftyp
        return "video/quicktime"
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: Matroska or WebM, told apart by DocType
        return "video/webm" if b"webm" in head[:64] else "video/x-matroska"
    if head.startswith(b"FLV\x01"):
        return "video/x-flv"
    if _is_mpeg_ts(head):
        return "video/mp2t"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0
                                   and head[1] & 0x06 != 0):
        return "audio/mpeg"
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:  # ADTS
        return "audio/aac"
    return ""


def _is_mpeg_ts(head: bytes) -> bool:
    # A sync byte every 188 bytes, several times over.
    packets = min(len(head) // 188, 5)
    return packets >= 3 and all(head[i * 188] == 0x47 for i in range(packets))

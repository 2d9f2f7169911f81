"""The checks a finished upload must pass before anything is kept. Each refusal is a domain
error the client sees as a problem detail.

The checks that parse a document or a picture run in a sandboxed child process
(inspector.py), never in the API itself: a parser bug, a bomb or a loop costs that process its
time or memory limit, and the upload is refused as too demanding.
"""
from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from pathlib import Path
from typing import IO, Any

from PIL import Image

from services.api.uploads import limits
from services.api.uploads.errors import (ActiveContent, DamagedDocument, EncryptedFile, MediaOutOfLimits, TooComplex,
                                         UnreadableMedia, UnsafeFile, UnsupportedFileType)
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
# Compound-file directory entries (128 bytes, the name first) that are active content or
# encryption, wherever they sit: in a .doc/.ppt/.xls, or in an object embedded in an Office file.
_OLE_ACTIVE = {
    "_VBA_PROJECT": "macros (VBA) / 宏代码",
    "\x01Ole10Native": "an embedded file package (OLE Package) / 嵌入的文件包",
}
_OLE_ENCRYPTED = ("EncryptedPackage", "EncryptionInfo")
# Parts of an Office file that are code, whatever the file is called.
_ACTIVE_PARTS = re.compile(r"(^|/)(vbaProject\.bin|vbaData\.xml)$|(^|/)activeX/|^(Basic|Scripts)/", re.IGNORECASE)
_MACRO_CONTENT_TYPES = (b"macroEnabled", b"vbaProject", b"vnd.ms-office.activeX")
# A relationship that makes the file fetch or run something outside itself (a remote template,
# a linked OLE object, a linked picture). Hyperlinks are followed only by people who click them.
_EXTERNAL_RELATIONSHIP = re.compile(rb'<Relationship\b[^>]*\bTargetMode="External"[^>]*>')
_HYPERLINK_TYPE = re.compile(rb'Type="[^"]*/hyperlink"')
# ODF: an element that loads its content from a URL or another file when the document opens.
_ODF_LINKED = re.compile(rb'<(draw:image|draw:object|draw:object-ole|draw:plugin|draw:applet|draw:floating-frame'
                         rb'|text:section-source|table:table-source|table:cell-range-source)\b[^>]*'
                         rb'xlink:href="([^"]*)"')
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def office_zip_type(path: Path) -> str:
    """The Office/ODF type of a zip, after refusing bombs, lies, encryption, XML entity tricks,
    active content, and archives inside it that fail the same checks."""
    with path.open("rb") as file:
        archive = _open_zip(file)
        with archive:
            names = {entry.filename for entry in archive.infolist()}
            media_type = _zip_media_type(archive, names)
            _check_archive(archive, depth=0, budget=[limits.ZIP_MAX_TOTAL_UNCOMPRESSED])
    return media_type


def _open_zip(file: IO[bytes]) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error, UnicodeDecodeError):
        raise UnsafeFile(reason="damaged zip archive / 压缩包已损坏") from None


def _check_archive(archive: zipfile.ZipFile, *, depth: int, budget: list[int]) -> None:
    """Every entry of `archive` (and of archives inside it), read to its end: sizes that do not
    match what the headers say, or a checksum that does not, are refused, so no header is trusted."""
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
        if entry.flag_bits & 0x1:
            raise EncryptedFile(reason=f"{entry.filename} is encrypted (zip password) / 压缩包内容已加密")
        if entry.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise DamagedDocument(reason=f"{entry.filename} uses compression method {entry.compress_type},"
                                         " which Office never writes / 压缩方式异常")
        if _ACTIVE_PARTS.search(entry.filename):
            raise ActiveContent(reason=f"{entry.filename}: macros or ActiveX controls / 含有宏或 ActiveX 控件")
    _refuse_overlaps(archive, entries)
    for entry in entries:
        if entry.is_dir():
            continue
        head, nested = _read_entry(archive, entry, budget=budget)
        if entry.filename.endswith((".xml", ".rels")):
            _refuse_xml_tricks(entry.filename, head)
            _refuse_active_xml(entry.filename, head)
        if nested is not None:
            _check_nested(entry.filename, nested, depth=depth, budget=budget)


def _refuse_overlaps(archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo]) -> None:
    # Entries sharing bytes are how a small zip claims to hold terabytes (overlapping entries);
    # no archiver writes them.
    ordered = sorted(entries, key=lambda entry: entry.header_offset)
    for entry, following in zip(ordered, ordered[1:]):
        if entry.header_offset + entry.compress_size > following.header_offset:
            raise UnsafeFile(reason=f"{entry.filename} overlaps {following.filename} (zip bomb) / 压缩包条目重叠")
    if ordered and ordered[-1].header_offset + ordered[-1].compress_size > archive.start_dir:
        raise UnsafeFile(reason=f"{ordered[-1].filename} runs into the directory / 压缩包结构异常")


def _read_entry(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, *,
                budget: list[int]) -> tuple[bytes, bytes | None]:
    """Reads an entry to its end, within the budget of bytes the whole file may expand to;
    returns it if it is XML (for the XML checks), and all of it if it is itself an archive."""
    head = bytearray()
    wants_head = entry.filename.endswith((".xml", ".rels"))
    nested: bytearray | None = None
    read = 0
    try:
        with archive.open(entry) as stream:
            while chunk := stream.read(1024 * 1024):
                read += len(chunk)
                budget[0] -= len(chunk)
                if budget[0] < 0 or read > entry.file_size:
                    raise UnsafeFile(reason=f"{entry.filename} expands past what its header says"
                                            " / 文件内容超出声明的大小")
                if wants_head:
                    head += chunk
                    if len(head) > limits.ZIP_MAX_XML_PART:
                        raise UnsafeFile(reason=f"{entry.filename} is larger than it may be / 文件内容超出限制")
                if read == len(chunk) and chunk.startswith((_ZIP_MAGIC, _OLE_MAGIC)):
                    nested = bytearray()
                if nested is not None:
                    if len(nested) + len(chunk) > limits.ZIP_MAX_NESTED:
                        raise TooComplex(reason=f"{entry.filename}: an embedded archive over"
                                                f" {limits.ZIP_MAX_NESTED // limits.MiB} MiB / 嵌入的压缩包过大")
                    nested += chunk
    except (zipfile.BadZipFile, EOFError, zlib.error, OSError, ValueError, struct.error) as error:
        # A checksum that does not match, data shorter or longer than its header says, a header
        # that names another file: the headers lie about what is there.
        raise DamagedDocument(reason=f"{entry.filename}: the archive's headers do not match its content"
                                     f" ({type(error).__name__}) / 压缩包头信息与内容不符") from None
    except (RuntimeError, NotImplementedError):  # zipfile's "encrypted, password required"
        raise EncryptedFile(reason=f"{entry.filename} is encrypted / 压缩包内容已加密") from None
    if read != entry.file_size:
        raise DamagedDocument(reason=f"{entry.filename}: the archive's headers do not match its content"
                                     " / 压缩包头信息与内容不符")
    return bytes(head), bytes(nested) if nested is not None else None


def _check_nested(name: str, data: bytes, *, depth: int, budget: list[int]) -> None:
    if data.startswith(_OLE_MAGIC):
        _refuse_ole_active(data, name=name)
        return
    if depth + 1 >= limits.ZIP_MAX_DEPTH:
        raise TooComplex(reason=f"{name}: archives nested more than {limits.ZIP_MAX_DEPTH} deep / 压缩包嵌套过深")
    inner = _open_zip(io.BytesIO(data))
    with inner:
        _check_archive(inner, depth=depth + 1, budget=budget)


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


def _refuse_xml_tricks(name: str, head: bytes) -> None:
    # Office XML never needs a DTD; one in an upload is an entity-expansion or XXE attempt.
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise UnsafeFile(reason=f"{name} declares XML entities / 文件含有 XML 实体声明")


def _refuse_active_xml(name: str, xml: bytes) -> None:
    if name == "[Content_Types].xml" and any(marker in xml for marker in _MACRO_CONTENT_TYPES):
        raise ActiveContent(reason="a macro-enabled Office file / 启用宏的 Office 文件")
    if name.endswith(".rels"):
        for relationship in _EXTERNAL_RELATIONSHIP.findall(xml):
            if not _HYPERLINK_TYPE.search(relationship):
                target = re.search(rb'Target="([^"]*)"', relationship)
                shown = target.group(1).decode("utf-8", "replace")[:80] if target else "?"
                raise ActiveContent(reason=f"{name} loads {shown} from outside the file when opened"
                                           " / 文件打开时会加载外部内容")
    if name.endswith(".xml") and not name.startswith("["):
        for _element, href in _ODF_LINKED.findall(xml):
            if b":" in href or href.startswith((b"/", b"..")):
                raise ActiveContent(reason=f"{name} loads {href.decode('utf-8', 'replace')[:80]} from outside the"
                                           " file when opened / 文件打开时会加载外部内容")


def _read_capped(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, cap: int) -> bytes:
    """At most `cap` decompressed bytes: a header that lies about its size cannot make us read more."""
    try:
        with archive.open(entry) as stream:
            data = stream.read(cap + 1)
    except (zipfile.BadZipFile, EOFError, zlib.error, OSError, ValueError, struct.error):
        raise DamagedDocument(reason=f"{entry.filename}: the archive's headers do not match its content"
                                     " / 压缩包头信息与内容不符") from None
    except (RuntimeError, NotImplementedError):
        raise EncryptedFile(reason=f"{entry.filename} is encrypted / 压缩包内容已加密") from None
    if len(data) > cap:
        raise UnsafeFile(reason=f"{entry.filename} is larger than it may be / 文件内容超出限制")
    return data


def ole_office_type(path: Path, head: bytes) -> str:
    """The type of a legacy Office file (.doc/.ppt/.xls), after refusing macros, embedded
    packages and encryption."""
    media_type = next((kind for stream_name, kind in _OLE_STREAMS.items() if stream_name in head), None)
    # The directory, which is all we look at, may be anywhere in the file.
    _refuse_ole_active(path.read_bytes(), name="the file")
    if media_type is None:
        raise UnsupportedFileType()
    return media_type


def _refuse_ole_active(data: bytes, *, name: str) -> None:
    """Looks for directory entries by name: at a 128-byte boundary, NUL-terminated in UTF-16."""
    def has_entry(entry_name: str) -> bool:
        needle = entry_name.encode("utf-16-le") + b"\x00\x00"
        start = data.find(needle)
        while start != -1:
            if start % 128 == 0:
                return True
            start = data.find(needle, start + 1)
        return False

    for entry_name in _OLE_ENCRYPTED:
        if has_entry(entry_name):
            raise EncryptedFile(reason=f"{name} is password-protected / 文件已设置密码")
    for entry_name, what in _OLE_ACTIVE.items():
        if has_entry(entry_name):
            raise ActiveContent(reason=f"{name} contains {what}")


def check_image(path: Path) -> dict[str, Any]:
    try:
        with Image.open(path) as image:
            width, height = image.size
            if width > limits.IMAGE_MAX_SIDE or height > limits.IMAGE_MAX_SIDE or width * height > limits.IMAGE_MAX_PIXELS:
                raise UnsafeFile(reason=f"{width}×{height} pixels is too large / 图片尺寸过大")
            if max(width, height) > limits.IMAGE_MAX_ASPECT * max(min(width, height), 1):
                raise UnsafeFile(reason=f"{width}×{height} pixels is not a usable picture / 图片长宽比异常")
            # Counted without decoding: Pillow's own count of a GIF's frames decodes each one.
            frames = gif_frames(path) if image.format == "GIF" else getattr(image, "n_frames", 1)
            if frames > limits.IMAGE_MAX_FRAMES or frames * width * height > limits.IMAGE_MAX_FRAME_PIXELS:
                raise TooComplex(reason=f"an animation of {frames} frames (at most {limits.IMAGE_MAX_FRAMES})"
                                        " / 动画帧数过多")
            image.verify()  # decodes enough to catch truncated or corrupt files
    except (UnsafeFile, TooComplex):
        raise
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, Image.DecompressionBombError) as error:
        raise UnsafeFile(reason=f"not a readable image ({type(error).__name__}) / 图片无法读取") from None
    facts: dict[str, Any] = {"width": width, "height": height}
    if frames > 1:
        facts["frames"] = frames
    return facts


def gif_frames(path: Path) -> int:
    """A GIF's frames, counted by walking its blocks (no pixel is decompressed); stops counting
    past the limit. Each frame must fit the limits on its own."""
    data = path.read_bytes()
    position = 13 + (3 << ((data[10] & 0x07) + 1) if data[10] & 0x80 else 0)  # header, screen, palette
    frames = 0
    while position < len(data) and frames <= limits.IMAGE_MAX_FRAMES:
        block = data[position]
        if block == 0x3B:  # trailer
            break
        if block == 0x21:  # extension: label, then sub-blocks
            position = _skip_sub_blocks(data, position + 2)
        elif block == 0x2C:  # image descriptor
            frames += 1
            width, height = struct.unpack_from("<HH", data, position + 5)
            if width * height > limits.IMAGE_MAX_PIXELS:
                raise TooComplex(reason=f"a frame of {width}×{height} pixels / 动画帧尺寸过大")
            flags = data[position + 9]
            position += 10 + (3 << ((flags & 0x07) + 1) if flags & 0x80 else 0)
            position = _skip_sub_blocks(data, position + 1)  # after the LZW code size
        else:
            raise UnsafeFile(reason="not a readable image (GIF block) / 图片无法读取")
    return frames


def _skip_sub_blocks(data: bytes, position: int) -> int:
    while position < len(data) and data[position] != 0:
        position += data[position] + 1
    return position + 1


def probe_media(source: str, *, category: str, media_type: str) -> dict[str, Any]:
    """ffprobe's facts about a video or audio file, read as the type sniffing found (sandboxed,
    services/common/media.py), refused if unreadable or out of limits."""
    try:
        facts = media.probe(source, media_type=media_type, need_video=category == "video",
                            need_audio=category == "audio")
    except media.MediaProblem as problem:
        raise (UnreadableMedia if problem.unreadable else MediaOutOfLimits)(reason=problem.reason) from None
    return facts.summary()

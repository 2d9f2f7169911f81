"""Files for upload tests, made here: real media from ffmpeg, Office containers by hand, and the
hostile ones a platform must refuse."""
from __future__ import annotations

import struct
import subprocess
import zipfile
from pathlib import Path

from PIL import Image

CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
                 'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>')


def lesson_mp4(path: Path, *, seconds: int = 3, size: str = "320x240") -> Path:
    """A short H.264/AAC lesson-like clip (moov at the end, as cameras write it)."""
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25:duration={seconds}",
                    "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-c:v", "libx264",
                    "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-shortest",
                    str(path)], check=True, timeout=120)
    return path


def padded_mp4(source: Path, path: Path, *, total_bytes: int) -> Path:
    """A valid MP4 of about `total_bytes`: the clip plus a top-level `free` box, which players skip."""
    data = source.read_bytes()
    padding = max(total_bytes - len(data) - 8, 0)
    with path.open("wb") as out:
        out.write(data)
        out.write(struct.pack(">I4s", padding + 8, b"free"))
        chunk = bytes(range(256)) * 4096  # not all zeros, so nothing compresses it away in transit
        while padding > 0:
            out.write(chunk[:padding])
            padding -= min(len(chunk), padding)
    return path


def truncated(source: Path, path: Path, *, keep: float = 0.6) -> Path:
    data = source.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def docx(path: Path, *, document_xml: str = "<w:document>第一课</w:document>") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("word/document.xml", f'<?xml version="1.0" encoding="UTF-8"?>{document_xml}')
    return path


def entity_expansion_docx(path: Path) -> Path:
    laughs = "".join(f'<!ENTITY lol{i} "{"&lol" + str(i - 1) + ";" * 1}{"&lol" + str(i - 1) + ";" * 9}">'
                     for i in range(1, 10))
    xml = f'<!DOCTYPE lolz [<!ENTITY lol0 "lol">{laughs}]><w:document>&lol9;</w:document>'
    return docx(path, document_xml=xml)


def zip_bomb_pptx(path: Path, *, expanded_mib: int = 64) -> Path:
    """A .pptx whose media part inflates about a thousandfold."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("ppt/presentation.xml", '<?xml version="1.0"?><p:presentation/>')
        with archive.open("ppt/media/image1.bin", "w", force_zip64=True) as entry:
            block = bytes(1024 * 1024)
            for _ in range(expanded_mib):
                entry.write(block)
    return path


def png(path: Path, *, size: tuple[int, int] = (64, 48)) -> Path:
    Image.new("RGB", size, (200, 30, 30)).save(path, format="PNG")
    return path


def text_posing_as(path: Path) -> Path:
    path.write_text("这不是视频，只是一段文字。\n" * 200, encoding="utf-8")
    return path


def pdf(path: Path, *, body: bytes = b"BT /F1 12 Tf (lesson) Tj ET") -> Path:
    path.write_bytes(b"%PDF-1.4\n" + body + b"\n%%EOF\n")
    return path


CHINESE = "一元二次方程的配方法"


def chinese_pptx(path: Path) -> Path:
    from pptx import Presentation

    deck = Presentation()
    for title in (CHINESE, "凸透镜成像规律"):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = "例题：x² + 6x + 5 = 0，用配方法求解。"
    deck.save(path)
    return path


def chinese_docx(path: Path) -> Path:
    from docx import Document

    document = Document()
    document.add_heading(CHINESE, level=1)
    document.add_paragraph("教学目标：理解配方法的原理，会用配方法解一元二次方程。")
    document.save(path)
    return path


# Sources for pre-screening: lavfi inputs a clip is made of.
MOVING, BLACK, STILL = "testsrc2=rate=25", "color=c=black:rate=25", "smptebars=rate=25"
TONE, SILENCE = "sine=frequency=440", "anullsrc=r=44100:cl=mono"


def screening_clip(path: Path, *, video: str = MOVING, audio: str | None = TONE, seconds: int = 8,
                   size: str = "320x240") -> Path:
    """An H.264/AAC clip of a lavfi picture and sound: moving or black or still, tone or silence."""
    args = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"{video}:size={size}:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", audio, "-c:a", "aac", "-b:a", "64k"]
    args += ["-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(args, check=True, timeout=120)
    return path


def text_pdf(path: Path, *, text: str | None) -> Path:
    """A one-page PDF, with `text` in its text layer (Helvetica, ASCII) or with none (a scan has
    only pictures: here a filled rectangle)."""
    content = (f"BT /F1 24 Tf 72 700 Td ({text}) Tj ET" if text else "0.5 g 72 500 300 200 re f").encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
               b" /Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path
# --------------------------------------------------------------------------- PDFs, object by object

def pdf_objects(path: Path, objects: dict[int, bytes], *, root: int = 1, prev_xref: bool = False,
                trailer: bytes = b"") -> Path:
    """A PDF of these numbered objects (bodies between `obj` and `endobj`) with a correct
    cross-reference table; `prev_xref` adds a second table whose /Prev chain loops back on itself."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    size = max(objects) + 1

    def xref_table(prev: int | None) -> bytes:
        rows = [b"xref\n0 %d\n" % size, b"0000000000 65535 f \n"]
        rows += [b"%010d 00000 n \n" % offsets[n] if n in offsets else b"0000000000 65535 f \n" for n in range(1, size)]
        extra = b" /Prev %010d" % prev if prev is not None else b""  # fixed width: offsets known up front
        return b"".join(rows) + b"trailer\n<< /Size %d /Root %d 0 R%s %s>>\n" % (size, root, extra, trailer)

    first = len(out)
    if prev_xref:
        second = first + len(xref_table(0))  # the first table names the second as its /Prev, and back
        out += xref_table(second)
        out += xref_table(first)
        start = second
    else:
        out += xref_table(None)
        start = first
    out += b"startxref\n%d\n%%%%EOF\n" % start
    path.write_bytes(bytes(out))
    return path


def stream(dictionary: bytes, data: bytes, *, length: bytes | None = None) -> bytes:
    return b"<< " + dictionary + b" /Length " + (length or str(len(data)).encode()) + b" >>\nstream\n" + data + \
        b"\nendstream"


def lesson_pdf(path: Path, *, catalog_extra: bytes = b"", page_extra: bytes = b"",
               more: dict[int, bytes] | None = None, media_box: bytes = b"[0 0 595 842]",
               content: bytes | None = None, **options) -> Path:
    """A valid one-page PDF saying 'lesson'; the extras make it hostile."""
    text = b"BT /F1 24 Tf 72 720 Td (lesson) Tj ET"
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b">>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox " + media_box + b" /Contents 4 0 R "
           b"/Resources << /Font << /F1 5 0 R >> >> " + page_extra + b">>",
        4: content if content is not None else stream(b"", text),
        5: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        **(more or {}),
    }
    return pdf_objects(path, objects, **options)


# --------------------------------------------------------------------------- zips, byte by byte

def _zipcrypto(data: bytes, *, password: bytes, check_byte: int) -> bytes:
    """Traditional PKWARE encryption (ZipCrypto), which Python's zipfile reads but cannot write."""
    import zlib as _zlib

    keys = [0x12345678, 0x23456789, 0x34567890]

    def update(byte: int) -> None:
        keys[0] = _zlib.crc32(bytes([byte]), keys[0] ^ 0xFFFFFFFF) ^ 0xFFFFFFFF
        keys[1] = ((keys[1] + (keys[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        keys[2] = _zlib.crc32(bytes([(keys[1] >> 24) & 0xFF]), keys[2] ^ 0xFFFFFFFF) ^ 0xFFFFFFFF

    for byte in password:
        update(byte)
    out = bytearray()
    for byte in bytes(11) + bytes([check_byte]) + data:
        temp = (keys[2] | 2) & 0xFFFF
        out.append(byte ^ (((temp * (temp ^ 1)) >> 8) & 0xFF))
        update(byte)
    return bytes(out)


def raw_zip(path: Path, entries: list[tuple[str, bytes]], *, encrypt: bool = False,
            declared_sizes: dict[str, int] | None = None) -> Path:
    """A zip written by hand (deflated entries), so it can do what no archiver does: encrypt
    with ZipCrypto, or declare uncompressed sizes that are not true."""
    import zlib as _zlib

    local, central = bytearray(), bytearray()
    for name, data in entries:
        compressor = _zlib.compressobj(9, _zlib.DEFLATED, -15)
        body = compressor.compress(data) + compressor.flush()
        crc = _zlib.crc32(data)
        flags = 0x1 if encrypt else 0
        if encrypt:
            body = _zipcrypto(body, password=b"lesson", check_byte=crc >> 24)
        size = (declared_sizes or {}).get(name, len(data))
        fields = struct.pack("<HHHHHIII", 20, flags, 8, 0, 0x21, crc, len(body), size)
        offset = len(local)
        encoded = name.encode()
        local += b"PK\x03\x04" + fields + struct.pack("<HH", len(encoded), 0) + encoded + body
        central += (b"PK\x01\x02" + struct.pack("<H", 20) + fields + struct.pack("<HHHHHII", len(encoded), 0, 0, 0, 0, 0,
                                                                                   offset) + encoded)
    end = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, len(entries), len(entries), len(central), len(local), 0)
    path.write_bytes(bytes(local + central + end))
    return path


def docx_parts(path: Path, *extra: tuple[str, bytes], rels: bytes | None = None) -> Path:
    """A .docx (zipfile-made) with extra parts: macros, embedded archives, relationships."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("word/document.xml", '<?xml version="1.0" encoding="UTF-8"?><w:document>第一课</w:document>')
        if rels is not None:
            archive.writestr("word/_rels/document.xml.rels", rels)
        for name, data in extra:
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_STORED)
    return path


def remote_template_rels(url: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats'
            '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            f'officeDocument/2006/relationships/attachedTemplate" Target="{url}" TargetMode="External"/>'
            '</Relationships>').encode()


def nested_zip(levels: int, *, payload: bytes = b"<x/>") -> bytes:
    """A zip inside a zip, `levels` deep, stored so that no level looks compressed."""
    import io

    data = payload
    for level in range(levels):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr(f"level{level}.bin", data)
        data = buffer.getvalue()
    return data


def zip_bomb_bytes(expanded_mib: int = 64) -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("data.bin", "w", force_zip64=True) as entry:
            block = bytes(1024 * 1024)
            for _ in range(expanded_mib):
                entry.write(block)
    return buffer.getvalue()


# --------------------------------------------------------------------------- hostile pictures and videos

def animated_gif(path: Path, *, frames: int, size: tuple[int, int] = (16, 16)) -> Path:
    first, *rest = [Image.new("P", size, color=i % 256) for i in range(frames)]
    first.save(path, format="GIF", save_all=True, append_images=rest, duration=20, loop=0, optimize=False)
    return path


def many_audio_tracks(path: Path, *, tracks: int = 40) -> Path:
    inputs = ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10:duration=1",
              "-f", "lavfi", "-i", "sine=frequency=440:duration=1"]
    maps = ["-map", "0:v"] + [arg for _ in range(tracks) for arg in ("-map", "1:a")]
    subprocess.run(["ffmpeg", "-v", "error", "-y", *inputs, *maps, "-c:v", "libx264", "-preset", "ultrafast",
                    "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "16k", str(path)], check=True, timeout=120)
    return path


def oversized_frames(path: Path, *, size: str = "7680x4400") -> Path:
    """Two frames of a picture larger than 8K UHD, each side within 7680: a decoder holds several."""
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"color=c=gray:s={size}:r=2:d=1",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)],
                   check=True, timeout=300)
    return path


def hls_playlist_posing_as(path: Path, *, url: str) -> Path:
    """An HLS playlist whose segment is a URL: a player fetches it, and so does a probe that lets
    ffmpeg choose the demuxer."""
    path.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.0,\n{url}\n#EXT-X-ENDLIST\n", encoding="utf-8")
    return path


def linked_image_docx(path: Path, *, url: str) -> Path:
    """A real .docx whose picture is not in the file but linked: LibreOffice fetches `url` while
    converting, unless stopped."""
    import io
    import re

    from docx import Document

    picture = io.BytesIO()
    Image.new("RGB", (20, 20), (255, 0, 0)).save(picture, format="PNG")
    made = io.BytesIO()
    document = Document()
    document.add_paragraph(CHINESE)
    document.add_picture(picture)
    document.save(made)
    with zipfile.ZipFile(made) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as linked:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename.startswith("word/media/"):
                continue
            if info.filename == "word/document.xml":
                data = data.replace(b'r:embed="', b'r:link="')
            if info.filename == "word/_rels/document.xml.rels":
                data = re.sub(rb'Target="media/image1\.png"', b'Target="' + url.encode() + b'" TargetMode="External"',
                              data)
            linked.writestr(info, data)
    return path


def compound_file(path: Path, names: list[str]) -> Path:
    """The parts of an OLE compound file (.doc/.xls/.ppt) the checks read: its signature and a
    directory sector of 128-byte entries with these names. Not openable by Office; enough to
    say what the file holds."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    directory = bytearray()
    for name in ["Root Entry", *names]:
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        entry = encoded + bytes(64 - len(encoded)) + struct.pack("<H", len(encoded)) + bytes(62)
        directory += entry
    directory += bytes(-len(directory) % 512)
    path.write_bytes(header + bytes(directory) + bytes(1024))
    return path

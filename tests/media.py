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

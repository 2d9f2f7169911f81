"""The checks a PDF must pass: readable without repair, no active content, and nothing that
costs a reader more than a lesson's pages could (run in the inspector's sandboxed child).

Parsed with qpdf (pikepdf), which reports every repair it had to make: a loop in the
cross-reference chain, a stream whose /Length points at itself, offsets that point nowhere. A
file that needed one is refused as damaged rather than guessed at: the renderer would guess
differently, and the guesses are where parser bugs live.
"""
from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

from services.api.uploads import limits
from services.api.uploads.errors import ActiveContent, DamagedDocument, EncryptedFile, TooComplex

# Action types that run, open or send something when a reader opens the file or a page.
_ACTIVE_ACTIONS = {
    "/JavaScript": "JavaScript", "/Launch": "a launch action (starts a program)",
    "/ImportData": "a data-import action", "/SubmitForm": "a form that sends data to an address",
    "/GoToR": "a link into another file", "/GoToE": "a link into an embedded file",
    "/Rendition": "a media rendition action", "/Movie": "a movie action", "/Sound": "a sound action",
}
_ACTIVE_KEYS = {"/JS": "JavaScript", "/JavaScript": "JavaScript", "/EmbeddedFiles": "embedded files",
                "/EF": "an embedded file", "/XFA": "an XFA form (scripted)", "/RichMediaContent": "rich media"}
_ACTIVE_SUBTYPES = {"/FileAttachment": "a file attachment", "/RichMedia": "rich media", "/Movie": "a movie",
                    "/Sound": "a sound", "/3D": "a 3D model"}
_MAX_NESTING = 64


def check_pdf(path: Path) -> dict[str, Any]:
    import pikepdf

    try:
        pdf = pikepdf.open(path)
    except pikepdf.PasswordError:
        raise EncryptedFile(reason="the PDF needs a password to open / PDF 需要密码才能打开") from None
    except (pikepdf.PdfError, OSError, ValueError, RecursionError) as error:
        said = str(error).replace(str(path), "").lstrip(": ")[:160]
        raise DamagedDocument(reason=f"not a readable PDF: {said} / 无法读取的 PDF") from None
    with pdf:
        try:
            if len(pdf.objects) > limits.PDF_MAX_OBJECTS:
                raise TooComplex(reason=f"{len(pdf.objects)} objects in one PDF / PDF 对象过多")
            pages = _pages(pdf)
            _objects(pdf)
        except (pikepdf.PdfError, RecursionError, ValueError, TypeError) as error:
            raise DamagedDocument(reason=f"the PDF's structure is damaged ({type(error).__name__})"
                                         " / PDF 结构已损坏") from None
        repairs = pdf.get_warnings()
    if repairs:
        telling = [str(w) for w in repairs if not str(w).endswith("file is damaged")] or [str(repairs[0])]
        first = telling[0].replace(str(path), "").lstrip(": ")
        raise DamagedDocument(reason=f"the PDF's structure is damaged: {first[:160]} / PDF 结构已损坏")
    return {"pages": pages}


def _pages(pdf: Any) -> int:
    """Walks the page tree itself, never trusting /Count: each node once (a node reached twice is
    a loop or a tree that multiplies itself), within limits of nodes, depth and pages."""
    import pikepdf

    root = pdf.Root.get("/Pages")
    if not isinstance(root, pikepdf.Dictionary):
        raise DamagedDocument(reason="the PDF has no pages / PDF 没有页面")
    declared = root.get("/Count")
    if isinstance(declared, int) and int(declared) > limits.PDF_MAX_PAGES:
        raise TooComplex(reason=f"{int(declared)} pages (at most {limits.PDF_MAX_PAGES}) / 页数过多")
    seen: set[tuple[int, int]] = set()
    pages = nodes = 0
    stack: list[tuple[Any, int, Any]] = [(root, 0, None)]
    while stack:
        node, depth, inherited_box = stack.pop()
        if not isinstance(node, pikepdf.Dictionary):
            raise DamagedDocument(reason="the page tree holds something that is not a page / 页面树结构异常")
        if node.is_indirect:
            if node.objgen in seen:
                raise TooComplex(reason="the page tree reaches the same node twice (a loop or a page-tree bomb)"
                                        " / 页面树循环引用")
            seen.add(node.objgen)
        nodes += 1
        if nodes > limits.PDF_MAX_PAGE_TREE_NODES or depth > _MAX_NESTING:
            raise TooComplex(reason="the page tree is too large or too deep / 页面树过大")
        box = node.get("/MediaBox", inherited_box)
        kids = node.get("/Kids")
        if kids is not None or node.get("/Type") == "/Pages":
            if not isinstance(kids, pikepdf.Array):
                raise DamagedDocument(reason="a page-tree node without pages / 页面树结构异常")
            if len(kids) > limits.PDF_MAX_PAGE_TREE_NODES:
                raise TooComplex(reason="the page tree is too large / 页面树过大")
            stack.extend((kid, depth + 1, box) for kid in reversed(list(kids)))
            continue
        pages += 1
        if pages > limits.PDF_MAX_PAGES:
            raise TooComplex(reason=f"more than {limits.PDF_MAX_PAGES} pages / 页数过多")
        _page_size(box, node.get("/UserUnit", 1), number=pages)
    return pages


def _page_size(box: Any, user_unit: Any, *, number: int) -> None:
    if box is None:
        return  # readers use US Letter
    try:
        x1, y1, x2, y2 = (float(value) for value in box)
        unit = float(user_unit)
    except (TypeError, ValueError):
        raise DamagedDocument(reason=f"page {number} has no usable size / 第 {number} 页尺寸无效") from None
    width, height = abs(x2 - x1) * unit, abs(y2 - y1) * unit
    if not (width > 0 and height > 0):
        raise DamagedDocument(reason=f"page {number} has no usable size / 第 {number} 页尺寸无效")
    if width > limits.PDF_MAX_PAGE_SIDE_PT or height > limits.PDF_MAX_PAGE_SIDE_PT:
        raise TooComplex(reason=f"page {number} is {width:.0f}×{height:.0f} pt, larger than PDF allows"
                                f" ({limits.PDF_MAX_PAGE_SIDE_PT} pt) / 第 {number} 页尺寸异常")


def _objects(pdf: Any) -> None:
    """Every object, compressed object streams included: active content, image bombs, and
    streams that decompress past their share."""
    import pikepdf

    budget = [limits.PDF_MAX_EXPANDED]
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream):
            _dictionary(obj.stream_dict)
            _stream(obj, budget=budget)
        elif isinstance(obj, (pikepdf.Dictionary, pikepdf.Array)):
            _dictionary(obj)


def _dictionary(top: Any) -> None:
    """Active content in a dictionary or array and whatever is nested in it directly (indirect
    objects are visited on their own)."""
    import pikepdf

    stack = [(top, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > _MAX_NESTING:
            raise TooComplex(reason="objects nested too deep / PDF 对象嵌套过深")
        if isinstance(value, pikepdf.Array):
            stack.extend((item, depth + 1) for item in value
                         if isinstance(item, (pikepdf.Dictionary, pikepdf.Array)) and not item.is_indirect)
            continue
        if not isinstance(value, pikepdf.Dictionary):
            continue
        action = value.get("/S")
        if isinstance(action, pikepdf.Name) and str(action) in _ACTIVE_ACTIONS:
            raise ActiveContent(reason=f"the PDF contains {_ACTIVE_ACTIONS[str(action)]} / PDF 含有可执行内容")
        for key, what in _ACTIVE_KEYS.items():
            if key in value:
                raise ActiveContent(reason=f"the PDF contains {what} / PDF 含有脚本或嵌入文件")
        if value.get("/Type") == "/EmbeddedFile":
            raise ActiveContent(reason="the PDF contains an embedded file / PDF 含有嵌入文件")
        subtype = value.get("/Subtype")
        if isinstance(subtype, pikepdf.Name) and str(subtype) in _ACTIVE_SUBTYPES:
            raise ActiveContent(reason=f"the PDF contains {_ACTIVE_SUBTYPES[str(subtype)]} / PDF 含有嵌入内容")
        for key in value.keys():
            item = value.get(key)
            if isinstance(item, (pikepdf.Dictionary, pikepdf.Array)) and not item.is_indirect:
                stack.append((item, depth + 1))


def _stream(stream: Any, *, budget: list[int]) -> None:
    import pikepdf

    info = stream.stream_dict
    cap = limits.PDF_MAX_STREAM_EXPANDED
    if info.get("/Subtype") == "/Image":
        width, height = info.get("/Width", 0), info.get("/Height", 0)
        if not isinstance(width, int) or not isinstance(height, int):
            raise DamagedDocument(reason="an image without a size / 图片尺寸无效")
        width, height = int(width), int(height)
        if width * height > limits.PDF_MAX_IMAGE_PIXELS or width < 0 or height < 0:
            raise TooComplex(reason=f"an image of {width}×{height} pixels (image bomb) / PDF 内图片尺寸过大")
        cap = max(cap, width * height * 4 * 2)  # CMYK at 8 bits, with room to spare
    raw = stream.read_raw_bytes()  # also makes qpdf resolve (and report) a /Length that lies
    filters = info.get("/Filter")
    first = filters[0] if isinstance(filters, pikepdf.Array) and len(filters) else filters
    if first != "/FlateDecode":
        return
    inflater = zlib.decompressobj()
    expanded = 0
    pending = raw
    try:
        while pending:
            chunk = inflater.decompress(pending, 4 * 1024 * 1024)
            expanded += len(chunk)
            budget[0] -= len(chunk)
            if expanded > cap or budget[0] < 0:
                raise TooComplex(reason="a stream that decompresses far past its size (decompression bomb)"
                                        " / PDF 内数据流解压后过大（疑似压缩炸弹）")
            pending = inflater.unconsumed_tail
            if not chunk and not pending:
                break
    except zlib.error:
        return  # a damaged stream: readers show what decompresses, and so will ours

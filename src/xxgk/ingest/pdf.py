"""PDF → Source: ruled tables as grids, the rest as lines laid out by x.

PDFium (C, via pypdfium2) reads the characters and the drawn lines of each page; `layout` turns
them into lines of text and ruled tables with their merged cells, as it does OCR's; pictures
without text are read by `ocr`. (pdfplumber's own parser, pdfminer, is pure Python and was 15×
slower than pdftotext.) Provenance is the page and the bounding box of the cell or word, in
points from the top left.

    page → page_chars + page_edges → layout.edges_to_tables → layout.write_page → Source
    (pictures with no text layer on them — scans, pasted screenshots: + ocr.read_page, ocr.image_rules)
"""

from __future__ import annotations

import ctypes
import gc
import math
import os
import re
import threading
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from operator import itemgetter
from statistics import median

import pypdfium2
import pypdfium2.raw as pdfium
from pdfplumber.table import Table

from ..errors import ReportError
from ..textnorm import is_cjk
from .layout import (
    SETTINGS,
    Centred,
    Char,
    PdfSettings,
    Rules,
    char_dicts,
    chars_in_tables,
    edges_to_tables,
    write_page,
)
from .ruling import Box
from .source import Source, SourceWriter

PDFIUM = threading.RLock()  # PDFium is not thread-safe: every use in the process holds this
WAIT = 120.0  # seconds to wait for PDFium while another thread uses it
MAX_PAGES = 200


def read_pdf(data: bytes, settings: PdfSettings = SETTINGS) -> Source:
    """The text layer, and by OCR the pictures without one: a scanned page, a table pasted as an
    image between paragraphs of text. Pages are written once all are read: a running header or
    footer is known only then."""
    out = SourceWriter("pdf")
    scanned = 0
    pages: list[PageText] = []
    turned: list[int] = []  # pages whose text was printed sideways or upside down
    collecting = gc.isenabled()
    with pdfium_held(), _collector(False):
        document = _open(data)
        out.meta["title"] = _title_property(document)
        held: list = []  # PDFium pages and text pages, open until their page is written
        try:
            for number in range(1, min(len(document), MAX_PAGES) + 1):
                page = document[number - 1]
                textpage = page.get_textpage()
                held += [textpage, page]
                upright = text_rotation(textpage)
                if upright is not None and upright != page.get_rotation() % 360:
                    page.set_rotation(upright)  # in memory only: the page read as it is meant to be read
                    turned.append(number)
                drawn, chars = page_drawn(page), page_chars(page, textpage)
                if garbled(chars):  # its letters are glyph numbers: read the page as a scan
                    out.notes.append(f"第{number}页的文字层无法解码（所嵌字体没有到 Unicode 的映射），"
                                     "已按图片识别（OCR）")
                    chars, pictures = [], [_Frame(page).page_box()]
                else:
                    pictures = _pictures(page, drawn, chars, settings)
                # a page read whole takes its rules from the picture: a letter's outline is no rule
                rules = not_in_letters(page_edges(page, settings, drawn), chars) if chars else ([], [])
                if pictures:
                    with _collector(collecting):  # OCR's arrays and models: collected as everywhere
                        read = _ocr(page, pictures, chars, rules, scanned)
                    scanned += bool(read)
                    out.ocr += [(number, box) for box in read]
                rotated = page.get_rotation() % 360 != 0
                tables = edges_to_tables(rules, settings)
                outside, inside = chars_in_tables(chars, [t.bbox for t in tables])
                pages.append(PageText(number, chars, tables, partial(char_dicts, upright=_upright(textpage, rotated)),
                                      outside, inside))
            if turned:
                out.notes.append(f"第{'、'.join(map(str, turned))}页的文字横排或倒排，已转正读取")
            for page_text, running in zip(pages, running_lines(pages, settings), strict=True):
                chars = [c for i, c in enumerate(page_text.chars) if i not in running]
                gone = {id(page_text.chars[i]) for i in running}
                write_page(out, chars, page_text.tables, page_text.number, settings, page_text.as_dicts,
                           [c for c in page_text.loose if id(c) not in gone], page_text.inside)
        except ReportError:
            raise
        except Exception as e:
            raise ReportError(f"corrupt or truncated PDF ({type(e).__name__}: {e})") from e
        finally:
            for obj in held:
                obj.close()
            document.close()
    if not any(p.chars for p in pages):
        raise ReportError("no text: the PDF has no text layer and OCR read nothing on its pictures"
                          if scanned else "no text: the PDF has no text layer and no pictures")
    return out.source()


def _title_property(document: pypdfium2.PdfDocument) -> str:
    """The PDF's Title property (Word writes the document's title there; often the report's)."""
    try:
        return str(document.get_metadata_value("Title") or "").strip()
    except Exception:  # a damaged info dictionary is no reason to lose the report
        return ""


@dataclass
class PageText:
    number: int
    chars: list[Char]
    tables: list[Table]
    as_dicts: Callable[[list[Char]], list[dict]]  # for pdfplumber's word finder
    loose: list[Char]  # the characters outside the tables
    inside: list[list[Centred]]  # those in each table, with their centres


def running_lines(pages: list[PageText], settings: PdfSettings = SETTINGS) -> list[set[int]]:
    """Each page's characters that are a running header or footer: the top or bottom line outside
    the tables, printed alike, numbers aside, on two pages or more (a browser prints the date and
    the address; Word the title). Their numbers are no cells. The first page keeps its header: it
    is above everything, and may be the only title printed."""
    edges = []
    for page in pages:
        loose = set(map(id, page.loose))
        indexed = [(i, c) for i, c in enumerate(page.chars) if id(c) in loose]
        if not indexed:
            edges.append(((set(), ""), (set(), "")))
            continue
        top, bottom = min(c[2] for _, c in indexed), max(c[4] for _, c in indexed)
        first = [(i, c) for i, c in indexed if c[2] - top < settings.line_tolerance]
        last = [(i, c) for i, c in indexed if bottom - c[4] < settings.line_tolerance]
        edges.append(tuple((set(i for i, _ in line), _signature(line)) for line in (first, last)))
    heads = Counter(head[1] for head, _ in edges)
    feet = Counter(foot[1] for _, foot in edges)
    return [(head[0] if n and heads[head[1]] >= 2 else set()) | (foot[0] if feet[foot[1]] >= 2 else set())
            for n, (head, foot) in enumerate(edges)]


def _signature(line: list[tuple[int, Char]]) -> str:
    return _DIGITS.sub("#", "".join(c[0] for _, c in sorted(line, key=lambda ic: ic[1][1])))


_DIGITS = re.compile(r"\d+")


@contextmanager
def pdfium_held() -> Iterator[None]:
    """PDFium for this thread alone. A call stuck in it, left behind in another thread by a time
    limit, would keep it forever: after WAIT seconds the file fails saying so, not in silence."""
    wait = WAIT
    if not PDFIUM.acquire(timeout=wait):
        raise ReportError(f"the PDF reader has been busy for {wait:g} s (an earlier file is stuck in it): "
                          "restart the worker or the server")
    try:
        yield
    finally:
        PDFIUM.release()


@contextmanager
def _collector(on: bool) -> Iterator[None]:
    """The garbage collector on or off for a while, then as it was. Off while a text layer is read:
    its characters, rules and cells are tens of thousands of small objects that form no cycles
    (freed by their counts when the page is written), yet they set off collection after collection,
    each walking them, and full ones the whole process (the parser's tables, pydantic's models;
    30-100 ms each, every few files) — as `serve.web.settle_heap` keeps the server's out of them."""
    was = gc.isenabled()
    if on:
        gc.enable()
    else:
        gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
        else:
            gc.disable()


def _pictures(page: pypdfium2.PdfPage, drawn: Drawn, chars: list[Char], settings: PdfSettings) -> list[Box]:
    """Where OCR must read: a page with no text layer but a picture, whole; else each picture
    large enough to be a table or a page of text with no character of the text layer on it."""
    frame = _Frame(page)
    boxes = [frame.box(*_bounds(obj, m)) for kind, obj, m in drawn if kind == pdfium.FPDF_PAGEOBJ_IMAGE]
    if not chars:  # a scan, or its letters drawn as outlines ("转曲"): hundreds of shapes
        shapes = len(drawn) - len(boxes)
        return [frame.page_box()] if boxes or shapes >= settings.outline_shapes else []
    area = frame.w * frame.h
    return [b for b in boxes if (b[2] - b[0]) * (b[3] - b[1]) >= settings.picture_share * area
            and not _inside_any(chars, b)]


def garbled(chars: list[Char], settings: PdfSettings = SETTINGS) -> bool:
    """A text layer that is not the page's words: a font embedded with no map from its glyphs to
    Unicode gives glyph numbers, which land in Latin, Cyrillic, Arabic… where a Chinese report prints
    ideographs, digits and punctuation (its pages: 98–100 % of them)."""
    if len(chars) < 20:
        return False
    readable = sum(n for ch, n in Counter(map(itemgetter(0), chars)).items() if _readable(ch))  # each letter once
    return readable < settings.readable_share * len(chars)


def _readable(ch: str) -> bool:
    return (is_cjk(ch) or (ch < "\x80" and not ch.isalpha()) or "\u3000" <= ch <= "\u303f"
            or "\uff00" <= ch <= "\uffef" or "\u2000" <= ch <= "\u206f")


def _inside_any(chars: list[Char], box: Box) -> bool:
    return len(chars_in_tables(chars, [box])[0]) < len(chars)


def _ocr(page: pypdfium2.PdfPage, pictures: list[Box], chars: list[Char], rules: Rules, done: int) -> list[Box]:
    """OCR's characters and rules of each picture added to the page's (in its place); the pictures
    read. On a page of text only a picture ruled like a table or as large as half the page is read:
    a banner or a photo holds words that are not the report's (a portal's name above a department's
    report)."""
    from . import ocr

    frame = _Frame(page)
    text_page, page_area, read = bool(chars), frame.w * frame.h, []
    scale = ocr.SETTINGS.dpi / 72
    image = page.render(scale=scale).to_pil()  # as displayed: the space of page_chars
    for box in pictures:
        left, upper = max(0, round(box[0] * scale)), max(0, round(box[1] * scale))
        right, lower = min(image.width, round(box[2] * scale)), min(image.height, round(box[3] * scale))
        if right - left < 32 or lower - upper < 32:  # (partly) off the page: what is left holds no line
            continue
        picture = image.crop((left, upper, right, lower))
        if text_page and (right - left) * (lower - upper) < 0.5 * page_area * scale * scale \
                and not ocr.holds_a_table(picture):
            continue
        if done >= ocr.SETTINGS.max_pages:  # `done`: pages OCR'd before this one
            raise ReportError(f"scan too long to read: more than {ocr.SETTINGS.max_pages} pages need OCR")
        crop, found = ocr.read_page(picture, scale)
        x0, top = left / scale, upper / scale
        chars += [(c[0], c[1] + x0, c[2] + top, c[3] + x0, c[4] + top, c[5]) for c in found]
        for mine, found in zip(rules, ocr.image_rules(crop, scale), strict=True):
            mine += [(a + x0, b + top, c + x0, d + top) for a, b, c, d in found]
        read.append(box)
    return read


def text_rotation(textpage: pypdfium2.PdfTextPage, sample: int = 48) -> int | None:
    """The page rotation (/Rotate) under which most of its characters read upright, or None when
    it has no text. A page printed sideways (a landscape table on portrait paper, a /Rotate that
    turns upright text) is read turned back, as a reader would turn it."""
    raw = _address(textpage.raw)
    n = pdfium.FPDFText_CountChars(textpage.raw)
    quarters: Counter[int] = Counter()
    if BULK is not None:  # the same loop in C
        angles = BULK.sampled_angles(raw, n, max(1, n // sample), _UNICODE_FN, _ANGLE_FN)  # type: ignore[attr-defined]
    else:
        angles = [_ANGLE(raw, i) for i in range(0, n, max(1, n // sample)) if not chr(_UNICODE(raw, i)).isspace()]
    for angle in angles:  # clockwise, radians
        if angle >= 0:
            quarters[round(math.degrees(angle) / 90) % 4] += 1
    if not quarters:
        return None
    quarter, count = quarters.most_common(1)[0]
    return (360 - 90 * quarter) % 360 if count * 2 > quarters.total() else None


def _open(data: bytes) -> pypdfium2.PdfDocument:
    if b"%%EOF" not in data[-64 * 1024:]:
        raise ReportError("truncated PDF: the file ends before its end marker (%%EOF)")
    try:
        return pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as e:
        if getattr(e, "err_code", None) in (pdfium.FPDF_ERR_PASSWORD, pdfium.FPDF_ERR_SECURITY):
            raise ReportError("encrypted PDF: it cannot be read without its password") from e
        raise ReportError(f"corrupt or truncated PDF ({e})") from e


# ---------------------------------------------------------------- PDFium → characters and rules
def _function_address(fn: object) -> int:
    """Where a PDFium function of pypdfium2's (ctypes) is in memory."""
    return ctypes.cast(fn, ctypes.c_void_p).value or 0


def _direct(fn: object, restype: object, *argtypes: object) -> Callable:
    """PDFium's function `fn` taking plain addresses (ints): pypdfium2's typed pointers are checked
    and wrapped at every call (a fifth of a call's cost), and a page makes thousands of calls.
    The addresses are PDFium's own handles (`_address`), used under PDFIUM as any call."""
    return ctypes.CFUNCTYPE(restype, *argtypes)(_function_address(fn))


def _address(handle: object) -> int:
    """A pypdfium2 handle (page, text page, page object) as the address `_direct` calls take."""
    return ctypes.cast(handle, ctypes.c_void_p).value or 0


def _bulk() -> object | None:
    """The C loops of `_pdfbulk.c` (built by setup.py where a compiler is), or None: not built, or
    XXGK_PURE=1 (the Python loops below then, with the same results), or its source edited since
    it was built (as `xxgk.compiled`)."""
    if os.environ.get("XXGK_PURE", "") not in ("", "0"):
        return None
    try:
        from . import _pdfbulk  # type: ignore[attr-defined]
    except ImportError:
        return None
    source = os.path.join(os.path.dirname(__file__), "_pdfbulk.c")
    built = getattr(_pdfbulk, "__file__", None)
    if built and os.path.exists(source) and os.stat(source).st_mtime > os.stat(built).st_mtime:
        return None
    return _pdfbulk


BULK = _bulk()
# the C loops call PDFium's functions at these addresses (pypdfium2's loaded library)
_LOOSE_BOX_FN, _BOUNDS_FN, _TYPE_FN, _UNICODE_FN, _ANGLE_FN = map(_function_address, (
    pdfium.FPDFText_GetLooseCharBox, pdfium.FPDFPageObj_GetBounds, pdfium.FPDFPageObj_GetType,
    pdfium.FPDFText_GetUnicode, pdfium.FPDFText_GetCharAngle))
_GET_FN = {False: _function_address(pdfium.FPDFPage_GetObject), True: _function_address(pdfium.FPDFFormObj_GetObject)}
_P, _I = ctypes.c_void_p, ctypes.c_int
_OBJECT = _direct(pdfium.FPDFPage_GetObject, _P, _P, _I)
_FORM_COUNT = _direct(pdfium.FPDFFormObj_CountObjects, _I, _P)
_FORM_OBJECT = _direct(pdfium.FPDFFormObj_GetObject, _P, _P, ctypes.c_ulong)
_TYPE = _direct(pdfium.FPDFPageObj_GetType, _I, _P)
_BOUNDS = _direct(pdfium.FPDFPageObj_GetBounds, _I, _P, _P, _P, _P, _P)
_MATRIX = _direct(pdfium.FPDFPageObj_GetMatrix, _I, _P, _P)
_CHAR_BOX = _direct(pdfium.FPDFText_GetLooseCharBox, _I, _P, _I, _P)
_UNICODE = _direct(pdfium.FPDFText_GetUnicode, ctypes.c_uint, _P, _I)
_ANGLE = _direct(pdfium.FPDFText_GetCharAngle, ctypes.c_float, _P, _I)
# out parameters, used under PDFIUM: a rectangle's four floats (and their addresses), a matrix
_FLOATS = (ctypes.c_float * 4)()
_AT = tuple(ctypes.addressof(_FLOATS) + 4 * k for k in range(4))
_SIDES = memoryview(_FLOATS).cast("B").cast("f").tolist  # the four in one call, not four
_M = pdfium.FS_MATRIX()
_M_AT = ctypes.addressof(_M)


class _Frame:
    """Page space (x right, y up, rotated) → display space (x right, top down), as pdfplumber."""

    def __init__(self, page: pypdfium2.PdfPage) -> None:
        self.x0, self.y0, x1, y1 = page.get_mediabox()
        self.w, self.h = x1 - self.x0, y1 - self.y0
        self.rotation = page.get_rotation() % 360

    def box(self, left: float, bottom: float, right: float, top: float) -> Box:
        left, right, bottom, top = left - self.x0, right - self.x0, bottom - self.y0, top - self.y0
        if self.rotation == 90:
            return bottom, left, top, right
        if self.rotation == 180:
            return self.w - right, bottom, self.w - left, top
        if self.rotation == 270:
            return self.h - top, self.w - right, self.h - bottom, self.w - left
        return left, self.h - top, right, self.h - bottom

    def page_box(self) -> Box:
        turned = self.rotation in (90, 270)
        return 0.0, 0.0, self.h if turned else self.w, self.w if turned else self.h


def page_chars(page: pypdfium2.PdfPage, textpage: pypdfium2.PdfTextPage) -> list[Char]:
    """Every printed character with its loose box (font ascent to descent: lines align)."""
    frame = _Frame(page)
    n = pdfium.FPDFText_CountChars(textpage)
    text = textpage.get_text_range(0, n) if n > 0 else ""
    raw, rect, box, sides = _address(textpage.raw), _AT[0], _CHAR_BOX, _SIDES  # left, top, right, bottom
    chars = []
    # get_text_range returns one str char per PDFium char index (UTF-16 surrogates aside)
    if len(text) != n:
        text = "".join(chr(_UNICODE(raw, i)) for i in range(n))
    plain = frame.rotation == 0 and frame.x0 == 0 and frame.y0 == 0
    h = frame.h
    if plain and BULK is not None:  # the same loop in C
        return BULK.chars(text, raw, _LOOSE_BOX_FN, h)  # type: ignore[attr-defined]
    for i, ch in enumerate(text):
        if ch <= " " or ch.isspace() or ch == "\ufffe":
            continue
        box(raw, i, rect)
        left, up, right, down = sides()
        if plain:  # the common page: display space is page space upside down
            x0, top, x1, bottom = left, h - up, right, h - down
        else:
            x0, top, x1, bottom = frame.box(left, down, right, up)
        if x1 >= x0 and bottom >= top and math.isfinite(x0 + x1 + top + bottom):
            chars.append((ch, x0, top, x1, bottom, i))
    return chars


Drawn = list[tuple[int, int, tuple | None]]  # PDFium object type, object (`_address`), matrix of the form it is in


def page_drawn(page: pypdfium2.PdfPage) -> Drawn:
    """The page's paths and pictures, also those inside form XObjects."""
    return _drawn(_address(page.raw), pdfium.FPDFPage_CountObjects(page.raw), False, None)


def _upright(textpage: pypdfium2.PdfTextPage, turned: bool) -> Callable[[list[Char]], list[bool]]:
    """Whether each character stands upright, asked of PDFium only for the words outside the tables
    (table cells do not need it)."""
    raw = _address(textpage.raw)

    def upright(chars: list[Char]) -> list[bool]:
        if turned:
            return [True] * len(chars)
        if BULK is not None:  # the same loop in C
            return BULK.upright(chars, raw, _ANGLE_FN)  # type: ignore[attr-defined]
        return [c[5] < 0 or abs(_ANGLE(raw, c[5])) < 0.01 for c in chars]

    return upright


def page_edges(page: pypdfium2.PdfPage, settings: PdfSettings = SETTINGS, drawn: Drawn | None = None) -> Rules:
    """Horizontal and vertical rules: thin shapes, and the sides of drawn rectangles."""
    frame = _Frame(page)
    rules: Rules = ([], [])
    across, down = rules
    thin = settings.rule_thickness
    path, bounds, (a0, b0, c0, d0), sides = pdfium.FPDF_PAGEOBJ_PATH, _BOUNDS, _AT, _SIDES
    plain, h = frame.rotation == 0 and frame.x0 == 0 and frame.y0 == 0, frame.h
    drawn = page_drawn(page) if drawn is None else drawn
    if plain and BULK is not None:  # the thin paths as below in C, any other handed back in its turn
        BULK.rules(drawn, _BOUNDS_FN, thin, h, across, down,  # type: ignore[attr-defined]
                   partial(_path_rules, rules, frame, thin))
        return rules
    for kind, obj, matrix in drawn:
        if kind != path:
            continue
        if matrix is None:  # most paths: as `_bounds`, a call less (WPS draws thousands a page)
            bounds(obj, a0, b0, c0, d0)
            left, bottom, right, top = sides()
        else:
            left, bottom, right, top = _bounds(obj, matrix)
        if right - left <= thin or top - bottom <= thin:
            if plain:  # the common page: display space is page space upside down (as `_rule`, inline)
                upper, lower = h - top, h - bottom
                if right - left >= lower - upper:
                    if right - left > 1:
                        y = (upper + lower) / 2
                        across.append((left, y, right, y))
                elif lower - upper > 1:
                    x = (left + right) / 2
                    down.append((x, upper, x, lower))
            else:
                _rule(rules, frame.box(left, bottom, right, top))
        else:
            _path_segments(rules, frame, thin, obj, matrix)
    return rules


def _path_rules(rules: Rules, frame: _Frame, thin: float, obj: int, matrix: tuple | None) -> None:
    """A path's rules as `page_edges` finds them (for the paths the C loop hands back: a form's, or
    a shape that is no thin line)."""
    left, bottom, right, top = _bounds(obj, matrix)
    if right - left <= thin or top - bottom <= thin:
        _rule(rules, frame.box(left, bottom, right, top))
    else:
        _path_segments(rules, frame, thin, obj, matrix)


def _path_segments(rules: Rules, frame: _Frame, thin: float, obj: int, matrix: tuple | None) -> None:
    """The sides of a drawn shape that are rules (a rectangle's, a polyline's)."""
    for a, b in _segments(obj, matrix):
        if abs(a[0] - b[0]) <= thin or abs(a[1] - b[1]) <= thin:
            _rule(rules, frame.box(min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1])))


def _drawn(parent: int, count: int, in_form: bool, matrix: tuple | None) -> Drawn:
    """The paths and pictures among the `count` objects of a page or (`in_form`) a form XObject,
    in `matrix` (the form's), those of the forms among them in their place."""
    form = pdfium.FPDF_PAGEOBJ_FORM
    if BULK is not None:  # the same loop in C, the forms left in their place to open here
        found, forms = BULK.drawn(parent, count, _GET_FN[in_form], in_form, _TYPE_FN, matrix)  # type: ignore[attr-defined]
        if not forms:
            return found
        opened: Drawn = []
        for kind, obj, _ in found:
            if kind == form:
                opened += _form_drawn(obj, matrix)
            else:
                opened.append((kind, obj, matrix))
        return opened
    found = []
    get, kind_of = _FORM_OBJECT if in_form else _OBJECT, _TYPE
    drawn = (pdfium.FPDF_PAGEOBJ_PATH, pdfium.FPDF_PAGEOBJ_IMAGE)
    for i in range(count):
        obj = get(parent, i)
        kind = kind_of(obj)
        if kind in drawn:
            found.append((kind, obj, matrix))
        elif kind == form:
            found += _form_drawn(obj, matrix)
    return found


def _form_drawn(obj: int, matrix: tuple | None) -> Drawn:
    inner = _matrix(obj)
    return _drawn(obj, _FORM_COUNT(obj), True, inner if matrix is None else _compose(inner, matrix))


def _matrix(obj: int) -> tuple:
    """A page object's own matrix (a, b, c, d, e, f)."""
    _MATRIX(obj, _M_AT)
    return _M.a, _M.b, _M.c, _M.d, _M.e, _M.f


def _compose(m: tuple, n: tuple) -> tuple:
    a, b, c, d, e, f = m
    A, B, C, D, E, F = n
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


def _apply(m: tuple | None, x: float, y: float) -> tuple[float, float]:
    if m is None:
        return x, y
    return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]


def _bounds(obj: int, matrix: tuple | None) -> Box:
    _BOUNDS(obj, *_AT)
    left, bottom, right, top = _SIDES()
    if matrix is None:
        return left, bottom, right, top
    xs, ys = zip(*(_apply(matrix, x, y) for x in (left, right) for y in (bottom, top)), strict=True)
    return min(xs), min(ys), max(xs), max(ys)


def _segments(address: int, matrix: tuple | None) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """Straight segments of a path in page space (curves are not rules)."""
    own = _matrix(address)
    full = own if matrix is None else _compose(own, matrix)
    obj = ctypes.cast(address, pdfium.FPDF_PAGEOBJECT)
    x, y = ctypes.c_float(), ctypes.c_float()
    out, start, last = [], None, None
    for i in range(pdfium.FPDFPath_CountSegments(obj)):
        seg = pdfium.FPDFPath_GetPathSegment(obj, i)
        pdfium.FPDFPathSegment_GetPoint(seg, x, y)
        point = _apply(full, x.value, y.value)
        kind = pdfium.FPDFPathSegment_GetType(seg)
        if kind == pdfium.FPDF_SEGMENT_MOVETO:
            start = point
        elif kind == pdfium.FPDF_SEGMENT_LINETO and last is not None:
            out.append((last, point))
        if pdfium.FPDFPathSegment_GetClose(seg) and start is not None:
            out.append((point, start))
        last = point
    return out


def not_in_letters(rules: Rules, chars: list[Char], longest: float = 30.0) -> Rules:
    """The rules that are not strokes of a letter: some producers draw a font's glyphs as shapes
    over invisible text (pdftocairo does for some fonts), and the stem of a "1" would split its
    cell. A stroke lies inside its character's box; a table's rule runs between characters."""
    if not chars:
        return rules
    heights = [c[4] - c[2] for c in chars]
    # a rule longer or taller than every letter (by more than the half points allowed) is in none;
    # one taller than most letters (a table's row) is compared with the taller ones (a title's) only
    wide = min(longest, max(c[3] - c[1] for c in chars) + 2)
    tall = min(longest, max(heights) + 2)
    high = median(heights) + 2
    candidates = [r for r in rules[0] + rules[1] if r[2] - r[0] <= wide and r[3] - r[1] <= tall]
    if not candidates:
        return rules
    # the letters by their left side (only those a rule may be in: the tall ones when every rule is
    # tall); which of those at a left side comes first does not matter: any of them may hold the rule
    short = any(r[3] - r[1] < high for r in candidates)
    boxes = sorted((c for c in chars if short or c[4] - c[2] >= high - 1.5), key=itemgetter(1))
    starts = [b[1] for b in boxes]
    tall_boxes = [b for b in boxes if b[4] - b[2] >= high - 1.5]
    tall_starts = [b[1] for b in tall_boxes]

    def kept(found: list[Box]) -> list[Box]:
        out = []
        for rule in found:
            x0, top, x1, bottom = rule
            if x1 - x0 <= wide and bottom - top <= tall:
                among, at = (tall_boxes, tall_starts) if bottom - top >= high else (boxes, starts)
                for k in range(bisect_left(at, x0 - longest), bisect_right(at, x0 + 0.5)):
                    b = among[k]
                    if b[2] - 0.5 <= top and bottom <= b[4] + 0.5 and x1 <= b[3] + 0.5:
                        break  # in this letter (text, x0, top, x1, bottom)
                else:
                    out.append(rule)
            else:
                out.append(rule)
        return out

    return kept(rules[0]), kept(rules[1])


def _rule(rules: Rules, box: Box) -> None:
    """A thin box → the rule along its long side (a dot → nothing)."""
    x0, top, x1, bottom = box
    if x1 - x0 >= bottom - top:
        if x1 - x0 > 1:
            y = (top + bottom) / 2
            rules[0].append((x0, y, x1, y))
    elif bottom - top > 1:
        x = (x0 + x1) / 2
        rules[1].append((x, top, x, bottom))

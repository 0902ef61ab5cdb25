"""HTML → Source: the page's text in reading order, each data table as a grid of its cells.

Web pages are TRS-style or Word-pasted: labels split over many <span>/<font> runs, merged
cells, empty spacer cells, tables nested in site chrome. Only innermost tables are read as
grids; a table holding other tables is layout. Provenance: the table (index among all <table>
elements in document order), the row (index of its <tr>) and the cell (index in that row).

Tables published as pictures (<img>) are read by OCR where the picture is at hand: in the page
(a data: URI), in a web archive (MHT/MHTML: the page and its files in one MIME message), or in
the folder of a page saved with its files ("网页，全部": `name_files/…`).
"""

from __future__ import annotations

import base64
import binascii
import email
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urljoin

from lxml import etree
from lxml import html as lhtml

from ..errors import BinaryInput, EmptyInput, ReportError
from ..result import Provenance
from .source import Cell, Source, SourceWriter, Table

_BLOCK = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "section",
          "article", "header", "footer", "blockquote", "pre", "dd", "dt", "dl", "center", "hr", "form", "caption"}
_DROP = {"script", "style", "noscript", "head", "template", "select", "button", "iframe", "object", "svg"}
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_\-]+)""", re.I)


def decode_html(data: bytes, charset: str | None = None) -> str:
    """Bytes → text by BOM, then `charset` (a web archive's MIME header), then the page's meta
    charset, then UTF-8, then GB18030."""
    if not data.strip():
        raise EmptyInput("empty file")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    m = _CHARSET.search(data[:8192])
    declared = [c.lower() for c in (charset, m.group(1).decode("ascii") if m else None) if c]
    candidates = ["gb18030" if c in ("gb2312", "gbk", "gb18030", "x-gbk", "cp936") else c for c in declared]
    candidates += ["utf-8", "gb18030"]
    for encoding in candidates:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("utf-8", errors="replace")


Pictures = Callable[[str], bytes | None]  # an <img> src → the picture's bytes, when at hand
MAX_PICTURE = 20 * 1024 * 1024


def read_html(data: bytes, pictures: Pictures | None = None, charset: str | None = None) -> Source:
    text = decode_html(data, charset)
    text = re.sub(r"^\s*<\?xml[^>]*>", "", text)
    parser = lhtml.HTMLParser(huge_tree=True, remove_comments=True)
    try:
        root = lhtml.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError) as e:
        raise BinaryInput(f"not readable as HTML ({e})") from e
    if any(e.type == etree.ErrorTypes.ERR_RESOURCE_LIMIT for e in parser.error_log):  # libxml2 stops at 2048 levels
        raise ReportError("refused: the page's elements are nested too deeply to read (more than 2,048 levels); "
                          "the text past that depth would be lost")
    out = SourceWriter("html")
    out.meta.update(page_meta(root))
    tables = {t: i for i, t in enumerate(root.iter("table"))}
    walker = etree.iterwalk(root, events=("start", "end"))
    for event, el in walker:
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if event == "end":
            if tag in _BLOCK and tag != "br":
                out.line()
            if el.tail and el is not root:
                out.write(_inline(el.tail))
        elif tag in _DROP:
            walker.skip_subtree()
        elif tag == "table" and next(el.iterdescendants("table"), None) is None:
            out.line()
            _grid(out, el, tables[el])
            for img in el.iter("img"):  # a picture framed in a table
                _picture(out, img, pictures)
            walker.skip_subtree()
        elif tag == "img":
            _picture(out, el, pictures)
        else:
            if tag in _BLOCK:
                out.line()
            if el.text:
                out.write(_inline(el.text))
    return out.source()


_POSTED_META = ("pubdate", "publishdate", "firstpublishedtime", "publishedtime", "article:published_time",
                "dc.date", "dcterms.issued", "createdate")
_HEADLINE = re.compile(r"(?:^|[\s_-])(?:article-?title|news-?title|detail-?title|con-?title|title|bt|biaoti)"
                       r"(?:$|[\s_-])", re.I)
_CRUMB = re.compile(r"crumb|position|location|dqwz|current|path|weizhi", re.I)


def page_meta(root: etree._Element) -> dict[str, str]:
    """What a web page says about the report besides its body: its <title> (or the ArticleTitle meta
    tag), its headline element, its 当前位置 breadcrumb, its publishing time in the meta tags."""
    out: dict[str, str] = {}
    metas = {(m.get("name") or m.get("property") or "").strip().lower(): (m.get("content") or "").strip()
             for m in root.iter("meta")}
    title = root.find(".//title")
    out["title"] = metas.get("articletitle") or (_inline(title.text_content()).strip() if title is not None else "")
    out["posted"] = next((metas[k] for k in _POSTED_META if metas.get(k)), "")
    headlines = []  # the site's name is often an <h1> too: the one naming a report is the headline
    for el in root.iter("h1", "h2", "div", "p", "td", "span"):
        cls = f"{el.get('class') or ''} {el.get('id') or ''}"
        if el.tag in ("h1", "h2") or _HEADLINE.search(cls):
            text = _inline(el.text_content()).strip()
            if 6 <= len(text) <= 120:
                headlines.append(text)
    out["headline"] = next((h for h in headlines if "报告" in h or "年报" in h), headlines[0] if headlines else "")
    for el in root.iter("div", "p", "span", "td", "nav", "ol", "ul"):
        cls = f"{el.get('class') or ''} {el.get('id') or ''}"
        if _CRUMB.search(cls) or (el.text or "").strip().startswith("当前位置"):  # own text first: no page-long joins
            text = _inline(el.text_content()).strip()
            if len(text) <= 200:
                out["breadcrumb"] = text
                break
    return out


def _picture(out: SourceWriter, img: etree._Element, pictures: Pictures | None) -> None:
    src = (img.get("src") or "").strip()
    data = _data_uri(src) if src.startswith("data:") else pictures(src) if pictures and src else None
    if data:
        from .ocr import write_document_picture  # OpenCV and the OCR engine load only for a page with pictures

        write_document_picture(out, data)


def _data_uri(src: str) -> bytes | None:
    head, _, payload = src.partition(",")
    if not head.startswith("data:image/") or not head.endswith(";base64"):
        return None
    try:
        return base64.b64decode(payload, validate=False)
    except (binascii.Error, ValueError):
        return None


def folder_pictures(folder: Path) -> Pictures:
    """Pictures a saved page refers to by relative path, from its folder and below only."""
    root = folder.resolve()

    def get(src: str) -> bytes | None:
        if re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:|/|\\", src):
            return None  # on the web or elsewhere on this machine: not the page's own files
        try:
            path = (root / unquote(re.split(r"[?#]", src)[0])).resolve()
            if path.is_relative_to(root) and path.is_file() and path.stat().st_size <= MAX_PICTURE:
                return path.read_bytes()
        except (OSError, ValueError):
            pass
        return None

    return get


def read_mht(data: bytes) -> Source:
    """A web archive (IE's .mht, Chrome's .mhtml, Word's 单个文件网页): its page, with its pictures."""
    try:
        parts = [p for p in email.message_from_bytes(data).walk() if not p.is_multipart()]
        page = next((p for p in parts if p.get_content_type() == "text/html"), None)
        files: dict[str, bytes] = {}
        for part in parts:
            if part is not page and part.get_content_maintype() == "image":
                picture = part.get_payload(decode=True)
                for key in (str(part.get("Content-Location") or "").strip(),
                            "cid:" + str(part.get("Content-ID") or "").strip().strip("<>")):
                    if key not in ("", "cid:") and isinstance(picture, bytes):
                        files[key] = picture
        html = page.get_payload(decode=True) if page is not None else None
        base = str(page.get("Content-Location") or "").strip() if page is not None else ""
        charset = page.get_content_charset() if page is not None else None
    except Exception as e:  # the email package's errors on a damaged message are of many kinds
        raise ReportError(f"damaged web archive (MHT): {type(e).__name__}") from e
    if not isinstance(html, bytes):
        raise ReportError("web archive (MHT) without a web page in it")

    def get(src: str) -> bytes | None:
        try:
            return files.get(src) or files.get(urljoin(base, src))
        except ValueError:  # a src no URL parser accepts ("http://[")
            return None

    return read_html(html, get, charset)  # the MIME header's charset: the page's own may be missing


def _inline(text: str) -> str:
    return re.sub(r"[ \t\r\n]+", " ", text)


def _cell_text(td: etree._Element) -> str:
    """A cell's text with Word's runs joined; <br> and paragraphs become line breaks."""
    if len(td) == 0:  # most cells: text alone
        return _inline(td.text).strip() if td.text else ""
    parts: list[str] = []
    walker = etree.iterwalk(td, events=("start", "end"))
    for event, node in walker:
        tag = node.tag.lower() if isinstance(node.tag, str) else ""
        if event == "end":
            if node is not td and node.tail:
                parts.append(_inline(node.tail))
        elif tag in _DROP:
            walker.skip_subtree()
        else:
            if tag in ("br", "p", "div") and node is not td:
                parts.append("\n")
            if node.text:
                parts.append(_inline(node.text))
    return "\n".join(x.strip() for x in "".join(parts).split("\n") if x.strip())


def _grid(out: SourceWriter, table: etree._Element, index: int) -> None:
    """The table's cells at their positions with rowspan/colspan expanded; a row with no text of
    its own is left out. Where every cell of a row has a width (Word writes one on each), its
    cells' x positions too: Word gives rows different colspans for one visual column."""
    cells: list[Cell] = []
    covered: dict[int, tuple[int, Cell]] = {}  # column → (rows it stays covered, the cell above covering it)
    for r, tr in enumerate(table.iter("tr")):
        tds = [el for el in tr if isinstance(el.tag, str) and el.tag.lower() in ("td", "th")]
        widths = [_width(td) for td in tds]
        row: list[Cell] = []
        col, x = 0, 0.0
        for c, td in enumerate(tds):
            col, x = _past_covered(covered, col, x)
            span, down = _int(td.get("colspan")), _int(td.get("rowspan"))
            text = _cell_text(td)
            w = widths[c]
            cell = Cell(r, col, text, down, span, Provenance(table=index, row=r, column=c) if text else None,
                        (x, x + w) if w is not None and None not in widths else None)
            row.append(cell)
            if down > 1:
                covered.update((col + k, (down - 1, cell)) for k in range(span))
            col += span
            x += w or 0.0
        _past_covered(covered, col, x)
        for k in [k for k in covered if k >= col]:  # covered positions past the row's last cell
            _use(covered, k)
        if any(c.text for c in row):
            cells += row
    if cells:
        out.table(Table(cells))


def _past_covered(covered: dict[int, tuple[int, Cell]], col: int, x: float) -> tuple[int, float]:
    """The first position from `col` on that no rowspan from above covers, and its x."""
    while col in covered:
        cell = _use(covered, col)
        x = cell.x[1] if cell.x is not None else x
        col += 1
    return col, x


def _use(covered: dict[int, tuple[int, Cell]], col: int) -> Cell:
    left, cell = covered.pop(col)
    if left > 1:
        covered[col] = (left - 1, cell)
    return cell


_PT = re.compile(r"width\s*:\s*([\d.]+)\s*(pt|px|cm|mm|in)?", re.I)
_UNIT = {"pt": 1.0, "px": 0.75, "cm": 72 / 2.54, "mm": 72 / 25.4, "in": 72.0}


def _width(td: etree._Element) -> float | None:
    """A cell's width in points, as Word writes it (style="width:42.5pt", or width="57" pixels)."""
    m = _PT.search(td.get("style") or "")
    if m:
        try:
            return float(m.group(1)) * _UNIT[(m.group(2) or "px").lower()]
        except ValueError:
            return None
    w = (td.get("width") or "").strip()
    try:
        return float(w) * 0.75 if w and not w.endswith("%") else None
    except ValueError:
        return None


def _int(value: str | None) -> int:
    if value is None:
        return 1
    try:
        return max(1, min(int(str(value).strip()), 100))
    except (TypeError, ValueError):
        return 1

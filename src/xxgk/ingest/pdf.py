"""PDF with a text layer → Source: ruled tables as grids, the rest as lines laid out by x.

pdfplumber finds ruled tables with their merged cells; words outside them become lines whose
spacing follows their x position (as pdftotext -layout), so tables without rules still read.
Provenance is the page and the bounding box of the cell or word.
"""

from __future__ import annotations

import io
import logging
from statistics import median

import pdfplumber
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
from pdfminer.pdfparser import PDFSyntaxError

from ..errors import ReportError
from ..result import Provenance
from .source import Source, SourceWriter

logging.getLogger("pdfminer").setLevel(logging.ERROR)

LINE_TOLERANCE = 3.0  # points: words whose tops differ less are on one line
MAX_PAGES = 200


def read_pdf(data: bytes) -> Source:
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
        pages = pdf.pages
    except (PDFPasswordIncorrect, PDFEncryptionError) as e:
        raise ReportError("encrypted PDF: it cannot be read without its password") from e
    except (PDFSyntaxError, Exception) as e:
        if _encrypted(e):
            raise ReportError("encrypted PDF: it cannot be read without its password") from e
        raise ReportError(f"corrupt or truncated PDF ({type(e).__name__})") from e
    out = SourceWriter("pdf")
    words_seen = 0
    try:
        with pdf:
            for number, page in enumerate(pages[:MAX_PAGES], start=1):
                words_seen += _page(out, page, number)
    except ReportError:
        raise
    except Exception as e:
        raise ReportError(f"corrupt or truncated PDF ({type(e).__name__}: {e})") from e
    if words_seen == 0:
        raise ReportError("scanned; needs OCR (the PDF has no text layer)")
    return out.source()


def _encrypted(e: BaseException) -> bool:
    """pdfplumber wraps pdfminer's errors: look through the wrapping."""
    seen: list[BaseException] = [e]
    while seen:
        x = seen.pop()
        if isinstance(x, PDFPasswordIncorrect | PDFEncryptionError) or "password" in str(x).lower():
            return True
        seen += [a for a in x.args if isinstance(a, BaseException)]
        seen += [c for c in (x.__cause__, x.__context__) if c is not None and c is not x]
    return False


def _page(out: SourceWriter, page: pdfplumber.page.Page, number: int) -> int:
    tables = page.find_tables()
    boxes = [t.bbox for t in tables]
    words = page.extract_words(x_tolerance=1.5, y_tolerance=2)
    loose = [w for w in words if not any(_inside(w, b) for b in boxes)]
    items: list[tuple[float, int, object]] = [(t.bbox[1], 1, t) for t in tables]
    for line in _lines(loose):
        items.append((line[0]["top"], 0, line))
    items.sort(key=lambda item: (item[0], item[1]))
    char_width = _char_width(words)
    for _, kind, item in items:
        if kind == 1:
            _table(out, item, number)  # type: ignore[arg-type]
        else:
            _line(out, item, number, char_width)  # type: ignore[arg-type]
    out.line()  # a page ends a line of text: "\f" would be white space anyway
    return len(words)


def _inside(word: dict, box: tuple[float, float, float, float]) -> bool:
    cx, cy = (word["x0"] + word["x1"]) / 2, (word["top"] + word["bottom"]) / 2
    return box[0] <= cx <= box[2] and box[1] <= cy <= box[3]


def _lines(words: list[dict]) -> list[list[dict]]:
    lines: list[list[dict]] = []
    for w in sorted(words, key=lambda w: (round(w["top"]), w["x0"])):
        if lines and abs(lines[-1][0]["top"] - w["top"]) < LINE_TOLERANCE:
            lines[-1].append(w)
        else:
            lines.append([w])
    return [sorted(line, key=lambda w: w["x0"]) for line in lines]


def _char_width(words: list[dict]) -> float:
    widths = [(w["x1"] - w["x0"]) / len(w["text"]) for w in words if w["text"]]
    return max(2.0, median(widths) / 2) if widths else 5.0


def _box(w: dict | tuple, page: int) -> Provenance:
    if isinstance(w, dict):
        return Provenance(page=page, bbox=(round(w["x0"], 1), round(w["top"], 1), round(w["x1"], 1),
                                           round(w["bottom"], 1)))
    return Provenance(page=page, bbox=tuple(round(x, 1) for x in w))  # type: ignore[arg-type]


def _line(out: SourceWriter, words: list[dict], page: int, char_width: float) -> None:
    """Words at columns proportional to x, two spaces at least where a gap separates cells."""
    col = 0
    for i, w in enumerate(words):
        if i:
            gap = w["x0"] - words[i - 1]["x1"]
            target = int(w["x0"] / char_width)
            pad = min(200, max(2, target - col)) if gap > char_width * 1.5 else 1  # broken x: no GB of spaces
            out.write(" " * pad)
            col += pad
        else:
            target = int(w["x0"] / char_width)
            out.write(" " * min(target, 40))
            col = min(target, 40)
        out.write(w["text"], _box(w, page))
        col += len(w["text"]) * 2 if not w["text"].isascii() else len(w["text"])
    out.line()


def _table(out: SourceWriter, table: pdfplumber.table.Table, page: int) -> None:
    texts = table.extract()
    for r, row in enumerate(table.rows):
        cells = []
        for c, bbox in enumerate(row.cells):
            text = texts[r][c] if r < len(texts) and c < len(texts[r]) else None
            cells.append((None if bbox is None else (text or ""), None if bbox is None else _box(bbox, page)))
        out.grid_row(cells)

"""What every reader hands the extractor: text, the tables it saw as tables, and where in the
original file each piece came from.

Structured inputs (HTML, Word, PDF with rules, OCR'd pages through the PDF layout) hand over each
table as data: a `Table` of `Cell`s with their row, column and spans in the expanded grid. The
text beside it holds one line per table row, the cells' texts tab-separated (for the sections,
the prose and the token readings of sources without cells); each cell knows where its text is.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from ..result import Provenance
from .bounds import MAX_CELLS, MAX_TEXT, check_cells, check_text


@dataclass
class Cell:
    """One cell as printed: its top-left position in the expanded grid and how far it spans."""

    row: int
    column: int
    text: str = ""  # on one line (see `one_line`); "" for a cell left blank
    rowspan: int = 1
    colspan: int = 1
    where: Provenance | None = None  # the cell in the original file (table/row/column, or page + box)
    x: tuple[float, float] | None = None  # left and right as drawn (PDF points, Word widths), when known
    start: int = -1  # offset of `text` in Source.text, set when written


@dataclass
class Table:
    """A table as the reader saw it: its cells (positions covered by a merged cell have none)."""

    cells: list[Cell]
    start: int = 0  # offsets of its lines in Source.text
    end: int = 0

    @property
    def rows(self) -> int:
        return max((c.row + c.rowspan for c in self.cells), default=0)

    @property
    def columns(self) -> int:
        return max((c.column + c.colspan for c in self.cells), default=0)

    def by_row(self) -> list[list[Cell]]:
        """Cells of each row that starts a cell there, left to right (rows with none are left out)."""
        rows: dict[int, list[Cell]] = {}
        for c in self.cells:
            rows.setdefault(c.row, []).append(c)
        return [sorted(rows[r], key=lambda c: c.column) for r in sorted(rows)]


@dataclass
class Source:
    text: str
    kind: str = "text"  # text, html, docx, pdf, image
    spans: list[tuple[int, int, Provenance]] = field(default_factory=list)  # sorted by start
    ocr: list[tuple[int, tuple[float, float, float, float]]] = field(default_factory=list)  # (page, box) read by OCR
    notes: list[str] = field(default_factory=list)  # what the reader could not read as printed, for the doubts
    tables: list[Table] = field(default_factory=list)  # in text order
    # what the file says about itself outside its text, for the report's identity: "title" (a web
    # page's <title>, a PDF's or Word file's title property), "headline" (a page's headline
    # element), "breadcrumb" (its 当前位置 trail), "posted" (a page's publishing time in its meta tags)
    meta: dict[str, str] = field(default_factory=dict)
    _starts: list[int] = field(default_factory=list, repr=False)

    def locate(self, start: int, end: int) -> Provenance | None:
        """Where in the original file the text at [start, end) came from."""
        if not self.spans:
            return None
        if len(self._starts) != len(self.spans):
            self._starts = [s for s, _, _ in self.spans]
        i = bisect.bisect_right(self._starts, start) - 1
        if i >= 0:
            s, e, where = self.spans[i]
            if s <= start and end <= e:
                return where.model_copy(update={"ocr": True}) if self._by_ocr(where) else where
        return None

    def locate_token(self, token: object) -> Provenance | None:
        """Where a token (anything with `start` and `end` offsets in the text) was printed."""
        return self.locate(token.start, token.end)  # type: ignore[attr-defined]

    def _by_ocr(self, where: Provenance) -> bool:
        if not self.ocr or where.page is None or where.bbox is None:
            return False
        x, y = (where.bbox[0] + where.bbox[2]) / 2, (where.bbox[1] + where.bbox[3]) / 2
        return any(page == where.page and b[0] <= x <= b[2] and b[1] <= y <= b[3] for page, b in self.ocr)


class SourceWriter:
    """Builds a Source line by line, recording the origin of each cell or word written."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.parts: list[str] = []
        self.size = 0
        self.spans: list[tuple[int, int, Provenance]] = []
        self.ocr: list[tuple[int, tuple[float, float, float, float]]] = []  # (page, box) read by OCR
        self.notes: list[str] = []
        self.tables: list[Table] = []
        self.cells = 0
        self.meta: dict[str, str] = {}  # see Source.meta

    def write(self, text: str, where: Provenance | None = None) -> None:
        if where is not None and text:
            self.spans.append((self.size, self.size + len(text), where))
        self.parts.append(text)
        self.size += len(text)
        if self.size > MAX_TEXT:
            check_text(self.size)

    def line(self, text: str = "", where: Provenance | None = None) -> None:
        self.write(text, where)
        self.write("\n")

    def table(self, table: Table) -> None:
        """A table: one line per row, its cells' texts tab-separated in column order."""
        if self.parts and not self.parts[-1].endswith("\n"):
            self.write("\n")  # a row is a line of its own
        self.cells += len(table.cells)
        if self.cells > MAX_CELLS:
            check_cells(self.cells)
        table.start = self.size
        for row in table.by_row():
            for i, cell in enumerate(row):
                if i:
                    self.write("\t")
                cell.text = one_line(cell.text)
                cell.start = self.size
                self.write(cell.text, cell.where if cell.text else None)
            self.write("\n")
        table.end = self.size
        self.tables.append(table)

    def source(self) -> Source:
        return Source("".join(self.parts), self.kind, self.spans, self.ocr, self.notes, self.tables,
                      {k: v for k, v in self.meta.items() if v})


def one_line(text: str) -> str:
    """A cell's lines joined: nothing inside a wrapped word or number ("17⏎8" in a narrow cell is
    178), else a space."""
    if "\n" not in text and "\t" not in text:
        return text.strip()  # a cell of one line, as the loop below makes it
    out = ""
    for piece in text.replace("\t", " ").split("\n"):
        piece = piece.strip()
        if out and piece and not (_cjk(out[-1]) and _cjk(piece[0])) and not (out[-1].isdigit() and piece[0].isdigit()):
            out += " "
        out += piece
    return out


def _cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or ch in "，、。：；（）“”"

"""What every reader hands the extractor: text, and where in the original file each piece came from.

Structured inputs (HTML, Word, PDF tables) are written out as text with one line per table row
and one tab-separated field per grid cell; `GRID_LINE` starts such a line and `COVERED` fills a
grid position covered by a merged cell, so an empty field there is a cell left blank.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from ..result import Provenance

GRID_LINE = "\ue001"
COVERED = "\ue000"


@dataclass
class Source:
    text: str
    kind: str = "text"  # text, html, docx, pdf, image
    spans: list[tuple[int, int, Provenance]] = field(default_factory=list)  # sorted by start
    ocr: list[tuple[int, tuple[float, float, float, float]]] = field(default_factory=list)  # (page, box) read by OCR
    notes: list[str] = field(default_factory=list)  # what the reader could not read as printed, for the doubts
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
        self.meta: dict[str, str] = {}  # see Source.meta

    def write(self, text: str, where: Provenance | None = None) -> None:
        if where is not None and text:
            self.spans.append((self.size, self.size + len(text), where))
        self.parts.append(text)
        self.size += len(text)

    def line(self, text: str = "", where: Provenance | None = None) -> None:
        self.write(text, where)
        self.write("\n")

    def grid_row(self, cells: list[tuple[str | None, Provenance | None]]) -> None:
        """One table row: None for a position covered by a merged cell, "" for an empty cell."""
        self.write(GRID_LINE)
        for i, (text, where) in enumerate(cells):
            if i:
                self.write("\t")
            if text is None:
                self.write(COVERED)
            else:
                self.write(_one_line(text), where)
        self.write("\n")

    def source(self) -> Source:
        return Source("".join(self.parts), self.kind, self.spans, self.ocr, self.notes,
                      {k: v for k, v in self.meta.items() if v})


def _one_line(text: str) -> str:
    """A cell's lines joined: nothing inside a wrapped word or number ("17⏎8" in a narrow cell is
    178), else a space."""
    out = ""
    for piece in text.replace("\t", " ").split("\n"):
        piece = piece.strip()
        if out and piece and not (_cjk(out[-1]) and _cjk(piece[0])) and not (out[-1].isdigit() and piece[0].isdigit()):
            out += " "
        out += piece
    return out


def _cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or ch in "，、。：；（）“”"

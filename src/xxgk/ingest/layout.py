"""A page's characters and ruling lines → lines of text and grid tables of a Source: the layout
shared by PDF pages (PDFium's characters and drawn lines, `pdf`) and pictures (OCR's characters
and the rules OpenCV finds, `ocr`). pdfplumber's word finder makes the words; its table chain
(re-done on tuples in `ruling`) the ruled tables with their merged cells. Words outside tables
become lines whose spacing follows their x position (as pdftotext -layout), so tables without
rules still read. Boxes are in points from the page's top left.

    characters + rules → edges_to_tables → write_page (table_texts + words outside) → Source
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from operator import itemgetter
from statistics import median

from pdfplumber.table import Table, TableSettings
from pdfplumber.utils import extract_words

from ..result import Provenance
from .ruling import Box, find_tables
from .source import Cell, SourceWriter
from .source import Table as GridTable

Rules = tuple[list[Box], list[Box]]  # horizontal, vertical


@dataclass(frozen=True)
class PdfSettings:
    line_tolerance: float = 3.0  # points: words whose tops differ less are on one line
    word_x_tolerance: float = 1.5  # a larger gap between characters starts a new word
    word_y_tolerance: float = 2.0
    rule_thickness: float = 3.0  # a drawn shape thinner than this is a ruling line
    picture_share: float = 0.08  # a picture this share of the page or more, with no text on it, is OCR'd
    outline_shapes: int = 100  # a page with no text but this many shapes has its letters drawn as outlines
    readable_share: float = 0.8  # fewer of a page's characters ideographs, digits or punctuation: garbled
    table: dict = field(default_factory=dict)  # pdfplumber TableSettings; its defaults otherwise


SETTINGS = PdfSettings()


Char = tuple[str, float, float, float, float, int]  # text, x0, top, x1, bottom, PDFium's index (-1: OCR's)
Centred = tuple[float, float, Char]  # a character's centre (x, y), and it


def char_dicts(chars: list[Char], upright: Callable[[list[Char]], list[bool]] | None = None) -> list[dict]:
    """pdfplumber's char dicts, for its word finder (`upright`: whether each of the characters
    stands upright, asked for all at once; OCR's characters all do)."""
    flags = [True] * len(chars) if upright is None else upright(chars)
    return [{"text": ch, "x0": x0, "x1": x1, "top": top, "bottom": bottom, "doctop": top, "size": bottom - top,
             "upright": up} for (ch, x0, top, x1, bottom, _), up in zip(chars, flags, strict=True)]


def write_page(out: SourceWriter, chars: list[Char], tables: list[Table], number: int, settings: PdfSettings,
               as_dicts: Callable[[list[Char]], list[dict]], outside: list[Char] | None = None,
               inside: list[list[Centred]] | None = None) -> None:
    """One page's characters and ruled tables → lines of text and grid rows, from the top
    (`outside`, `inside`: the characters outside the tables and those in each, as `chars_in_tables`
    finds them, when known)."""
    if outside is None or inside is None:
        outside, inside = chars_in_tables(chars, [t.bbox for t in tables])
    loose = as_dicts(outside)
    words = extract_words(loose, x_tolerance=settings.word_x_tolerance, y_tolerance=settings.word_y_tolerance)
    items: list[tuple[float, int, object]] = [(t.bbox[1], 1, k) for k, t in enumerate(tables)]
    for line in _lines(words, settings.line_tolerance):
        items.append((line[0]["top"], 0, line))
    items.sort(key=itemgetter(0, 1))
    char_width = _char_width(chars)
    for _, kind, item in items:
        if kind == 1:
            _table(out, tables[item], inside[item], number, settings)  # type: ignore[index]
        else:
            _line(out, item, number, char_width)  # type: ignore[arg-type]
    out.line()  # a page ends a line of text: "\f" would be white space anyway


def edges_to_tables(rules: Rules, settings: PdfSettings = SETTINGS) -> list[Table]:
    """Ruled tables (pdfplumber's Table: its rows know merged cells; their text is placed by
    `table_texts`, so they need no page)."""
    cells = find_tables(*rules, TableSettings.resolve(settings.table))
    return [Table(None, c) for c in cells]  # type: ignore[arg-type]


def with_centres(chars: list[Char]) -> list[Centred]:
    return [((c[1] + c[3]) / 2, (c[2] + c[4]) / 2, c) for c in chars]


def chars_in_tables(chars: list[Char], boxes: list[Box]) -> tuple[list[Char], list[list[Centred]]]:
    """The characters whose centre is in none of the boxes (a table's), and those in each box with
    their centres (in two overlapping boxes: in both), once for the page: each table then places
    only its own characters."""
    if not boxes:
        return chars, []
    centred = with_centres(chars)
    inside = [[c for c in centred if x0 <= c[0] <= x1 and top <= c[1] <= bottom] for x0, top, x1, bottom in boxes]
    for x0, top, x1, bottom in boxes:  # what no box holds: filtered by each in turn
        centred = [c for c in centred if not (x0 <= c[0] <= x1 and top <= c[1] <= bottom)]
    return [c[2] for c in centred], inside


def _lines(words: list[dict], tolerance: float) -> list[list[dict]]:
    lines: list[list[dict]] = []
    for w in sorted(words, key=lambda w: (round(w["top"]), w["x0"])):
        if lines and abs(lines[-1][0]["top"] - w["top"]) < tolerance:
            lines[-1].append(w)
        else:
            lines.append([w])
    return [sorted(line, key=lambda w: w["x0"]) for line in lines]


def _char_width(chars: list[Char]) -> float:
    """Half the common character width: one column of pdftotext's layout."""
    widths = [c[3] - c[1] for c in chars]
    return max(2.0, median(widths) / 2) if widths else 5.0


def _box(w: dict, page: int) -> Provenance:
    """A word's place on its page (pdfplumber's word: x0, top, x1, bottom)."""
    return Provenance(page=page, bbox=(round(w["x0"], 1), round(w["top"], 1), round(w["x1"], 1), round(w["bottom"], 1)))


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


def _table(out: SourceWriter, table: Table, centred: list[Centred], page: int, settings: PdfSettings) -> None:
    """The ruled table's cells, each at the grid position of its top-left corner, spanning the
    grid lines it covers; its x as drawn."""
    texts = table_texts(table, [], settings, centred)
    xs = sorted({c[0] for c in table.cells})
    tops = sorted({c[1] for c in table.cells})
    column, row = {x: i for i, x in enumerate(xs)}, {y: i for i, y in enumerate(tops)}
    # a side's place among the grid's cell starts (how many start before it, by half a point): a
    # span is the difference of its two sides'; a grid has few distinct sides, each rounded once
    across = _starts_before(xs, {x for c in table.cells for x in (c[0], c[2])})
    down = _starts_before(tops, {y for c in table.cells for y in (c[1], c[3])})
    rounded = {v: round(v, 1) for v in (*across, *down)}
    cells = []
    # pdfplumber's Table.rows: rows by top, columns by left; a cell at each (top, left) at most
    for bbox in sorted(table.cells, key=itemgetter(1, 0)):
        x0, top, x1, bottom = bbox
        text = texts.get(bbox, "")
        where = Provenance(page=page, bbox=(rounded[x0], rounded[top], rounded[x1], rounded[bottom])) if text else None
        cells.append(Cell(row[top], column[x0], text, max(1, down[bottom] - down[top]),
                          max(1, across[x1] - across[x0]), where, (x0, x1)))
    out.table(GridTable(cells))


def _starts_before(starts: list[float], sides: set[float]) -> dict[float, int]:
    """For each side, how many of the grid's cell starts lie before it (by half a point)."""
    return {v: bisect_left(starts, v - 0.5) for v in sides}


def table_texts(table: Table, chars: list[Char], settings: PdfSettings = SETTINGS,
                centred: list[Centred] | None = None) -> dict[Box, str]:
    """Each cell's text: characters placed by their centre (bisect on the grid, not a scan per cell).
    `centred`: the characters with their centres, instead of `chars` (for a page's every table)."""
    xs = sorted({x for c in table.cells for x in (c[0], c[2])})
    ys = sorted({y for c in table.cells for y in (c[1], c[3])})
    xi, yi = {x: i for i, x in enumerate(xs)}, {y: i for i, y in enumerate(ys)}  # bisect_left of a member
    slot: dict[tuple[int, int], Box] = {}
    for c in table.cells:
        for i in range(xi[c[0]], xi[c[2]]):
            for j in range(yi[c[1]], yi[c[3]]):
                slot[i, j] = c
    placed: dict[Box, list[Char]] = {}
    left, top, right, bottom = table.bbox
    if centred is None:
        centred = with_centres(chars)
    # a character is most often in the slot of the one before it (a cell's characters come together)
    x0 = x1 = y0 = y1 = math.inf
    here: list[Char] | None = None
    for cx, cy, ch in centred:
        if x0 <= cx < x1 and y0 <= cy < y1:
            if here is not None:
                here.append(ch)
        elif left <= cx <= right and top <= cy <= bottom:
            i, j = bisect_right(xs, cx) - 1, bisect_right(ys, cy) - 1
            cell = slot.get((i, j))
            here = None if cell is None else placed.setdefault(cell, [])
            if here is not None:
                here.append(ch)
            if 0 <= i < len(xs) - 1 and 0 <= j < len(ys) - 1:  # the slot [x0, x1) × [y0, y1)
                x0, x1, y0, y1 = xs[i], xs[i + 1], ys[j], ys[j + 1]
            else:
                x0 = x1 = y0 = y1 = math.inf
        else:
            x0 = x1 = y0 = y1 = math.inf
    return {cell: _text(cs, settings) for cell, cs in placed.items()}


def _text(chars: list[Char], settings: PdfSettings) -> str:
    """Characters → lines (by top) → text; a space where a gap separates words."""
    if len(chars) == 1:
        return chars[0][0]
    tops = [c[2] for c in chars]
    if max(tops) - min(tops) < settings.line_tolerance:  # most cells: one line, by x (then top, as below)
        lines = [sorted(chars, key=itemgetter(1, 2))]
    else:
        lines = []
        for ch in sorted(chars, key=itemgetter(2)):
            if lines and ch[2] - lines[-1][0][2] < settings.line_tolerance:
                lines[-1].append(ch)
            else:
                lines.append([ch])
        for line in lines:
            line.sort(key=itemgetter(1))
    gap = settings.word_x_tolerance * 2
    out = []
    for line in lines:
        text = [line[0][0]]
        for a, b in pairwise(line):
            if b[1] - a[3] > gap:
                text.append(" ")
            text.append(b[0])
        out.append("".join(text))
    return "\n".join(out)

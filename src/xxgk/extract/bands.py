"""On a page OCR read, a row is placed by its label: the label's box and its values' boxes share
a band across the page (a baseline band). The token readings place values by the order of the
lines OCR's boxes were grouped into; on a scan whose rows drift (turned, not quite straightened)
or whose label OCR lost, that order puts a value in the next row's or the previous row's place.
So every row a token reading placed from OCR'd words is checked against its label's band, and a
row with a value outside it (or another number inside it) is left unread, with a doubt: never
placed by order alone. Within the row, its values go into its cells left to right across the
page, and cells left blank among them only where each value lies under its own column.

    reading + the table's tokens + where each was printed → unplace_off_band → the reading, checked
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from statistics import median

from ..formats import Format, Relation, Row
from ..result import Provenance
from .labels import align
from .tokens import Token
from .values import Cell, Reading, cell_value, fits

Locate = Callable[[Token], Provenance | None]


@dataclass(frozen=True)
class Band:
    """Where a row's label lies on its page: from the top of its first line to the bottom of its
    last (a label a narrow column wraps), its lines' height, and the x of its middle."""

    page: int
    top: float
    bottom: float
    height: float
    x: float = 0.0
    right: float = 0.0  # where the label ends: its values are printed right of it

    def holds(self, where: Provenance, slope: float = 0.0) -> bool:
        """Whether a value's box, followed along its row's slope back to the label (a page not quite
        straight, or photographed askew), is centred on the band: within the middle half of its
        lines' height (OCR's boxes are about as tall as a table's rows are apart: a value drifted
        half a row is as near the next label as its own)."""
        if where.page != self.page or where.bbox is None:
            return False
        x, y = (where.bbox[0] + where.bbox[2]) / 2, (where.bbox[1] + where.bbox[3]) / 2
        y += slope * (self.x - x)
        return self.top + 0.25 * self.height <= y <= self.bottom - 0.25 * self.height


Box = tuple[float, float, float, float]


def row_slopes(boxes: list[tuple[int, Box]]) -> list[float]:
    """The slope (dy/dx) of the row of numbers each box is printed in: boxes chained to the next
    one to their right within half a box's height, and the chain's line fitted; a box in a chain
    too short to tell takes the page's usual slope (0 when no chain tells)."""
    n = len(boxes)
    centre = [((b[0] + b[2]) / 2, (b[1] + b[3]) / 2) for _, b in boxes]
    right: dict[int, int] = {}
    for i, (page, b) in enumerate(boxes):
        near = [k for k, (p, c) in enumerate(boxes) if p == page and c[0] > b[2]
                and abs(centre[k][1] - centre[i][1]) < 0.5 * (b[3] - b[1])]
        if near:
            k = min(near, key=lambda k: boxes[k][1][0])
            if right.setdefault(i, k) != k:
                continue
    left = {k: i for i, k in right.items()}
    chains: list[list[int]] = []
    for i in range(n):
        if i in left and right.get(left[i]) == i:
            continue  # not the first of its chain
        chain = [i]
        while chain[-1] in right and left.get(right[chain[-1]]) == chain[-1] and right[chain[-1]] not in chain:
            chain.append(right[chain[-1]])
        chains.append(chain)
    fitted: dict[int, float] = {}
    by_page: dict[int, list[float]] = {}
    for chain in chains:
        xs = [centre[k][0] for k in chain]
        if len(chain) < 3 or max(xs) - min(xs) < 100:
            continue
        mx, my = sum(xs) / len(xs), sum(centre[k][1] for k in chain) / len(chain)
        slope = sum((centre[k][0] - mx) * (centre[k][1] - my) for k in chain) / sum((x - mx) ** 2 for x in xs)
        fitted.update((k, slope) for k in chain)
        by_page.setdefault(boxes[chain[0]][0], []).append(slope)
    usual = {page: median(found) for page, found in by_page.items()}
    return [fitted.get(k, usual.get(boxes[k][0], 0.0)) for k in range(n)]


def label_bands(rows: tuple[Row, ...], tokens: list[Token], locate: Locate) -> dict[int, Band]:
    """{row index: its label's band} for the rows whose label was found on an OCR'd page: the
    words aligned to the row's label, and the words just under them that no row took (the rest
    of a wrapped label: "不计其他情形）")."""
    texts = [t for t in tokens if t.kind == "text"]
    matched = align(texts, rows)
    boxes: dict[int, list[tuple[int, Box]]] = {}
    loose: list[tuple[int, Box]] = []
    for i, t in enumerate(texts):
        where = locate(t)
        if where is None or not where.ocr or where.bbox is None or where.page is None:
            continue
        if i in matched:
            boxes.setdefault(matched[i], []).append((where.page, where.bbox))
        else:
            loose.append((where.page, where.bbox))
    bands = {}
    for j, found in boxes.items():
        page, first = found[0]
        lines = [b for p, b in found if p == page]
        height = median(b[3] - b[1] for b in lines)
        top, bottom = first[1], first[3]
        left, right = min(b[0] for b in lines), max(b[2] for b in lines)
        grown = True
        while grown:  # chained lines of the label (matched or not) right under its last one
            grown = False
            for p, b in [(page, b) for b in lines] + loose:
                if p == page and bottom < b[3] and -0.2 * height <= b[1] - bottom <= 0.8 * height \
                        and b[0] < right and left < b[2]:
                    bottom, grown = b[3], True
                    left, right = min(left, b[0]), max(right, b[2])
        bands[j] = Band(page, top, bottom, height, (first[0] + first[2]) / 2, right)
    return bands


def unplace_off_band(fmt: Format, reading: Reading, tokens: list[Token], locate: Locate,
                     relations: tuple[Relation, ...]) -> None:
    """Each labelled row of `reading` placed from words OCR read: left unread, with a doubt, when
    its label was not found, one of its values lies outside the label's band or another number
    inside it; values the sums derived from such a row go with it. A row whose values are all in
    its band but were taken in another order than across the page (OCR's boxes of one row
    grouped into two lines) takes them left to right, or, short of values, is left unread too."""
    rows = reading.table.rows_for(reading.variant)
    bands = label_bands(rows, tokens, locate)
    numbers = [(t, w) for t in tokens if t.kind in ("value", "blank") and not t.grid
               and (w := locate(t)) is not None and w.ocr and w.bbox is not None and w.page is not None]
    slope = dict(zip((id(t) for t, _ in numbers), row_slopes([(w.page, w.bbox) for _, w in numbers]), strict=True))
    unplaced: set[str] = set()
    for j, row in enumerate(rows):
        if row.extra or not row.match:
            continue
        printed = [c.token for k in row.cells if (c := reading.cells.get(k)) is not None and c.token is not None
                   and c.token.kind in ("value", "blank") and not c.token.grid]
        places = [(t, locate(t)) for t in printed]
        places = [(t, w) for t, w in places if w is not None and w.ocr and w.bbox is not None]
        if not places:
            continue
        band = bands.get(j)
        mine = {id(t) for t in printed}
        if band is not None and all(band.holds(w, slope[id(t)]) for t, w in places) and not any(
                id(t) not in mine and w.bbox[0] >= band.right - 1 and band.holds(w, slope[id(t)]) for t, w in numbers):
            if not _across(fmt, reading, row, places):
                why = "的先后与其在页面上的位置不符"
            elif not _under_columns(reading, rows, row, locate):
                why = "与留空的格不能按页面上的位置对应到各列"
            else:
                continue
        else:
            why = "其行标签未能识别" if band is None else "与行标签不在同一水平带内"
        for k in row.cells:
            reading.cells[k] = Cell(None)
        reading.extras += [t for t, _ in places if t.kind == "value"]
        reading.short.pop(row.key, None)
        reading.cuts.pop(row.key, None)
        reading.doubts = [d for d in reading.doubts if not d.startswith(f"「{row.label}」")]
        reading.doubts.append(f"「{row.label}」的数值{why}（按 OCR 识别的位置），无法确定属于哪一行，整行留空")
        unplaced |= set(row.cells)
    if not unplaced:
        return
    for key, cell in reading.cells.items():  # derived from the sums of a row now unread: unknown too
        if cell.token is None and cell.value is not None and any(
                key in r.cells and set(r.cells) & unplaced for r in relations):
            reading.cells[key] = Cell(None)


def _across(fmt: Format, reading: Reading, row: Row, places: list[tuple[Token, Provenance]]) -> bool:
    """Whether the row's values lie left to right in its cells' order; a row with a value of its
    own in every cell taken in another order is given them left to right (True)."""
    seen: list[tuple[Token, Provenance]] = []
    for t, w in places:  # a value cut into several cells (glued digits) is one box
        if not seen or seen[-1][0] is not t:
            seen.append((t, w))
    xs = [(w.bbox[0] + w.bbox[2]) / 2 for _, w in seen]  # type: ignore[index]
    if xs == sorted(xs):
        return True
    ordered = [t for t, _ in sorted(seen, key=lambda tw: (tw[1].bbox[0] + tw[1].bbox[2]) / 2)]  # type: ignore[index]
    if len(ordered) != len(row.cells) or len(places) != len(row.cells) or not all(
            fits(t, fmt.cell_type(k)) for t, k in zip(ordered, row.cells, strict=True)):
        return False
    for t, k in zip(ordered, row.cells, strict=True):
        value = cell_value(t, fmt.cell_type(k))
        reading.cells[k] = Cell(value, t, blank=value is None, evidence=reading.cells[k].evidence)
    return True


def _under_columns(reading: Reading, rows: tuple[Row, ...], row: Row, locate: Locate) -> bool:
    """A row read with cells left blank among its numbers (placed under the columns of a full row
    of the laid-out text, whose character columns OCR's words only approximate): each number is
    under its own column of the nearest full row on its page, by the boxes' x, nearer it than
    half the columns' gap."""
    cells = [reading.cells[k] for k in row.cells]
    if not any(c.blank and (c.token is None or c.token.kind == "empty") for c in cells):
        return True
    mine = [(i, w) for i, c in enumerate(cells) if c.token is not None and c.token.kind in ("value", "blank")
            and (w := locate(c.token)) is not None and w.bbox is not None]
    if not mine:
        return True  # every cell blank: nothing placed by a column
    page, y = mine[0][1].page, (mine[0][1].bbox[1] + mine[0][1].bbox[3]) / 2  # type: ignore[index]
    refs: list[tuple[float, list[float]]] = []
    for other in rows:
        if other is row or len(other.cells) != len(row.cells):
            continue
        toks = [reading.cells[k].token for k in other.cells]
        if any(t is None or t.kind not in ("value", "blank") for t in toks) or len({id(t) for t in toks}) != len(toks):
            continue
        wheres = [locate(t) for t in toks]  # type: ignore[arg-type]
        if any(w is None or not w.ocr or w.page != page or w.bbox is None for w in wheres):
            continue
        xs = [(w.bbox[0] + w.bbox[2]) / 2 for w in wheres]  # type: ignore[union-attr,index]
        if xs == sorted(xs):
            refs.append((abs((wheres[0].bbox[1] + wheres[0].bbox[3]) / 2 - y), xs))  # type: ignore[union-attr,index]
    if not refs:
        return False
    xs = min(refs)[1]
    gap = min(b - a for a, b in pairwise(xs))
    for i, w in mine:
        x = (w.bbox[0] + w.bbox[2]) / 2  # type: ignore[index]
        j = min(range(len(xs)), key=lambda j: abs(xs[j] - x))
        if j != i or abs(xs[j] - x) > gap / 2:
            return False
    return True

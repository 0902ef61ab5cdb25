"""A table the reader gave with its cells → the statutory cells, each placed by its grid cell.

    source tables of the section → table_to_rows → label_rows (labels.align) → row_to_columns
    (by header text, by x where spans disagree, else by print order) → rows_to_cells → Reading

The cell a grid shows is the strongest evidence there is: a blank cell is null (and `blank`), a
value is its cell's; sums only verify afterwards (a failing sum never drops the grid). A row is
placed only when its label matches a statutory row and its values map one to one onto the row's
columns; anything less leaves the row to the token readings (`report` merges the two).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from ..formats import FORMATS, Format, Row, Table
from ..ingest.source import Cell as SourceCell
from ..ingest.source import Table as SourceTable
from ..result import Provenance
from ..textnorm import compact
from . import bands
from .labels import align, match_score
from .tokens import UNREAD, Document, Token
from .values import Cell, Reading, cell_value, fits, unread_doubt


@dataclass(slots=True)
class GridCell:
    """A source cell with the tokens read from it and what kind of cell they make (known from the
    start: asked for every cell of every heading and row)."""

    cell: SourceCell
    table: int  # index of its table among the section's
    tokens: list[Token]
    # "empty", "value" (one number or a blank mark), "text", or "mixed" (several numbers)
    kind: str = field(init=False)
    number: Token | None = field(init=False)  # its first value or blank mark
    span: tuple[int, int] = field(init=False)  # its grid columns [first, last + 1)

    def __post_init__(self) -> None:
        kinds = [t.kind for t in self.tokens if t.kind != "empty"]
        if not kinds:
            self.kind = "empty"
        elif kinds in (["value"], ["blank"]):
            self.kind = "value"
        else:
            self.kind = "text" if "text" in kinds else "mixed"
        self.number = next((t for t in self.tokens if t.kind in ("value", "blank")), None)
        self.span = self.cell.column, self.cell.column + self.cell.colspan


_ALL_TABLES = tuple(t for f in FORMATS.values() for t in f.tables)


@dataclass
class GridRow:
    cells: list[GridCell]
    label: GridCell | None  # the rightmost text cell, after which only values and blanks follow
    values: list[GridCell]  # the cells after the label (all of them when there is none)


def table_to_rows(tables: list[SourceTable], doc: Document) -> list[GridRow]:
    """Every row of the section's tables, its cells with their tokens (by offset in the text)."""
    by_start: dict[int, list[Token]] = {}
    for t in doc.tokens:
        if t.grid:
            by_start.setdefault(t.start, []).append(t)
    starts = sorted(by_start)
    rows: list[GridRow] = []
    for ti, table in enumerate(tables):
        for ri, row in enumerate(table.by_row()):
            cells = []
            for c in row:
                found = starts[bisect_left(starts, c.start):bisect_right(starts, c.start + len(c.text))]
                toks = [t for at in found for t in by_start[at] if t.field == c.column]
                cells.append(GridCell(c, ti, toks))
            here = _split_label(cells)
            if ri == 0 and rows and (joined := _across_the_break(rows[-1], here)) is not None:
                rows[-1] = joined
            else:
                rows.append(here)
    return rows


def _across_the_break(before: GridRow, after: GridRow) -> GridRow | None:
    """One row a page break cut in two ("2.其他法律行政法" with its numbers at the foot of a page,
    "规禁止公开" over empty cells atop the next): the last row of a table and the first of the
    next, one of them with no numbers, whose labels read together are a row's label and the
    second's alone is none."""
    if before.label is None or after.label is None or len(before.values) != len(after.values):
        return None
    empty = [all(c.kind == "empty" for c in r.values) for r in (before, after)]
    if not any(empty) or not all(c.kind in ("value", "empty") for r in (before, after) for c in r.values):
        return None
    label = GridCell(before.label.cell, before.label.table, before.label.tokens + after.label.tokens)
    if not _label_gains(label, before.label, after.label):
        return None
    return GridRow(before.cells, label, after.values if empty[0] else before.values)


def _label_gains(joined: GridCell, first: GridCell, second: GridCell) -> bool:
    def best(cell: GridCell) -> float:
        return max(match_score(_label_token(cell).text, row) for table in _ALL_TABLES for row in table.rows)

    return best(second) < 1.0 and best(joined) > best(first)


def _split_label(cells: list[GridCell]) -> GridRow:
    texts = [i for i, c in enumerate(cells) if c.kind == "text"]
    if not texts:
        return GridRow(cells, None, cells)
    last = texts[-1]
    return GridRow(cells, cells[last], cells[last + 1:])


def label_rows(rows: list[GridRow], statutory: tuple[Row, ...]) -> dict[int, int]:
    """{grid row index: statutory row index}: the rows whose label matches one, in the format's order
    (labels.align over the label cells of rows that hold values or blanks after their label)."""
    candidates = [i for i, r in enumerate(rows) if r.label is not None and r.values
                  and all(c.kind in ("value", "empty") for c in r.values)]
    labels = [_label_token(rows[i].label) for i in candidates]  # type: ignore[arg-type]
    matched = align(labels, statutory)
    return {candidates[i]: j for i, j in matched.items()}


def _label_token(label: GridCell) -> Token:
    """A label cell's words as one token (a label Word broke into runs is one label)."""
    words = [t for t in label.tokens if t.kind == "text"]
    return Token("text", " ".join(t.text for t in words), words[0].start, words[-1].end, words[0].line, words[0].col)


def header_parts(table: Table, row: Row, key: str, fmt: Format) -> list[str]:
    """The heading a statutory column is printed under, outermost first (行政诉讼 / 复议后起诉 / 结果维持)."""
    at = (fmt.id, table.id, row.key, key)
    parts = _PARTS.get(at)
    if parts is None:  # asked for every column of every row of every grid: the formats are fixed
        if table.id == "active":
            parts = [fmt.column_label(key)]
        else:
            col = next((c for c in table.columns if key in (f"{row.key}.{c.key}", c.key)), None)
            parts = col.label.split("/") if col else []
        _PARTS[at] = parts
    return list(parts)


_PARTS: dict[tuple[str, str, str, str], list[str]] = {}


def same_heading(printed: str, wanted: str) -> bool:
    found = _SAME.get((printed, wanted))
    if found is None:  # asked for every heading cell, column and row of a grid; headings recur in every report
        if len(_SAME) > 100_000:
            _SAME.clear()
        a, b = compact(printed), compact(wanted)
        found = _SAME[printed, wanted] = a == b or (min(len(a), len(b)) >= 4 and (a in b or b in a
                                                                                  or fuzz.ratio(a, b) >= 85))
    return found


_SAME: dict[tuple[str, str], bool] = {}


def _overlap(a: GridCell, b: GridCell) -> float:
    """How much of `a` lies under `b`: by x where both were drawn or sized, else by grid column in
    one table; -1 when they cannot be compared."""
    if a.cell.x is not None and b.cell.x is not None:
        lo, hi = max(a.cell.x[0], b.cell.x[0]), min(a.cell.x[1], b.cell.x[1])
        width = a.cell.x[1] - a.cell.x[0]
        return max(0.0, hi - lo) / width if width > 0 else -1
    if a.table != b.table:
        return -1
    first, last = max(a.span[0], b.span[0]), min(a.span[1], b.span[1])  # grid columns (ints: mypyc)
    return max(0, last - first) / (a.span[1] - a.span[0])


def header_block(rows: list[GridRow], at: int, data: set[int]) -> list[GridCell]:
    """The heading cells over row `at`: the rows without values just above it (the statutory rows
    in between skipped), in its table or, for a table continued on the next page, the one before."""
    cells: list[GridCell] = []
    i = at - 1
    while i >= 0 and (i in data or not _heading(rows[i])):
        i -= 1
    while i >= 0 and i not in data and not any(c.kind in ("value", "mixed") for c in rows[i].cells):
        cells += [c for c in rows[i].cells if c.kind == "text"]
        i -= 1
    return cells


def _heading(row: GridRow) -> bool:
    return any(c.kind == "text" for c in row.cells) and not any(c.kind in ("value", "mixed") for c in row.cells)


Placings = dict[tuple, list[int | None]]  # see `row_to_columns`


def row_to_columns(row: GridRow, keys: tuple[str, ...], parts: list[list[str]],
                   heads: list[GridCell], placings: Placings | None = None) -> list[GridCell | None] | None:
    """Which cell holds each statutory column of the row: under its heading (by x where known, else
    by grid column; empty cells under no heading are spacers), else, with as many cells as
    columns, in print order. None when neither is one to one. `placings` keeps what was found
    for rows of the same cells' places under the same heading cells (most rows of a table)."""
    where = (tuple(map(id, heads)), tuple(map(tuple, parts)),
             tuple((c.cell.x, c.table, c.span) for c in row.values))  # all `_overlap` reads
    picks = None if placings is None else placings.get(where)
    if picks is None:
        picks = _under_headings(row.values, parts, heads)
        if placings is not None:
            placings[where] = picks
    under: list[GridCell | None] = [None if i is None else row.values[i] for i in picks]
    taken = {id(c) for c in under if c is not None}
    if (all(c is not None for c in under) and len(taken) == len(keys)
            and all(c.kind == "empty" for c in row.values if id(c) not in taken)):
        return under
    if len(row.values) == len(keys):
        return list(row.values)
    return None


def _under_headings(values: list[GridCell], parts: list[list[str]], heads: list[GridCell]) -> list[int | None]:
    """For each column's heading parts, the one value cell under it (its index), or None."""
    under: list[int | None] = []
    for wanted in parts:
        places = [h for h in heads if wanted and same_heading(h.cell.text, wanted[-1])
                  and all(any(same_heading(o.cell.text, p) and _overlap(h, o) > 0.5 for o in heads)
                          for p in wanted[:-1])]
        cells = [i for i, c in enumerate(values) if any(_overlap(c, h) > 0.5 for h in places)]
        under.append(cells[0] if len(cells) == 1 else None)
    return under


def rows_to_cells(fmt: Format, table: Table, variant: str, rows: list[GridRow],
                  placings: Placings | None = None) -> tuple[Reading, set[str]]:
    """The reading of the grid, and the statutory rows it placed (every cell by its grid cell);
    `placings` as in `row_to_columns`, shared by the variants read from the same rows."""
    placings = {} if placings is None else placings
    statutory = table.rows_for(variant)
    matched = label_rows(rows, statutory)
    if not any(r.match for r in statutory):  # the 复议/诉讼 row has no label: the one row of values
        matched = {i: 0 for i, r in enumerate(rows)
                   if any(c.kind == "value" for c in r.values) and all(c.kind in ("value", "empty") for c in r.values)}
        if len(matched) != 1:
            matched = {}
    reading = Reading(table, variant, "grid", {k: Cell(None) for k in table.cells(variant)},
                      anchors=len(matched))
    placed: set[str] = set()
    data = set(matched)
    for i, j in sorted(matched.items()):
        row = statutory[j]
        grid_row = rows[i]
        if grid_row.label is not None:
            label = grid_row.label.cell.text
            before = reading.labels.get(row.key)
            reading.labels[row.key] = label if before is None else f"{before}|{label}"
        if row.extra:
            reading.extras += [t for c in grid_row.values for t in c.tokens if t.kind == "value"]
            continue
        if row.key in placed:
            continue  # a label printed twice: the first row holds the values
        parts = [header_parts(table, row, k, fmt) for k in row.cells]
        columns = row_to_columns(grid_row, row.cells, parts, header_block(rows, i, data), placings)
        if columns is None or not all(c is None or _fits(c, fmt.cell_type(k)) for c, k in zip(columns, row.cells,
                                                                                                    strict=True)):
            continue
        for key, gc in zip(row.cells, columns, strict=True):
            reading.cells[key] = _cell(gc, fmt.cell_type(key))
            if _unread(gc):
                reading.doubts.append(unread_doubt(fmt, key))
        placed.add(row.key)
    return reading, placed


def _fits(gc: GridCell, cell_type: str) -> bool:
    return gc.kind == "empty" or (gc.kind == "value" and (_unread(gc) or fits(_value_token(gc), cell_type)))


def _unread(gc: GridCell | None) -> bool:
    """A cell OCR saw a number in but could not read (tokens.UNREAD): null, never a guess."""
    return gc is not None and gc.kind == "value" and _value_token(gc).text == UNREAD


def _value_token(gc: GridCell) -> Token:
    if gc.number is None:
        raise StopIteration  # as `next` over no value: the caller asked of a cell holding none
    return gc.number


def _cell(gc: GridCell | None, cell_type: str) -> Cell:
    if gc is None:
        return Cell(None, evidence="grid")
    if gc.kind == "empty":
        empty = next((t for t in gc.tokens if t.kind == "empty"), None)
        return Cell(None, empty, blank=True, evidence="grid")
    if _unread(gc):
        return Cell(None)  # printed, unread: no evidence, so the audit's 读取 findings name it
    tok = _value_token(gc)
    value = cell_value(tok, cell_type)
    return Cell(value, tok, blank=value is None, evidence="grid")


def read_grid(fmt: Format, table: Table, tables: list[SourceTable], doc: Document, tokens: list[Token],
              locate: Locate) -> tuple[Reading, set[str]] | None:
    """The grid reading of the variant that places most rows (ties: the format's first), or None
    when the section has no table with cells."""
    if not tables:
        return None
    rows = table_to_rows(tables, doc)
    placings: Placings = {}
    found = [rows_to_cells(fmt, table, variant, rows, placings) for variant in table.variants]
    for reading, placed in found:
        if placed:
            place_loose_rows(fmt, reading, placed, rows, tokens, locate)
    return min(found, key=lambda f: sum(1 for r in table.rows_for(f[0].variant) if not r.extra and r.key not in f[1]))


def complete(reading: Reading, placed: set[str]) -> bool:
    """Every statutory row of the reading's variant placed by its grid cells."""
    return all(r.key in placed for r in reading.table.rows_for(reading.variant) if not r.extra)


def variant_shown(reading: Reading, placed: set[str]) -> tuple[str, ...]:
    """The row variant the grid or the positions saw printed: only a row of that variant alone
    placed says so ((六)其他处理 as one row, or its three rows)."""
    rows = reading.table.rows_for(reading.variant)
    return (reading.variant,) if any(r.variant and r.key in placed for r in rows) else ()


def overrule(reading: Reading, by_grid: Reading, placed: set[str]) -> None:
    """A token reading of a table whose grid placed only some rows: those rows (of the token
    reading's row variant) take their grid cells, and the token reading's doubts about them go
    (the grid's own, naming cells it saw printed but could not read, come with them)."""
    rows = [r for r in reading.table.rows_for(reading.variant) if r.key in placed]
    for row in rows:
        for key in row.cells:
            reading.cells[key] = by_grid.cells[key]
        reading.doubts = [d for d in reading.doubts if not d.startswith(f"「{row.label}」")]
        reading.doubts += [d for d in by_grid.doubts if d.split("（", 1)[0] in row.cells]  # its unread cells
        reading.short.pop(row.key, None)
        reading.cuts.pop(row.key, None)
    moved = {id(c.token) for r in rows for k in r.cells if (c := by_grid.cells[k]).token is not None}
    reading.extras = [t for t in reading.extras if id(t) not in moved]


Locate = Callable[[Token], Provenance | None]


def column_spans(reading: Reading, placed: set[str], rows: list[GridRow]) -> dict[tuple[int, str], tuple[float, float]]:
    """{(row width, column key suffix): x range} of the columns the grid placed, as drawn."""
    by_token = {id(t): c for r in rows for c in r.values for t in c.tokens}
    spans: dict[tuple[int, str], tuple[float, float]] = {}
    for row in reading.table.rows_for(reading.variant):
        if row.key not in placed:
            continue
        for key in row.cells:
            tok = reading.cells[key].token
            gc = by_token.get(id(tok)) if tok is not None else None
            if gc is not None and gc.cell.x is not None:
                spans.setdefault((len(row.cells), key.removeprefix(row.key)), gc.cell.x)
    return spans


def place_loose_rows(fmt: Format, reading: Reading, placed: set[str], rows: list[GridRow], tokens: list[Token],
                     locate: Locate) -> None:
    """Rows the grid lost (a row a page break cut out of its ruled table is printed as a line of
    words): each placed under the columns the grid's own rows drew, by x. Only a row whose label
    alone begins its line and whose every number falls within one column; the columns left
    empty are blanks."""
    spans = column_spans(reading, placed, rows)
    if not spans:
        return
    loose = [t for t in tokens if not t.grid]
    lines: dict[int, list[Token]] = {}
    for t in loose:
        lines.setdefault(t.line, []).append(t)
    for row in reading.table.rows_for(reading.variant):
        if row.key in placed or row.extra or not row.match:
            continue
        columns = [spans.get((len(row.cells), k.removeprefix(row.key))) for k in row.cells]
        if None in columns:
            continue
        found = [line for line in lines.values() if line[0].kind == "text" and match_score(line[0].text, row) >= 0.9
                 and len(line) > 1 and all(t.kind in ("value", "blank") for t in line[1:])]
        if len(found) != 1:
            continue
        under: dict[int, Token] = {}
        for tok in found[0][1:]:
            where = locate(tok)
            if where is None or where.bbox is None:
                break
            x = (where.bbox[0] + where.bbox[2]) / 2
            hits = [i for i, span in enumerate(columns) if span[0] <= x <= span[1]]  # type: ignore[index]
            if len(hits) != 1 or hits[0] in under:
                break
            under[hits[0]] = tok
        else:
            if not all(fits(t, fmt.cell_type(row.cells[i])) for i, t in under.items()):
                continue
            for i, key in enumerate(row.cells):
                got = under.get(i)
                value = None if got is None else cell_value(got, fmt.cell_type(key))
                reading.cells[key] = Cell(value, got, blank=value is None, evidence="columns")
            reading.labels[row.key] = found[0][0].text
            placed.add(row.key)


# ---------------------------------------------------------------- tables without rules, by position
@dataclass
class Placed:
    """A token where it was drawn on its page (PDF points from the top left)."""

    token: Token
    page: int
    box: tuple[float, float, float, float]
    ocr: bool = False  # read by OCR from a picture (its rows may drift: see bands)

    @property
    def x(self) -> float:
        return (self.box[0] + self.box[2]) / 2

    @property
    def y(self) -> float:
        return (self.box[1] + self.box[3]) / 2


def tokens_to_placed(tokens: list[Token], locate: Locate) -> list[Placed]:
    out = []
    for t in tokens:
        if t.grid or t.kind == "empty":
            continue
        where = locate(t)
        if where is not None and where.bbox is not None and where.page is not None:
            out.append(Placed(t, where.page, where.bbox, bool(where.ocr)))
    return out


def heading_stacks(placed: list[Placed]) -> list[tuple[str, Placed, Placed]]:
    """Words of a heading a narrow column wraps ("社会公" over "益组织"): text words one under the
    other, centred or flush left alike, joined top to bottom (OCR's boxes, taller than the
    letters, may overlap a little). (text, top word, bottom word).
    A page break may fall inside a heading ("科研机" the last line of one page, "构" the first
    of the next): such a stack is joined, and its part above the break kept as a stack too."""
    texts = sorted((p for p in placed if p.token.kind == "text"), key=lambda p: (p.page, p.box[1], p.box[0]))
    first, last_line = _page_edges(placed)
    stacks: list[list[Placed]] = []
    for p in texts:
        height = p.box[3] - p.box[1]
        for stack in stacks:
            last = stack[-1]
            if not (abs(last.x - p.x) < 3 or abs(last.box[0] - p.box[0]) < 2):
                continue
            if last.page == p.page and (-0.4 * height if p.ocr else 0) <= p.box[1] - last.box[3] < 0.8 * height:
                stack.append(p)
                break
            if (last.page + 1 == p.page and last_line[last.page] - last.box[3] < 0.5 * height
                    and p.box[1] - first[p.page] < 0.5 * height):
                stacks.append([*stack, p])
                break
        else:
            stacks.append([p])
    out = []
    for stack in stacks:
        for i in range(len(stack)):  # every tail: the heading under a parent heading stacked above it
            out.append(("".join(p.token.text for p in stack[i:]), stack[i], stack[-1]))
    return out


def _page_edges(placed: list[Placed]) -> tuple[dict[int, float], dict[int, float]]:
    """Where each page's first line starts and its last line ends (of the words given)."""
    first: dict[int, float] = {}
    last: dict[int, float] = {}
    for p in placed:
        first[p.page] = min(first.get(p.page, p.box[1]), p.box[1])
        last[p.page] = max(last.get(p.page, p.box[3]), p.box[3])
    return first, last


def read_positions(fmt: Format, table: Table, tokens: list[Token], locate: Locate) -> tuple[Reading, set[str]] | None:
    """A table drawn without rules (a PDF of a borderless table, a web page printed by a program
    that drops its borders): each labelled row's numbers under the headings drawn above them, by
    x. A row is placed only when its numbers are on one line within its label's height and each
    falls under a different heading of its own; the headings with none over them are blanks."""
    placed = tokens_to_placed(tokens, locate)
    if not placed:
        return None
    stacks = heading_stacks(placed)
    numbers = [p for p in placed if p.token.kind in ("value", "blank") and p.ocr]
    slopes = dict(zip(map(id, numbers), bands.row_slopes([(p.page, p.box) for p in numbers]), strict=True))
    best: tuple[Reading, set[str]] | None = None
    for variant in table.variants:
        reading = Reading(table, variant, "columns", {k: Cell(None) for k in table.cells(variant)})
        done: set[str] = set()
        statutory = table.rows_for(variant)
        texts = [p for p in placed if p.token.kind == "text"]
        matched = align([p.token for p in texts], statutory)
        labels: dict[int, list[Placed]] = {}
        for i, j in sorted(matched.items()):
            labels.setdefault(j, []).append(texts[i])
        others = [p for i, p in enumerate(texts) if i not in matched]
        for words in labels.values():
            _wrapped(words, others)
        if not matched and len(statutory) == 1:  # the 复议/诉讼 row: no label, the values under the headings
            labels = {0: []}
        for j, words in labels.items():
            row = statutory[j]
            if row.extra:
                continue
            others = [w for k, ws in labels.items() if k != j for w in ws]
            cells = _row_by_position(fmt, table, row, words, placed, stacks, others, slopes)
            if cells is not None:
                reading.cells.update(cells)
                reading.labels[row.key] = "|".join(w.token.text for w in words)
                done.add(row.key)
        if best is None or _shown(reading, done) > _shown(*best):
            best = (reading, done)
    return best


def _shown(reading: Reading, placed: set[str]) -> tuple[int, int]:
    """Rows of the variant alone placed, then rows placed: which variant the page shows."""
    rows = reading.table.rows_for(reading.variant)
    return sum(1 for r in rows if r.variant and r.key in placed), len(placed)


def _wrapped(words: list[Placed], others: list[Placed]) -> None:
    """A label's lines that matched no row ("其他情形）" under "（二）部分公开（…不计"): the words right
    under its last, centred or flush left alike, join it (its numbers may be drawn between)."""
    while True:
        last = words[-1]
        height = last.box[3] - last.box[1]
        below = [p for p in others if p.page == last.page and 0 <= p.box[1] - last.box[3] < 0.8 * height
                 and (abs(last.x - p.x) < 3 or abs(last.box[0] - p.box[0]) < 2) and p not in words]
        if len(below) != 1:
            return
        words.append(below[0])


Heading = tuple[float, float, float]  # a column heading's x: its middle, its left and right ends


def _centres(fmt: Format, table: Table, row: Row, stacks: list[tuple[str, Placed, Placed]],
             before: tuple[int, float], partial: bool = False) -> tuple[list[Heading | None], tuple[int, float]] | None:
    """The x of each column's heading, the nearest drawn above `before` (page, y) — on its page
    or, a heading not repeated, an earlier one; a heading printed once for each of several groups
    (结果维持 under 行政复议 and twice under 行政诉讼) is the group's in order across the page. And
    where the lowest heading ends. A heading not found is None where `partial` (OCR lost some
    words of the headings), else there are none."""
    centres: list[Heading | None] = []
    end = (0, 0.0)
    seen: dict[str, int] = {}
    for key in row.cells:
        wanted = compact(header_parts(table, row, key, fmt)[-1])
        nth = seen.get(wanted, 0)
        seen[wanted] = nth + 1
        found = [((s[2].page, s[2].box[3]), (s[1].x, min(s[1].box[0], s[2].box[0]), max(s[1].box[2], s[2].box[2])))
                 for s in stacks if (s[2].page, s[2].box[3]) <= before and compact(s[0]) == wanted]
        if not found:
            if not partial:
                return None
            centres.append(None)
            continue
        nearest = max(f[0] for f in found)
        across = sorted(x for at, x in found if at[0] == nearest[0] and abs(at[1] - nearest[1]) < 20)
        twins = sum(1 for k in row.cells if compact(header_parts(table, row, k, fmt)[-1]) == wanted)
        if len(across) != twins:
            if not partial:
                return None
            centres.append(None)
            continue
        centres.append(across[nth])
        end = max(end, nearest)
    return centres, end


def _row_by_position(fmt: Format, table: Table, row: Row, words: list[Placed], placed: list[Placed],
                     stacks: list[tuple[str, Placed, Placed]], others: Sequence[Placed] = (),
                     slopes: dict[int, float] | None = None) -> dict[str, Cell] | None:
    """The row's cells, by the headings over its numbers: the numbers in its label's band (each
    followed along the slope of its row of numbers back to the label, `slopes`), or None."""
    page, top, bottom, right = 0, 0.0, 0.0, 0.0
    slopes = slopes or {}

    def level(p: Placed) -> float:  # y of the number where its row of numbers passes the label
        return p.y + slopes.get(id(p), 0.0) * (words[0].x - p.x) if words else p.y

    if words:
        page = words[0].page
        if any(w.page != page for w in words):
            return None
        top, bottom = min(w.box[1] for w in words), max(w.box[3] for w in words)
        right = max(w.box[2] for w in words)
    partial = bool(words) and words[0].ocr  # a scan's row: under the headings OCR read, if they hold all its numbers
    found = _centres(fmt, table, row, stacks, (page, top) if words else (10**6, 0.0), partial)
    if found is None or (None in found[0] and sum(h is not None for h in found[0]) < 2):
        return None
    headings, (head_page, head_end) = found
    if not words:  # the first line of values under the headings, or atop the next page
        below = [p for p in placed if (p.page, p.box[1]) >= (head_page, head_end) and p.page <= head_page + 1]
        first = min(below, key=lambda p: (p.page, p.y), default=None)
        if first is None or first.token.kind not in ("value", "blank"):
            return None
        page, top, bottom = first.page, first.y - 3, first.y + 3
    values = [p for p in placed if p.page == page and p.token.kind in ("value", "blank")
              and top <= level(p) <= bottom and p.box[0] >= right - 1]
    if not values or max(map(level, values)) - min(map(level, values)) > 3:
        return None  # no numbers, or on several lines: not one row's
    if words and words[0].ocr and _drifted(placed, page, top, bottom, right, others, level):
        return None  # a number just off the label's band, in no other label's: whose it is, is unknown
    known = [i for i, h in enumerate(headings) if h is not None]
    centres = [headings[i][0] for i in known]  # type: ignore[index]
    if centres != sorted(set(centres)):
        return None  # headings not in the format's order across the page: not this row's table
    under: dict[int, Placed] = {}
    for v in values:
        if len(known) == len(headings):  # every heading found: the nearest, by less than half the gap
            i = min(known, key=lambda i: abs(centres[i] - v.x))
            gap = min((abs(centres[i] - centres[k]) for k in known if k != i), default=1e9)
            if abs(centres[i] - v.x) > gap / 2:
                return None
        else:  # some lost: right under a heading found, or whose it is is unknown
            hits = [i for i in known if headings[i][1] <= v.x <= headings[i][2]]  # type: ignore[index]
            if len(hits) != 1:
                return None
            i = hits[0]
        if i in under:
            return None
        under[i] = v
    if not all(fits(v.token, fmt.cell_type(row.cells[i])) for i, v in under.items()):
        return None
    out = {}
    for i, key in enumerate(row.cells):
        tok = under[i].token if i in under else None
        value = None if tok is None else cell_value(tok, fmt.cell_type(key))
        out[key] = Cell(value, tok, blank=value is None, evidence="columns")
    return out


def _drifted(placed: list[Placed], page: int, top: float, bottom: float, right: float,
             others: Sequence[Placed], level: Callable[[Placed], float]) -> bool:
    """A number within a line's height above or below a label's band (a scan's rows drift when
    it is turned and not quite straightened), in no other label's band: it may be this row's,
    so the columns without a number in the band are not surely blank."""
    height = bottom - top
    return any(p.page == page and p.token.kind in ("value", "blank") and p.box[0] >= right - 1
               and top - height <= (y := level(p)) <= bottom + height and not top <= y <= bottom
               and not any(o.page == page and o.box[1] <= y <= o.box[3] for o in others)
               for p in placed)

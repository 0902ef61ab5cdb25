"""Rows that came out short of values, made whole where the report itself decides how.

Every value recovered here is marked inferred, with the reason; where the totals leave more
than one answer, or none, the cells stay null and the reading says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal
from itertools import combinations, pairwise

from ..formats import Format, Relation, Row
from .tokens import Token
from .values import Cell, Cut, Cuts, Number, Reading, cell_value, fits

MAX_SPLITS = 100_000  # steps of the search for cuts of glued digits, per row
MAX_DIGITS = 7  # the longest number a glued cut may make


def blank_slots(got: list[Token], width: int, tokens: list[Token]) -> list[Token] | None:
    """The row's cells by tab field, when its line shows which ones were left empty."""
    if not got or len({t.line for t in got}) != 1 or got[0].field < 0:
        return None
    line = [t for t in tokens if t.line == got[0].line]
    last_text = max((i for i, t in enumerate(line) if t.kind == "text"), default=-1)
    seq = line[last_text + 1:]
    while seq and seq[-1].kind == "empty":
        seq.pop()
    if last_text >= 0 and not got[0].grid:  # empty fields right after a label: spacers of merged cells
        while seq and seq[0].kind == "empty":
            seq.pop(0)
    if len(seq) != width or not any(t.kind == "empty" for t in seq):
        return None
    if [t for t in seq if t.kind != "empty"] != got:
        return None
    return seq


def markdown_slots(got: list[Token], width: int, tokens: list[Token]) -> list[Token] | None:
    """The row's cells in a markdown table row: its last `width` cells (labels are on the left), when
    they hold nothing but the values found and empty cells, and the cells before them no value."""
    if not got or not got[0].markdown or len({t.line for t in got}) != 1:
        return None
    line = [t for t in tokens if t.line == got[0].line]
    first = got[0].markdown - width
    if first < 0 or any(t.kind in ("value", "blank") for t in line if t.field < first):
        return None
    cells = [t for t in line if t.field >= first]
    if len(cells) != width or [t.field for t in cells] != list(range(first, first + width)):
        return None
    if [t for t in cells if t.kind != "empty"] != got:
        return None
    return cells


def blank_lines(got: list[Token], width: int, tokens: list[Token]) -> list[Token] | None:
    """The row's cells by line, when a text printed one cell per line (Word's and crawlers' text
    exports) left each blank cell an empty line: the `width` lines after the label hold them all.

    Only when the lines fit exactly: the last value on the last of them, or the next text on the
    line after it.
    """
    if not got or got[0].field >= 0 or got[0].grid or len({t.line for t in got}) != len(got):
        return None
    i, j = tokens.index(got[0]), tokens.index(got[-1])
    if i == 0 or tokens[i - 1].kind != "text" or tokens[i:j + 1] != got:
        return None
    first = tokens[i - 1].line + 1
    last = first + width - 1
    after = tokens[j + 1].line if j + 1 < len(tokens) else None
    if got[-1].line > last or (got[-1].line != last and after != last + 1) or (after is not None and after <= last):
        return None
    by_line = {t.line: t for t in got}
    return [by_line.get(n) or Token("empty", "", 0, 0, n, 0) for n in range(first, last + 1)]


def by_columns(got: list[Token], width: int, full_rows: list[list[Token]]) -> list[Token | None] | None:
    """Cells of a short row printed in columns (pdftotext -layout), placed under the columns of the
    nearest complete row; the cells no value stands under were left blank."""
    if not got or len({t.line for t in got}) != 1 or got[0].field >= 0:
        return None  # tab fields and grid cells say where their blanks are: see blank_slots
    rows = [r for r in full_rows if len(r) == width and r[0].field < 0  # columns apart, not glued ("0-19")
            and all(b.col > a.col + len(a.text) for a, b in pairwise(r))]
    if not rows:
        return None
    ref = min(rows, key=lambda r: abs(r[0].line - got[0].line))
    centers = [t.col + len(t.text) / 2 for t in ref]
    gaps = [b - a for a, b in pairwise(centers)]
    if not gaps or min(gaps) <= 0:
        return None
    tolerance = min(gaps) / 2
    slots: list[Token | None] = [None] * width
    last = -1
    for t in got:
        x = t.col + len(t.text) / 2
        c = min(range(width), key=lambda i: abs(centers[i] - x))
        if c <= last or abs(centers[c] - x) >= tolerance:
            return None
        slots[c], last = t, c
    return slots


def join_wrapped(values: list[Token], keys: list[str], fmt: Format,
                 rels: tuple[Relation, ...]) -> list[Token] | None:
    """A number wrapped in a narrow cell ("17⏎8" is 178) joined back: only the one way the totals allow.

    A part is a value on the next line, right after the other (pdftotext -raw) or under it
    (-layout). With k values too many, every k disjoint joins are tried; exactly one must make
    every relation hold.
    """
    k = len(values) - len(keys)
    eqs = [r for r in rels if r.kind == "eq"]
    if not 0 < k <= 3 or not eqs:
        return None
    pairs = [(i, j) for i, a in enumerate(values) for j, b in enumerate(values)
             if b.line == a.line + 1 and a.kind == b.kind == "value" and a.text.isdigit() and _tail(b)
             and (j == i + 1 or a.col - 1 <= b.col <= a.col + len(a.text))]
    if len(pairs) > 12:  # a number wraps in few cells; many candidates is something else
        return None
    found = []
    for chosen in combinations(pairs, k):
        used = [x for p in chosen for x in p]
        if len(set(used)) != len(used):
            continue
        joined = {i: j for i, j in chosen}
        seq = [_joined(t, values[joined[i]]) if i in joined else t
               for i, t in enumerate(values) if i not in joined.values()]
        vals = {key: cell_value(t, fmt.cell_type(key)) for t, key in zip(seq, keys, strict=True)}
        if all(r.holds(vals) is True for r in eqs):
            found.append(seq)
            if len(found) > 1:
                return None
    return found[0] if found else None


def _tail(b: Token) -> str:
    """The digits of what may end a wrapped number ("8", "8件"), or ""."""
    digits = b.text[:len(b.text) - len(b.text.lstrip("0123456789"))]
    return digits if digits and not (b.sign or b.unit) else ""


def _joined(a: Token, b: Token) -> Token:
    return replace(a, text=a.text + b.text, end=a.start + len(a.text), number=Decimal(a.text + _tail(b)))



# What of a printed value a cut may split: its digits. A sign goes with the first piece, decimals
# and a unit with the last one.
_RUN = re.compile(r"([+\-]?)(\d+)(\.\d+)?(\s?(?:万元|元|万))?[件条个项次家宗人]?")


@dataclass(frozen=True)
class _Run:
    sign: str
    digits: str
    frac: str
    unit: str


class _TooMany(Exception):
    pass


def _run(tok: Token) -> _Run | None:
    if tok.kind != "value" or tok.misread or tok.note:
        return None
    m = _RUN.fullmatch(tok.text)
    return None if m is None else _Run(m[1], m[2], m[3] or "", (m[4] or "").strip())


def may_be_glued(tok: Token, types: list[str]) -> bool:
    """A value that does not fit the row's next cell but may be digits of several cells glued, the
    last of them one it fits ("929.1": 9 projects, 29.1 万元)."""
    run = _run(tok)
    return run is not None and len(run.digits) > 1 and len(types) > 1 and fits(tok, types[-1])


def _piece(run: _Run, a: int, b: int, cell_type: str) -> Number | None:
    """The value of digits a..b of a run in a cell of `cell_type`, if a table can print it so: no
    leading zero but 0 itself, a sign only in a signed column, decimals and 元 only in amounts."""
    digits = run.digits[a:b]
    if len(digits) > MAX_DIGITS or (digits[0] == "0" and len(digits) > 1):
        return None
    sign = run.sign if a == 0 else ""
    last = b == len(run.digits)
    frac, unit = (run.frac, run.unit) if last else ("", "")
    if sign and cell_type != "signed":
        return None
    if cell_type == "amount":
        n = Decimal(digits + frac)
        return float(n / 10000 if unit == "元" else n)
    if frac or unit:
        return None
    return -int(digits) if sign == "-" else int(digits)


def glued_cuts(fmt: Format, row: Row, got: list[Token], limit: int = 24) -> Cuts:
    """Every way to cut digit runs printed without separators into the row's cells as a table
    prints numbers (see `_piece`; at most `MAX_DIGITS` digits a cell); of these, the ones that keep
    the row's own totals. One possible cut is certain; several are left to the sums.
    """
    width = len(row.cells)
    if not got or len(got) >= width or any(len(t.text) > 40 for t in got):
        return Cuts(0, [])
    runs = [_run(t) for t in got]
    types = [fmt.cell_type(k) for k in row.cells]

    def options(ti: int, pos: int, ci: int) -> list[tuple[Number, int, int]]:
        """(value, next token, next offset) for each piece cell `ci` may take at token ti, offset pos."""
        tok, run, ty = got[ti], runs[ti], types[ci]
        if run is None:
            value = cell_value(tok, ty) if pos == 0 and fits(tok, ty) else None
            return [] if value is None else [(value, ti + 1, 0)]
        out = []
        for n in range(1, min(MAX_DIGITS, len(run.digits) - pos) + 1):
            value = _piece(run, pos, pos + n, ty)
            if value is not None:
                end = pos + n == len(run.digits)
                out.append((value, ti + 1 if end else ti, 0 if end else pos + n))
        return out

    memo: dict[tuple[int, int, int], int] = {}

    def count(ti: int, pos: int, ci: int) -> int:
        if ti == len(got) or ci == width:
            return int(ti == len(got) and ci == width)
        key = (ti, pos, ci)
        if key not in memo:
            memo[key] = sum(count(nti, npos, ci + 1) for _, nti, npos in options(ti, pos, ci))
        return memo[key]

    possible = count(0, 0, 0)
    if possible == 0:
        return Cuts(0, [])
    if possible == 1:
        cut: Cut = []
        ti, pos = 0, 0
        for ci in range(width):
            value, ti_next, pos_next = next(o for o in options(ti, pos, ci) if count(o[1], o[2], ci + 1))
            cut.append((value, got[ti]))
            ti, pos = ti_next, pos_next
        return Cuts(1, [cut])

    index = {k: i for i, k in enumerate(row.cells)}
    rels = [r for r in fmt.relations if r.kind == "eq" and set(r.cells) <= set(row.cells)]
    closes: dict[int, list[Relation]] = {}  # cell index → relations whose last cell it is
    for r in rels:
        closes.setdefault(max(index[k] for k in r.cells), []).append(r)
    vals: dict[str, Number | None] = {}
    partial: Cut = []
    found: list[Cut] = []
    steps = 0

    def place(ti: int, pos: int) -> None:
        nonlocal steps
        steps += 1
        if steps > MAX_SPLITS:
            raise _TooMany
        ci = len(partial)
        if ti == len(got) or ci == width:
            if ti == len(got) and ci == width:
                found.append(list(partial))
                if len(found) > limit:
                    raise _TooMany
            return
        key = row.cells[ci]
        for value, nti, npos in options(ti, pos, ci):
            if not count(nti, npos, ci + 1):
                continue
            vals[key] = value
            if all(r.holds(vals) for r in closes.get(ci, ())):
                partial.append((value, got[ti]))
                place(nti, npos)
                partial.pop()
            del vals[key]

    try:
        place(0, 0)
    except _TooMany:
        return Cuts(possible, [], weighed=False)
    return Cuts(possible, found)


def settle_cuts(reading: Reading, rels: tuple[Relation, ...]) -> None:
    """Rows whose glued digits can be cut more than one way: the cut the rest of the table confirms
    (a column total across rows holds with it, and breaks with every other cut); where none is
    confirmed, the cells on which every cut the table allows agrees (certain when no sum had to
    rule a cut out)."""
    def verdicts(row_cells: tuple[str, ...], cuts: list[Cut]) -> list[list[bool | None]]:
        base = reading.values()
        across = [r for r in rels if set(r.cells) & set(row_cells) and not set(r.cells) <= set(row_cells)]
        return [[r.holds({**base, **{k: v for k, (v, _) in zip(row_cells, cut, strict=True)}}) for r in across]
                for cut in cuts]

    progress = True
    while progress and reading.cuts:
        progress = False
        for key, (row_cells, cuts, _) in list(reading.cuts.items()):
            kept = [c for c, v in zip(cuts, verdicts(row_cells, cuts), strict=True) if False not in v and True in v]
            if len(kept) == 1:
                for k, (value, tok) in zip(row_cells, kept[0], strict=True):
                    reading.cells[k] = Cell(value, tok, inferred="由粘连的数字按本表合计关系拆分", evidence="cut_sums")
                del reading.cuts[key]
                reading.short.pop(key, None)
                progress = True
    for row_cells, cuts, possible in reading.cuts.values():
        allowed = [c for c, v in zip(cuts, verdicts(row_cells, cuts), strict=True) if False not in v] or cuts
        by_sums = len(allowed) < possible
        for i, k in enumerate(row_cells):
            if len({(c[i][0], id(c[i][1])) for c in allowed}) == 1:
                value, tok = allowed[0][i]
                reading.cells[k] = Cell(value, tok, evidence="cut_sums" if by_sums else "cut",
                                        inferred="由粘连的数字拆分：" + ("合乎合计关系的各种拆法在此格一致" if by_sums
                                                                 else "各种可能的拆法在此格一致"))


def undo_broken_cuts(reading: Reading, rows: tuple[Row, ...], rels: tuple[Relation, ...]) -> None:
    """The only possible cut is certain only if the row's digits are all there: a row cut so that
    breaks a sum it is in (its own, or a column's) may have lost a value, and goes back to repair."""
    cut = [row for row in rows if any((c := reading.cells.get(k)) is not None and c.evidence == "cut"
                                      for k in row.cells)]
    if not cut:
        return  # most tables: no sum to check
    vals = reading.values()
    broken = [r for r in rels if r.kind == "eq" and r.holds(vals) is False]
    for row in cut:
        cells = [reading.cells.get(k) for k in row.cells]
        if any(set(r.cells) & set(row.cells) for r in broken):
            tokens = [c.token for c in cells if c is not None and c.token is not None]
            reading.short[row.key] = list({id(t): t for t in tokens}.values())
            reading.glued[row.key] = Cuts(1, [])
            for k in row.cells:
                reading.cells[k] = Cell(None)


def derive(key: str, values: dict[str, Number | None], rels: tuple[Relation, ...]) -> Number | bool | None:
    """The value the equalities give `key`; False when they disagree, None when none decides."""
    found: set[float] = set()
    for r in rels:
        if r.kind != "eq" or key not in r.cells:
            continue
        others = [k for k in r.cells if k != key]
        if any(values.get(k) is None for k in others):
            continue
        lsum = sum(values[k] for k in r.left if k != key)  # type: ignore[misc]
        rsum = sum(values[k] for k in r.right if k != key)  # type: ignore[misc]
        found.add(round(rsum - lsum if key in r.left else lsum - rsum, 6))
    if not found:
        return None
    if len(found) > 1:
        return False
    v = found.pop()
    return int(v) if v == int(v) else v


def complete_rows(fmt: Format, reading: Reading, rows: tuple[Row, ...], rels: tuple[Relation, ...]) -> None:
    """A row with one value lost: try it in each place; keep the cells all consistent places agree on."""
    for row in rows:
        got = reading.short.get(row.key, [])
        if len(got) != len(row.cells) - 1:
            continue
        outcomes: set[tuple[Number | None, ...]] = set()
        results = []
        base = reading.values()
        for miss in range(len(row.cells)):
            others = [k for i, k in enumerate(row.cells) if i != miss]
            if not all(fits(t, fmt.cell_type(k)) for t, k in zip(got, others, strict=True)):
                continue
            vals = dict(base)
            it = iter(got)
            placed = {}
            for i, key in enumerate(row.cells):
                if i == miss:
                    vals[key] = None
                else:
                    tok = next(it)
                    placed[key] = Cell(cell_value(tok, fmt.cell_type(key)), tok)
                    vals[key] = placed[key].value
            v = derive(row.cells[miss], vals, rels)
            if v is None or v is False or (fmt.cell_type(row.cells[miss]) == "count" and v < 0):
                continue
            vals[row.cells[miss]] = v
            if any(r.holds(vals) is False for r in rels if set(r.cells) & set(row.cells)):
                continue
            outcomes.add(tuple(vals[k] for k in row.cells))
            results.append((miss, placed, v))
        if len(outcomes) != 1:
            continue
        miss, placed, v = results[-1]  # values read left to right: the lost one is the last that fits
        for key, c in placed.items():
            reading.cells[key] = c
        reading.cells[row.cells[miss]] = Cell(v, None, inferred="原文缺此数值，由表内合计关系推出")


def transpose_column_blocks(tokens: list[Token], ncols: int) -> list[Token]:
    """Blocks printed column by column (pdftotext's default mode) put back row by row.

    A block is `ncols` runs of one-value lines, of equal length, separated only by blank lines.
    """
    lines: dict[int, list[Token]] = {}
    for t in tokens:
        if t.kind != "empty":
            lines.setdefault(t.line, []).append(t)
    out: list[Token] = []
    runs: list[list[Token]] = []

    def flush() -> None:
        i = 0
        while i < len(runs):
            window = runs[i:i + ncols]
            if len(window) == ncols and len({len(r) for r in window}) == 1 and len(window[0]) >= 2:
                out.extend(window[c][r] for r in range(len(window[0])) for c in range(ncols))
                i += ncols
            else:
                out.extend(runs[i])
                i += 1
        runs.clear()

    prev_line = None
    for line_no in sorted(lines):
        toks = lines[line_no]
        single = len(toks) == 1 and toks[0].kind in ("value", "blank")
        if not single:
            flush()
            out.extend(toks)
            prev_line = None
            continue
        if prev_line is not None and line_no == prev_line + 1:
            runs[-1].append(toks[0])
        else:
            runs.append([toks[0]])
        prev_line = line_no
    flush()
    return out

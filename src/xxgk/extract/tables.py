"""Tokens of one table's region → its cells.

Several readings are made of the same tokens and the one the format's own arithmetic agrees
with best is kept:

- `read_by_labels`: values follow the label of their row (most layouts);
- `read_in_order`: values in reading order, labels ignored (pdftotext's default mode prints
  labels after their numbers, and some columns top to bottom) — kept only where sums check
  every cell and hold: print order alone is no evidence of where a value belongs;
- `reorder_chunks`: runs of values in another order (a block pdftotext moved);
- `read_by_columns`: each column heading followed by its values (pdftotext's default mode
  prints some ruled tables column by column).

Rows short of values are then repaired (blank cells from empty tab or markdown fields, digits
glued together cut the only way numbers allow or by the totals, one lost value derived) in
`repair`. Each cell keeps what placed it (`Cell.evidence`).
"""

from __future__ import annotations

from dataclasses import replace
from itertools import permutations

from ..formats import Format, Relation, Row, Table
from ..formats.model import cell_specs
from ..textnorm import compact
from . import repair
from .labels import align
from .tokens import Token
from .values import Cell, Reading, cell_value, fits

_RELATIONS: dict[tuple[str, str, str], tuple[Relation, ...]] = {}


def table_relations(fmt: Format, table: Table, variant: str) -> tuple[Relation, ...]:
    """The format's relations among this variant's cells; a cell the variant prints as parts (the
    three rows of 2021's （六）其他处理) is replaced by them, so the column totals still count."""
    key = (fmt.id, table.id, variant)
    if key not in _RELATIONS:
        keys = set(table.cells(variant))
        parts = {d.key: d.parts for d in fmt.derived if d.when_variant == variant}

        def spread(side: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(p for k in side for p in parts.get(k, (k,)))

        rels = (replace(r, left=spread(r.left), right=spread(r.right)) for r in fmt.relations)
        _RELATIONS[key] = tuple(r for r in rels if set(r.cells) <= keys)
    return _RELATIONS[key]


def read_table(fmt: Format, table: Table, tokens: list[Token], variants: tuple[str, ...] = ()) -> Reading:
    """Every reading of every row variant (or of `variants`); the one whose arithmetic holds best
    (labels win ties)."""
    scored: list[tuple[tuple[int, int, int], int, Reading]] = []
    chosen = variants or table.variants
    if len(chosen) > 1:
        chosen = _may_be_printed(table, chosen, tokens)
    labelled = {v: read_by_labels(fmt, table, v, table.rows_for(v), tokens) for v in chosen}
    # a variant none of whose own rows is labelled is not the one printed: it must not win by leaving
    # a broken sum unread (a one-row （六） report read as three rows, two of them empty)
    # the more of its own rows labelled, the likelier the printed one (the split rows' words are their
    # own; the one row's 「其他处理」 also heads the split rows)
    own = {v: sum(row.key in r.labels for row in table.rows if row.variant == v) for v, r in labelled.items()}
    for variant in chosen:
        if len(chosen) > 1 and own[variant] < max(own.values()):
            continue
        rows = table.rows_for(variant)
        rels = table_relations(fmt, table, variant)
        by_labels = labelled[variant]
        found = [by_labels, read_by_columns(fmt, table, variant, rows, tokens)]
        labelled_score = by_labels.score(rels)
        if not _all_labelled_and_adding_up(by_labels, labelled_score, rows):  # else no reading in order can win
            found += read_in_order(fmt, table, variant, rows, tokens, by_labels.stacked)
        # each reading with its score, computed once (nothing below changes a reading made)
        scores = [(r, labelled_score if r is by_labels else r.score(rels)) for r in found if r is not None]
        reordered = [reorder_chunks(fmt, r, rows, tokens, rels) for r, score in scores if score[0] > 0]
        scores += [(r, r.score(rels)) for r in reordered if r is not None]
        for r, score in scores:
            r.labels = r.labels or by_labels.labels
            scored.append((score, len(scored), r))
    return min(scored, key=lambda s: s[:2])[2]


def _may_be_printed(table: Table, variants: tuple[str, ...], tokens: list[Token]) -> tuple[str, ...]:
    """The variants that may have the most of their own rows labelled, the only ones `read_table`
    keeps: a reading labels the rows whose labels are aligned (at least those) and, among rows that
    placed nothing, those whose label is printed whole out of order (`_labels_out_of_order`; at most
    those too). A variant whose most is below another's least need not be read."""
    texts = [t for t in tokens if t.kind == "text"]
    least: dict[str, int] = {}
    most: dict[str, int] = {}
    for v in variants:
        rows = table.rows_for(v)
        aligned = align(texts, rows)
        matched = set(aligned.values())
        loose = {compact(t.text) for i, t in enumerate(texts) if i not in aligned}  # labels not aligned
        own = [(j, r) for j, r in enumerate(rows) if r.variant == v]
        least[v] = sum(1 for j, r in own if j in matched or r.extra)
        most[v] = least[v] + sum(1 for j, r in own if j not in matched and not r.extra and r.cells
                                 and compact(r.label) in loose)
    best = max(least.values())
    return tuple(v for v in variants if most[v] >= best)


def _all_labelled_and_adding_up(reading: Reading, score: tuple[int, int, int], rows: tuple[Row, ...]) -> bool:
    """Every labelled row found, every cell read, every sum holding (`score`: the reading's): readings
    that ignore labels (anchors 0) could at best tie, and labels win ties."""
    broken, unread, _ = score
    return broken == unread == 0 and reading.strategy == "labels" and \
        reading.anchors >= sum(1 for r in rows if r.match and not r.extra) > 0


# ---------------------------------------------------------------- reading by labels
def read_by_labels(fmt: Format, table: Table, variant: str, rows: tuple[Row, ...],
                   tokens: list[Token]) -> Reading:
    at_text = [k for k, t in enumerate(tokens) if t.kind == "text"]
    texts = [tokens[k] for k in at_text]
    matched = align(texts, rows)
    row_at = [-1] * len(tokens)  # each token's row, where it is a row's label (by position: no id-keyed dict)
    for i, j in matched.items():
        row_at[at_text[i]] = j
    anchored = set(matched.values())
    got: list[list[Token]] = [[] for _ in rows]
    extras: list[Token] = []
    overflow: dict[int, list[Token]] = {}  # values printed after a full row, before the next label
    one_each, unplaceable = _stacked_labels(tokens, row_at, rows)
    cur = -1 if matched else 0
    texted = {t.line for t in tokens if t.kind == "text"}
    fresh = False  # no value placed since the current row's label
    unlabelled: set[int] = set()  # lines of label-less markdown rows no label just before places
    for at, tok in enumerate(tokens):
        if tok.kind == "text":
            j = row_at[at]
            if j > cur:
                cur, fresh = j, True
            continue
        if tok.kind == "empty":
            continue
        if tok.markdown and matched and tok.line not in texted and one_each[at] < 0:
            # a markdown row without a label: its label is the one printed just before it, or none is
            just_after = cur >= 0 and (fresh or (got[cur] and got[cur][0].line == tok.line)) and not rows[cur].extra
            if not just_after or len(got[cur]) >= len(rows[cur].cells) or \
                    not fits(tok, fmt.cell_type(rows[cur].cells[len(got[cur])])):
                extras.append(tok)
                unlabelled.add(tok.line)
                continue
            got[cur].append(tok)
            fresh = False
            continue
        fresh = False
        if one_each[at] >= 0:
            got[one_each[at]].append(tok)
            continue
        if unplaceable[at]:
            extras.append(tok)
            continue
        if cur < 0:
            extras.append(tok)
            continue
        placed = False
        while cur < len(rows):
            row = rows[cur]
            if row.extra:  # a local row found by its label keeps every value up to the next label
                got[cur].append(tok)
                placed = True
                break
            if len(got[cur]) < len(row.cells):
                if fits(tok, fmt.cell_type(row.cells[len(got[cur])])) or repair.may_be_glued(
                        tok, [fmt.cell_type(k) for k in row.cells[len(got[cur]):]]):
                    got[cur].append(tok)
                    placed = True
                break
            nxt = cur + 1
            while nxt < len(rows) and rows[nxt].extra and nxt not in anchored:
                nxt += 1  # a local row not printed here takes nothing
            if nxt < len(rows) and nxt not in anchored:
                cur = nxt
                continue
            break
        if not placed:
            extras.append(tok)
            if 0 <= cur < len(rows) and not rows[cur].extra and tok.kind == "value":
                overflow.setdefault(cur, []).append(tok)
    taken = [t for g in got for t in g]
    unplaced = sum(unplaceable)
    # rows without label phrases (the 复议/诉讼 row) are filled in printed order: sure on one printed
    # row or in a grid, not when the values come one per line (pdftotext's default mode reorders)
    by_order = not matched and len({t.line for t in taken}) > 1 and not all(t.grid for t in taken)
    reading = Reading(table, variant, "order" if by_order else "labels", {}, anchors=len(anchored), extras=extras,
                      stacked=unplaced > 0)
    if unlabelled:
        reading.doubts.append(f"第{table.section}部分有 {len(unlabelled)} 行数值印在没有行标签的表格行中，"
                              "其前也没有紧邻的行标签，无法确定所属的行，未读取")
    if unplaced:
        reading.doubts.append(f"第{table.section}部分的行标签连续印出、数值印在其后（逐列读出的文本），"
                              f"{unplaced} 个数无法确定所属的行，未读取")
    for i, j in sorted(matched.items()):
        before = reading.labels.get(rows[j].key)
        reading.labels[rows[j].key] = texts[i].text if before is None else f"{before}|{texts[i].text}"
    full = [g for j, g in enumerate(got) if g and len(g) == len(rows[j].cells) and len({t.line for t in g}) == 1]
    for j, row in enumerate(rows):
        if row.extra:
            reading.extras += got[j]
            reading.labels[row.key] = reading.labels.get(row.key, row.label)
        else:
            _fill_row(fmt, reading, row, got[j], tokens, full)
            if matched and row.match and j not in anchored:  # its label not found: filled in print order
                for k in row.cells:
                    if reading.cells[k].token is not None and not reading.cells[k].evidence:
                        reading.cells[k].evidence = "order"
    _rest_of_groups(fmt, reading, rows, tokens)
    _labels_out_of_order(fmt, reading, rows, tokens, row_at)
    rels = table_relations(fmt, table, variant)
    repair.undo_broken_cuts(reading, rows, rels)
    for j, more in overflow.items():  # more numbers than cells, and the totals break: which are its own is unknown
        row = rows[j]
        vals = reading.values()
        if any(r.kind == "eq" and set(r.cells) & set(row.cells) and r.holds(vals) is False for r in rels):
            own = [reading.cells[k].token for k in row.cells]
            reading.short[row.key] = [t for t in own if t is not None] + more
            for k in row.cells:
                reading.cells[k] = Cell(None)
    repair.complete_rows(fmt, reading, rows, rels)
    if reading.cuts:  # each may settle what the other needs
        repair.settle_cuts(reading, rels)
        repair.complete_rows(fmt, reading, rows, rels)
    for row in rows:
        unread = [k for k in row.cells if reading.cells[k].value is None and not reading.cells[k].blank]
        if not unread:
            continue
        printed = reading.short.get(row.key)
        if printed is None:
            reading.doubts.append(f"「{row.label}」未读到数值")
        else:
            shown = " ".join(t.text for t in printed)
            why = ("数比应有的多，合计又不成立，无法确定哪些属于本行" if len(printed) > len(row.cells)
                   else _cuts_doubt(reading, row.key) or "无法确定各数所在的列")
            left = "整行留空" if len(unread) == len(row.cells) else f"{len(unread)} 格无法确定，留空"
            reading.doubts.append(f"「{row.label}」印有 {len(printed)} 个数（{shown}），应有 {len(row.cells)} 个："
                                  f"{why}，{left}")
    return reading


def _rest_of_groups(fmt: Format, reading: Reading, rows: tuple[Row, ...], tokens: list[Token]) -> None:
    """A group of the 主动公开 table (第二十条第（六）项: 行政处罚, 行政强制) with one row that placed
    nothing: the values printed between the group's heading and the next group's that no other row
    of the group took are that row's, if just as many as its cells (pdftotext's default mode prints
    "行政处罚 0 0 0 0 0 0 行政强制", "本年处理决定数量 550 行政许可": values before their label)."""
    if reading.table.id != "active":
        return
    heads = {compact(r.group): r.group for r in rows if r.group and not r.extra}
    spans: dict[str, list[Token]] = {}
    group = None
    for tok in tokens:
        if tok.kind == "text" and compact(tok.text) in heads:
            group = heads[compact(tok.text)]
            spans.setdefault(group, [])
        elif group is not None and tok.kind in ("value", "blank"):
            spans[group].append(tok)
    extras = {id(t) for t in reading.extras}
    for group, values in spans.items():
        members = [r for r in rows if r.group == group and not r.extra]
        unread = [r for r in members
                  if all(reading.cells[k].value is None and not reading.cells[k].blank for k in r.cells)]
        own = {id(reading.cells[k].token) for r in members for k in r.cells if reading.cells[k].token is not None}
        left = [t for t in values if id(t) in extras]
        if (len(unread) != 1 or any(id(t) not in extras and id(t) not in own for t in values)
                or len(left) != len(unread[0].cells)
                or not all(fits(t, fmt.cell_type(k)) for t, k in zip(left, unread[0].cells, strict=True))):
            continue
        _place_row(fmt, reading, unread[0], left, "columns")


def _place_row(fmt: Format, reading: Reading, row: Row, values: list[Token], evidence: str) -> None:
    """A row's values, found outside the reading's own placing: no longer extras, the row no longer short."""
    for tok, key in zip(values, row.cells, strict=True):
        value = cell_value(tok, fmt.cell_type(key))
        reading.cells[key] = Cell(value, tok, blank=value is None, evidence=evidence)
    placed = {id(t) for t in values}
    reading.extras = [t for t in reading.extras if id(t) not in placed]
    reading.short.pop(row.key, None)


def _labels_out_of_order(fmt: Format, reading: Reading, rows: tuple[Row, ...], tokens: list[Token],
                         row_at: list[int]) -> None:
    """A row that placed nothing, whose label is printed whole out of the table's order with just as
    many values after it on its line (converters print rows of 主动公开 outside the table, before
    it: "行政许可 97"): those values are its own. The labels' alignment keeps the table's order and
    so could not use it."""
    if all(any(reading.cells[k].value is not None or reading.cells[k].blank for k in r.cells)
           for r in rows if r.cells and not r.extra):
        return  # every row placed something
    extras = {id(t) for t in reading.extras}
    by_label = {compact(r.label): r for r in rows if r.cells and not r.extra}
    for i, tok in enumerate(tokens):
        row = by_label.get(compact(tok.text)) if tok.kind == "text" and row_at[i] < 0 else None
        if row is None or any(reading.cells[k].value is not None or reading.cells[k].blank for k in row.cells):
            continue
        values = tokens[i + 1:i + 1 + len(row.cells)]
        after = tokens[i + 1 + len(row.cells):i + 2 + len(row.cells)]
        if (len(values) != len(row.cells) or any(t.line != tok.line or id(t) not in extras for t in values)
                or any(t.line == tok.line for t in after)
                or not all(fits(t, fmt.cell_type(k)) for t, k in zip(values, row.cells, strict=True))):
            continue
        _place_row(fmt, reading, row, values, "label")
        reading.labels.setdefault(row.key, tok.text)


def _cuts_doubt(reading: Reading, key: str) -> str:
    """Why a row of glued digits stays unread: how many cuts were possible, and what the sums said."""
    cuts = reading.glued.get(key)
    if cuts is None:
        return ""
    if not cuts.possible:
        glued = any(len(t.text) > 1 for t in reading.short.get(key, []))
        return "数字可能粘连，但没有一种拆法合乎各列数字的写法" if glued else ""
    if key in reading.cuts:
        kept = len(reading.cuts[key][1])
        return (f"数字粘连，合乎合计关系的拆法有 {kept} 种" if kept < cuts.possible
                else f"数字粘连，可能的拆法有 {kept} 种，没有合计关系可以确定")
    if cuts.possible == 1:
        return "数字可能粘连，只有一种拆法，但它使合计不成立（或有数字未印出）"
    if not cuts.weighed:
        return f"数字粘连，可能的拆法有 {cuts.possible} 种，太多而无法用合计关系确定"
    return f"数字粘连，可能的拆法有 {cuts.possible} 种，但没有一种能使本行合计成立"


def _fill_row(fmt: Format, reading: Reading, row: Row, got: list[Token], tokens: list[Token],
              full_rows: list[list[Token]]) -> None:
    """Cells of one row from the values found for it; a row short of values is left to repair."""
    width = len(row.cells)
    if 0 < len(got) < width:
        columns = repair.by_columns(got, width, full_rows)
        if columns is not None:
            for key, tok in zip(row.cells, columns, strict=True):
                value = None if tok is None else cell_value(tok, fmt.cell_type(key))
                reading.cells[key] = Cell(value, tok, blank=tok is None or value is None)
            return
        slotted = (repair.markdown_slots(got, width, tokens) or repair.blank_slots(got, width, tokens)
                   or repair.blank_lines(got, width, tokens))
        if slotted is not None:
            got = slotted
        else:
            cuts = repair.glued_cuts(fmt, row, got)
            if len(cuts.kept) == 1:
                why, evidence = (("由粘连的数字拆分：只有这一种拆法", "cut") if cuts.unique
                                 else ("由粘连的数字按本行总计拆分", "cut_sums"))
                for key, (value, tok) in zip(row.cells, cuts.kept[0], strict=True):
                    reading.cells[key] = Cell(value, tok, inferred=why, evidence=evidence)
                return
            reading.short[row.key] = got
            reading.glued[row.key] = cuts
            if cuts.kept:
                reading.cuts[row.key] = (row.cells, cuts.kept, cuts.possible)
            got = []
    cells: list[Cell] = []
    for i, key in enumerate(row.cells):
        tok = got[i] if i < len(got) else None
        if tok is None:
            cells.append(Cell(None))
        elif tok.kind == "empty":
            cells.append(Cell(None, tok, blank=True))
        else:
            try:  # (cell_value raises exactly where `fits` is false: one look at the number, not two)
                value = cell_value(tok, fmt.cell_type(key))
            except ValueError:
                reading.short[row.key] = got  # a glued run taken for the row ("929.1") and more values: not a cut
                cells = [Cell(None) for _ in row.cells]
                break
            cells.append(Cell(value, tok, blank=value is None))
    for key, cell in zip(row.cells, cells, strict=True):
        reading.cells[key] = cell


def _stacked_labels(tokens: list[Token], row_at: list[int], rows: tuple[Row, ...]
                    ) -> tuple[list[int], list[bool]]:
    """Labels of several rows printed one after another, then values (a table read column by column:
    pdfminer prints the label column, then the values in an order of its own). The values up to
    the next label are the last row's only if they are just as many; one value a row is placed in
    order; otherwise no label says whose they are, and they are not placed.
    (each token's row where placed so, else -1; whether a token is a value not to place)."""
    placed = [-1] * len(tokens)
    unplaceable = [False] * len(tokens)
    seen: set[int] = set()  # rows whose label came before: a word of it OCR split off is no new row
    i = 0
    while i < len(tokens):
        if row_at[i] < 0:
            i += 1
            continue
        stack = [row_at[i]]
        while i + 1 < len(tokens) and tokens[i + 1].kind == "text":
            i += 1
            if row_at[i] > stack[-1]:
                stack.append(row_at[i])
        stack = [j for j in stack if j not in seen]
        seen.update(stack)
        label_line = tokens[i].line
        values: list[int] = []
        while i + 1 < len(tokens) and row_at[i + 1] < 0:
            i += 1
            if tokens[i].kind in ("value", "blank"):
                values.append(i)
        i += 1
        stack = [j for j in stack if not rows[j].extra]
        if len(stack) < 2 or len(values) <= len(rows[stack[-1]].cells) or tokens[values[0]].line == label_line:
            continue  # values on the last label's own line (a table row) are its own
        if all(len(rows[j].cells) == 1 for j in stack) and len(values) == len(stack):
            for v, j in zip(values, stack, strict=True):
                placed[v] = j
        else:
            for v in values:
                unplaceable[v] = True
    return placed, unplaceable


# ---------------------------------------------------------------- reading in order
def read_in_order(fmt: Format, table: Table, variant: str, rows: tuple[Row, ...],
                  tokens: list[Token], stacked: bool = False) -> list[Reading]:
    """All values of the region in reading order, if there are exactly as many as cells: one reading
    in row order and one in each other order the table may be printed in. Print order is no evidence
    of where a value belongs: only readings whose every cell a sum checks, and whose sums all hold,
    are kept (section 二, which has no sums, is never read so); after stacked labels (`stacked`)
    see `_vouched_by_sums`."""
    keys = [k for r in rows for k in r.cells]
    types = {fmt.cell_type(k) for k in keys}
    widths = {len(r.cells) for r in rows}
    ordered = repair.transpose_column_blocks(tokens, widths.pop()) if len(widths) == 1 else tokens
    values = [t for t in ordered if t.kind in ("value", "blank") and any(fits(t, ty) for ty in types)]
    readings = []
    for name, order in (("order", tuple(keys)), *(("turned", o) for o in table.orders if len(o) == len(keys))):
        seq: list[Token] | None = values
        why = ""
        if len(values) > len(keys):
            seq = repair.join_wrapped(values, list(order), fmt, table_relations(fmt, table, variant))
            why = "跨行折断的数字按合计关系接回"
        if seq is None or len(seq) != len(keys):
            continue
        if name == "turned" and len({t.line for t in seq}) == 1:
            continue  # printed on one line: one row, not one row per outcome
        if all(fits(t, fmt.cell_type(k)) for t, k in zip(seq, order, strict=True)):
            printed = {id(t) for t in values}
            cells = {}
            for tok, key in zip(seq, order, strict=True):
                v = cell_value(tok, fmt.cell_type(key))
                cells[key] = Cell(v, tok, blank=v is None, inferred="" if id(tok) in printed else why)
            readings.append(Reading(table, variant, name, cells))
    if stacked:
        return _vouched_by_sums(fmt, table, variant, rows, values, readings)
    rels = table_relations(fmt, table, variant)
    checked = {k for r in rels if r.kind == "eq" for k in r.cells}
    return [r for r in readings if set(r.cells) <= checked and r.score(rels)[0] == 0]


def _down_the_columns(rows: tuple[Row, ...]) -> list[str]:
    """The cells in the order a table read column by column gives: each group of rows of one
    width in turn, down its first column, then its second …"""
    keys: list[str] = []
    block: list[Row] = []
    for row in (*rows, None):
        if block and (row is None or row.group != block[0].group or len(row.cells) != len(block[0].cells)):
            keys += [r.cells[c] for c in range(len(block[0].cells)) for r in block]
            block = []
        if row is not None:
            block.append(row)
    return keys


def _vouched_by_sums(fmt: Format, table: Table, variant: str, rows: tuple[Row, ...],
                     values: list[Token], readings: list[Reading]) -> list[Reading]:
    """After stacked labels nothing but the sums can vouch for an order of the values: they may
    run across the rows, down the columns, or (pdfminer) in an order of the text boxes' own. Only
    readings every cell of which a sum checks, and whose sums all hold, are kept; if the values
    read down the columns pass too and differ, neither is kept."""
    rels = table_relations(fmt, table, variant)
    checked = {k for r in rels if r.kind == "eq" for k in r.cells}
    down = _down_the_columns(rows)
    if len(values) == len(down) and all(fits(t, fmt.cell_type(k)) for t, k in zip(values, down, strict=True)):
        cells = {k: Cell(cell_value(t, fmt.cell_type(k)), t) for t, k in zip(values, down, strict=True)}
        readings = [*readings, Reading(table, variant, "order", cells)]
    kept = [r for r in readings if set(r.cells) <= checked and r.score(rels)[0] == 0]
    return kept if len({tuple(sorted(r.values().items())) for r in kept}) <= 1 else []


# ---------------------------------------------------------------- reading column by column
def read_by_columns(fmt: Format, table: Table, variant: str, rows: tuple[Row, ...],
                    tokens: list[Token]) -> Reading | None:
    """Each column heading followed by the values of that column, down the rows that have it.

    Only when the region is nothing else: every value follows a heading, and every cell is filled.
    A heading printed several times (本年处理决定数量 in each group) takes the next rows each time.
    """
    queues: dict[str, list[str]] = {}
    headings: dict[str, str] = {}
    for row in rows:
        for key in row.cells:
            if f"/{row.label}/" not in cell_specs()[fmt.id][key].label:
                return None  # not a table of group/row/column cells (section 二's)
            heading = fmt.column_label(key)
            headings[compact(heading)] = heading
            queues.setdefault(heading, []).append(key)
    if len(queues) < 2:
        return None
    cells: dict[str, Cell] = {}
    current: list[str] | None = None
    runs = 0
    for tok in tokens:
        if tok.kind == "text":
            found = headings.get(compact(tok.text))
            current = queues[found] if found else None
            runs += found is not None
        elif tok.kind in ("value", "blank"):
            if not current or not fits(tok, fmt.cell_type(current[0])):
                return None
            key = current.pop(0)
            value = cell_value(tok, fmt.cell_type(key))
            cells[key] = Cell(value, tok, blank=value is None)
    if any(queues.values()) or runs < 2:
        return None
    return Reading(table, variant, "columns", cells, anchors=len(rows) + runs)


# ---------------------------------------------------------------- reordering runs of values
def reorder_chunks(fmt: Format, reading: Reading, rows: tuple[Row, ...], tokens: list[Token],
                   rels: tuple[Relation, ...]) -> Reading | None:
    """Runs of values (split where text intervenes) put in the order that satisfies every relation.

    Only when exactly one order of the runs, the nearest to the printed one, does so. Where the
    sums fall into groups that add up alone (the 复议/诉讼 table's three), a run must lie within
    one group: one that runs across groups puts whole groups in each other's places and every sum
    still holds (pdfminer's text prints such runs).
    """
    keys = [k for r in rows for k in r.cells]
    chunks: list[list[Token]] = [[]]
    for t in tokens:
        if t.kind == "text":
            if chunks[-1]:
                chunks.append([])
        elif t.kind in ("value", "blank"):
            chunks[-1].append(t)
    chunks = [c for c in chunks if c]
    if not 1 < len(chunks) <= 7 or sum(map(len, chunks)) != len(keys):
        return None
    eqs = [r for r in rels if r.kind == "eq"]
    totals = [keys.index(r.left[0]) for r in eqs if len(r.left) == 1]
    index = {id(t): i for i, t in enumerate(t for c in chunks for t in c)}
    found: list[tuple[tuple[int, int], list[Token]]] = []
    group = _groups(keys, eqs)
    for order in permutations(range(len(chunks))):
        if list(order) == sorted(order):
            continue
        if len(set(group.values())) > 1 and not _each_in_one_group([len(chunks[i]) for i in order], keys, group):
            continue
        seq = [t for i in order for t in chunks[i]]
        if not all(fits(t, fmt.cell_type(k)) for t, k in zip(seq, keys, strict=True)):
            continue
        vals = {k: cell_value(t, fmt.cell_type(k)) for t, k in zip(seq, keys, strict=True)}
        if all(r.holds(vals) is True for r in eqs):
            # prefer keeping the printed order of the totals (a column of its own), then of the runs
            printed = [index[id(seq[p])] for p in sorted(totals)]
            found.append(((_inversions(printed), _inversions(list(order))), seq))
    if not found:
        return None
    found.sort(key=lambda f: f[0])
    if len(found) > 1 and found[0][0] == found[1][0]:
        return None
    seq = found[0][1]
    cells = {}
    for tok, key in zip(seq, keys, strict=True):
        v = cell_value(tok, fmt.cell_type(key))
        cells[key] = Cell(v, tok, inferred="数值块印刷顺序错乱，按合计关系重排",
                          blank=v is None)
    return Reading(reading.table, reading.variant, "reordered", cells, anchors=reading.anchors,
                   labels=reading.labels)


def _groups(keys: list[str], eqs: list[Relation]) -> dict[str, int]:
    """Each cell's group: cells the equalities join, directly or through others, share one."""
    group = {k: i for i, k in enumerate(keys)}
    merged = True
    while merged:
        merged = False
        for r in eqs:
            ids = {group[k] for k in r.cells if k in group}
            if len(ids) > 1:
                low = min(ids)
                group.update({k: low for k, g in group.items() if g in ids})
                merged = True
    return group


def _each_in_one_group(lengths: list[int], keys: list[str], group: dict[str, int]) -> bool:
    start = 0
    for n in lengths:
        if len({group[k] for k in keys[start:start + n]}) > 1:
            return False
        start += n
    return True


def _inversions(seq: list[int]) -> int:
    return sum(1 for a in range(len(seq)) for b in range(a + 1, len(seq)) if seq[a] > seq[b])

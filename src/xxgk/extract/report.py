"""A report's text → the parse result: sections, format, the three tables, metadata."""

from __future__ import annotations

import re
from bisect import bisect_left
from typing import Final

from ..errors import NotAReport
from ..formats import FORMATS, Format
from ..formats.model import cell_types
from ..ingest.source import Source
from ..result import ParseResult, Printed, Region, printed
from . import bands, grid, meta
from .sections import SPILL_ANCHORS, Squeezed, find_sections
from .tables import read_table, table_relations
from .tokens import Document, Token, tokenize
from .values import Cell, Reading, leave_unread

_ORDER = ("一", "二", "三", "四", "五", "六")
_TABLE_SECTION = {"active": "二", "requests": "三", "review": "四"}


def parse_text(text: str, source: str) -> ParseResult:
    return parse_source(Source(text), source)


MAX_CHARS = 5_000_000  # a report is some ten thousand characters; the whole of a year's reports would be this


def parse_source(src: Source, source: str) -> ParseResult:
    if len(src.text) > MAX_CHARS:
        raise NotAReport(f"not a single report: {len(src.text):,} characters of text")
    doc = tokenize(src.text, src.tables)
    squeezed = Squeezed.of(doc.norm)
    sections = find_sections(squeezed)
    if not {"二", "三", "四"} & set(sections):
        raise NotAReport("not a 政府信息公开工作年度报告: none of its three tables was found")
    bounds = _bounds(sections, len(doc.norm))
    head_end = min(sections.values())
    body_one = doc.norm[slice(*bounds["一"])] if "一" in bounds else ""
    tail_start = bounds["六"][0] if "六" in bounds else max(0, len(doc.norm) - 400)
    who = meta.identify(doc.norm[:head_end], body_one, doc.norm[tail_start:], doc.norm, src.meta, src.kind)
    agency, year, published = who.agency, who.year, who.published

    fmt = detect_format(squeezed, len(doc.norm), bounds, year)
    result = ParseResult(source=source, agency=agency, year=year, template=fmt.id, published=published,  # type: ignore[arg-type]
                         posted=who.posted, agency_named_in=who.named_in,
                         region=Region(**vars(who.region)) if who.region else None)
    result.doubts += src.notes + who.doubts
    starts = [t.start for t in doc.tokens]
    in_order = starts == sorted(starts)
    for table in fmt.tables:
        numeral = _TABLE_SECTION[table.id]
        if numeral not in bounds:
            result.doubts.append(f"未找到第{numeral}部分（{table.title}）")
            for key in table.cells():
                result.cells[key] = None
            continue
        lo, hi = bounds[numeral]
        tokens = _between(doc.tokens, starts, in_order, lo, hi)
        locate = src.locate_token
        by_grid = grid.read_grid(fmt, table, [t for t in src.tables if lo <= t.start < hi], doc, tokens, locate)
        if by_grid is not None and grid.complete(*by_grid):
            if not _better_by_tokens(fmt, by_grid[0], tokens, src):
                _apply(result, by_grid[0], doc, src)
                continue
            by_grid = None  # an OCR'd grid whose sums break more than the token readings'
        elif by_grid is None and src.kind in ("pdf", "image"):  # a table drawn without rules
            by_grid = grid.read_positions(fmt, table, tokens, locate)
        variants = grid.variant_shown(*by_grid) if by_grid is not None else ()
        reading = read_table(fmt, table, tokens, variants)
        spill = spilled(numeral, doc, squeezed, hi) if reading.score(())[1] else []
        if spill:  # cells unread: part of the table may have flowed further down
            rels = table_relations(fmt, table, reading.variant)
            wider = read_table(fmt, table, tokens + spill, variants)
            if wider.score(rels) < reading.score(rels):
                wider.doubts.append(f"第{numeral}部分的表格有一部分印在后文中（分栏的文本），已接回")
                reading = wider
        if src.ocr:  # a row is placed by its label's band on the picture, never by the order of OCR's boxes
            bands.unplace_off_band(fmt, reading, tokens, locate, table_relations(fmt, table, reading.variant))
        if by_grid is not None:
            grid.overrule(reading, *by_grid)
        leave_unread(fmt, reading)
        _apply(result, reading, doc, src)
    for d in fmt.derived:
        if result.variants.get("requests") == d.when_variant:
            parts = [result.cells.get(k) for k in d.parts]
            # a blank adds nothing — unless the page was read by OCR, where an empty cell may be a lost digit
            unread = any(p is None and (k not in result.blank or src.ocr) for p, k in zip(parts, d.parts, strict=True))
            printed = [p for p in parts if p is not None]
            result.cells[d.key] = None if unread or not printed else sum(printed)  # blanks add nothing
            result.inferred[d.key] = "（六）其他处理为其三行之和"
            result.evidence[d.key] = "derived"
    result.cells = {k: result.cells.get(k) for k in fmt.cell_keys}
    result.found_sections = list(bounds)
    for numeral in ("一", "五", "六"):
        if numeral in bounds:
            result.sections[numeral] = doc.text[slice(*bounds[numeral])].strip()
    return result


def _between(tokens: list[Token], starts: list[int], in_order: bool, lo: int, hi: int) -> list[Token]:
    """The tokens starting in [lo, hi), in order (`starts`: theirs, in text order — `in_order` — but
    for a table row's cells a reader may give out of order: then each is looked at)."""
    if in_order:
        return tokens[bisect_left(starts, lo):bisect_left(starts, hi)]
    return [t for t in tokens if lo <= t.start < hi]


def _better_by_tokens(fmt: Format, by_grid: Reading, tokens: list[Token], src: Source) -> bool:
    """A grid OCR read may have lost a digit (an empty cell that was not blank) or misread one: where
    its sums break and the token readings' (which recover a lost value from the totals) break less,
    those are kept. A grid of a text layer is what was printed, sums or not."""
    by_ocr = any((w := src.locate_token(c.token)) is not None and w.ocr
                 for c in by_grid.cells.values() if c.token is not None and c.token.kind != "empty")
    if not by_ocr:
        return False
    rels = table_relations(fmt, by_grid.table, by_grid.variant)
    broken = by_grid.score(rels)[0]
    return broken > 0 and read_table(fmt, by_grid.table, tokens, (by_grid.variant,)).score(rels)[0] < broken


def spilled(numeral: str, doc: Document, squeezed: Squeezed, end: int) -> list[Token]:
    """Tokens of a table's right part that a text flow put after the following sections (pdftotext's
    default mode does so with the wide 复议/诉讼 table): from its first column heading on."""
    pattern = SPILL_ANCHORS.get(numeral)
    if pattern is None:
        return []
    at = next((a for a, _ in squeezed.find_all(pattern) if a >= end), None)
    return [] if at is None else [t for t in doc.tokens if t.start >= at]


def _bounds(sections: dict[str, int], end: int) -> dict[str, tuple[int, int]]:
    found = [(n, sections[n]) for n in _ORDER if n in sections]
    return {n: (start, found[i + 1][1] if i + 1 < len(found) else end) for i, (n, start) in enumerate(found)}


def detect_format(squeezed: Squeezed, end: int, bounds: dict[str, tuple[int, int]], year: int | None) -> Format:
    """By what the tables print (in the text without white space, `end` long before squeezing);
    by the year only when they print neither format's words."""
    lo = bounds.get("二", bounds.get("三", (0, end)))[0]
    hi = bounds.get("四", (end, end))[0]
    region = squeezed.text[squeezed.index(lo):squeezed.index(hi)]
    hits = {fid: sum(1 for m in f.markers if m in region) for fid, f in FORMATS.items()}
    if hits["2019"] != hits["2021"]:
        return FORMATS[max(hits, key=lambda k: hits[k])]
    return FORMATS["2021" if (year or 0) >= 2021 else "2019"]


def _provenance(tok: Token, text: str, line_starts: list[int], src: Source | None) -> Printed:
    """Where a token was printed: a cell or word of the original file (`src`, None when it has no
    places but the text's), or a span of `text` (typed here, so valid as made: `Printed`)."""
    printed_as = text[tok.start:tok.end]
    where = src.locate(tok.start, tok.end) if src is not None else None
    if where is not None:  # a cell or word of the original file
        return printed(where, printed_as)
    line_start = line_starts[tok.line - 1]
    return {"line": tok.line, "col": (tok.start - line_start, tok.end - line_start), "offset": (tok.start, tok.end),
            "text": printed_as}


_YUAN_HEADER = re.compile(r"[(（]\s*(?:单位\s*[:：]?\s*)?元\s*[)）]")


def _in_yuan(tok: Token, doc: Document) -> bool:
    """A bare amount under a header that says its unit is 元 (the format asks for 万元)."""
    window = doc.norm[max(0, tok.start - 300):tok.start]
    start = window.rfind("第二十条")
    return start >= 0 and _YUAN_HEADER.search(window[start:]) is not None


def _apply(result: ParseResult, reading: Reading, doc: Document, src: Source) -> None:
    """A table's reading into the result."""
    if len(reading.table.variants) > 1:
        result.variants[reading.table.id] = reading.variant
    types = cell_types(result.template or "2021")
    # the result's fields looked up once a table, not once a cell (a pydantic model: no native attributes)
    cells, signs, inferred, blank, evidence = result.cells, result.signs, result.inferred, result.blank, result.evidence
    provenance = result.provenance
    text, line_starts, located = doc.text, doc.line_starts, src if src.spans else None
    for key, cell in reading.cells.items():
        tok = cell.token
        if (cell.value is not None and tok is not None and tok.kind == "value" and not tok.unit
                and types[key] == "amount" and _in_yuan(tok, doc)):
            cell.value = round(float(cell.value) / 10000, 6)
            cell.inferred = cell.inferred or "表头单位为元，已折算为万元"
        cells[key] = cell.value
        if tok is not None and tok.kind != "empty":
            provenance[key] = _provenance(tok, text, line_starts, located)
            if tok.sign:
                signs[key] = tok.sign
        if cell.inferred or (tok is not None and tok.misread):
            inferred[key] = cell.inferred or tok.misread  # type: ignore[union-attr]
        if cell.blank:
            blank.append(key)
        if cell.value is not None or cell.blank:
            evidence[key] = evidence_of(cell, reading.strategy)
    result.doubts.extend(reading.doubts)
    result.labels.update(reading.labels)
    for tok in reading.extras:
        if tok.kind == "value":
            result.extras.append(f"第{reading.table.section}部分第{tok.line}行「{tok.text}」")
    result.readings[reading.table.id] = reading.strategy
    if reading.strategy not in ("labels", "grid"):
        result.doubts.append(f"第{reading.table.section}部分按{_STRATEGY[reading.strategy]}读取")


def evidence_of(cell: Cell, strategy: str) -> str:
    if cell.evidence:
        return cell.evidence
    if cell.token is None and cell.value is not None:
        return "derived"
    if "粘连" in cell.inferred:
        return "cut_sums"
    return _EVIDENCE.get(strategy, "order")


# a reading's strategy → its cells' evidence
_EVIDENCE: Final = {"labels": "label", "columns": "columns", "grid": "grid"}


_STRATEGY: Final = {"order": "数值的印刷顺序（而非行标签）", "reordered": "合计关系重排数值块", "labels": "行标签",
                    "turned": "转置的表格（每行一种结果）", "grid": "表格的单元格",
                    "columns": "列标题（逐列印出的数值）"}


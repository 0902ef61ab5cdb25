"""Report text → a layout-independent stream of text and value tokens with their positions.

Every layout (tab-separated rows, one cell per line, markdown, pdftotext's three modes, a page
crawled into one paragraph) becomes the same stream; table reading never looks at layout again,
except for two facts kept on each token: its tab field (empty fields are cells left blank) and
its line (a block of one-value lines may be a column printed top to bottom).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final, Literal

from ..ingest.source import Table as GridTable
from ..textnorm import is_cjk, normalize

Kind = Literal["text", "value", "blank", "empty"]


@dataclass(slots=True, init=False)  # its own __init__: mypyc compiles it (a generated one runs interpreted)
class Token:
    kind: Kind
    text: str  # normalised text as printed (offsets are the original's)
    start: int  # offset in the document
    end: int
    line: int  # 1-based
    col: int  # offset in its line
    field: int = -1  # tab-separated field index, -1 when the line has no tabs
    number: Decimal | None = None  # for values: the number as printed, without unit
    sign: str = ""  # "+" or "-" when printed with a sign
    unit: str = ""  # "万元", "元", "万" when printed
    note: str = ""  # "（其中修订16件）": kept, not part of the value
    grid: bool = False  # from a table whose cells are known (HTML, Word, PDF): empty fields are blanks
    misread: str = ""  # why a cell OCR damaged is read as a number anyway
    markdown: int = 0  # in a markdown table row: how many cells the row has (every "| |" is one)

    def __init__(self, kind: Kind, text: str, start: int, end: int, line: int, col: int, field: int = -1,
                 number: Decimal | None = None, sign: str = "", unit: str = "", note: str = "", grid: bool = False,
                 misread: str = "", markdown: int = 0) -> None:
        self.kind = kind
        self.text = text
        self.start = start
        self.end = end
        self.line = line
        self.col = col
        self.field = field
        self.number = number
        self.sign = sign
        self.unit = unit
        self.note = note
        self.grid = grid
        self.misread = misread
        self.markdown = markdown

    def placed(self, offset: int, col: int, line: int, field: int) -> Token:
        """A token scanned on its own (a line, a field) where it stands: `offset` further in the
        document, `col` further in its line, on `line`, in field `field`."""
        return Token(self.kind, self.text, self.start + offset, self.end + offset, line, self.col + col, field,
                     self.number, self.sign, self.unit, self.note, self.grid, self.misread, self.markdown)


@dataclass
class Document:
    text: str  # the original text
    norm: str  # normalised, same length
    tokens: list[Token] = field(default_factory=list)
    line_starts: list[int] = field(default_factory=list)


# A number as printed in a cell: sign, digits (thousands separators, a decimal point that
# pdftotext may follow by a space), unit, a counter word, a note in brackets.
_NUMBER = re.compile(
    r"(?P<sign>[+\-])?(?P<num>\d{1,3}(?:,\d{3})+(?!\d)|\d+(?:\.\s?\d+)?)"
    r"(?P<unit>\s?(?:万元|元|万))?(?P<counter>[件条个项次家宗人]?)"
    r"(?P<note>\s?\((?:其中|含|包括|注)[^()]{0,40}\))?"
)
UNREAD: Final = "?"  # what OCR prints for a number it could not read with confidence (ingest.ocr)
_BLANKS = {"/", "-", "—", "——", "--", "无", "\\", "－", "/ ", "空", "×", "——-"}
# Letters OCR reads for digits; read as the digit only where a cell or its neighbours are numbers.
_LOOKALIKE: Final = {"O": 0, "o": 0, "〇": 0, "○": 0, "l": 1, "I": 1}
_PAGE_NUMBER: Final = re.compile(r"^\s*(?:[-—–]\s*\d{1,3}\s*[-—–]|第\s*\d{1,3}\s*页(?:\s*[,/，]?\s*共\s*\d{1,3}\s*页)?"
                          r"|\d{1,3}\s*/\s*\d{1,3})\s*$")
_CELL_SPLIT: Final = re.compile(r"\s{2,}")
# After these a number is part of the text (dates, ordinals of articles, percentages, phone numbers).
_DASH_AFTER = re.compile(r"\s?[-—–]")
_DASH_BEFORE = re.compile(r"[-—–]\s?$")
_ORDINAL_MARK = re.compile(r"[.、]\s?(?![\d\s]|$)")
_CHANGE_WORD = re.compile(r"\s*(减少|减|增加|增)\s*")
_WORD = re.compile(r"\S+")
_NUM_NOISE = re.compile(r"[,\s]")
# A cell that starts "3 危及…": a label's number printed without its dot (or OCR lost it), not a value.
_BARE_ORDINAL: Final = re.compile(r"\s*\d{1,2}\s+(?=[\u4e00-\u9fff“]{2})(?!其中|含|包括|注)")
# Digits glued to a label with one sign inside ("行政许可0+11", "行政强制2-20"): a crawled row whose
# signed cell (本年增/减) starts at the sign. Not a date, a range or a phone number.
_GLUED_SIGNED = re.compile(r"(\d{1,7})([+\-])(\d{1,7})(?![\d.+\-年月日号%％页时:])")
_NOT_GLUED_AFTER = re.compile(r"(?:电话|传真|热线|咨询|编号|号码)$")
_TEXT_AFTER = re.compile(r"\s?(?:年|月|日|号|%|％|页|时)|:\d|-\d(?!\d*-)")  # "-2-" after it: a page number


def tokenize(text: str, tables: list[GridTable] | tuple[GridTable, ...] = ()) -> Document:
    """Tokens of every line; a line that is a row of one of the reader's `tables` is read cell by
    cell (a cell's column is its field; an empty cell is a blank; a merged cell's covered
    positions are nothing)."""
    norm = normalize(text)
    doc = Document(text, norm)
    rows = {row[0].start: row for t in tables for row in t.by_row() if row[0].start >= 0}  # a row is a line
    pos = 0
    for lineno, line in enumerate(norm.split("\n"), start=1):
        doc.line_starts.append(pos)
        row = rows.get(pos)
        if row is not None:
            cells = tuple((c.column, c.start - pos, norm[c.start:c.start + len(c.text)]) for c in row)
            doc.tokens += [t.placed(pos, 0, lineno, t.field) for t in row_tokens(cells)]
        else:
            doc.tokens += line_tokens(line, pos, lineno)
        pos += len(line) + 1
    return doc


_ROWS: Final[dict[tuple[tuple[int, int, str], ...], list[Token]]] = {}


def row_tokens(cells: tuple[tuple[int, int, str], ...]) -> list[Token]:
    """The tokens of one table row given as (column, offset in its line, normalised text), placed as
    if the line began the document on line 0 (scanned once per process, as lines are)."""
    found = _ROWS.get(cells)
    if found is None:
        scratch = Document("", "")
        _tokenize_fields(scratch, [(col, at, text) for col, at, text in cells], 0, grid=True)
        if len(_ROWS) > 20_000:
            _ROWS.clear()
        found = _ROWS[cells] = scratch.tokens
    return found


_LINES: Final[dict[str, tuple[int, list[Token]]]] = {}  # a line → where it was first scanned, its tokens there


def line_tokens(line: str, offset: int = 0, lineno: int = 0) -> list[Token]:
    """The tokens of one line starting at `offset` of its document, its `lineno`-th line.

    Lines recur: labels in every report of a template, a lone "0" or "1" in every report that
    prints one cell per line; each is scanned once per process, where it is first met (those
    tokens are the document's own), and placed anew wherever it is met again.
    """
    found = _LINES.get(line)
    if found is not None:
        at, scanned = found
        return [t.placed(offset - at, 0, lineno, t.field) for t in scanned]
    scratch = Document(line, line)
    if not _PAGE_NUMBER.match(line):
        _tokenize_line(scratch, line, offset, lineno)
    if len(_LINES) > 20_000:
        _LINES.clear()
    _LINES[line] = (offset, scratch.tokens)
    return scratch.tokens  # (the caller copies it into its document)


# A markdown table: "| a | b |" rows, "| --- | :-: |" rules, and the generic headings converters give
# a table whose heading row they could not read ("数据1", "列2", "Column3").
_MD_ROW = re.compile(r"^\s*\|(.*)\|\s*$")
_MD_RULE = re.compile(r"^\s*:?-+:?\s*$")
_GENERIC_HEADING = re.compile(r"^\s*(?:数据|列|字段|Column|Col|col|column)\s*\d{1,2}\s*$")


def _markdown_row(doc: Document, line: str, base: int, lineno: int) -> bool:
    """A markdown table row as cells: each field between pipes one cell, an empty one a blank."""
    m = _MD_ROW.match(line)
    if m is None:
        return False
    fields = m.group(1).split("|")
    if all(_MD_RULE.match(f) for f in fields) and any("--" in f or ":" in f for f in fields):
        return True  # the rule under the heading row (a row of "-" cells is blanks)
    first = len(doc.tokens)
    col = m.start(1)
    for fi, fld in enumerate(fields):
        if not fld.strip():
            doc.tokens.append(Token("empty", "", base + col, base + col, lineno, col, fi))
        elif _GENERIC_HEADING.match(fld):
            i = fld.index(fld.strip())
            doc.tokens.append(Token("text", fld.strip(), base + col + i, base + col + i + len(fld.strip()),
                                    lineno, col + i, fi))
        else:
            _field_tokens(doc, fld, base + col, col, lineno, fi)
        col += len(fld) + 1
    for t in doc.tokens[first:]:
        t.markdown = len(fields)
    return True


def _tokenize_line(doc: Document, line: str, base: int, lineno: int) -> None:
    if "|" in line and _markdown_row(doc, line, base, lineno):
        return
    fields = line.split("\t") if "\t" in line else [line]
    cells, col = [], 0
    for fi, fld in enumerate(fields):
        cells.append((fi if len(fields) > 1 else -1, col, fld))
        col += len(fld) + 1
    _tokenize_fields(doc, cells, lineno, grid=False, base=base)


def _tokenize_fields(doc: Document, cells: list[tuple[int, int, str]], lineno: int, grid: bool,
                     base: int = 0) -> None:
    """Tokens of a line's fields, (field index or -1, offset in the line, text): tab-separated text,
    or a table row's cells (`grid`: an empty cell is a blank the reader saw)."""
    first = len(doc.tokens)
    for fidx, col, fld in cells:
        if not fld.strip():
            if fidx >= 0:
                doc.tokens.append(Token("empty", "", base + col, base + col, lineno, col, fidx))
        else:
            _field_tokens(doc, fld, base + col, col, lineno, fidx)
    for k in range(first, len(doc.tokens)):  # "3 O 3", "l 0 1": letters OCR read for digits, among numbers
        t = doc.tokens[k]
        if t.kind == "text" and t.text in _LOOKALIKE and any(
                first <= j < len(doc.tokens) and doc.tokens[j].kind == "value" for j in (k - 1, k + 1)):
            doc.tokens[k] = _misread(t)
    if grid:
        for k in range(first, len(doc.tokens)):
            t = doc.tokens[k]
            if t.text == UNREAD and t.kind == "text":  # OCR's unsure number: a value cell, unread
                doc.tokens[k] = Token("value", UNREAD, t.start, t.end, t.line, t.col, t.field)
            doc.tokens[k].grid = True
    else:
        _unread_among_values(doc, first)


def _unread_among_values(doc: Document, first: int) -> None:
    """OCR's "?" (a number it could not read) on a line of a table without rules: a value token,
    unread, where it stands alone beside a number or right after a label with numbers after it;
    one OCR's words glued to the label before it ("申请数量?") is cut off it. Elsewhere a "?" is text."""
    k = first
    while k < len(doc.tokens):
        t = doc.tokens[k]
        after = doc.tokens[k + 1] if k + 1 < len(doc.tokens) else None
        valued = after is not None and (after.kind == "value" or after.text == UNREAD)
        if t.kind == "text" and t.text == UNREAD and (valued or (k > first and doc.tokens[k - 1].kind == "value")):
            doc.tokens[k] = Token("value", UNREAD, t.start, t.end, t.line, t.col, t.field)
        elif t.kind == "text" and len(t.text) > 1 and t.text.endswith(UNREAD) and valued:
            cut = t.end - 1
            doc.tokens[k:k + 1] = [Token("text", t.text[:-1], t.start, cut, t.line, t.col, t.field),
                                   Token("value", UNREAD, cut, t.end, t.line, t.col + len(t.text) - 1, t.field)]
            k += 1
        k += 1


def _misread(t: Token) -> Token:
    digit = _LOOKALIKE[t.text]
    return Token("value", t.text, t.start, t.end, t.line, t.col, t.field, Decimal(digit),
                 misread=f"「{t.text}」按 {digit} 读取（OCR 常把 {digit} 认成字母 {t.text}）")


_FIELDS: Final[dict[tuple[str, bool], list[Token]]] = {}


def _field_tokens(doc: Document, fld: str, base: int, col: int, lineno: int, fidx: int) -> None:
    """The tokens of one field, scanned once per process: a line of a table changes with its numbers
    from report to report, its fields do not (a row's label, "0", "12")."""
    key = (fld, fidx >= 0)
    found = _FIELDS.get(key)
    if found is None:
        scratch = Document(fld, fld)
        _scan_cell_runs(scratch, fld, 0, 0, 0, 0 if fidx >= 0 else -1)
        if len(_FIELDS) > 20_000:
            _FIELDS.clear()
        found = _FIELDS[key] = scratch.tokens
    for t in found:
        doc.tokens.append(t.placed(base, col, lineno, fidx))


def _scan_cell_runs(doc: Document, fld: str, base: int, col: int, lineno: int, fidx: int) -> None:
    pos = 0
    bare = _BARE_ORDINAL.match(fld) if fidx >= 0 else None
    if bare:  # the cell is a label: its number is text
        pos = bare.end()
        _emit_text(doc, fld[:pos], base, col, lineno, fidx)
    for chunk in _CELL_SPLIT.split(fld[pos:]):
        i = fld.index(chunk, pos) if chunk else pos
        if chunk.strip():
            _scan_chunk(doc, chunk, base + i, col + i, lineno, fidx)
        pos = i + len(chunk)


def _scan_chunk(doc: Document, chunk: str, base: int, col: int, lineno: int, fidx: int) -> None:
    stripped = chunk.strip()
    if stripped in _LOOKALIKE:  # a cell holding only "O" or "l": OCR's 0 or 1
        i = chunk.index(stripped)
        doc.tokens.append(_misread(Token("text", stripped, base + i, base + i + len(stripped), lineno, col + i, fidx)))
        return
    if stripped in _BLANKS:
        i = chunk.index(stripped)
        doc.tokens.append(Token("blank", stripped, base + i, base + i + len(stripped), lineno, col + i, fidx))
        return
    if stripped.isdigit() and stripped.isascii():  # most cells: a bare count, as _scan_text reads it
        i = chunk.index(stripped)
        doc.tokens.append(_value_token(stripped, "", stripped, "", "", base + i, col + i, lineno, fidx))
        return
    _scan_text(doc, chunk, base, col, lineno, fidx)


def _scan_text(doc: Document, chunk: str, base: int, col: int, lineno: int, fidx: int) -> None:
    """Words and the numbers among them: which digits are a value and which belong to the text."""
    last = 0
    for m in _NUMBER.finditer(chunk):
        s, e = m.start(), m.end()
        if s < last:
            continue
        glued = _glued_signed(chunk, s)
        if glued is not None:
            _emit_text(doc, chunk[last:s], base + last, col + last, lineno, fidx)
            for a, b in ((glued.start(1), glued.end(1)), (glued.start(2), glued.end(3))):
                sign = chunk[a] if chunk[a] in "+-" else ""
                doc.tokens.append(_value_token(chunk[a:b], sign, chunk[a + len(sign):b], "", "",
                                               base + a, col + a, lineno, fidx))
            last = glued.end()
            continue
        num = m.group("num")
        before = chunk[s - 1] if s > 0 else " "
        after = chunk[e:e + 3]
        # digits that belong to words: "A4", "第3", "2020年", "95%", "0517-8722..."
        if (before.isascii() and before.isalpha()) or before == "第" or _TEXT_AFTER.match(chunk, e):
            continue
        if m.group("sign") and s > 0 and (chunk[s - 1].isdigit()):
            continue
        if _DASH_AFTER.match(chunk, e) and (m.group("sign") == "-" or _DASH_BEFORE.search(chunk, 0, s)):
            continue  # a page number "-4-", "- 4 -" inside a line
        # an ordinal: "1.属于…", "1、申请人…", possibly glued to the previous cell's digits ("01.属于")
        if not m.group("unit") and not m.group("counter") and _ORDINAL_MARK.match(after):
            if len(num) == 1 or "." in num or "," in num:
                continue
            num_end = s + len(m.group("sign") or "") + len(num) - 1
            _emit_text(doc, chunk[last:s], base + last, col + last, lineno, fidx)
            doc.tokens.append(_value_token(chunk[s:num_end], m.group("sign") or "", num[:-1], "", "",
                                           base + s, col + s, lineno, fidx))
            last = num_end
            continue
        _emit_text(doc, chunk[last:s], base + last, col + last, lineno, fidx)
        sign = m.group("sign") or ""
        if not sign and last == 0 and _CHANGE_WORD.fullmatch(chunk, 0, s):
            sign = "-" if "减" in chunk[:s] else "+"  # 本年增/减 written out: "减少3", "增加2"
        doc.tokens.append(_value_token(chunk[s:e].strip(), sign, num,
                                       (m.group("unit") or "").strip(), (m.group("note") or "").strip(),
                                       base + s, col + s, lineno, fidx))
        last = e
    _emit_text(doc, chunk[last:], base + last, col + last, lineno, fidx)


def _glued_signed(chunk: str, s: int) -> re.Match[str] | None:
    """A run of digits with one sign inside, glued to the label before it: two values."""
    if s == 0 or not is_cjk(chunk[s - 1]) or chunk[s - 1] == "第" or _NOT_GLUED_AFTER.search(chunk, 0, s):
        return None
    return _GLUED_SIGNED.match(chunk, s)


def _emit_text(doc: Document, text: str, base: int, col: int, lineno: int, fidx: int) -> None:
    """One token per word: in a page crawled into one paragraph, a label is the last word before its numbers.

    Characters printed one space apart ("行 政 处 罚", as some PDFs space their letters) are one word.
    """
    words: list[tuple[str, int, int]] = []  # (word, start, end)
    spaced = False  # the last word is a run of single CJK characters one space apart
    for m in _WORD.finditer(text):
        word = m.group()
        single = len(word) == 1 and is_cjk(word)
        if spaced and single and m.start() == words[-1][2] + 1:
            words[-1] = (words[-1][0] + word, words[-1][1], m.end())
        else:
            words.append((word, m.start(), m.end()))
            spaced = single
    for word, start, end in words:
        doc.tokens.append(Token("text", word, base + start, base + end, lineno, col + start, fidx))


def _value_token(text: str, sign: str, num: str, unit: str, note: str, start: int, col: int,
                 lineno: int, fidx: int) -> Token:
    number = Decimal(num if num.isdigit() else _NUM_NOISE.sub("", num))  # most are bare digits: no regex
    if sign == "-":
        number = -number
    return Token("value", text, start, start + len(text), lineno, col, fidx, number, sign, unit, note)

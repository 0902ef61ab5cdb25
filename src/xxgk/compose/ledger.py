"""An agency's request ledger (台账: one row per application) → section 三 of its annual report.

The ledger is a CSV or XLSX sheet with a row naming its columns (title rows above it and sheets
without it, such as 填表说明, are skipped with a note); the columns are found by their headings
(`COLUMNS`), the rest are ignored. Each application is counted once, in the column of its applicant:

- 一、本年新收: received in the year;
- 二、上年结转: received before the year and not answered before it;
- 三、本年度办理结果: answered in the year, in the row its result names;
- 四、结转下年度继续办理: not answered by the year's end (办理中, 未办结, an empty result …).

So the table adds up by construction. The words staff write for results and applicants are data
(vocabulary.toml, extendable by a user file), matched with the format's own labels and phrases:
exactly, then by the longest word a cell holds, then by fuzzy similarity where it is unambiguous.
A row that cannot be counted fails the ledger, every such row named (a report built on a guess
would be wrong in public).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from importlib import resources

from rapidfuzz import fuzz, process

from ..errors import ReportError
from ..formats import FORMATS, Row
from ..formats.national import APPLICANTS
from ..ingest.decode import decode
from ..result import ParseResult
from ..textnorm import compact, label_core

FORMAT = FORMATS["2021"]
TABLE = FORMAT.table("requests")
# Which heading is which column: the first phrase a heading holds wins.
COLUMNS = {
    "applicant": ("申请人类型", "申请人类别", "申请人性质", "申请主体类型", "申请主体", "申请人身份", "申请人"),
    "received": ("收到申请日期", "收到日期", "申请日期", "受理日期", "登记日期", "收到时间", "申请时间", "收文日期"),
    "answered": ("办结日期", "答复日期", "办结时间", "答复时间", "告知日期", "回复日期"),
    "result": ("办理结果", "答复结果", "处理结果", "答复类型", "处理方式", "答复情况", "办理情况"),
    "number": ("申请编号", "受理编号", "登记编号", "申请号", "受理号", "流水号", "编号"),
}
REQUIRED = ("applicant", "received", "result")
HEADER_SEARCH = 15  # rows looked through for the header (title rows above it)
RESULT_ROWS: tuple[Row, ...] = tuple(
    r for r in TABLE.rows_for("split") if r.key not in ("requests.new", "requests.carried_over", "requests.total",
                                                         "requests.carried_forward"))
ROW_BY_KEY = {r.key: r for r in RESULT_ROWS}
APPLICANT_LABELS = {c.key: c.label for c in APPLICANTS if c.key != "total"}
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_DATE8 = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_NEGATION = "不未非无否"
FUZZY_ACCEPT = 88  # a fuzzy match counts only this close, and only when no other row comes near


@dataclass(frozen=True)
class Vocabulary:
    results: dict[str, str]  # compact word → result row key ("requests.…")
    pending: tuple[str, ...]  # compact words for "not answered yet"
    applicants: tuple[tuple[str, str], ...]  # (compact word, column key), first match wins


@dataclass(frozen=True)
class Application:
    line: int  # the ledger's row number, as a spreadsheet shows it
    applicant: str  # a column key of the format: natural, commercial, …
    received: dt.date
    answered: dt.date | None
    result: Row | None  # None while not answered


@dataclass
class Ledger:
    applications: list[Application]
    notes: list[str] = field(default_factory=list)  # what was skipped or looks doubtful, said to the user
    sheet: str = ""


# ---------------------------------------------------------------- vocabulary
def vocabulary(extra: bytes | None = None, name: str = "vocabulary") -> Vocabulary:
    """The package's words for results and applicants, with a user file's (same TOML shape) added first."""
    own = tomllib.loads(resources.files("xxgk.compose").joinpath("vocabulary.toml").read_text(encoding="utf-8"))
    user: dict = {}
    if extra is not None:
        try:
            user = tomllib.loads(decode(extra))
        except tomllib.TOMLDecodeError as e:
            raise ReportError(f"{name}: not a TOML vocabulary ({e})") from e
    results: dict[str, str] = {}
    for source in (own, user):
        for word, key in source.get("results", {}).items():
            full = f"requests.{key.removeprefix('requests.')}"
            if full not in ROW_BY_KEY:
                raise ReportError(f"{name}: 「{word}」 = 「{key}」 is not a row of table 三 "
                                  f"(one of: {', '.join(k.removeprefix('requests.') for k in ROW_BY_KEY)})")
            results[compact(word)] = full
    pending = [compact(w) for s in (user, own) for w in s.get("pending", {}).get("words", [])]
    rules = []
    for word, key in [*user.get("applicants", {}).get("rules", []), *own["applicants"]["rules"]]:
        if key not in APPLICANT_LABELS:
            raise ReportError(f"{name}: applicant 「{word}」 → 「{key}」 is not one of {', '.join(APPLICANT_LABELS)}")
        rules.append((compact(word), key))
    return Vocabulary(results, tuple(pending), tuple(rules))


def _result_words(vocab: Vocabulary) -> dict[str, str]:
    """Every word that names a result row: the vocabulary's, each row's label and the format's phrases."""
    words = dict(vocab.results)
    for row in RESULT_ROWS:
        words.setdefault(label_core(row.label), row.key)
        for p in row.match:
            if not p.startswith("^"):
                words.setdefault(compact(p), row.key)
    return words


class Unmatched(ValueError):
    def __init__(self, what: str, word: str, suggestion: str) -> None:
        super().__init__(f"{what}「{word}」")
        self.what, self.word, self.suggestion = what, word, suggestion


def match_result(text: str, vocab: Vocabulary) -> Row | None:
    """The table-三 row a ledger's result words name, None for a pending one; Unmatched if none or several."""
    c, core = compact(text), label_core(text)
    if not c or any(c == w or (len(w) >= 3 and w in c) for w in vocab.pending):
        return None
    words = _result_words(vocab)
    if c in words or core in words:
        return ROW_BY_KEY[words.get(c) or words[core]]
    held = [w for w in words if len(w) >= 4 and _holds(c, w)]
    held = [w for w in held if not any(w != o and w in o for o in held)]  # the longest words only
    if held and len({words[w] for w in held}) == 1:
        return ROW_BY_KEY[words[held[0]]]
    near = process.extract(c, list(words), scorer=fuzz.ratio, limit=8)
    if near and near[0][1] >= FUZZY_ACCEPT and not (set(c) - set(near[0][0])) & set(_NEGATION):
        rows = {words[w] for w, score, _ in near if score >= near[0][1] - 8}
        if len(rows) == 1:
            return ROW_BY_KEY[rows.pop()]
    groups = {label_core(r.group): r.group for r in RESULT_ROWS if r.group.startswith("（")}
    if core in groups:  # 不予公开 alone: which of its reasons?
        raise Unmatched("办理结果", text.strip(), f"{groups[core]}下的某一项（写明理由，如「" + "」「".join(
            label_core(r.label) for r in RESULT_ROWS if r.group == groups[core])[:40] + "…」）")
    best = process.extractOne(c, list(words), scorer=fuzz.WRatio)
    raise Unmatched("办理结果", text.strip(), ROW_BY_KEY[words[best[0]]].label if best else "")


def _holds(cell: str, word: str) -> bool:
    """`word` is in `cell`, and not negated there (不同意公开 does not hold 同意公开)."""
    at = cell.find(word)
    while at >= 0:
        if at == 0 or cell[at - 1] not in _NEGATION:
            return True
        at = cell.find(word, at + 1)
    return False


def match_applicant(text: str, vocab: Vocabulary) -> str:
    """The column key of an applicant: its statutory label, else the first legal-form rule the cell holds."""
    c = compact(text)
    for key, label in APPLICANT_LABELS.items():
        if c == compact(label):
            return key
    for word, key in vocab.applicants:
        if word and word in c:
            return key
    labels = {compact(label): key for key, label in APPLICANT_LABELS.items()}
    best = process.extractOne(c, list(labels), scorer=fuzz.ratio) if c else None
    if best and best[1] >= FUZZY_ACCEPT:
        return labels[best[0]]
    guess = process.extractOne(c, list(labels), scorer=fuzz.WRatio) if c else None
    raise Unmatched("申请人类型", text.strip(), APPLICANT_LABELS[labels[guess[0]]] if guess and guess[1] else "")


# ---------------------------------------------------------------- reading the ledger
def read_ledger(data: bytes, name: str = "", sheet: str | None = None,
                vocab: Vocabulary | None = None) -> Ledger:
    """The applications of a CSV or XLSX ledger, and notes on what was skipped or looks doubtful."""
    vocab = vocab or vocabulary()
    name = name or "台账"
    sheets = _xlsx_sheets(data, name) if data[:4] == b"PK\x03\x04" else [("", _csv_rows(data))]
    notes: list[str] = []
    if sheet is not None:
        chosen = [s for s in sheets if s[0] == sheet]
        if not chosen:
            raise ReportError(f"{name}: 没有名为「{sheet}」的工作表（有：{'、'.join(s for s, _ in sheets)}）")
        sheets = chosen
    found = []
    for title, rows in sheets:
        at = _header_row(rows)
        if at is None:
            if title and sheet is None:
                notes.append(f"跳过工作表「{title}」：其中没有台账的列名")
                continue
            raise ReportError(_missing_columns(name, title, rows))
        found.append((title, rows, at))
    if not found:
        raise ReportError(f"{name}: 没有哪个工作表有台账的列名（需要 " + "、".join(COLUMNS[k][0] for k in REQUIRED)
                          + "）；工作表：" + "、".join(s for s, _ in sheets))
    if len(found) > 1:
        raise ReportError(f"{name}: 几个工作表都像台账：" + "、".join(f"「{t}」" for t, _, _ in found)
                          + "；请用 --sheet 指定一个")
    title, rows, at = found[0]
    where = _columns(rows[at])
    place = f"工作表「{title}」" if title else ""
    if at > 0:
        notes.append(f"{place}跳过列名上方的第1–{at}行（标题）" if at > 1 else f"{place}跳过列名上方的第1行（标题）")
    apps, problems, unmatched = [], [], defaultdict(list)
    body = [(n, row) for n, row in enumerate(rows[at + 1:], start=at + 2)
            if any(str(v).strip() for v in row if v is not None)]
    if not body:
        raise ReportError(f"{name}: {place}只有列名（第{at + 1}行），没有一件申请")
    for n, row in body:
        try:
            apps.append(_application(n, row, where, vocab))
        except Unmatched as e:
            unmatched[(e.what, e.word, e.suggestion)].append(n)
        except ValueError as e:
            problems.append(f"第{n}行：{e}")
    problems += _duplicates(body, where, rows[at])
    if problems or unmatched:
        lines = [f"{what}「{word}」（第{'、'.join(map(str, ns))}行，共 {len(ns)} 行）：对应不到表三的一栏"
                 + (f"，最接近的是「{hint}」" if hint else "")
                 for (what, word, hint), ns in sorted(unmatched.items(), key=lambda kv: kv[1][0])]
        count = sum(len(ns) for ns in unmatched.values()) + len(problems)
        raise ReportError(f"{name}: {place}有 {count} 处无法计数（可在词表中补充说法，见 --vocabulary）：\n  "
                          + "\n  ".join(lines + problems))
    notes += _identical(body, rows[at], place)
    return Ledger(apps, notes, title)


def _header_row(rows: list[list[object]]) -> int | None:
    for i, row in enumerate(rows[:HEADER_SEARCH]):
        try:
            _columns(row)
        except ReportError:
            continue
        return i
    return None


def _missing_columns(name: str, title: str, rows: list[list[object]]) -> str:
    if not rows:
        return f"{name}: " + (f"工作表「{title}」" if title else "") + "是空的"
    best = max(range(min(len(rows), HEADER_SEARCH)), key=lambda i: len(_found_columns(rows[i])))
    missing = [COLUMNS[k][0] for k in REQUIRED if k not in _found_columns(rows[best])]
    return (f"{name}: " + (f"工作表「{title}」" if title else "") + f"找不到列名行：第{best + 1}行最像，但缺少列："
            + "、".join(missing))


def _found_columns(header: list[object]) -> dict[str, int]:
    heads = [compact(str(h or "")) for h in header]
    where = {}
    for key, phrases in COLUMNS.items():
        found = next((i for p in phrases for i, h in enumerate(heads) if compact(p) in h and i not in where.values()),
                     None)
        if found is not None:
            where[key] = found
    return where


def _columns(header: list[object]) -> dict[str, int]:
    where = _found_columns(header)
    missing = [COLUMNS[k][0] for k in REQUIRED if k not in where]
    if missing:
        raise ReportError("台账缺少列：" + "、".join(missing))
    return where


def _duplicates(body: list[tuple[int, list[object]]], where: dict[str, int], header: list[object]) -> list[str]:
    """Application numbers on more than one row: one application counted twice, or a typo — either way not counted."""
    if "number" not in where:
        return []
    seen = defaultdict(list)
    for n, row in body:
        value = str(_at(row, where["number"]) or "").strip()
        if value:
            seen[value].append(n)
    head = str(header[where["number"]]).strip()
    return [f"{head}「{v}」重复：第{'、'.join(map(str, ns))}行" for v, ns in seen.items() if len(ns) > 1]


def _identical(body: list[tuple[int, list[object]]], header: list[object], place: str) -> list[str]:
    """Rows alike in every column but the serial number: maybe one application entered twice (counted as two)."""
    serial = {i for i, h in enumerate(header) if "序号" in str(h or "")}
    seen = defaultdict(list)
    for n, row in body:
        seen[tuple(str(v or "").strip() for i, v in enumerate(row) if i not in serial)].append(n)
    return [f"{place}第{'、'.join(map(str, ns))}行除序号外完全相同：各计为一件申请，若是重复录入请删去"
            for ns in seen.values() if len(ns) > 1]


def _at(row: list[object], i: int | None) -> object:
    return row[i] if i is not None and i < len(row) else None


def _csv_rows(data: bytes) -> list[list[object]]:
    return list(csv.reader(io.StringIO(decode(data))))  # BOM, UTF-8 or GB18030, as any report


def _xlsx_sheets(data: bytes, name: str) -> list[tuple[str, list[list[object]]]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds for a damaged file
        raise ReportError(f"{name}: unreadable XLSX ({type(e).__name__}: {e})") from e
    return [(ws.title, [list(r) for r in ws.iter_rows(values_only=True)]) for ws in book.worksheets]


def _application(line: int, row: list[object], where: dict[str, int], vocab: Vocabulary) -> Application:
    applicant = match_applicant(str(_at(row, where["applicant"]) or ""), vocab)
    received = _date(_at(row, where["received"]))
    if received is None:
        raise ValueError("没有收到日期")
    answered = _date(_at(row, where.get("answered")))
    text = str(_at(row, where["result"]) or "").strip()
    result = match_result(text, vocab)
    if answered is None and result is not None and "answered" not in where:
        answered = received  # a ledger without answer dates: answered in the year it was received
    if answered is not None and result is None:
        raise ValueError(f"有答复日期但办理结果为「{text}」" if text else "已办结但没有办理结果")
    if answered is None and result is not None:
        raise ValueError(f"有办理结果「{text}」但没有办结日期")
    if answered is not None and answered < received:
        raise ValueError("办结日期早于收到日期")
    return Application(line, applicant, received, answered, result)


def _date(value: object) -> dt.date | None:
    if value is None or str(value).strip() == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and 20000 < value < 80000:  # an Excel serial day number left unformatted
        from openpyxl.utils.datetime import from_excel

        return from_excel(value).date()
    m = _DATE.search(str(value)) or _DATE8.match(str(value).strip())
    if not m:
        raise ValueError(f"日期「{value}」无法识别")
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError as e:
        raise ValueError(f"日期「{value}」不存在") from e


# ---------------------------------------------------------------- counting
def in_year(app: Application, year: int) -> bool:
    """The application is handled in `year`: received by its end and not answered before it."""
    return app.received <= dt.date(year, 12, 31) and (app.answered is None or app.answered >= dt.date(year, 1, 1))


def section_three(apps: list[Application], year: int) -> dict[str, int]:
    """The 2021 format's section 三 cells (both the split 其他处理 rows and their sum)."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    cells = {k: 0 for r in TABLE.rows for k in r.cells}
    for app in apps:
        if not in_year(app, year):
            continue
        counted = ["requests.new" if app.received >= start else "requests.carried_over"]
        if app.answered is not None and app.answered <= end and app.result is not None:
            counted += [app.result.key, "requests.total"]
            if app.result.key.startswith("requests.other."):  # the one-row （六） is the sum of the split rows
                counted.append("requests.other")
        else:
            counted.append("requests.carried_forward")
        for row in counted:
            cells[f"{row}.{app.applicant}"] += 1
            cells[f"{row}.total"] += 1
    return cells


def check_year(ledger: Ledger, year: int, name: str = "台账") -> None:
    """A ledger with no application handled in `year` would give an all-zero report: refused."""
    if any(in_year(a, year) for a in ledger.applications):
        return
    days = sorted(a.received for a in ledger.applications)
    raise ReportError(f"{name}: 没有 {year} 年办理的申请（{len(days)} 件申请的收到日期在 "
                      f"{days[0].isoformat()} 至 {days[-1].isoformat()}，且都不在 {year} 年办理）")


def compose(apps: list[Application], year: int, agency: str) -> ParseResult:
    """A report of `year` whose section 三 is the ledger's, the rest blank (`inputs.compose_report`
    fills it from checked inputs: last year's figures are never copied)."""
    result = ParseResult(source=f"ledger:{agency}:{year}", agency=agency, year=year, template="2021",
                         cells=dict.fromkeys(FORMAT.cell_keys))
    result.cells.update(section_three(apps, year))
    result.variants["requests"] = "split"
    return result

"""An agency's request ledger (台账: one row per application) → section 三 of its annual report.

The ledger is a CSV or XLSX sheet whose first row names its columns; the columns are found by
their headings (`COLUMNS`), the rest are ignored. Each application is counted once, in the
column of its applicant:

- 一、本年新收: received in the year;
- 二、上年结转: received before the year and not answered before it;
- 三、本年度办理结果: answered in the year, in the row its result names (a row's label or any
  phrase the format knows for it: 予以公开, 属于国家秘密, 重复申请 …);
- 四、结转下年度继续办理: not answered by the year's end.

So the table adds up by construction. Rows and labels come from the 2021 format's data.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass

from ..errors import ReportError
from ..formats import FORMATS, Row
from ..ingest.decode import decode
from ..result import ParseResult
from ..textnorm import compact, label_core

FORMAT = FORMATS["2021"]
TABLE = FORMAT.table("requests")
# Which heading is which column: the first phrase a heading holds wins.
COLUMNS = {
    "applicant": ("申请人类型", "申请人类别", "申请人性质", "申请主体", "申请人"),
    "received": ("收到日期", "收到申请日期", "申请日期", "受理日期", "登记日期", "收到时间", "申请时间"),
    "answered": ("办结日期", "答复日期", "办结时间", "答复时间", "告知日期"),
    "result": ("办理结果", "答复结果", "处理结果", "答复类型", "处理方式"),
}
# How ledgers name applicants: word → column key (a word contained in the cell).
APPLICANT_WORDS = (
    ("自然人", "natural"), ("公民", "natural"), ("个人", "natural"),
    ("商业企业", "commercial"), ("企业", "commercial"), ("公司", "commercial"),
    ("科研机构", "research"), ("高校", "research"), ("研究", "research"),
    ("社会公益组织", "social"), ("公益", "social"),
    ("法律服务机构", "legal"), ("律师", "legal"), ("律所", "legal"),
    ("其他", "other_org"), ("组织", "other_org"), ("法人", "other_org"),
)
RESULT_ROWS: tuple[Row, ...] = tuple(
    r for r in TABLE.rows_for("split") if r.key not in ("requests.new", "requests.carried_over", "requests.total",
                                                         "requests.carried_forward"))
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")


@dataclass(frozen=True)
class Application:
    line: int  # the ledger's row number, as a spreadsheet shows it
    applicant: str  # a column key of the format: natural, commercial, …
    received: dt.date
    answered: dt.date | None
    result: Row | None  # None while not answered


def read_ledger(data: bytes, name: str = "") -> list[Application]:
    """The applications of a CSV or XLSX ledger; a row that cannot be read fails the whole ledger,
    naming every such row (a report built on a guess would be wrong in public)."""
    rows = _xlsx_rows(data) if data[:4] == b"PK\x03\x04" else _csv_rows(data)
    if not rows:
        raise ReportError(f"{name or 'ledger'}: empty")
    where = _columns(rows[0])
    apps, problems = [], []
    for n, row in enumerate(rows[1:], start=2):
        if not any(str(v).strip() for v in row if v is not None):
            continue
        try:
            apps.append(_application(n, row, where))
        except ValueError as e:
            problems.append(f"第{n}行：{e}")
    if problems:
        raise ReportError("台账有无法读取的行（共 " + str(len(problems)) + " 行）：" + "；".join(problems[:10]))
    return apps


def section_three(apps: list[Application], year: int) -> dict[str, int]:
    """The 2021 format's section 三 cells (both the split 其他处理 rows and their sum)."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    cells = {k: 0 for r in TABLE.rows for k in r.cells}
    for app in apps:
        if app.received > end or (app.answered is not None and app.answered < start):
            continue  # not this year's: received after it, or answered before it
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


def compose(apps: list[Application], year: int, agency: str, base: ParseResult | None = None) -> ParseResult:
    """A report of `year` whose section 三 is the ledger's; the other sections from `base` (a draft
    or last year's parse), blank without one."""
    result = ParseResult(source=f"ledger:{agency}:{year}", agency=agency, year=year, template="2021",
                         cells=dict.fromkeys(FORMAT.cell_keys))
    if base is not None and base.template == "2021":
        result.cells.update({k: v for k, v in base.cells.items() if not k.startswith("requests.")})
        result.sections = dict(base.sections)
    result.cells.update(section_three(apps, year))
    result.variants["requests"] = "split"
    return result


# ---------------------------------------------------------------- reading the sheet
def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(decode(data))))  # BOM, UTF-8 or GB18030, as any report


def _xlsx_rows(data: bytes) -> list[list[object]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds for a damaged file
        raise ReportError(f"ledger: unreadable XLSX ({type(e).__name__}: {e})") from e
    return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]


def _columns(header: list[object]) -> dict[str, int]:
    heads = [compact(str(h or "")) for h in header]
    where = {}
    for key, phrases in COLUMNS.items():
        found = next((i for p in phrases for i, h in enumerate(heads) if compact(p) in h), None)
        if found is not None:
            where[key] = found
    missing = [COLUMNS[k][0] for k in ("applicant", "received", "result") if k not in where]
    if missing:
        raise ReportError("台账缺少列：" + "、".join(missing) + "（第一行应是列名）")
    return where


def _application(line: int, row: list[object], where: dict[str, int]) -> Application:
    def cell(key: str) -> object:
        i = where.get(key)
        return row[i] if i is not None and i < len(row) else None

    applicant = _applicant(str(cell("applicant") or ""))
    received = _date(cell("received"))
    if received is None:
        raise ValueError("没有收到日期")
    answered = _date(cell("answered")) if "answered" in where else None
    text = str(cell("result") or "").strip()
    result = _result(text) if text else None
    if answered is None and result is not None and "answered" not in where:
        answered = received  # a ledger without answer dates: answered in the year it was received
    if answered is not None and result is None:
        raise ValueError("已办结但没有办理结果")
    if answered is None and result is not None:
        raise ValueError("有办理结果但没有办结日期")
    if answered is not None and answered < received:
        raise ValueError("办结日期早于收到日期")
    return Application(line, applicant, received, answered, result)


def _applicant(text: str) -> str:
    key = next((k for word, k in APPLICANT_WORDS if word in text), None)
    if key is None:
        raise ValueError(f"申请人类型「{text}」不是自然人、商业企业、科研机构、社会公益组织、法律服务机构或其他")
    return key


def _date(value: object) -> dt.date | None:
    if value is None or str(value).strip() == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    m = _DATE.search(str(value))
    if not m:
        raise ValueError(f"日期「{value}」无法识别")
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError as e:
        raise ValueError(f"日期「{value}」不存在") from e


def _result(text: str) -> Row:
    """The result row a ledger's words name: its whole label, or the one row whose phrases it holds."""
    core = label_core(text)
    exact = [r for r in RESULT_ROWS if label_core(r.label) == core or any(
        not p.startswith("^") and compact(p) == core for p in r.match)]
    if len(exact) == 1:
        return exact[0]
    holding = [r for r in RESULT_ROWS if any(not p.startswith("^") and compact(p) in core for p in r.match)]
    if len(holding) == 1:
        return holding[0]
    if core in ("其他", "其他处理"):
        return next(r for r in RESULT_ROWS if r.key == "requests.other.other")
    raise ValueError(f"办理结果「{text}」对应不到表三的某一行（应写明如「予以公开」「属于国家秘密」「重复申请」）")

"""Everything a composed report is made of besides the ledger, each checked, and what is still missing.

- the figures of 二 (主动公开) and 四 (复议/诉讼): a small sheet the office fills (`figures_template`);
- the prose of 一, 五, 六: a draft (any report file, or plain text with the six headings);
- last year's report (`base`): only what carries over — its 结转下年度 checked against this year's
  上年结转, its 现行有效件数 rolled forward, its prose offered as a draft to rewrite (digits hidden,
  signature dropped). Never its figures or dates. A base of another agency or year is refused.

What no input gave stays a placeholder 【待填写：…】, listed by `missing`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ReportError
from ..formats import FORMATS, SECTIONS
from ..formats.model import cell_specs
from ..formats.national import APPLICANTS
from ..ingest.decode import decode
from ..result import Finding, ParseResult
from ..textnorm import compact
from .ledger import Ledger, check_year, compose

FORMAT = FORMATS["2021"]
FIGURE_TABLES = ("active", "review")
PROSE = ("一", "五", "六")
TITLES = {n: t for n, t, _ in SECTIONS}
FIGURE_HEAD = ("代码", "部分", "项目", "数值")
PLACEHOLDER = re.compile(r"【待(?:填写|改写|填)[^】]*】")
# What the 2021 format (国办公开办函〔2021〕30号) asks each prose section to say.
PROSE_NEEDS = {
    "一": "总体情况：主动公开、依申请公开、政府信息管理、平台建设、监督保障五个方面",
    "五": "存在的主要问题及改进情况：上年度问题的整改情况，本年度存在的问题和改进措施",
    "六": "其他需要报告的事项：收取信息处理费的情况（发出收费通知的件数和总金额、实际收取的总金额），"
          "以及其他需要报告的事项",
}
REWRITE = "【待改写：以下为上年报告原文，数字已隐去，请按本年情况改写】"


@dataclass
class Composed:
    result: ParseResult
    notes: list[str] = field(default_factory=list)  # what was carried, skipped or did not agree
    missing: list[str] = field(default_factory=list)  # what is still to fill before publishing
    applications: int = 0  # in the ledger, of any year

    @property
    def empty_cells(self) -> set[str]:
        """Cells of 二 and 四 still to fill (an audit finding on them is the placeholder's own)."""
        return {k for k in figure_keys() if self.result.cells.get(k) is None}

    def placeholders_own(self, finding: Finding) -> bool:
        """A finding that only says a placeholder is there (an empty cell, no fee statement in an unwritten 六)."""
        if finding.cells and set(finding.cells) <= self.empty_cells:
            return True
        six = self.result.sections.get("六", "")
        return finding.rule == "legal.fees" and (not six.strip() or bool(PLACEHOLDER.search(six)))


# ---------------------------------------------------------------- 二 and 四 figures
def figure_keys() -> list[str]:
    return [k for t in FIGURE_TABLES for k in FORMAT.table(t).cells()
            if not (t == "active" and k.startswith("extra."))]


def figures_template() -> bytes:
    """The sheet an office fills with its 二 and 四 figures: one line per cell, 数值 left empty."""
    specs = cell_specs()["2021"]
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(FIGURE_HEAD)
    for key in figure_keys():
        out.writerow([key, specs[key].section, specs[key].label, ""])
    return buf.getvalue().encode("utf-8-sig")  # Excel opens a UTF-8 CSV right only with its BOM


def read_figures(data: bytes, name: str = "figures") -> dict[str, int | float]:
    """The filled figures sheet (CSV or XLSX): {cell key: value} for every line with a 数值."""
    rows = _sheet_rows(data, name)
    head = next((i for i, r in enumerate(rows[:10]) if "数值" in [str(v or "").strip() for v in r]), None)
    if head is None:
        raise ReportError(f"{name}: 没有「数值」列（用 xxgk compose --template 生成的表填写）")
    cols = [str(v or "").strip() for v in rows[head]]
    at = {h: cols.index(h) for h in FIGURE_HEAD if h in cols}
    specs = cell_specs()["2021"]
    by_label = {compact(specs[k].label): k for k in figure_keys()}
    values: dict[str, int | float] = {}
    problems = []
    for n, row in enumerate(rows[head + 1:], start=head + 2):
        cell = lambda h, row=row: str(  # noqa: E731
            row[at[h]] if h in at and at[h] < len(row) and row[at[h]] is not None else "").strip()
        key = cell("代码") or by_label.get(compact(cell("项目")), "")
        raw = cell("数值")
        if not key and not raw:
            continue
        if key not in specs or key not in figure_keys():
            problems.append(f"第{n}行：「{cell('代码') or cell('项目')}」不是二或四的单元格")
            continue
        if raw == "":
            continue
        try:
            value = float(raw.replace(",", "").replace("，", ""))
        except ValueError:
            problems.append(f"第{n}行（{specs[key].label}）：「{raw}」不是数")
            continue
        if value < 0 or (specs[key].type == "count" and not value.is_integer()):
            problems.append(f"第{n}行（{specs[key].label}）：「{raw}」应是" +
                            ("不小于 0 的整数" if specs[key].type == "count" else "不小于 0 的数"))
            continue
        if key in values:
            problems.append(f"第{n}行（{specs[key].label}）：重复填写")
        values[key] = int(value) if specs[key].type == "count" else value
    if problems:
        raise ReportError(f"{name}: 有 {len(problems)} 处无法使用：\n  " + "\n  ".join(problems))
    return values


def _sheet_rows(data: bytes, name: str) -> list[list[object]]:
    if data[:4] == b"PK\x03\x04":
        import openpyxl

        try:
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as e:  # openpyxl raises many kinds for a damaged file
            raise ReportError(f"{name}: unreadable XLSX ({type(e).__name__}: {e})") from e
        return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    return list(csv.reader(io.StringIO(decode(data))))


# ---------------------------------------------------------------- prose
def draft_sections(text: str, name: str = "draft") -> dict[str, str]:
    """The prose of 一, 五, 六 in a draft's text, cut at its headings (a line 「一、总体情况」 …): a
    draft's prose names 主动公开政府信息 freely, so only a heading line starts a section."""
    heads = {n: re.compile(rf"^{n}\s*[、.．]\s*(?:{'|'.join(pats)})") for n, _, pats in SECTIONS}
    found: dict[str, list[str]] = {}
    current = None
    for line in text.split("\n"):
        squeezed = re.sub(r"\s+", "", line)
        hit = next((n for n, pat in heads.items() if pat.match(squeezed)), None)
        if hit:
            current = hit
            found[current] = []
        elif current:
            found[current].append(line)
    if not found:
        raise ReportError(f"{name}: 找不到「一、总体情况」「五、存在的主要问题及改进情况」等标题（每个标题单独一行）")
    return {n: body for n in PROSE if (body := _body("\n".join(found.get(n, [])))).strip()}


def _body(text: str) -> str:
    lines = [x.strip() for x in text.replace("\r", "").split("\n")]
    lines = [x for x in lines if x]
    if lines and re.match(r"^[一二三四五六][、.．]", lines[0]):
        lines = lines[1:]
    # the 落款 (agency, date) belongs to the report being written, not to a section
    if lines and _SIGNED_DATE.match(lines[-1]):
        lines.pop()
    if lines and _SIGNED_BY.match(lines[-1]):
        lines.pop()
    return "\n".join(lines)


_SIGNED_DATE = re.compile(r"^\d{4}\s*年\s*\d{1,2}\s*月(\s*\d{1,2}\s*日)?$")
# an agency's name alone on a line: no punctuation, ending as agencies are named
_SIGNED_BY = re.compile(r"^[\u4e00-\u9fff（）()]{2,40}(局|委|办|办公室|政府|院|厅|中心|委员会|部|署|处|所|站|馆|会)$")


def rewrite_draft(text: str) -> str:
    """Last year's prose as a draft: marked for rewriting, its figures and dates hidden (they are last year's)."""
    return REWRITE + "\n" + re.sub(r"\d+(?:\.\d+)?", "××", text)


# ---------------------------------------------------------------- last year's report
def check_base(base: ParseResult, agency: str, year: int, force: bool = False) -> list[str]:
    """Why `base` cannot be last year's report of `agency` ([] if it can); with `force`, said as notes."""
    why = []
    if base.agency is None:
        why.append("上年报告看不出是哪个机关的")
    elif compact(base.agency) != compact(agency):
        why.append(f"上年报告是「{base.agency}」的，不是「{agency}」的")
    if base.year != year - 1:
        why.append(f"上年报告是 {base.year or '不明'} 年度的，不是 {year - 1} 年度的")
    if base.template != "2021":
        why.append("上年报告不是 2021 年格式")
    if why and not force:
        raise ReportError("；".join(why) + "（确属上年报告可加 --force）")
    return [f"--force：{w}，仍按上年报告使用" for w in why]


def carry(result: ParseResult, base: ParseResult) -> list[str]:
    """What last year's report hands on, put into `result`; notes on what did not agree."""
    notes = []
    for col in APPLICANTS:
        was, now = base.cells.get(f"requests.carried_forward.{col.key}"), result.cells[
            f"requests.carried_over.{col.key}"]
        if was is not None and was != now:
            notes.append(f"上年结转（{col.label}）：台账为 {now}，上年报告「结转下年度继续办理」为 {was}，不一致")
    for row, label in (("regulations", "规章"), ("normative", "行政规范性文件")):
        prev = base.cells.get(f"active.{row}.in_force")
        issued, repealed = (result.cells.get(f"active.{row}.{c}") for c in ("issued", "repealed"))
        if prev is None or issued is None or repealed is None:
            continue
        rolled = prev + issued - repealed
        key = f"active.{row}.in_force"
        if result.cells.get(key) is None:
            result.cells[key] = rolled
            result.inferred[key] = "上年现行有效件数加本年制发减本年废止"
            notes.append(f"{label}现行有效件数：{rolled}（上年 {prev} + 本年制发 {issued} − 本年废止 {repealed}）")
        elif result.cells[key] != rolled:
            notes.append(f"{label}现行有效件数：填写 {result.cells[key]}，而上年 {prev} + 本年制发 {issued} − "
                         f"本年废止 {repealed} = {rolled}，请核对")
    for n in PROSE:
        body = _body(base.sections.get(n, ""))
        if body.strip() and n not in result.sections:
            result.sections[n] = rewrite_draft(body)
            notes.append(f"{n}、{TITLES[n]}：上年报告原文作为待改写的草稿（数字已隐去）")
    return notes


# ---------------------------------------------------------------- the whole report
def compose_report(ledger: Ledger, year: int, agency: str, figures: dict[str, int | float] | None = None,
                   draft: dict[str, str] | None = None, base: ParseResult | None = None, force: bool = False,
                   date: dt.date | None = None, name: str = "台账") -> Composed:
    """The year's report from its inputs: 三 from the ledger, 二 and 四 from the figures, the prose
    from the draft, what carries from last year's report; placeholders for the rest."""
    if year < FORMAT.years[0]:
        raise ReportError(f"{year} 年度的报告用 2019 年格式（国办公开办函〔2019〕60号），compose 只写 "
                          f"{FORMAT.years[0]} 年度起的 2021 年格式")
    check_year(ledger, year, name)
    notes = list(ledger.notes)
    if base is not None:
        notes += check_base(base, agency, year, force)
    result = compose(ledger.applications, year, agency)
    result.published = (date or dt.date.today()).isoformat()
    result.found_sections = [n for n, _, _ in SECTIONS]  # the document prints all six, placeholders or not
    result.cells.update(figures or {})
    if draft is not None:
        result.sections.update(draft)
    if base is not None:
        notes += carry(result, base)
    return Composed(result, notes, missing(result), len(ledger.applications))


def missing(result: ParseResult) -> list[str]:
    """What is still to fill: prose not given or marked for rewriting, and empty cells of 二 and 四."""
    out = []
    for n in PROSE:
        text = result.sections.get(n, "")
        if not text.strip():
            out.append(f"{n}、{TITLES[n]}：未提供（{PROSE_NEEDS[n]}）")
        elif PLACEHOLDER.search(text):
            out.append(f"{n}、{TITLES[n]}：有待填写或待改写的文字")
    specs = cell_specs()["2021"]
    for table in FIGURE_TABLES:
        empty = [k for k in FORMAT.table(table).cells() if k in figure_keys() and result.cells.get(k) is None]
        if empty:
            numeral = FORMAT.table(table).section
            out.append(f"{numeral}、{TITLES[numeral]}：{len(empty)} 个数未填（" +
                       "、".join(specs[k].label for k in empty[:3]) + ("…" if len(empty) > 3 else "") + "）")
    return out


def compose_files(ledger: Path, year: int, agency: str, *, figures: Path | None = None, draft: Path | None = None,
                  base: Path | None = None, force: bool = False, date: dt.date | None = None,
                  sheet: str | None = None, vocabulary_file: Path | None = None) -> Composed:
    """`compose_report` from files: a ledger (CSV/XLSX), a figures sheet, a draft and last year's
    report (a report file or its parse as .json). Every problem is a ReportError naming its file."""
    from ..ingest import read_source
    from ..parse import parse_file
    from .ledger import read_ledger, vocabulary

    def report(path: Path) -> ParseResult:
        if path.suffix.lower() == ".json":
            return ParseResult.model_validate_json(path.read_text(encoding="utf-8"))
        return parse_file(path)

    def named(path: Path, read):  # type: ignore[no-untyped-def]
        try:
            return read(path)
        except ReportError as e:
            raise ReportError(str(e) if str(e).startswith(path.name) else f"{path.name}: {e}") from e
        except (OSError, ValueError) as e:
            raise ReportError(f"{path.name}: {e}") from e

    vocab = vocabulary(named(vocabulary_file, Path.read_bytes), vocabulary_file.name) if vocabulary_file else None
    book = named(ledger, lambda p: read_ledger(p.read_bytes(), p.name, sheet, vocab))
    return compose_report(
        book, year, agency,
        figures=named(figures, lambda p: read_figures(p.read_bytes(), p.name)) if figures else None,
        draft=named(draft, lambda p: draft_sections(read_source(p.read_bytes(), p.name, p.parent).text, p.name))
        if draft else None, base=named(base, report) if base else None,
        force=force, date=date, name=ledger.name)

"""A cell map → markdown as PDF converters and OCR pipelines (MinerU and the like) print a report.

Their tables come out broken: one statutory table as many small markdown tables, each headed by
generic column names (数据1 … 数据8); some row labels detached from their numbers (the label a
paragraph above, the numbers a label-less row below, in a table of their own or among other rows);
blank cells as empty `| |`; and rows of the 主动公开 table printed as text outside any table, before
it ("行政许可 97"). The extractor must read what this shape says for sure and no more.
"""

from __future__ import annotations

from ..formats.national import OUTCOMES, REVIEW_GROUPS
from ..result import ParseResult
from .layout import active_groups, format_of, label_path, number, request_rows

_APPLICANT_HEAD = ("商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他")
OUTSIDE_GROUP = "第二十条第（五）项"  # the 主动公开 rows printed as text before the table


def _table(rows: list[list[str]]) -> list[str]:
    """A markdown table with generic headings, every row as wide as the widest."""
    width = max(len(r) for r in rows)
    lines = ["| " + " | ".join(f"数据{i + 1}" for i in range(width)) + " |", "|" + " --- |" * width]
    lines += ["| " + " | ".join(r + [""] * (width - len(r))) + " |" for r in rows]
    return [*lines, ""]


def _active(result: ParseResult) -> list[str]:
    fmt = format_of(result)
    out: list[str] = []
    tables: list[list[str]] = []
    for group, labels, rows in active_groups(fmt):
        if group == OUTSIDE_GROUP:
            out += [" ".join([row.label] + [number(result.cells.get(k)) for k in row.cells]).strip() for row in rows]
            out.append("")
            continue
        block = [[group], ["信息内容", *labels]]
        block += [[row.label, *(number(result.cells.get(k)) for k in row.cells)] for row in rows]
        tables.append(block)
    for block in tables:
        out += _table(block)
    return out


def _requests(result: ParseResult) -> list[str]:
    """Rows in groups of four: the first in a table of its own; the second's label a paragraph, its
    numbers a label-less table of their own; the third's label a paragraph above a table whose first
    row holds its numbers without the label, the fourth row after it. Group labels (（三）不予公开 …)
    are paragraphs where a group begins."""
    _, rows = request_rows(result)
    out = _table([["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", "申请人情况"],
                  ["", "自然人", "法人或其他组织", "", "", "", "", "总计"],
                  ["", "", *_APPLICANT_HEAD, ""]])
    groups: list[str] = []
    body: list[list[str]] = []
    for i, row in enumerate(rows):
        path = label_path(row)
        values = [number(result.cells.get(k)) for k in row.cells]
        if path[:-1] != groups:
            if body:
                out += _table(body)
                body = []
            out += [x for g in path[:-1] if g not in groups for x in (g, "")]
            groups = path[:-1]
        if i % 4 == 1:
            if body:
                out += _table(body)
                body = []
            out += [path[-1], "", *_table([values])]
        elif i % 4 == 2:
            if body:
                out += _table(body)
            out += [path[-1], ""]
            body = [["", *values]]
        else:
            body.append([path[-1], *values])
            if i % 4 == 0:
                out += _table(body)
                body = []
    return out + (_table(body) if body else [])


def _review(result: ParseResult) -> list[str]:
    keys = [f"{g}.{o}" for g, _ in REVIEW_GROUPS for o, _ in OUTCOMES]
    outcomes = [label for _, label in OUTCOMES]
    return _table([["行政复议", "", "", "", "", "行政诉讼"],
                   [*outcomes, "未经复议直接起诉", "", "", "", "", "复议后起诉"],
                   ["", "", "", "", "", *outcomes, *outcomes],
                   [number(result.cells.get(k)) for k in keys]])


def to_mineru(result: ParseResult) -> str:
    lines = [f"# {result.agency or ''}{result.year or ''}年政府信息公开工作年度报告", "", "## 一、总体情况", "",
             result.sections.get("一") or "无。", "", "## 二、主动公开政府信息情况", "", *_active(result),
             "## 三、收到和处理政府信息公开申请情况", "", *_requests(result),
             "## 四、政府信息公开行政复议、行政诉讼情况", "", *_review(result),
             "## 五、存在的主要问题及改进情况", "", result.sections.get("五") or "无。", "",
             "## 六、其他需要报告的事项", "", result.sections.get("六") or "无。", ""]
    if result.published:
        parts = [int(x) for x in result.published.split("-")]
        lines += [result.agency or "", f"{parts[0]}年{parts[1]}月" + (f"{parts[2]}日" if len(parts) > 2 else "")]
    return "\n".join(lines) + "\n"

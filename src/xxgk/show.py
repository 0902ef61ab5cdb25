"""Readable terminal views of a parse result, drawn from the format declarations."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from .audit import Checked
from .audit.rules import fmt_num
from .formats import FORMATS
from .result import ParseResult

_STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}
_NAME = {"error": "错误", "warning": "警告", "info": "提示"}


def _cell(result: ParseResult, key: str, flagged: dict[str, str]) -> Text:
    v = result.cells.get(key)
    text = "空" if key in result.blank else ("—" if v is None else fmt_num(v))
    style = _STYLE.get(flagged.get(key, ""), "")
    if key in result.inferred:
        text += "*"
    return Text(text, style=style)


def show_result(result: ParseResult, console: Console) -> None:
    fmt = FORMATS[result.template or "2021"]
    console.print(f"[bold]{result.source}[/bold]  {result.agency or '（未署名）'}  {result.year or '?'} 年度  "
                  f"{fmt.id} 格式  发布 {result.published or '未印日期'}")
    flagged: dict[str, str] = {}
    for f in result.findings:
        for k in f.cells:
            if f.severity != "info" and flagged.get(k) != "error":
                flagged[k] = f.severity
    for table in fmt.tables:
        rows = [r for r in table.rows_for(result.variants.get(table.id, table.variants[0])) if not r.extra]
        if table.columns and len(rows) > 1:
            t = RichTable(title=f"{table.section}、{table.title}", title_justify="left")
            t.add_column("")
            for c in table.columns:
                t.add_column(c.label, justify="right")
            for row in rows:
                t.add_row(row.label, *(_cell(result, k, flagged) for k in row.cells))
        elif table.columns:  # one row: print it as a column
            t = RichTable(title=f"{table.section}、{table.title}", title_justify="left")
            t.add_column("")
            t.add_column("数值", justify="right")
            for c in table.columns:
                t.add_row(c.label, _cell(result, c.key, flagged))
        else:  # section 二: each group of rows under its own column headings
            t = RichTable(title=f"{table.section}、{table.title}", title_justify="left", show_header=False)
            group = None
            for row in rows:
                if row.group != group:
                    group = row.group
                    t.add_row(Text(group, style="bold"), "", *(Text(fmt.column_label(k), style="bold")
                                                              for k in row.cells))
                t.add_row("", row.label, *(_cell(result, k, flagged) for k in row.cells))
        console.print(t)
    if result.inferred:
        console.print("[dim]* 推断所得的数值[/dim]")
    show_findings(result, console, heading=False)


def show_findings(result: ParseResult, console: Console, heading: bool = True) -> None:
    if heading:
        console.print(f"\n[bold]{result.source}[/bold]  {result.agency or '（未署名）'}  {result.year or '?'} 年度")
    if not result.findings:
        console.print("  [green]未发现问题[/green]")
        return
    for severity in ("error", "warning", "info"):
        for f in (f for f in result.findings if f.severity == severity):
            who = "原文" if f.kind == "source" else "读取"
            console.print(Text.assemble(("  " + _NAME[severity], _STYLE[severity]), f" [{who}] {f.rule}: ",
                                        f.message))


def show_pairing(checked: Checked, console: Console) -> None:
    """Which previous report a report was checked against (or none), and its duplicates."""
    previous, twins = checked.previous, checked.duplicates
    if previous is not None:
        console.print(f"  [dim]对照上年：{previous.source}（{previous.agency} {previous.year} 年度）[/dim]")
    else:
        console.print("  [dim]对照上年：未找到同一机关上一年度的报告[/dim]")
    if twins:
        console.print(f"  [yellow]同一机关同一年度另有报告：{'、'.join(twins)}"
                      "（对照时取未读单元格较少的一份）[/yellow]")


class Summary:
    """Totals over a batch, kept as it goes (the batch itself is not kept)."""

    def __init__(self) -> None:
        self.reports = self.with_errors = self.source_errors = 0
        self.counts = dict.fromkeys(_NAME, 0)
        self.rules: dict[str, int] = {}
        self.failed: list[tuple[Path, str]] = []

    def add(self, result: ParseResult) -> None:
        self.reports += 1
        self.with_errors += any(f.severity == "error" for f in result.findings)
        self.source_errors += any(f.severity == "error" and f.kind == "source" for f in result.findings)
        for f in result.findings:
            self.counts[f.severity] += 1
            if f.severity != "info":
                self.rules[f.rule] = self.rules.get(f.rule, 0) + 1

    def show(self, console: Console) -> None:
        c = self.counts
        console.print(f"\n[bold]{self.reports} 份报告[/bold]：错误 {c['error']} 项，警告 {c['warning']} 项，"
                      f"提示 {c['info']} 项；{self.with_errors} 份有错误；{len(self.failed)} 个文件无法读取")
        for rule_id, n in sorted(self.rules.items(), key=lambda x: -x[1])[:10]:
            console.print(f"  {rule_id}: {n}")

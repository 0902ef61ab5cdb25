"""Readable terminal views of a parse result, drawn from the format declarations."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

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
        else:
            t = RichTable(title=f"{table.section}、{table.title}", title_justify="left", show_header=False)
            for row in rows:
                t.add_row(row.group, row.label, *(_cell(result, k, flagged) for k in row.cells))
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


def show_summary(results: list[ParseResult], failed: list[tuple[Path, str]], console: Console) -> None:
    counts = {s: sum(1 for r in results for f in r.findings if f.severity == s) for s in _NAME}
    with_errors = sum(1 for r in results if any(f.severity == "error" for f in r.findings))
    rules: dict[str, int] = {}
    for r in results:
        for f in r.findings:
            if f.severity != "info":
                rules[f.rule] = rules.get(f.rule, 0) + 1
    console.print(f"\n[bold]{len(results)} 份报告[/bold]：错误 {counts['error']} 项，警告 {counts['warning']} 项，"
                  f"提示 {counts['info']} 项；{with_errors} 份有错误；{len(failed)} 个文件无法读取")
    for rule_id, n in sorted(rules.items(), key=lambda x: -x[1])[:10]:
        console.print(f"  {rule_id}: {n}")

"""Readable terminal views of a parse result, drawn from the format declarations."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from .audit import Checked
from .audit.rules import fmt_num
from .evaluate.score import Evaluation
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


def _rule_severity() -> dict[str, str]:
    from .audit import RULES

    return {r.id: r.severity for r in RULES}


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
        self.rates: dict[str, list[int]] = {}
        self.failed: list[tuple[Path, str]] = []

    def add(self, result: ParseResult) -> None:
        self.reports += 1
        self.with_errors += any(f.severity == "error" for f in result.findings)
        self.source_errors += any(f.severity == "error" and f.kind == "source" for f in result.findings)
        for f in result.findings:
            self.counts[f.severity] += 1
            if f.severity != "info":
                self.rules[f.rule] = self.rules.get(f.rule, 0) + 1
        # per rule: reports it fired on (an info of a rule that is not itself info, 无法核对, is no firing)
        fired = [f for f in result.findings if f.severity != "info" or _rule_severity().get(f.rule) == "info"]
        for rule_id in {f.rule for f in fired}:
            rate = self.rates.setdefault(rule_id, [0, 0])
            rate[0] += 1
            rate[1] += any(f.rule == rule_id and f.kind == "source" for f in fired)

    def show(self, console: Console) -> None:
        c = self.counts
        console.print(f"\n[bold]{self.reports} 份报告[/bold]：错误 {c['error']} 项，警告 {c['warning']} 项，"
                      f"提示 {c['info']} 项；{self.with_errors} 份有错误；{len(self.failed)} 个文件无法读取")
        for rule_id, n in sorted(self.rules.items(), key=lambda x: -x[1])[:10]:
            console.print(f"  {rule_id}: {n}")

    def rate_rows(self) -> list[dict]:
        """Per rule: how many reports it fired on, the share of the batch, how many as 原文."""
        severity = _rule_severity()
        return [{"rule": rule_id, "severity": severity.get(rule_id, ""), "reports": n,
                 "share": round(n / self.reports, 4) if self.reports else 0.0, "source": src}
                for rule_id, (n, src) in sorted(self.rates.items(), key=lambda x: (-x[1][0], x[0]))]

    def show_rates(self, console: Console) -> None:
        """What an evaluator reports about a whole province: per rule, the reports it fired on."""
        from rich.table import Table

        table = Table(title=f"{self.reports} 份报告中各规则的触发情况")
        for col in ("规则", "级别", "报告份数", "占比", "其中原文"):
            table.add_column(col, justify="left" if col in ("规则", "级别") else "right")
        for r in self.rate_rows():
            table.add_row(r["rule"], _NAME.get(r["severity"], ""), str(r["reports"]), f"{100 * r['share']:.1f}%",
                          str(r["source"]))
        console.print(table)

def show_evaluation(ev: Evaluation, console: Console) -> None:
    """The ranking, then each indicator's failure rate: what an evaluator publishes."""
    t = RichTable(title="评估排名（满分 100；待核实的读取存疑不扣分）", title_justify="left")
    for name, justify in (("排名", "right"), ("机关", "left"), ("年度", "right"), ("层级", "left"),
                          ("地区", "left"), ("得分", "right"), ("失分指标", "left"), ("待核实", "right")):
        t.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in ev.reports:
        lost = "、".join(f"{i.name} −{fmt_num(round(i.weight - i.points, 2))}"
                        for i in r.indicators if i.points < i.weight)
        t.add_row(str(r.rank), r.facts.agency or f"（未识别：{r.facts.source}）", str(r.facts.year or ""),
                  r.facts.level, r.facts.region, f"{r.score:.1f}", lost,
                  str(sum(len(i.verify) for i in r.indicators)))
    console.print(t)
    rates = RichTable(title="各指标未通过率", title_justify="left")
    for name in ("指标", "权重", "未通过", "比例", "待核实"):
        rates.add_column(name, justify="left" if name == "指标" else "right")
    for r in ev.rates:
        rates.add_row(r["name"], fmt_num(r["weight"]), str(r["failed"]), f"{100 * r['share']:.1f}%", str(r["verify"]))
    console.print(rates)

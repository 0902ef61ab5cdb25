"""An agency's years side by side: every cell of each year's current report by its label path, the
values that changed from the year shown before, the roll-over checks (the audit's own year rules:
上年结转 of N = 结转下年度 of N−1, …) and the 上年结转 / 结转下年度 chain over all its years."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..audit import RULES
from ..audit.rules import Context, fmt_num
from ..formats import FORMATS
from ..result import ParseResult
from ..store.models import Report
from . import views

YEAR_RULES = tuple(r for r in RULES if r.id.startswith("years."))
CARRIED, FORWARD = "requests.carried_over.total", "requests.carried_forward.total"


@dataclass
class Comparison:
    years: list[int]
    reports: list[Report]
    rows: list[dict] = field(default_factory=list)  # {"key", "label", "values": [(value, mark, why)]}
    checks: list[tuple[int, str, str]] = field(default_factory=list)  # (year, rule summary, message)
    checked: list[tuple[int, int]] = field(default_factory=list)  # (year before, year) pairs checked


def compare(reports: list[Report]) -> Comparison:
    """`reports`: one current report per year, oldest first."""
    results = [ParseResult.model_validate(r.result) for r in reports]
    out = Comparison([r.year for r in reports if r.year is not None], reports)
    paths: dict[str, str] = {}
    for result in reversed(results):  # the newest format's order first; a key only older ones print after
        for table in views.tables(result):
            for key, path in table["paths"].items():
                paths.setdefault(key, path)
    marks: list[dict[str, tuple[str, str]]] = [{} for _ in results]  # per year: key → (mark, why)
    for i in range(1, len(results)):
        before, now = results[i - 1], results[i]
        if before.year is None or now.year != before.year + 1 or now.template is None:
            continue  # a roll-over is checked between consecutive years only
        out.checked.append((before.year, now.year))
        ctx = Context.of(now, before)
        for rule in YEAR_RULES:
            for hit in rule.check(ctx):
                out.checks.append((now.year, rule.summary, hit.message))
                for key in hit.cells:
                    marks[i][key] = ("rollover-bad", hit.message)
        for key in [k for k in now.cells if k.startswith("requests.carried_over.")]:
            prior = before.cells.get(key.replace("carried_over", "carried_forward"))
            if key not in marks[i] and now.cells.get(key) is not None and prior is not None:
                marks[i][key] = ("rollover-ok", f"等于 {before.year} 年的结转下年度 {fmt_num(prior)}")
    keys = [set(FORMATS[r.template or "2021"].cell_keys) for r in results]
    for key, label in paths.items():
        values, last = [], None
        for i, result in enumerate(results):
            printed = key in keys[i]
            v = result.cells.get(key) if printed else None
            mark, why = marks[i].get(key, ("", ""))
            if not mark and i and printed and last is not None and v != last[0] and last[1]:
                mark, why = "changed", f"上一列为 {fmt_num(last[0])}"
            values.append({"value": v, "printed": printed, "blank": key in result.blank, "mark": mark, "why": why})
            last = (v, printed)
        out.rows.append({"key": key, "label": label, "values": values})
    return out


def chain(years: list[tuple[int, str | None, dict[str, float | None]]]) -> dict:
    """ECharts data for the 上年结转 / 结转下年度 chain: each year's two totals (computed from the
    six applicant columns where the total is blank or disagrees), and the year before's 结转下年度
    beside this year's 上年结转, which it should equal."""
    totals = []
    for year, template, cells in years:
        fmt = FORMATS[template or "2021"]
        done = views.computed_totals(cells, fmt)
        totals.append((year, done.get(CARRIED), done.get(FORWARD)))
    forward = {y: f for y, _, f in totals}
    breaks = [{"year": y, "carried": c, "before": forward[y - 1]} for y, c, _ in totals
              if y - 1 in forward and c is not None and forward[y - 1] is not None and c != forward[y - 1]]
    return {"years": [str(y) for y, _, _ in totals], "carried": [c for _, c, _ in totals],
            "forward": [f for _, _, f in totals], "expected": [forward.get(y - 1) for y, _, _ in totals],
            "breaks": breaks}

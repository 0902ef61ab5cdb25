"""What the pages and the API show of a report, built from the format data: its tables as rows of
labelled cells, its summary, an agency's charts."""

from __future__ import annotations

import json

from ..compose.layout import active_groups, format_of, label_path, request_rows
from ..formats import FORMATS, Format
from ..formats.national import OUTCOMES, REVIEW_GROUPS
from ..result import ParseResult
from ..store.models import Report


def tables(result: ParseResult) -> list[dict]:
    """The three statutory tables as rows of (label, [key]), from the format data; table 二 as its
    groups, each with its own column heads (本年制发件数/本年废止件数/现行有效件数 …), and each
    cell's label path (「三、… / 本年新收政府信息公开申请数量 / 自然人」) in `paths`."""
    fmt = format_of(result)
    t_active, t_requests, t_review = (fmt.table(t) for t in ("active", "requests", "review"))
    active: list[dict] = []
    paths: dict[str, str] = {}
    for group, heads, rows in active_groups(fmt):
        active.append({"group": group, "heads": heads})
        for row in rows:
            active.append({"label": row.label, "cells": list(row.cells)})
            for key, head in zip(row.cells, heads, strict=False):
                paths[key] = " / ".join((f"二、{t_active.title}", group, row.label, head))
    _, rows = request_rows(result)
    heads = {c.key: c.label for c in t_requests.columns}
    requests = [{"label": " / ".join(label_path(row)), "cells": list(row.cells)} for row in rows]
    for row in rows:
        for key in row.cells:
            column = heads.get(key.rsplit(".", 1)[-1], fmt.column_label(key))
            paths[key] = " / ".join((f"三、{t_requests.title}", *label_path(row), column))
    review = [{"label": label, "cells": [f"{g}.{o}" for o, _ in OUTCOMES]} for g, label in REVIEW_GROUPS]
    for g, label in REVIEW_GROUPS:
        for o, outcome in OUTCOMES:
            paths[f"{g}.{o}"] = " / ".join((f"四、{t_review.title}", label, outcome))
    return [{"title": f"二、{t_active.title}", "rows": active, "heads": None, "paths": paths},
            {"title": f"三、{t_requests.title}", "rows": requests,
             "heads": [c.label for c in t_requests.columns], "paths": paths},
            {"title": f"四、{t_review.title}", "rows": review, "heads": [o for _, o in OUTCOMES], "paths": paths}]


SUMS = ("requests.row_total", "requests.results_sum", "review.total")  # relations "a total = its parts"


def computed_totals(cells: dict[str, float | None], fmt: Format) -> dict[str, float | None]:
    """The cells with each total the format defines as a sum (a row's 总计, a column's （七）总计,
    a review group's 总计) taken as the sum of its parts where every part is there and the total
    is blank or disagrees: a report printing 行政复议 总计 0 beside parts adding to 11 had 11 cases."""
    out = dict(cells)
    for d in fmt.derived:
        parts = [out.get(k) for k in d.parts]
        if out.get(d.key) is None and parts and all(v is not None for v in parts):
            out[d.key] = sum(parts)  # type: ignore[arg-type]
    relations = [r for r in fmt.relations if r.rule in SUMS and r.kind == "eq" and len(r.left) == 1]
    for _ in range(3):  # column totals first feed row totals: a few passes reach every sum
        changed = False
        for rel in relations:
            parts = [out.get(k) for k in rel.right]
            if not all(v is not None for v in parts):
                continue
            total = sum(parts)  # type: ignore[arg-type]
            if out.get(rel.left[0]) is None or abs((out[rel.left[0]] or 0) - total) > 1e-6:
                out[rel.left[0]] = total
                changed = True
        if not changed:
            break
    return out


def charts(reports: list[Report]) -> str:
    """ECharts data for an agency's years: requests received, outcome shares, review/litigation
    results — from each year's current report only (one bar a year), with computed totals."""
    by_year: dict[int, Report] = {}
    for r in sorted(reports, key=lambda r: (not r.current, r.id)):
        if r.year is not None:
            by_year.setdefault(r.year, r)
    shown = [by_year[y] for y in sorted(by_year)]
    cells = [computed_totals({c.key: c.value for c in r.cells}, FORMATS[r.template or "2021"]) for r in shown]
    years = [str(r.year) for r in shown]
    outcomes = {"予以公开": "requests.granted.total", "部分公开": "requests.partial.total",
                "不予公开": "requests.denied.%", "无法提供": "requests.unavailable.%",
                "不予处理": "requests.not_processed.%", "其他处理": "requests.other.total"}

    def total(c: dict, key: str) -> float:
        if key.endswith("%"):
            prefix = key[:-1]
            return sum(v or 0 for k, v in c.items() if k.startswith(prefix) and k.endswith(".total")
                       and k.count(".") == 3)
        return c.get(key) or 0

    return json.dumps({
        "years": years,
        "received": [c.get("requests.new.total") for c in cells],
        "carried": [c.get("requests.carried_over.total") for c in cells],
        "outcomes": [{"name": n, "data": [total(c, k) for c in cells]} for n, k in outcomes.items()],
        "review": [{"name": label, "data": [c.get(f"{g}.total") for c in cells]} for g, label in REVIEW_GROUPS],
    }, ensure_ascii=False)

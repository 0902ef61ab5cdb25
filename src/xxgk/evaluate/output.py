"""An evaluation as the tables an office publishes: JSON, CSV, XLSX (a sheet per level, one of
evidence) and a standalone HTML page with ECharts charts."""

from __future__ import annotations

import json
from dataclasses import asdict
from importlib import resources
from pathlib import Path

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from .score import LEVEL_ORDER, Evaluation, Fact, Scored

STATUS_ZH = {"pass": "通过", "fail": "未通过", "partial": "部分扣分", "verify": "待核实"}


def _fact(f: Fact) -> dict:
    return {"rule": f.rule, "kind": f.kind, "severity": f.severity, "cells": list(f.cells),
            "message": f.message, "places": list(f.places)}


def report_json(r: Scored) -> dict:
    f = r.facts
    return {"source": f.source, "agency": f.agency, "year": f.year, "level": f.level, "region": f.region,
            "score": r.score, "rank": r.rank, "level_rank": r.level_rank, "region_rank": r.region_rank,
            "indicators": [{"id": i.id, "name": i.name, "weight": i.weight, "points": i.points, "status": i.status,
                            "lost": [_fact(x) for x in i.lost], "verify": [_fact(x) for x in i.verify]}
                           for i in r.indicators]}


def to_json(ev: Evaluation) -> dict:
    return {"indicators": [asdict(i) for i in ev.indicators], "reports": [report_json(r) for r in ev.reports],
            "rates": ev.rates, "rule_rates": ev.rule_rates}


def ranking_frame(ev: Evaluation, level: str | None = None) -> pd.DataFrame:
    rows = []
    for r in ev.reports:
        if level is not None and r.facts.level != level:
            continue
        row = {"排名": r.level_rank if level else r.rank, "机关": r.facts.agency or "（未识别）", "年度": r.facts.year,
               "层级": r.facts.level, "地区": r.facts.region, "得分": r.score}
        row.update({i.name: i.points for i in r.indicators})
        row["待核实"] = sum(len(i.verify) for i in r.indicators)
        row["文件"] = r.facts.source
        rows.append(row)
    return pd.DataFrame(rows)


def evidence_frame(ev: Evaluation, verify: bool = False) -> pd.DataFrame:
    rows = []
    for r in ev.reports:
        for i in r.indicators:
            for f in (i.verify if verify else i.lost):
                rows.append({"机关": r.facts.agency, "年度": r.facts.year, "文件": r.facts.source, "指标": i.name,
                             "扣分": 0 if verify else round(i.weight - i.points, 2), "规则": f.rule,
                             "单元格": "，".join(f.cells), "位置": "；".join(f.places), "说明": f.message})
    return pd.DataFrame(rows, columns=["机关", "年度", "文件", "指标", "扣分", "规则", "单元格", "位置", "说明"])


def rates_frame(ev: Evaluation) -> pd.DataFrame:
    return pd.DataFrame([{"指标": r["name"], "权重": r["weight"], "未通过报告数": r["failed"],
                          "未通过比例": r["share"], "待核实报告数": r["verify"]} for r in ev.rates])


def rule_rates_frame(ev: Evaluation) -> pd.DataFrame:
    return pd.DataFrame(ev.rule_rates, columns=["rule", "reports", "share"]).rename(
        columns={"rule": "规则", "reports": "报告数", "share": "比例"})


def write(ev: Evaluation, path: Path, fmt: str) -> None:
    """`fmt`: json, csv (the ranking; evidence in NAME-evidence.csv beside), xlsx or html."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        path.write_text(json.dumps(to_json(ev), ensure_ascii=False, indent=1), encoding="utf-8")
    elif fmt == "csv":
        ranking_frame(ev).to_csv(path, index=False, encoding="utf-8-sig")
        evidence_frame(ev).to_csv(path.with_name(path.stem + "-evidence.csv"), index=False, encoding="utf-8-sig")
    elif fmt == "xlsx":
        with pd.ExcelWriter(path, engine="openpyxl") as xl:
            ranking_frame(ev).to_excel(xl, sheet_name="总排名", index=False)
            for level in LEVEL_ORDER:
                frame = ranking_frame(ev, level)
                if len(frame):
                    frame.to_excel(xl, sheet_name=level, index=False)
            rates_frame(ev).to_excel(xl, sheet_name="指标未通过率", index=False)
            rule_rates_frame(ev).to_excel(xl, sheet_name="规则触发率", index=False)
            evidence_frame(ev).to_excel(xl, sheet_name="失分依据", index=False)
            evidence_frame(ev, verify=True).to_excel(xl, sheet_name="待核实", index=False)
    elif fmt == "html":
        path.write_text(to_html(ev), encoding="utf-8")
    else:
        raise ValueError(f"unknown format {fmt!r}: json, csv, xlsx or html")


def chart_data(ev: Evaluation) -> dict:
    bins = [f"{lo}–{lo + 9}" if lo < 90 else "90–100" for lo in range(0, 100, 10)]
    counts = [0] * 10
    regions: dict[str, list[float]] = {}
    for r in ev.reports:
        counts[min(9, int(r.score // 10))] += 1
        regions.setdefault(r.facts.region or "（未识别）", []).append(r.score)
    by_region = sorted(((k, round(sum(v) / len(v), 1), len(v)) for k, v in regions.items()), key=lambda x: -x[1])
    return {"bins": bins, "counts": counts,
            "indicators": [r["name"] for r in ev.rates], "failed": [round(100 * r["share"], 1) for r in ev.rates],
            "regions": [k for k, _, _ in by_region], "region_scores": [s for _, s, _ in by_region]}


def to_html(ev: Evaluation) -> str:
    env = Environment(loader=PackageLoader("xxgk.evaluate"), autoescape=select_autoescape(default=True))
    static = resources.files("xxgk.serve").joinpath("static")
    echarts = static.joinpath("vendor/echarts.min.js").read_text(encoding="utf-8")
    charts = static.joinpath("evaluation.js").read_text(encoding="utf-8")  # the 评估 page's own
    data = json.dumps(chart_data(ev), ensure_ascii=False).replace("</", "<\\/")
    return env.get_template("evaluation.html").render(ev=ev, status=STATUS_ZH, echarts=echarts, charts=charts,
                                                      data=data)

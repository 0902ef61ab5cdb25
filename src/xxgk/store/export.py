"""Reports as a table (one row per report, one column per cell key) and findings as a second one."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..formats import FORMATS, cell_specs
from .reviews import STATUSES
from .store import Store

META = ("source", "agency", "year", "template", "published", "posted", "current", "parser_version", "digest",
        "review_status", "review_note", "corrected")
META_ZH = {"source": "文件", "agency": "机关", "year": "年度", "template": "格式", "published": "发布日期",
           "posted": "网页发布时间", "current": "同年多份时采用", "parser_version": "解析版本", "digest": "文件哈希",
           "review_status": "审核状态", "review_note": "审核意见", "corrected": "已更正的单元格"}
FORMATS_OUT = ("csv", "xlsx", "parquet", "json")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may take for a formula (OWASP CSV injection)


def inert(value: object) -> object:
    """Text a spreadsheet would run as a formula (a file named `=1+2.txt`, an agency name starting
    with `@`), prefixed with `'` so that it stays text; anything else as it is."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_START) else value


def inert_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Every text column made inert (numbers are left alone: -3 is a number, not a formula)."""
    df = df.copy()
    for column in df.columns:
        if df[column].dtype == object or pd.api.types.is_string_dtype(df[column]):
            df[column] = df[column].map(inert)
    return df


def all_keys() -> list[str]:
    keys: list[str] = []
    for fmt in FORMATS.values():
        keys += [k for k in fmt.cell_keys if k not in keys]
    return keys


EXPORT_PAGE = 1000  # reports read per query


def chinese_header(key: str) -> str:
    if key in META_ZH:
        return META_ZH[key]
    specs = cell_specs()
    return (specs["2021"].get(key) or specs["2019"][key]).label


def frames(store: Store, year: int | None = None, agency: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reports (one row each, one column per cell key) and their findings, read in pages."""
    reports, findings = [], []
    offset = 0
    while batch := store.reports(year=year, agency=agency, offset=offset, limit=EXPORT_PAGE):
        offset += len(batch)
        values = store.cell_values([r.id for r in batch])  # corrected values where a reviewer corrected one
        reviews = store.report_statuses(r.digest for r in batch)
        corrected = store.corrected_keys(r.digest for r in batch)
        for r in batch:
            review = reviews.get(r.digest)
            row = {"source": r.source_name, "agency": r.agency_name, "year": r.year, "template": r.template,
                   "published": r.published, "posted": r.posted, "current": r.current,
                   "parser_version": r.parser_version, "digest": r.digest,
                   "review_status": STATUSES[review.status if review else "pending"],
                   "review_note": review.note if review else "", "corrected": ",".join(corrected.get(r.digest, []))}
            row.update(values.get(r.id, {}))
            reports.append(row)
            for f, status in store.status_of(r):
                findings.append({"source": r.source_name, "agency": r.agency_name, "year": r.year, "rule": f.rule,
                                 "severity": f.severity, "kind": f.kind, "cells": ",".join(f.cells),
                                 "message": f.message, "review": status})
    keys = all_keys()
    df = pd.DataFrame(reports, columns=[*META, *keys])
    types = {k: (cell_specs()["2021"].get(k) or cell_specs()["2019"][k]).type for k in keys}
    for k in keys:
        df[k] = df[k].astype("float64" if types[k] == "amount" else "Int64")
    df["year"] = df["year"].astype("Int64")
    return df, pd.DataFrame(findings, columns=["source", "agency", "year", "rule", "severity", "kind", "cells",
                                               "message", "review"])


def export(store: Store, fmt: str, out: Path, year: int | None = None, agency: str | None = None,
           chinese: bool = False) -> list[Path]:
    """Write the reports (and findings beside them); the paths written."""
    if fmt not in FORMATS_OUT:
        raise ValueError(f"format is one of {', '.join(FORMATS_OUT)}")
    reports, findings = frames(store, year, agency)
    if chinese:
        reports = reports.rename(columns=chinese_header)
    second = out.with_name(f"{out.stem}-findings{out.suffix}")
    if fmt in ("csv", "xlsx"):  # opened in a spreadsheet
        reports, findings = inert_frame(reports), inert_frame(findings)
    if fmt == "csv":
        reports.to_csv(out, index=False, encoding="utf-8-sig")
        findings.to_csv(second, index=False, encoding="utf-8-sig")
        return [out, second]
    if fmt == "parquet":
        reports.to_parquet(out, index=False)
        findings.to_parquet(second, index=False)
        return [out, second]
    if fmt == "xlsx":
        with pd.ExcelWriter(out) as xl:
            reports.to_excel(xl, sheet_name="reports", index=False)
            findings.to_excel(xl, sheet_name="findings", index=False)
        return [out]
    out.write_text(json.dumps({"reports": json.loads(reports.to_json(orient="records", force_ascii=False)),
                               "findings": json.loads(findings.to_json(orient="records", force_ascii=False))},
                              ensure_ascii=False, indent=1), encoding="utf-8")
    return [out]

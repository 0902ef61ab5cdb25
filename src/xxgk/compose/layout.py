"""The rows of each statutory table as printed in the standard layout, derived from the format data."""

from __future__ import annotations

from dataclasses import dataclass

from ..formats import FORMATS, Format, Row, Table
from ..result import ParseResult


@dataclass(frozen=True)
class Layout:
    """Knobs of a rendering; the defaults are the standard national layout."""

    merged_labels: bool = True  # group labels (三、本年度办理结果, （三）不予公开 …) as merged cells
    split_at: str = ""  # row key before which the 三 table breaks onto a new page, header repeated
    blank_rows: int = 0  # empty rows after every this many rows of the 三 table (0: none; not with merged labels)
    blank_column: bool = False  # an empty column between labels and values, and one at the end
    borders: bool = True
    official: bool = False  # the look of a published report: 公文 fonts and margins, placeholders, 落款
    blank_zeros: bool = False  # every 0 printed as an empty cell, totals included (as many agencies print)


STANDARD = Layout()
OFFICIAL = Layout(official=True)
PERTURBED = {
    "standard": STANDARD,
    "split": Layout(split_at="requests.unavailable.needs_creation"),
    "flat_labels": Layout(merged_labels=False),
    "blank_cells": Layout(merged_labels=False, blank_rows=4, blank_column=True),
}


def number(v: int | float | None, layout: Layout = STANDARD) -> str:
    if v is None or (layout.blank_zeros and v == 0):
        return ""
    if isinstance(v, float):
        return f"{v:f}".rstrip("0").rstrip(".") if not v.is_integer() else str(int(v))
    return str(v)


def format_of(result: ParseResult) -> Format:
    return FORMATS[result.template or "2021"]


def active_groups(fmt: Format) -> list[tuple[str, list[str], list[Row]]]:
    """[(第二十条第（…）项, column labels, rows)] of section 二."""
    groups: list[tuple[str, list[str], list[Row]]] = []
    for row in fmt.table("active").rows:
        if row.extra:
            continue
        if not groups or groups[-1][0] != row.group:
            groups.append((row.group, [fmt.column_label(k) for k in row.cells], []))
        groups[-1][2].append(row)
    return groups


def request_rows(result: ParseResult) -> tuple[Table, tuple[Row, ...]]:
    table = format_of(result).table("requests")
    variant = result.variants.get("requests", table.variants[0])
    return table, table.rows_for(variant)


def label_path(row: Row) -> list[str]:
    """The merged label cells a row sits under, outermost first, then its own label."""
    path = []
    if row.group in ("（三）不予公开", "（四）无法提供", "（五）不予处理", "（六）其他处理"):
        path = ["三、本年度办理结果", row.group]
    elif row.group:
        path = [row.group]
    return [*path, row.label]

"""The shape of a national report format, as plain data.

Extraction reads rows by their `match` phrases, the audit evaluates `relations`, storage and
rendering walk `tables`: every consumer uses these declarations, none re-types them.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Literal


@dataclass(frozen=True)
class CellSpec:
    key: str
    template: str  # "2019", "2021" or "both"
    section: str
    label: str
    type: Literal["count", "signed", "amount"]


@cache
def cell_specs() -> dict[str, dict[str, CellSpec]]:
    """cells.tsv (the data contract) by template: {"2019": {key: spec}, "2021": {...}}."""
    text = resources.files("xxgk.formats").joinpath("cells.tsv").read_text(encoding="utf-8")
    out: dict[str, dict[str, CellSpec]] = {"2019": {}, "2021": {}}
    for rec in csv.DictReader(text.splitlines(), delimiter="\t"):
        spec = CellSpec(rec["key"], rec["template"], rec["section"], rec["label"], rec["type"])  # type: ignore[arg-type]
        for template in ("2019", "2021") if spec.template == "both" else (spec.template,):
            out[template][spec.key] = spec
    return out


@cache
def cell_types(template: str) -> dict[str, str]:
    """{key: type} of a template's cells (asked for every value and cell tried)."""
    return {k: spec.type for k, spec in cell_specs()[template].items()}


@dataclass(frozen=True)
class Column:
    key: str  # suffix of the cell key ("natural") or, for one-row tables, the whole key
    label: str


@dataclass(frozen=True)
class Row:
    """One printed row: its label, the phrases that recognise it, and the cells it holds in order."""

    key: str
    label: str
    match: tuple[str, ...]  # normalised phrases; a phrase starting with "^" is a regex
    cells: tuple[str, ...]
    group: str = ""  # the merged label cell above it, e.g. "（三）不予公开"
    variant: str = ""  # "" = always printed; otherwise printed only in that variant
    extra: bool = False  # a local row with no statutory cells: its values are kept aside, never misplaced


@dataclass(frozen=True)
class Table:
    id: str  # "active", "requests", "review"
    section: str  # "二", "三", "四"
    title: str
    rows: tuple[Row, ...]
    columns: tuple[Column, ...] = ()
    variants: tuple[str, ...] = ("",)  # alternative row sets; the first is the default
    orders: tuple[tuple[str, ...], ...] = ()  # other orders its cells are printed in (a transposed table)

    def rows_for(self, variant: str = "") -> tuple[Row, ...]:
        return tuple(r for r in self.rows if not r.variant or r.variant == variant)

    def cells(self, variant: str | None = None) -> tuple[str, ...]:
        rows = self.rows if variant is None else self.rows_for(variant)
        return tuple(k for r in rows for k in r.cells)


@dataclass(frozen=True)
class Relation:
    """`sum(left) == sum(right)` (kind "eq") or `sum(left) >= sum(right)` (kind "ge")."""

    id: str  # unique, e.g. "requests.balance.natural"
    rule: str  # the family it belongs to, e.g. "requests.balance"
    kind: Literal["eq", "ge"]
    left: tuple[str, ...]
    right: tuple[str, ...]
    text: str  # Chinese description with {left} / {right} placeholders for the sums

    @property
    def cells(self) -> tuple[str, ...]:
        return self.left + self.right

    def holds(self, values: dict[str, float | int | None]) -> bool | None:
        """True/False, or None when a cell it reads is null (not checkable)."""
        lsum: float = 0.0  # asked some 200 times a report: no list of sums, no loop over the sides
        for k in self.left:
            v = values.get(k)
            if v is None:
                return None
            lsum += v
        rsum: float = 0.0
        for k in self.right:
            v = values.get(k)
            if v is None:
                return None
            rsum += v
        if self.kind == "eq":
            return abs(lsum - rsum) < 1e-6
        return lsum >= rsum - 1e-6


@dataclass(frozen=True)
class Derived:
    """A cell that is, by the format's definition, the sum of others (2021 （六）其他处理)."""

    key: str
    parts: tuple[str, ...]
    when_variant: str


@dataclass(frozen=True)
class Format:
    id: str  # "2019" or "2021"
    name: str
    years: tuple[int, int]  # first and last report year it is meant for (inclusive)
    tables: tuple[Table, ...]
    relations: tuple[Relation, ...]
    derived: tuple[Derived, ...] = ()
    markers: tuple[str, ...] = ()  # phrases only this format prints (detection)
    # {key: type}, filled on the first question (asked for every value and cell tried: one lookup)
    types: dict[str, str] = field(default_factory=dict, init=False, compare=False, repr=False)

    def table(self, table_id: str) -> Table:
        return next(t for t in self.tables if t.id == table_id)

    @property
    def cell_keys(self) -> tuple[str, ...]:
        return tuple(cell_specs()[self.id])

    def cell_type(self, key: str) -> str:
        if not self.types:
            self.types.update(cell_types(self.id))
        return self.types[key]

    def column_label(self, key: str) -> str:
        """The heading of a 主动公开 cell's column: what cells.tsv names after the group and row
        ("第二十条第（五）项/行政许可/本年增/减" → 本年增/减)."""
        return cell_specs()[self.id][key].label.split("/", 2)[-1]

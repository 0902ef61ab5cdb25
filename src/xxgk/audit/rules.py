"""What an audit rule is: an id, a severity, a kind, a summary and a check.

To add a rule: write a function `(Context) -> Iterable[Hit]` in the module of its family and
decorate it with `@rule(...)`. Nothing else needs to know about it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Literal

from ..formats import FORMATS, Format, Relation, Table
from ..formats.model import cell_specs
from ..result import Finding, ParseResult

Severity = Literal["error", "warning", "info"]
Kind = Literal["source", "extraction"]


@dataclass
class Hit:
    cells: list[str]
    message: str
    severity: Severity | None = None  # None: the rule's own
    kind: Kind | None = None


@dataclass(frozen=True)
class Layout:
    """What the audit reads of a format and the row variants a report prints: the same for every
    report that prints them, so worked out once each (`layout`), not per report."""

    printed: frozenset[str]  # cells the variants print
    derived: dict[str, tuple[str, ...]]  # cell → the printed cells it sums
    relations: dict[str, tuple[Relation, ...]]  # family → its relations a report of this layout is checked by


@cache
def layout(format_id: str, variants: tuple[str | None, ...]) -> Layout:
    """`variants`: each table's row variant as a result names it (None: it names none)."""
    fmt = FORMATS[format_id]
    named = {t.id: v for t, v in zip(fmt.tables, variants, strict=True)}
    printed = frozenset(k for t in fmt.tables for k in t.cells(t.variants[0] if named[t.id] is None else named[t.id]))
    derived = {d.key: d.parts for d in fmt.derived if named.get("requests") == d.when_variant}
    # cells a relation may read: printed, or sums of printed ones (2021's （六）其他处理 as three rows)
    checkable = printed | set(derived)
    relations: dict[str, tuple[Relation, ...]] = {}
    for rel in fmt.relations:  # not those reading a cell not printed, nor those of sums alone (theirs say it)
        if checkable.issuperset(rel.cells) and not all(k in derived for k in rel.cells):
            relations[rel.rule] = (*relations.get(rel.rule, ()), rel)
    return Layout(printed, derived, relations)


@dataclass
class Context:
    result: ParseResult
    format: Format
    previous: ParseResult | None = None
    # of the report's layout (`Layout`): shared by every report of it
    printed: frozenset[str] = frozenset()
    derived: dict[str, tuple[str, ...]] = field(default_factory=dict)
    relations: dict[str, tuple[Relation, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, result: ParseResult, previous: ParseResult | None = None) -> Context:
        fmt = FORMATS[result.template or "2021"]
        shape = layout(fmt.id, tuple(result.variants.get(t.id) for t in fmt.tables))
        return cls(result, fmt, previous, shape.printed, shape.derived, shape.relations)

    @property
    def values(self) -> dict[str, int | float | None]:
        return self.result.cells

    def doubt(self, cell: str) -> str:
        """Why this cell may not be as printed ("" when it was placed with certainty), from the
        evidence that placed it: a grid cell, its row label, the only possible cut of glued digits
        or its column heading are certain; print order, a cut chosen by sums, a value derived from
        totals, OCR, or no evidence at all are not. Results stored before `evidence` existed fall
        back to `inferred` and the table's reading."""
        if cell in self.derived:
            return self.doubtful(self.derived[cell])
        if self.by_ocr(cell):
            return "由 OCR 从图片识别"
        if cell in self.result.blank and self.table_by_ocr(cell):
            return "在由 OCR 从图片读取的表中为空，可能是漏识的数字"
        result = self.result
        if not result.evidence:
            if cell in result.inferred:
                return "为推断所得：" + result.inferred[cell]
            table = tables_of(self.format.id).get(cell)
            if table is not None and result.readings.get(table.id, "labels") != "labels":
                return "所在表的数值按印刷顺序而非行标签归位"
            return ""
        evidence = result.evidence.get(cell)
        if evidence is None:
            return "" if cell in result.blank else "没有读取依据"
        if evidence in UNCERTAIN:
            return UNCERTAIN[evidence]
        if evidence not in CERTAIN:
            return f"由「{evidence}」归位"
        why = result.inferred.get(cell, "")
        if evidence != "cut" and why and not why.startswith("表头单位为元"):
            return "为推断所得：" + why
        return ""

    def doubtful(self, cells: Iterable[str]) -> str:
        """Which of these cells may not be as printed, and why ("" when every one was placed surely)."""
        whys: dict[str, list[str]] = {}
        for c in dict.fromkeys(cells):
            why = self.doubt(c)
            if why:
                whys.setdefault(why, []).append(c)
        return "；".join(f"{'、'.join(cell_label(self.format, c) for c in cs[:3])}"
                        f"{'等 ' + str(len(cs)) + ' 格' if len(cs) > 3 else ''}{why}" for why, cs in whys.items())

    def by_ocr(self, cell: str) -> bool:
        where = self.result.provenance.get(cell)
        return where is not None and where.get("ocr", False)

    def table_by_ocr(self, cell: str) -> bool:
        """Whether the table this cell is in was read by OCR (a blank there has no place of its own)."""
        table = tables_of(self.format.id).get(cell)
        return table is not None and table.id in self.ocr_tables

    @cached_property  # asked for each blank cell a finding names
    def ocr_tables(self) -> frozenset[str]:
        """The tables with a value read by OCR."""
        read = {c for c, where in self.result.provenance.items() if where.get("ocr", False)}
        return frozenset(t.id for t in self.format.tables if not read.isdisjoint(t.cells())) if read else frozenset()


@cache
def tables_of(format_id: str) -> dict[str, Table]:
    """{cell: the table it is in} of a format."""
    return {c: t for t in FORMATS[format_id].tables for c in t.cells()}


# What placed a value (ParseResult.evidence): certain, or why not.
CERTAIN = frozenset({"grid", "label", "cut", "columns"})
UNCERTAIN = {
    "order": "按印刷顺序（而非行标签）归位",
    "cut_sums": "由粘连的数字拆分，拆法不唯一、按合计关系选定",
    "derived": "原文未印出，由合计关系推出",
}


def cell_label(fmt: Format, key: str) -> str:
    """「规章/本年制发件数」: a cell as the format names it (section 二 without its article)."""
    spec = cell_specs()[fmt.id].get(key)
    if spec is None:
        return key
    return f"「{spec.label.split('/', 1)[-1] if spec.label.startswith('第二十条') else spec.label}」"


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    kind: Kind
    summary: str
    check: Callable[[Context], Iterable[Hit]]

    def run(self, ctx: Context) -> list[Finding]:
        return [self.finding(ctx, h) for h in self.check(ctx)]

    def finding(self, ctx: Context, hit: Hit) -> Finding:
        """A hit of a rule about the source is the source's only if every cell it reads was placed
        with certainty; otherwise it is a reading doubt, naming the uncertain cells and why."""
        kind, message = hit.kind or self.kind, hit.message
        if hit.kind is None and kind == "source" and hit.cells:
            why = ctx.doubtful(hit.cells)
            if why:
                kind, message = "extraction", f"{message}（{why}，可能是读取有误）"
        return Finding(rule=self.id, severity=hit.severity or self.severity, kind=kind, cells=hit.cells,
                       message=message)


RULES: list[Rule] = []


def rule(id: str, severity: Severity, summary: str, kind: Kind = "source"
         ) -> Callable[[Callable[[Context], Iterable[Hit]]], Callable[[Context], Iterable[Hit]]]:
    def register(check: Callable[[Context], Iterable[Hit]]) -> Callable[[Context], Iterable[Hit]]:
        RULES.append(Rule(id, severity, kind, summary, check))
        return check

    return register


def fmt_num(v: float | int | None) -> str:
    if v is None:
        return "空"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return f"{v:g}" if isinstance(v, float) else str(v)

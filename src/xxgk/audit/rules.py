"""What an audit rule is: an id, a severity, a kind, a summary and a check.

To add a rule: write a function `(Context) -> Iterable[Hit]` in the module of its family and
decorate it with `@rule(...)`. Nothing else needs to know about it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from ..formats import FORMATS, Format
from ..result import Finding, ParseResult

Severity = Literal["error", "warning", "info"]
Kind = Literal["source", "extraction"]


@dataclass
class Hit:
    cells: list[str]
    message: str
    severity: Severity | None = None  # None: the rule's own
    kind: Kind | None = None


@dataclass
class Context:
    result: ParseResult
    format: Format
    previous: ParseResult | None = None
    printed: set[str] = field(default_factory=set)  # cells the report's variant prints

    @classmethod
    def of(cls, result: ParseResult, previous: ParseResult | None = None) -> Context:
        fmt = FORMATS[result.template or "2021"]
        printed: set[str] = set()
        for table in fmt.tables:
            printed |= set(table.cells(result.variants.get(table.id, table.variants[0])))
        return cls(result, fmt, previous, printed)

    @property
    def values(self) -> dict[str, int | float | None]:
        return self.result.cells

    def doubtful(self, cells: Iterable[str]) -> str:
        """Why these cells may not be as printed ("" when they were simply read): a value inferred or
        read by OCR, or a table whose values were placed by their order rather than by their row labels."""
        cells = list(cells)
        if any(c in self.result.inferred for c in cells):
            return "其中有推断所得的数值"
        if any(self.by_ocr(c) for c in cells):
            return "其中有 OCR 从图片识别的数值"
        if any(self.result.evidence.get(c) == "order" for c in cells):
            return "其中有按印刷顺序（而非行标签）归位的数值"
        tables = {t.id for t in self.format.tables if set(t.cells()) & set(cells)}
        if any(self.result.readings.get(t, "labels") not in ("labels", "grid") for t in tables):
            return "该表的数值按印刷顺序而非行标签归位"
        return ""

    def by_ocr(self, cell: str) -> bool:
        where = self.result.provenance.get(cell)
        return bool(where and where.ocr)


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    kind: Kind
    summary: str
    check: Callable[[Context], Iterable[Hit]]

    def run(self, ctx: Context) -> list[Finding]:
        return [Finding(rule=self.id, severity=h.severity or self.severity, kind=h.kind or self.kind,
                        cells=h.cells, message=h.message) for h in self.check(ctx)]


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

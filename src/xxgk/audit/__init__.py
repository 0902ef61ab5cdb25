"""The audit: every finding a reviewer would make, each from one declared rule."""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..batch import Outcome
from ..result import Finding, ParseResult
from . import arithmetic, form, legal, prose, years  # noqa: F401  (registers the rules)
from .rules import RULES, Context, Rule

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def audit(result: ParseResult, previous: ParseResult | None = None) -> list[Finding]:
    if result.template is None:
        return []
    ctx = Context.of(result, previous)
    findings = [f for r in RULES for f in r.run(ctx)]
    return sorted(findings, key=lambda f: SEVERITY_ORDER[f.severity])


def same_agency(a: str | None, b: str | None) -> bool:
    """"洪泽区人民政府" and "淮安市洪泽区人民政府" are one agency: one name ends the other."""
    if not a or not b:
        return False
    return a == b or a.endswith(b) or b.endswith(a)


class YearIndex:
    """Reports by agency and year, to pair each with its agency's report for the year before.

    Holds no reports: per report its file and agency name, year, format and the few cells the year
    rules read of a previous report (years.PREVIOUS_CELLS), so 100k reports can be paired in memory.
    Names are looked up exactly and by the suffixes of five characters or more `same_agency` allows.
    """

    def __init__(self) -> None:
        self.entries: dict[int, tuple[str, str, int, str | None, tuple]] = {}
        self.by_name: dict[str, dict[int, int]] = {}  # name → {year: first key with it}
        self.longer: dict[str, set[str]] = {}  # suffix → names ending with it

    def add(self, key: int, result: ParseResult) -> None:
        if not result.agency or result.year is None:
            return
        name = result.agency
        cells = tuple(result.cells.get(k) for k in years.PREVIOUS_CELLS)
        self.entries[key] = (result.source, name, result.year, result.template, cells)
        years_of = self.by_name.setdefault(name, {})
        if result.year not in years_of or key < years_of[result.year]:
            years_of[result.year] = key
        for i in range(1, len(name) - 4):
            self.longer.setdefault(name[i:], set()).add(name)

    def previous_key(self, key: int) -> int | None:
        """The key of the same agency's report for the year before (the first given, if several)."""
        if key not in self.entries:
            return None
        _, name, year, _, _ = self.entries[key]
        names = {name, *self.longer.get(name, ()), *(name[i:] for i in range(1, len(name)))}
        found = [self.by_name[n][year - 1] for n in names if year - 1 in self.by_name.get(n, {})]
        return min(found) if found else None

    def previous(self, key: int) -> ParseResult | None:
        """That report as far as the year rules read it."""
        before = self.previous_key(key)
        if before is None:
            return None
        source, pname, pyear, template, cells = self.entries[before]
        return ParseResult(source=source, agency=pname, year=pyear, template=template,  # type: ignore[arg-type]
                           cells={k: v for k, v in zip(years.PREVIOUS_CELLS, cells, strict=True) if v is not None})


def audit_batch(outcomes: Iterable[Outcome], order: dict[str, int]) -> Iterator[tuple[ParseResult, ParseResult | None]]:
    """Parsed files (batch outcomes, in any order) → (result audited with its agency's year before,
    that year's report as far as read), in `order` (path → position); failed outcomes are skipped.

    Results wait in a temporary SQLite file, only a YearIndex stays in memory: any batch size.
    """
    index = YearIndex()
    with tempfile.TemporaryDirectory(prefix="xxgk-check-") as tmp:
        spool = sqlite3.connect(Path(tmp) / "results.sqlite")
        try:
            spool.execute("CREATE TABLE results (position INTEGER PRIMARY KEY, json TEXT)")
            for outcome in outcomes:
                if outcome.result is not None:
                    at = order[outcome.path]
                    index.add(at, ParseResult.model_validate_json(outcome.result))
                    spool.execute("INSERT INTO results VALUES (?, ?)", (at, outcome.result))
            for at, data in spool.execute("SELECT position, json FROM results ORDER BY position"):
                result = ParseResult.model_validate_json(data)
                previous = index.previous(at)
                if previous is not None:
                    result.findings = audit(result, previous)
                yield result, previous
        finally:
            spool.close()


def previous_reports(results: list[ParseResult]) -> dict[int, ParseResult]:
    """{index of a result: the same agency's report for the year before}, among `results`."""
    index = YearIndex()
    for i, r in enumerate(results):
        index.add(i, r)
    before = {i: index.previous_key(i) for i in range(len(results))}
    return {i: results[j] for i, j in before.items() if j is not None}


def audit_all(results: list[ParseResult]) -> None:
    """Audit each result again, now with its agency's previous year where present."""
    for i, prev in previous_reports(results).items():
        results[i].findings = audit(results[i], prev)


__all__ = ["RULES", "Rule", "YearIndex", "audit", "audit_all", "audit_batch", "previous_reports"]

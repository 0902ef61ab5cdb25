"""The audit: every finding a reviewer would make, each from one declared rule."""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .. import pairing
from ..result import Finding, ParseResult
from . import arithmetic, form, legal, prose, years  # noqa: F401  (registers the rules)
from .rules import RULES, Context, Rule

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def rule_summaries() -> dict[str, str]:
    """{rule id: what it checks, in Chinese}: each rule's own declared summary, for the pages."""
    return {r.id: r.summary for r in RULES}


def audit(result: ParseResult, previous: ParseResult | None = None) -> list[Finding]:
    if result.template is None:
        return []
    ctx = Context.of(result, previous)
    findings = [f for r in RULES for f in r.run(ctx)]
    return sorted(findings, key=lambda f: SEVERITY_ORDER[f.severity])


class YearIndex(pairing.YearIndex):
    """pairing.YearIndex keeping what the year rules read of a previous report."""

    def __init__(self, aliases: pairing.Aliases | None = None) -> None:
        super().__init__(years.PREVIOUS_CELLS, aliases)


class Parsed(Protocol):
    """A parsed file as a batch hands it over (batch.Outcome): its path and its result as JSON."""

    path: str
    result: str | None


@dataclass
class Checked:
    """A result audited with its agency's previous year: the report it was checked against (None:
    none found) and the other reports of its agency and year (duplicates), by source."""

    result: ParseResult
    previous: ParseResult | None
    duplicates: list[str]

def audit_batch(outcomes: Iterable[Parsed], order: dict[str, int],
                aliases: pairing.Aliases | None = None) -> Iterator[Checked]:
    """Parsed files (batch outcomes, in any order) → each result audited with its agency's year
    before (pairing's rules), in `order` (path → position); failed outcomes are skipped.

    Results wait in a temporary SQLite file, only a YearIndex stays in memory: any batch size.
    """
    index = YearIndex(aliases)
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
                twins = [index.entries[i].source for i in index.same_year(at) if i != at]
                yield Checked(result, previous, twins)
        finally:
            spool.close()


def previous_reports(results: list[ParseResult], aliases: pairing.Aliases | None = None) -> dict[int, ParseResult]:
    """{index of a result: the same agency's report for the year before}, among `results`."""
    index = YearIndex(aliases)
    for i, r in enumerate(results):
        index.add(i, r)
    before = {i: index.previous_key(i) for i in range(len(results))}
    return {i: results[j] for i, j in before.items() if j is not None}


def audit_all(results: list[ParseResult]) -> None:
    """Audit each result again, now with its agency's previous year where present."""
    for i, prev in previous_reports(results).items():
        results[i].findings = audit(results[i], prev)


__all__ = ["RULES", "Checked", "Rule", "YearIndex", "audit", "audit_all", "audit_batch", "previous_reports"]

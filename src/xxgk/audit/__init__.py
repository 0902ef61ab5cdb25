"""The audit: every finding a reviewer would make, each from one declared rule."""

from __future__ import annotations

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


def previous_reports(results: list[ParseResult]) -> dict[int, ParseResult]:
    """{index of a result: the same agency's report for the year before}, among `results`."""
    out: dict[int, ParseResult] = {}
    for i, r in enumerate(results):
        if r.year is None:
            continue
        for other in results:
            if other.year == r.year - 1 and same_agency(r.agency, other.agency):
                out[i] = other
                break
    return out


def audit_all(results: list[ParseResult]) -> None:
    """Audit each result again, now with its agency's previous year where present."""
    for i, prev in previous_reports(results).items():
        results[i].findings = audit(results[i], prev)


__all__ = ["RULES", "Rule", "audit", "audit_all", "previous_reports"]

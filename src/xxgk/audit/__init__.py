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


__all__ = ["RULES", "Rule", "audit"]

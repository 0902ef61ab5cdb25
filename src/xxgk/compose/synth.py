"""Reports made up from real ones: the same agency and layout, other numbers that still add up.

For benchmarks and batch tests: thousands of distinct, valid reports from the few in the corpus.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from ..formats import FORMATS
from ..formats.national import APPLICANT_KEYS, OUTCOMES, REVIEW_GROUPS
from ..result import ParseResult


def from_gold(path: Path) -> ParseResult:
    """A hand-checked gold file as a parse result (where gold accepts several values, the first)."""
    gold = json.loads(path.read_text(encoding="utf-8"))
    first = (lambda v: v[0] if isinstance(v, list) else v)  # noqa: E731
    cells = {k: first(v) for k, v in gold["cells"].items()}
    result = ParseResult(source=gold["source"], cells=cells,
                         **{k: first(gold["meta"][k]) for k in ("agency", "year", "template", "published")})
    if result.template == "2021":
        result.variants["requests"] = "one_row" if cells["requests.other.other.natural"] is None else "split"
    return result


def vary(base: ParseResult, seed: int) -> ParseResult:
    """`base` with new numbers: every row, column and group total consistent, blanks kept blank."""
    rng = random.Random(seed)
    fmt = FORMATS[base.template or "2021"]
    cells = dict(base.cells)
    small = lambda: rng.choice((0, 0, 0, 1, 2, 3, rng.randint(0, 60)))  # noqa: E731
    for table in fmt.tables:
        if table.id == "active":
            for key in table.cells():
                if cells.get(key) is not None:
                    cells[key] = (round(rng.uniform(0, 9999), 2) if fmt.cell_type(key) == "amount"
                                  else rng.randint(-20, 20) if fmt.cell_type(key) == "signed" else small())
    variant = base.variants.get("requests", fmt.table("requests").variants[0])
    rows = [r for r in fmt.table("requests").rows_for(variant)
            if r.key not in ("requests.new", "requests.carried_over", "requests.total", "requests.carried_forward")]
    leaves = [r for r in rows if not (variant == "split" and r.key == "requests.other")]
    parts = {c: 0 for c in APPLICANT_KEYS[:-1]}
    for row in leaves:
        values = [small() for _ in APPLICANT_KEYS[:-1]]
        for c, v in zip(APPLICANT_KEYS[:-1], values, strict=True):
            cells[f"{row.key}.{c}"] = v
            parts[c] += v
        cells[f"{row.key}.total"] = sum(values)
    if variant == "split":
        for c in APPLICANT_KEYS:
            cells[f"requests.other.{c}"] = sum(cells[f"requests.other.{s}.{c}"]
                                               for s in ("no_correction", "unpaid_fee", "other"))
    for c in APPLICANT_KEYS[:-1]:
        carried, forward = rng.randint(0, 3), rng.randint(0, 3)
        cells[f"requests.total.{c}"] = parts[c]
        cells[f"requests.carried_over.{c}"] = carried
        cells[f"requests.carried_forward.{c}"] = forward
        cells[f"requests.new.{c}"] = parts[c] + forward - carried if parts[c] + forward >= carried else 0
        if parts[c] + forward < carried:
            cells[f"requests.carried_over.{c}"] = parts[c] + forward
    for r in ("new", "carried_over", "total", "carried_forward"):
        cells[f"requests.{r}.total"] = sum(cells[f"requests.{r}.{c}"] for c in APPLICANT_KEYS[:-1])
    for g, _ in REVIEW_GROUPS:
        if cells.get(f"{g}.total") is None:
            continue
        values = [small() for _ in OUTCOMES[:-1]]
        for (o, _), v in zip(OUTCOMES[:-1], values, strict=True):
            cells[f"{g}.{o}"] = v
        cells[f"{g}.total"] = sum(values)
    return base.model_copy(update={"cells": cells, "findings": [], "source": f"{seed}-{base.source}"})

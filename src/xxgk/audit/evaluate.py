"""`python -m xxgk.audit.evaluate`: how often the audit is right, measured on the corpus.

Every gold map of the corpus is rendered (text and HTML by default; DOCX and PDF on request), one
error is planted at a time in a cell a relation constrains — the cell changed by ±1..±10, two cells
of a row swapped, a total left blank — and the perturbed rendering is parsed and audited
(`--formats html:flat_labels,…` adds the layouts of compose.layout.PERTURBED):

- recall: planted errors reported as 原文 with a planted cell named (an error for a changed or
  swapped cell, `values.blank` for a blank);
- kind accuracy: of the error findings, the share whose kind is right — 原文 when every cell it
  names was read as printed, 读取 when one was not;
- false alarms: error findings of kind 原文 on unperturbed files (the renderings and the corpus
  files themselves) that the gold values do not also show.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ..compose.layout import PERTURBED, Layout
from ..compose.render import to_docx, to_html, to_pdf, to_text
from ..compose.synth import from_gold
from ..formats import FORMATS
from ..result import Finding, ParseResult
from . import audit
from .rules import Context

RENDERERS: dict[str, tuple[Callable[[ParseResult, Layout], bytes], str]] = {
    "text": (lambda r, layout: to_text(r, layout).encode(), "txt"),
    "html": (lambda r, layout: to_html(r, layout).encode(), "html"),
    "docx": (to_docx, "docx"),
    "pdf": (to_pdf, "pdf"),
}
FAST = ("text", "html")


def render(result: ParseResult, renderer: str) -> tuple[bytes, str]:
    """"html" or "html:flat_labels" (a layout of compose.layout.PERTURBED) → (the file, its suffix)."""
    name, _, layout = renderer.partition(":")
    write, suffix = RENDERERS[name]
    return write(result, PERTURBED[layout or "standard"]), suffix


@dataclass(frozen=True)
class Plant:
    how: str  # "±", "swap", "blank"
    changes: tuple[tuple[str, int | float | None], ...]  # (cell, planted value)
    family: str  # the rule family of the first relation it breaks ("values.blank" for a blank)

    @property
    def cells(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.changes)


def holding_relations(base: ParseResult) -> list:
    """The equalities the gold satisfies, over cells the report prints and fills (or sums of them)."""
    ctx = Context.of(base)
    return [r for r in FORMATS[base.template or "2021"].relations  # in the format's order
            if r.kind == "eq" and r in ctx.relations.get(r.rule, ()) and r.holds(base.cells) is True]


def planted(base: ParseResult, changes: dict[str, int | float | None]) -> dict[str, int | float | None]:
    """The cells of `base` with the changes, and the cells the format defines as sums of them again."""
    cells = {**base.cells, **changes}
    for key, parts in Context.of(base).derived.items():
        values = [cells.get(k) for k in parts]
        cells[key] = None if any(v is None for v in values) else sum(values)  # type: ignore[misc]
    return cells


def plants(base: ParseResult, seed: int = 0) -> list[Plant]:
    """One error at a time across every cell a relation constrains: a change of 1..10, a swap of two
    neighbouring parts of a sum, a blank total. Plants no relation can see are left out."""
    rng = random.Random(seed)
    rels = holding_relations(base)
    printed = Context.of(base).printed
    cells = sorted({k for r in rels for k in r.cells if k in printed})

    def family(changes: dict[str, int | float | None]) -> str | None:
        after = planted(base, changes)
        return next((r.rule for r in rels if r.holds(after) is False), None)

    out: list[Plant] = []
    for k in cells:
        v = base.cells[k]
        step = rng.randint(1, 10)
        new = v - step if v >= step and rng.random() < 0.5 else v + step  # type: ignore[operator]
        if (fam := family({k: new})) is not None:
            out.append(Plant("±", ((k, new),), fam))
    seen: set[tuple[str, str]] = set()
    for r in rels:
        for a, b in zip(r.right, r.right[1:], strict=False):
            if (a, b) in seen or a not in printed or b not in printed or base.cells[a] == base.cells[b]:
                continue
            seen.add((a, b))
            changes = {a: base.cells[b], b: base.cells[a]}
            if (fam := family(changes)) is not None:
                out.append(Plant("swap", tuple(changes.items()), fam))
    totals = sorted({r.left[0] for r in rels if len(r.left) == 1 and r.rule in ("requests.row_total", "review.total")
                     and r.left[0] in printed})
    out += [Plant("blank", ((k, None),), "values.blank") for k in totals]
    return out


@dataclass
class Tally:
    plants: int = 0
    source: int = 0  # reported as 原文 naming a planted cell
    extraction: int = 0  # reported, but as 读取
    kinds_right: int = 0
    kinds: int = 0
    missed: list[str] = field(default_factory=list)


def _kind_truth(f: Finding, truth: dict, read: dict) -> str:
    return "source" if all(truth.get(k) == read.get(k) for k in f.cells) else "extraction"


def _parse(data: bytes, name: str) -> ParseResult:
    from ..parse import parse_bytes

    return parse_bytes(data, name)


def _gold_errors(result: ParseResult) -> set[tuple[str, tuple[str, ...]]]:
    return {(f.rule, tuple(f.cells)) for f in audit(result) if f.severity == "error"}


def run_one(job: tuple[str, str, Plant | None]) -> tuple[str, str, Plant | None, str, int, int, list[str]]:
    """(gold, renderer, plant) → (gold, renderer, plant, outcome, kinds right, kinds judged, false 原文 errors)."""
    gold_path, renderer, plant = job
    base = from_gold(Path(gold_path))
    truth = base.model_copy(deep=True)
    if plant is not None:
        truth.cells = planted(base, dict(plant.changes))
    data, suffix = render(truth, renderer)
    result = _parse(data, f"eval.{suffix}")
    errors = [f for f in result.findings if f.severity == "error"]
    right = sum(f.kind == _kind_truth(f, truth.cells, result.cells) for f in errors)
    if plant is None:
        expected = _gold_errors(base)
        false = [f"{f.rule} {f.cells[:1]}" for f in errors
                 if f.kind == "source" and (f.rule, tuple(f.cells)) not in expected]
        return gold_path, renderer, None, "", right, len(errors), false
    named = [f for f in result.findings if set(f.cells) & set(plant.cells)
             and (f.severity == "error" if plant.how != "blank" else f.rule in ("values.blank", "extraction.unread"))]
    outcome = ("source" if any(f.kind == "source" for f in named)
               else "extraction" if named else "missed")
    return gold_path, renderer, plant, outcome, right, len(errors), []


def corpus_false_alarms(corpus: Path) -> tuple[int, list[str]]:
    """(files read, error findings of kind 原文 on the corpus files themselves that their gold does not show)."""
    from ..parse import parse_file

    out, files = [], 0
    for gold in sorted(corpus.rglob("*.gold.json")):
        stem = gold.name.removesuffix(".gold.json")
        for source in sorted(p for p in gold.parent.glob(stem + ".*") if not p.name.endswith(".json")):
            result = parse_file(source)
            files += 1
            expected = _gold_errors(from_gold(gold))
            out += [f"{source.name}: {f.rule} {f.cells[:1]}" for f in result.findings
                    if f.severity == "error" and f.kind == "source" and (f.rule, tuple(f.cells)) not in expected]
    return files, out


def jobs_for(corpus: Path, renderers: tuple[str, ...], limit: int | None = None, seed: int = 0
             ) -> Iterator[tuple[str, str, Plant | None]]:
    for gold in sorted(corpus.rglob("*.gold.json")):
        found = plants(from_gold(gold), seed)
        if limit is not None:
            found = random.Random(seed).sample(found, min(limit, len(found)))
        for renderer in renderers:
            yield str(gold), renderer, None
            for p in found:
                yield str(gold), renderer, p


@dataclass
class Evaluation:
    families: dict[str, Tally]
    false_alarms: list[str]
    files: int

    @property
    def total(self) -> Tally:
        t = Tally()
        for f in self.families.values():
            t.plants += f.plants
            t.source += f.source
            t.extraction += f.extraction
            t.kinds_right += f.kinds_right
            t.kinds += f.kinds
            t.missed += f.missed
        return t


def evaluate(corpus: Path, renderers: tuple[str, ...] = FAST, limit: int | None = None, jobs: int = 1,
             with_files: bool = True) -> Evaluation:
    """Plant, parse, audit and tally (`limit`: at most so many plants per gold map)."""
    families: dict[str, Tally] = {}
    false: list[str] = []
    files = 0
    work = list(jobs_for(corpus, renderers, limit))
    pool = ProcessPoolExecutor(jobs) if jobs > 1 else None
    try:
        results = pool.map(run_one, work, chunksize=16) if pool else map(run_one, work)
        for gold, renderer, plant, outcome, right, judged, wrong in results:
            if plant is None:
                files += 1
                false += [f"{Path(gold).name} as {renderer}: {w}" for w in wrong]
                fam = "(unperturbed)"
            else:
                fam = plant.family
            t = families.setdefault(fam, Tally())
            t.kinds_right += right
            t.kinds += judged
            if plant is None:
                continue
            t.plants += 1
            if outcome == "source":
                t.source += 1
            elif outcome == "extraction":
                t.extraction += 1
            else:
                t.missed.append(f"{Path(gold).name} as {renderer}: {plant.how} {dict(plant.changes)}")
    finally:
        if pool:
            pool.shutdown()
    if with_files:
        read, found = corpus_false_alarms(corpus)
        files += read
        false += found
    return Evaluation(families, false, files)


def _pct(n: int, d: int) -> str:
    return f"{100 * n / d:.1f}%" if d else "—"


def show(ev: Evaluation, console: Console) -> None:
    table = Table(title="xxgk audit evaluation — planted errors, one at a time")
    for col in ("rule family", "plants", "原文 (recall)", "读取", "missed", "kind accuracy"):
        table.add_column(col, justify="left" if col == "rule family" else "right")
    for name, t in [*sorted(ev.families.items()), ("all", ev.total)]:
        table.add_row(name, str(t.plants) if t.plants else "—", f"{t.source} ({_pct(t.source, t.plants)})" if t.plants
                      else "—", str(t.extraction) if t.plants else "—", str(len(t.missed)) if t.plants else "—",
                      f"{_pct(t.kinds_right, t.kinds)} of {t.kinds}")
    console.print(table)
    console.print(f"false 原文 errors on {ev.files} unperturbed files (renderings and the corpus files): "
                  f"{len(ev.false_alarms)}")
    for line in ev.false_alarms[:20]:
        console.print(f"  {line}")
    for line in ev.total.missed[:20]:
        console.print(f"  missed: {line}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="measure the audit's recall, kind accuracy and false alarms")
    ap.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[4] / "shared" / "corpus")
    ap.add_argument("--formats", default=",".join(FAST),
                    help=f"renderings: {', '.join(RENDERERS)}, each optionally with a layout "
                         f"({', '.join(PERTURBED)}): html:flat_labels")
    ap.add_argument("--limit", type=int, help="at most so many plants per gold map")
    ap.add_argument("--jobs", type=int, default=1)
    args = ap.parse_args(argv)
    ev = evaluate(args.corpus, tuple(args.formats.split(",")), args.limit, args.jobs)
    show(ev, Console(width=150))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


__all__ = ["Evaluation", "Plant", "evaluate", "plants"]

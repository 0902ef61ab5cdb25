"""The command line: one command per library function, nothing the library does not do."""

from __future__ import annotations

import glob
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from . import __version__
from .errors import ReportError
from .parse import parse_file
from .result import ParseResult

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Read, check and compare 政府信息公开工作年度报告.")
out = Console()
err = Console(stderr=True)

REPORT_SUFFIXES = {".txt", ".text", ".md", ".html", ".htm", ".shtml", ".pdf", ".docx", ".doc", ".wps", ""}


def expand(sources: list[str]) -> Iterator[Path]:
    """Files, directories (their report files, recursively) and glob patterns, in a stable order."""
    for s in sources:
        p = Path(s)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and f.suffix.lower() in REPORT_SUFFIXES and not f.name.startswith("."):
                    yield f
        elif p.exists():
            yield p
        else:
            matches = sorted(glob.glob(s, recursive=True))
            if not matches:
                yield p  # reported as missing by the caller
            yield from (Path(m) for m in matches if Path(m).is_file())


def _progress(total: int) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), console=err,
                    disable=total < 2 or not err.is_terminal, transient=True)


def _parse_each(paths: list[Path]) -> Iterator[tuple[Path, ParseResult | None, str]]:
    with _progress(len(paths)) as bar:
        task = bar.add_task("parsing", total=len(paths), rate="")
        for path in paths:
            try:
                if not path.exists():
                    raise ReportError("no such file")
                yield path, parse_file(path), ""
            except ReportError as e:
                yield path, None, str(e)
            except Exception as e:  # a bug must not stop the batch; say which file and what
                yield path, None, f"internal error: {type(e).__name__}: {e}"
            done = bar.tasks[0].completed + 1
            elapsed = bar.tasks[0].elapsed or 0
            bar.update(task, advance=1, rate=f"{done / elapsed:.1f}/s" if elapsed else "")


def write_json(result: ParseResult, path: Path) -> None:
    """Atomically: a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(result.model_dump_json(indent=1), encoding="utf-8")
    os.replace(tmp, path)


@app.command()
def parse(
    sources: Annotated[list[str], typer.Argument(help="report files, directories or glob patterns")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="write DIR/<file name>.json for each")] = None,
    show: Annotated[bool, typer.Option("--show", help="print the three tables readably")] = False,
) -> None:
    """Parse reports into the cell map (JSON); one file without --out prints its JSON."""
    paths = list(expand(sources))
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
    failed = 0
    for path, result, error in _parse_each(paths):
        if result is None:
            failed += 1
            err.print(f"[red]{path}[/red]: {error}", highlight=False)
            continue
        if out_dir:
            write_json(result, out_dir / f"{path.name}.json")
        if show:
            from .show import show_result

            show_result(result, out)
        elif not out_dir:
            print(result.model_dump_json(indent=1))
    if out_dir and len(paths) > 1:
        err.print(f"{len(paths) - failed} parsed, {failed} failed → {out_dir}")
    raise typer.Exit(1 if failed else 0)


@app.command()
def check(
    sources: Annotated[list[str], typer.Argument(help="report files, directories or glob patterns")],
    output: Annotated[str, typer.Option("--format", help="text or json")] = "text",
) -> None:
    """Audit reports; pairs reports of the same agency in consecutive years. Exit 1 on any error."""
    from .audit import audit_all, previous_reports
    from .show import show_findings, show_summary

    paths = list(expand(sources))
    results: list[ParseResult] = []
    failed: list[tuple[Path, str]] = []
    for path, result, error in _parse_each(paths):
        if result is None:
            failed.append((path, error))
        else:
            results.append(result)
    audit_all(results)
    previous = previous_reports(results)
    has_error = any(f.severity == "error" and f.kind == "source" for r in results for f in r.findings)
    if output == "json":
        print(json.dumps([{"source": r.source, "agency": r.agency, "year": r.year,
                           "previous": previous[i].source if i in previous else None,
                           "findings": [f.model_dump() for f in r.findings]} for i, r in enumerate(results)]
                         + [{"source": p.name, "error": e} for p, e in failed], ensure_ascii=False, indent=1))
    else:
        for r in results:
            show_findings(r, out)
        show_summary(results, failed, out)
    for p, e in failed:
        err.print(f"[red]{p}[/red]: {e}", highlight=False)
    raise typer.Exit(1 if has_error or failed else 0)


@app.command()
def render(
    report: Annotated[Path, typer.Argument(help="a parse result (.json) or a report file")],
    to: Annotated[str, typer.Option("--to", help="html, docx or pdf")] = "html",
    out_file: Annotated[Path | None, typer.Option("--out", help="where to write (default: beside, new suffix)")] = None,
    layout: Annotated[str, typer.Option(help="standard, split, flat_labels or blank_cells")] = "standard",
) -> None:
    """Write a report in the standard national layout from its cell map."""
    from .compose.layout import PERTURBED
    from .compose.render import to_docx, to_html, to_pdf

    if to not in ("html", "docx", "pdf") or layout not in PERTURBED:
        err.print("--to must be html, docx or pdf; --layout one of " + ", ".join(PERTURBED))
        raise typer.Exit(2)
    try:
        if report.suffix.lower() == ".json":
            result = ParseResult.model_validate_json(report.read_text(encoding="utf-8"))
        else:
            result = parse_file(report)
    except (ReportError, ValueError, OSError) as e:
        err.print(f"[red]{report}[/red]: {e}", highlight=False)
        raise typer.Exit(1) from None
    writer = {"html": lambda r, lay: to_html(r, lay).encode("utf-8"), "docx": to_docx, "pdf": to_pdf}[to]
    target = out_file or report.with_name(report.name.removesuffix(".json") + f".standard.{to}")
    target.write_bytes(writer(result, PERTURBED[layout]))
    err.print(f"wrote {target}")


@app.command()
def version() -> None:
    """Print the version."""
    print(__version__)


def main() -> None:  # pragma: no cover
    app(prog_name="xxgk")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

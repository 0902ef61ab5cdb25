"""The command line: one command per library function, nothing the library does not do."""

from __future__ import annotations

import csv
import glob
import hashlib
import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from . import __version__
from .batch import Finished, Outcome, Tally
from .errors import ReportError
from .parse import parse_file
from .result import ParseResult

if TYPE_CHECKING:
    from .pairing import Aliases
    from .store import Store

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Read, check and compare 政府信息公开工作年度报告.")
out = Console()
err = Console(stderr=True, soft_wrap=True)  # one line per message, however long

LEDGER = ".xxgk-ledger.sqlite"
REPORT_SUFFIXES = {".txt", ".text", ".md", ".html", ".htm", ".shtml", ".mht", ".mhtml", ".pdf", ".docx", ".doc", ".wps",
                   ".rtf", ".odt", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ""}


def expand(sources: list[str]) -> Iterator[Path]:
    """Files, directories (their report files, recursively) and glob patterns, in a stable order."""
    for path, _ in expand_named(sources):
        yield path


def expand_named(sources: list[str]) -> Iterator[tuple[Path, str]]:
    """Each file of `expand` with its name under an output folder: its path below the directory
    argument it was found in (so --out mirrors the input's folders), or its file name."""
    for s in sources:
        p = Path(s)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and f.suffix.lower() in REPORT_SUFFIXES and not f.name.startswith("."):
                    yield f, f.relative_to(p).as_posix()
        elif p.exists():
            yield p, p.name
        else:
            matches = sorted(glob.glob(s, recursive=True))
            if not matches:
                yield p, p.name  # reported as missing by the caller
            yield from ((Path(m), Path(m).name) for m in matches if Path(m).is_file())


def output_names(sources: list[str]) -> dict[str, str]:
    """{absolute path: its output's name}: `expand_named`'s, and where two files would get one
    name (report.txt under two directory arguments), each of them that name + "." + the first 8
    hex digits of the SHA-256 of its absolute path: two inputs never share an output."""
    names: dict[str, str] = {}
    for path, name in expand_named(sources):
        names.setdefault(os.path.abspath(path), name)
    taken = Counter(names.values())
    return {a: n if taken[n] == 1 else f"{n}.{hashlib.sha256(a.encode()).hexdigest()[:8]}"
            for a, n in names.items()}


def _progress(total: int) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), console=err,
                    disable=total < 2, transient=True)


def run(sources: list[str], ledger: Finished, keep: Callable[[Outcome], None], jobs: int | None,
        scheduler: str | None, retry_failed: bool, label: str,
        on_copy: Callable[[Path, Outcome], None] | None = None,
        on_skip: Callable[[Path, str], None] | None = None,
        redo: Callable[[Path, str], bool] | None = None) -> Tally:
    """A batch over the sources with a progress bar: DOC/WPS/RTF/ODT converted up front; `keep` stores each
    outcome, `on_copy` each file with the content of another of the batch (see `xxgk.batch.run_batch`)."""
    from .batch import convert_legacy_word, executor_for, run_batch

    total = len({os.path.abspath(p) for p in expand(sources)})
    executor = executor_for(jobs, scheduler)
    try:
        with tempfile.TemporaryDirectory(prefix="xxgk-convert-") as tmp, _progress(total) as bar:
            task = bar.add_task(label, total=total, rate="")
            started = time.perf_counter()
            converted = convert_legacy_word(expand(sources), Path(tmp))

            def advance() -> None:
                done = bar.tasks[0].completed + 1
                bar.update(task, advance=1, rate=f"{done / max(1e-9, time.perf_counter() - started):.1f}/s")

            def each(outcome: Outcome) -> None:
                if outcome.error:
                    err.print(f"[red]{outcome.path}[/red]: {outcome.error}", highlight=False)
                keep(outcome)
                advance()

            def copy(path: Path, original: Outcome) -> None:
                if original.error:
                    err.print(f"[red]{path}[/red]: {original.error} (the same content as {original.path})",
                              highlight=False)
                if on_copy:
                    on_copy(path, original)
                advance()

            def skip(path: Path, digest: str) -> None:
                if on_skip:
                    on_skip(path, digest)
                advance()

            return run_batch(expand(sources), ledger, each, executor, retry_failed, on_skip=skip,
                             converted=converted, on_copy=copy, redo=redo)
    finally:
        executor.close()


def batch(sources: list[str], out_dir: Path, jobs: int | None, scheduler: str | None,
          retry_failed: bool) -> tuple[Tally, list[tuple[str, str]]]:
    """Parse every source into out_dir/<name>.json, resumably; the tally and every failure so far.

    <name> is the file's path below the directory it was found in (`output_names`): the input's
    folders are mirrored, so two files of one name in two folders keep two outputs. A file with the
    content of another one gets a copy of that one's output (its `source` its own name)."""
    from .batch import Ledger

    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.rglob(".*.json.tmp*"):  # left by a run that was killed mid-write
        stale.unlink(missing_ok=True)
    ledger = Ledger(out_dir / LEDGER)
    names = output_names(sources)
    transient: list[tuple[str, str]] = []  # failures a rerun tries again, and copies of failed files

    def output(path: str | Path) -> Path:
        absolute = os.path.abspath(path)
        return out_dir / f"{names.get(absolute, Path(absolute).name)}.json"

    def keep(outcome: Outcome) -> None:
        if outcome.result is not None:
            write_json(outcome.result, output(outcome.path))
        elif outcome.again:
            transient.append((outcome.path, outcome.error or ""))

    def copy(path: Path, original: Outcome) -> None:
        if original.error:
            transient.append((str(path), original.error))
            return
        result = ParseResult.model_validate_json(output(original.path).read_text(encoding="utf-8"))
        write_json(result.model_copy(update={"source": path.name}).model_dump_json(), output(path))

    def redo(path: Path, digest: str) -> bool:
        """Done before, but its output is gone (or it is a copy, new here, of a file done before)."""
        return not ledger.failed(digest) and not output(path).exists()

    try:
        tally = run(sources, ledger, keep, jobs, scheduler, retry_failed, "parsing", on_copy=copy, redo=redo)
        failures = ledger.failures() + transient
    finally:
        ledger.close()
    write_errors(failures, out_dir / "errors.csv")
    return tally, failures


def write_errors(failures: list[tuple[str, str]], path: Path) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "error"])
        writer.writerows(failures)


def _parse_each(paths: list[Path]) -> Iterator[tuple[Path, ParseResult | None, str]]:
    for path in paths:
        try:
            if not path.exists():
                raise ReportError("no such file")
            yield path, parse_file(path), ""
        except ReportError as e:
            yield path, None, str(e)
        except Exception as e:  # a bug must not stop the batch; say which file and what
            yield path, None, f"internal error: {type(e).__name__}: {e}"


def write_json(text: str, path: Path) -> None:
    """Atomically: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


ALIASES = typer.Option("--aliases", help="CSV of agency names: alias,canonical (default: $XXGK_ALIASES)")
JOBS = typer.Option("--jobs", "-j", help="worker processes (default: all cores)")
SCHEDULER = typer.Option("--scheduler", help="a Dask scheduler, tcp://HOST:8786, instead of local workers")
RETRY = typer.Option("--retry-failed", help="try again the files an earlier run could not read")


@app.command()
def parse(
    sources: Annotated[list[str], typer.Argument(help="report files, directories or glob patterns")],
    out_dir: Annotated[Path | None, typer.Option("--out", help="write DIR/<file name>.json for each (a folder's "
                                                                "subfolders mirrored)")] = None,
    show: Annotated[bool, typer.Option("--show", help="print the three tables readably")] = False,
    jobs: Annotated[int | None, JOBS] = None,
    scheduler: Annotated[str | None, SCHEDULER] = None,
    retry_failed: Annotated[bool, RETRY] = False,
) -> None:
    """Parse reports into the cell map (JSON). With --out: a resumable batch; without: print."""
    if out_dir:
        tally, failures = batch(sources, out_dir, jobs, scheduler, retry_failed)
        err.print(f"{tally.done} parsed, {tally.copies} copies of other files, {tally.skipped} already done, "
                  f"{tally.failed} failed → {out_dir}" + (f" (errors: {out_dir / 'errors.csv'})" if failures else ""))
        raise typer.Exit(1 if failures else 0)
    failed = 0
    for path, result, error in _parse_each(list(expand(sources))):
        if result is None:
            failed += 1
            err.print(f"[red]{path}[/red]: {error}", highlight=False)
        elif show:
            from .show import show_result

            show_result(result, out)
        else:
            print(result.model_dump_json(indent=1))
    raise typer.Exit(1 if failed else 0)


@app.command()
def check(
    sources: Annotated[list[str], typer.Argument(help="report files, directories or glob patterns")],
    output: Annotated[str, typer.Option("--format", help="text or json")] = "text",
    jobs: Annotated[int | None, JOBS] = None,
    scheduler: Annotated[str | None, SCHEDULER] = None,
    rates: Annotated[bool, typer.Option("--summary", help="only per rule: reports it fired on, and the share")] = False,
    aliases: Annotated[Path | None, ALIASES] = None,
) -> None:
    """Audit reports; pairs reports of the same agency in consecutive years. Exit 1 on any error."""
    from .audit import audit_batch
    from .batch import executor_for, process_file
    from .pairing import Aliases
    from .show import Summary, show_findings, show_pairing

    paths = list(expand(sources))
    given = {os.path.abspath(p): p for p in paths}  # a worker (Dask's) may have another working folder
    summary = Summary()
    executor = executor_for(jobs if len(paths) > 1 else 1, scheduler)

    def parsed() -> Iterator[Outcome]:
        with _progress(len(paths)) as bar:
            task = bar.add_task("checking", total=len(paths), rate="")
            for outcome in executor.run(process_file, ((a, "") for a in given)):
                if outcome.result is None:
                    summary.failed.append((given[outcome.path], outcome.error or ""))
                bar.update(task, advance=1)
                yield outcome

    def rows() -> Iterator[dict]:
        for checked in audit_batch(parsed(), {a: i for i, a in enumerate(given)}, Aliases.load(aliases)):
            result, previous = checked.result, checked.previous
            summary.add(result)
            if rates:
                continue
            if output == "json":
                yield {"source": result.source, "agency": result.agency, "year": result.year,
                       "region": result.region.model_dump() if result.region else None,
                       "published": result.published, "posted": result.posted,
                       "previous": previous.source if previous else None, "duplicates": checked.duplicates,
                       "findings": [f.model_dump() for f in result.findings]}
            else:
                show_findings(result, out)
                show_pairing(checked, out)
        yield from ({"source": p.name, "error": e} for p, e in summary.failed)

    try:
        if rates:
            failures = list(rows())
            if output == "json":
                print(json.dumps({"reports": summary.reports, "failed": len(failures), "rules": summary.rate_rows()},
                                 ensure_ascii=False, indent=1))
            else:
                summary.show_rates(out)
                summary.show(out)
        elif output == "json":
            _print_json_list(rows())
        else:
            for _ in rows():
                pass
            summary.show(out)
    finally:
        executor.close()
    for p, e in summary.failed:
        err.print(f"[red]{p}[/red]: {e}", highlight=False)
    raise typer.Exit(1 if summary.source_errors or summary.failed else 0)


def _print_json_list(items: Iterator[dict]) -> None:
    """A JSON list printed item by item, never held whole."""
    print("[")
    for i, item in enumerate(items):
        print(("," if i else "") + json.dumps(item, ensure_ascii=False, indent=1))
    print("]")


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
        result = _result_of(report)
    except (ReportError, ValueError, OSError) as e:
        err.print(f"[red]{report}[/red]: {e}", highlight=False)
        raise typer.Exit(1) from None
    writer = {"html": lambda r, lay: to_html(r, lay).encode("utf-8"), "docx": to_docx, "pdf": to_pdf}[to]
    target = out_file or report.with_name(report.name.removesuffix(".json") + f".standard.{to}")
    target.write_bytes(writer(result, PERTURBED[layout]))
    err.print(f"wrote {target}")


@app.command()
def compose(
    ledger: Annotated[Path | None, typer.Argument(help="the request ledger: CSV or XLSX, one row per application")]
    = None,
    year: Annotated[int | None, typer.Option(help="the report's year")] = None,
    agency: Annotated[str | None, typer.Option(help="the agency's name, as on the report")] = None,
    figures: Annotated[Path | None, typer.Option(help="the 二 and 四 figures the office filled (see --template)")]
    = None,
    draft: Annotated[Path | None, typer.Option(help="a draft with the prose of 一, 五, 六 (any report file)")] = None,
    base: Annotated[Path | None, typer.Option(help="last year's report (a report file or its .json): only what "
                                                    "carries over is taken")] = None,
    force: Annotated[bool, typer.Option("--force", help="use a --base of another agency or year")] = False,
    date: Annotated[str | None, typer.Option(help="the date signed under the report, YYYY-MM-DD (default today)")]
    = None,
    sheet: Annotated[str | None, typer.Option(help="the ledger's sheet (XLSX), when several look like one")] = None,
    vocabulary: Annotated[Path | None, typer.Option(help="more words for results and applicants (TOML)")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="exit 1 while anything is still to fill")] = False,
    template: Annotated[Path | None, typer.Option("--template", help="write the figures sheet to fill, then stop")]
    = None,
    to: Annotated[str, typer.Option("--to", help="docx, pdf, html or json")] = "docx",
    out_file: Annotated[Path | None, typer.Option("--out", help="where to write (default: beside the ledger)")] = None,
) -> None:
    """Write the year's report in the official layout: 三 counted from the ledger, 二 and 四 from the
    figures, prose from the draft, what carries over from last year's report; what is missing marked."""
    import datetime as dt

    from .audit import audit
    from .compose.inputs import compose_files, figures_template
    from .compose.layout import OFFICIAL
    from .compose.render import to_docx, to_html, to_pdf

    if template is not None:
        template.write_bytes(figures_template())
        err.print(f"wrote {template}: fill the 数值 column, then pass it as --figures")
        return
    writers = {"docx": to_docx, "pdf": to_pdf, "html": lambda r, lay: to_html(r, lay).encode("utf-8"),
               "json": lambda r, lay: r.model_dump_json(indent=1).encode("utf-8")}
    if to not in writers or ledger is None or year is None or not agency:
        err.print("usage: xxgk compose LEDGER --year N --agency NAME [...]  (or --template FILE); "
                  "--to is one of " + ", ".join(writers))
        raise typer.Exit(2)
    try:
        signed = dt.date.fromisoformat(date) if date else None
    except ValueError:
        err.print(f"[red]error[/red]: --date「{date}」不是 YYYY-MM-DD 格式的日期", highlight=False)
        raise typer.Exit(2) from None
    try:
        made = compose_files(ledger, year, agency, figures=figures, draft=draft, base=base, force=force,
                             date=signed, sheet=sheet, vocabulary_file=vocabulary)
    except (ReportError, ValueError) as e:  # each message names its file
        err.print(f"[red]error[/red]: {e}", highlight=False)
        raise typer.Exit(1) from None
    result = made.result
    result.findings = audit(result)
    target = out_file or ledger.with_name(f"{ledger.stem}.{year}.{to}")
    target.write_bytes(writers[to](result, OFFICIAL))
    new, carried = result.cells["requests.new.total"], result.cells["requests.carried_over.total"]
    err.print(f"wrote {target}: {made.applications} applications in the "
              f"ledger, {new} new in {year}, {carried} carried over", highlight=False)
    for note in made.notes:
        err.print(f"  note: {note}", highlight=False)
    for f in result.findings:
        if not made.placeholders_own(f):
            err.print(f"  [yellow]check[/yellow]: {f.message}", highlight=False)
    for item in made.missing:
        err.print(f"  [red]to fill[/red]: {item}", highlight=False)
    if strict and made.missing:
        err.print(f"--strict: {len(made.missing)} parts still to fill")
        raise typer.Exit(1)


def _result_of(path: Path) -> ParseResult:
    """A parse result saved as JSON, or the parse of a report file."""
    if path.suffix.lower() == ".json":
        return ParseResult.model_validate_json(path.read_text(encoding="utf-8"))
    return parse_file(path)


DB = typer.Option("--db", help="database URL (default: sqlite:///xxgk.db, or $XXGK_DB)")


def shown_url(url: str) -> str:
    """A database URL as printed: its password never (postgresql+psycopg://user:***@host/db)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(the database URL given)"


def open_store(db: str | None, aliases: Aliases | None = None) -> Store:
    """The store, or a one-line reason it cannot be opened (with the URL's password hidden)."""
    from sqlalchemy.exc import SQLAlchemyError

    from .store import Store

    try:
        return Store(db, aliases)
    except SQLAlchemyError as e:
        url = db or os.environ.get("XXGK_DB") or "sqlite:///xxgk.db"
        why = str(getattr(e, "orig", None) or e).strip().splitlines()[0]
        for secret in filter(None, [_password(url)]):
            why = why.replace(secret, "***")
        err.print(f"[red]cannot open the database {shown_url(url)}[/red]: {why}", highlight=False)
        raise typer.Exit(2) from None


def _password(url: str) -> str | None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).password  # type: ignore[return-value]
    except ArgumentError:
        return None


@app.command()
def ingest(
    sources: Annotated[list[str], typer.Argument(help="report files, directories or glob patterns")],
    db: Annotated[str | None, DB] = None,
    jobs: Annotated[int | None, JOBS] = None,
    scheduler: Annotated[str | None, SCHEDULER] = None,
    retry_failed: Annotated[bool, RETRY] = False,
    aliases: Annotated[Path | None, ALIASES] = None,
) -> None:
    """Parse reports into the database; files already stored by this parser version are skipped."""
    from .pairing import Aliases
    from .store import StoreLedger

    store = open_store(db, Aliases.load(aliases))
    writer = store.writer()
    changed: list[str] = []

    def keep(outcome: Outcome) -> None:
        if outcome.result is not None:
            data = Path(outcome.path).read_bytes()
            if hashlib.sha256(data).hexdigest() != outcome.digest:  # the bytes stored are the bytes parsed
                err.print(f"[red]{outcome.path}[/red]: changed while it was read; not stored", highlight=False)
                changed.append(outcome.path)
                return
            writer.add(outcome.result, data, Path(outcome.path).name)

    def skip(path: Path, digest: str) -> None:
        name = store.stored_name(digest)
        if name is not None and name != path.name:
            err.print(f"{path}: already stored as {name}", highlight=False)

    def copy(path: Path, original: Outcome) -> None:
        if not original.error:
            err.print(f"{path}: the same content as {original.path}, stored once", highlight=False)

    try:
        tally = run(sources, StoreLedger(store), keep, jobs, scheduler, retry_failed, "ingesting",
                    on_copy=copy, on_skip=skip)
    finally:
        writer.flush()
    for name, twins in writer.twins:
        err.print(f"{name}: 同一机关同一年度另有报告 {'、'.join(twins)}（均保留，以读取更完整的一份对照上下年）",
                  highlight=False)
    for name, stored_as in writer.already:
        if name != stored_as:
            err.print(f"{name}: already stored as {stored_as}", highlight=False)
    failed = tally.failed + len(changed)
    err.print(f"{writer.stored} stored, {tally.copies} copies of other files, "
              f"{tally.skipped + len(writer.already)} already stored, {failed} failed → {shown_url(store.url)}")
    raise typer.Exit(1 if failed else 0)


@app.command()
def export(
    output: Annotated[str, typer.Option("--format", help="csv, xlsx, parquet or json")] = "csv",
    out_file: Annotated[Path | None, typer.Option("--out", help="file to write (default: reports.<format>)")] = None,
    year: Annotated[int | None, typer.Option(help="only this year")] = None,
    agency: Annotated[str | None, typer.Option(help="only agencies whose name contains this")] = None,
    chinese: Annotated[bool, typer.Option("--chinese", help="Chinese column headers")] = False,
    db: Annotated[str | None, DB] = None,
) -> None:
    """One row per report, one column per cell; findings in a second sheet or file."""
    from .store.export import FORMATS_OUT
    from .store.export import export as write

    if output not in FORMATS_OUT:
        err.print(f"--format is one of {', '.join(FORMATS_OUT)}")
        raise typer.Exit(2)
    target = out_file or Path(f"reports.{output}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        paths = write(open_store(db), output, target, year, agency, chinese)
    except OSError as e:
        err.print(f"[red]{target}[/red]: cannot write: {e.strerror or e}", highlight=False)
        raise typer.Exit(1) from None
    err.print("wrote " + ", ".join(map(str, paths)))


@app.command()
def evaluate(
    sources: Annotated[list[str] | None, typer.Argument(help="report files, directories or glob patterns")] = None,
    db: Annotated[str | None, typer.Option("--db", help="evaluate the reports in this database instead")] = None,
    year: Annotated[int | None, typer.Option(help="only this year")] = None,
    indicators: Annotated[Path | None, typer.Option(help="a TOML file of indicators (weights or a whole set)")] = None,
    output: Annotated[str, typer.Option("--format", help="table, json, csv, xlsx or html")] = "table",
    out_file: Annotated[Path | None, typer.Option("--out", help="file to write (json, csv, xlsx, html)")] = None,
    jobs: Annotated[int | None, JOBS] = None,
    scheduler: Annotated[str | None, SCHEDULER] = None,
    aliases: Annotated[Path | None, ALIASES] = None,
) -> None:
    """Score reports by declared indicators and rank them by level and region; every lost point names
    its finding. Reading doubts never cost points: they are listed to verify."""
    from .evaluate import DEFAULT_INDICATORS, evaluate, load_indicators, once_per_agency_year, stored_facts
    from .evaluate.output import to_json, write
    from .pairing import Aliases
    from .show import show_evaluation

    if output not in ("table", "json", "csv", "xlsx", "html"):
        err.print("--format is one of table, json, csv, xlsx, html")
        raise typer.Exit(2)
    if bool(sources) == bool(db):
        err.print("give report files or --db, one of them")
        raise typer.Exit(2)
    try:
        chosen = load_indicators(indicators) if indicators else DEFAULT_INDICATORS
    except (OSError, ValueError) as e:
        err.print(f"--indicators: {e}")
        raise typer.Exit(2) from e
    failed: list[tuple[str, str]] = []
    if db:
        from .store import Store

        ev = evaluate(stored_facts(Store(db), year), chosen)
    else:
        from .audit import audit_batch
        from .batch import executor_for, process_file

        paths = list(expand(sources or []))
        executor = executor_for(jobs if len(paths) > 1 else 1, scheduler)

        def parsed() -> Iterator[Outcome]:
            for outcome in executor.run(process_file, ((str(p), "") for p in paths)):
                if outcome.result is None:
                    failed.append((outcome.path, outcome.error or ""))
                yield outcome

        try:
            known = Aliases.load(aliases)
            checked = audit_batch(parsed(), {str(p): i for i, p in enumerate(paths)}, known)
            ev = evaluate(once_per_agency_year((c.result, c.duplicates) for c in checked
                                               if year is None or c.result.year == year), chosen)
        finally:
            executor.close()
    if output == "table":
        show_evaluation(ev, out)
    elif out_file is None and output == "json":
        print(json.dumps(to_json(ev), ensure_ascii=False, indent=1))
    else:
        dest = out_file or Path(f"evaluation.{output}")
        write(ev, dest, output)
        err.print(f"wrote {dest}: {len(ev.reports)} reports")
    for p, e in failed:
        err.print(f"[red]{p}[/red]: {e}", highlight=False)
    raise typer.Exit(1 if failed else 0)


@app.command()
def serve(
    db: Annotated[str | None, DB] = None,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    workers: Annotated[int | None, typer.Option(help="uploads parsed at once, each in a worker process "
                                                     "(default $XXGK_WORKERS or 2)")] = None,
    queue: Annotated[int | None, typer.Option(help="uploads waiting beyond those; more get 503 "
                                                   "(default $XXGK_QUEUE or 32)")] = None,
    aliases: Annotated[Path | None, ALIASES] = None,
) -> None:
    """The web app and REST API. Writes need the token in $XXGK_TOKEN (unset: read only)."""
    import uvicorn

    from .pairing import Aliases
    from .serve.app import create_app

    token = os.environ.get("XXGK_TOKEN") or None
    store = open_store(db, Aliases.load(aliases))
    err.print(f"xxgk serving {shown_url(store.url)} at http://{host}:{port}/  (API docs: http://{host}:{port}/docs)")
    err.print(f"write token: {token}" if token else "read only: set XXGK_TOKEN to allow uploads and reviews")
    uvicorn.run(create_app(store, token, workers, queue), host=host, port=port, log_level="warning")


@app.command()
def agencies(db: Annotated[str | None, DB] = None) -> None:
    """The agencies in a store: each key with its report years and the names seen, to spot duplicates."""
    from .store import Store

    for key, years, names in Store(db).agency_keys():
        print(f"{key}\t{','.join(map(str, years))}\t{' / '.join(names)}")  # tab-separated: for grep and cut


@app.command()
def version() -> None:
    """Print the version."""
    print(__version__)


def _print_version(value: bool) -> None:
    if value:
        print(__version__)
        raise typer.Exit()


@app.callback()
def options(
    _version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                           help="print the version and exit")] = False,
) -> None:
    """Read, check and compare 政府信息公开工作年度报告."""


def main() -> None:  # pragma: no cover
    app(prog_name="xxgk")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

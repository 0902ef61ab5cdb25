"""`make bench`: speed and memory per input format, against the physical baselines, on this machine;
ingest speed into SQLite and PostgreSQL; the evaluation of a 100k-report store; the audit's recall
and precision on planted errors (xxgk.audit.evaluate); a soak of the web server (xxgk.soak).

It builds its own corpus (the corpus's cell maps with other numbers, in varied layouts, as text,
HTML, DOCX, PDF, and scans: one page, pictures only, read by OCR), then for each format measures
one worker parsing every file (ms per report, peak memory), all cores parsing them (reports per
second), and on the same files, alternating with ours ten files at a time, the baseline: reading
and NFKC-normalising for text, HTML and DOCX; poppler's `pdftotext -layout` for PDF (and for
scans, where it finds no text: OCR is held to its target, ≤ 1 s and ≤ 400 MB a page).

For ingest, on the text reports: storing parse results as `xxgk ingest` does (reports stored per
second, by the main process alone), and `ingest` whole, parsing on all cores and storing (files
per second), each into a new SQLite file and a new PostgreSQL database (a server started here, as
the tests do).
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import hashlib
import json
import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
import zipfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from .batch import LocalExecutor, Outcome, process_file, run_batch
from .compose.layout import PERTURBED
from .compose.render import to_docx, to_html, to_pdf, to_text
from .compose.synth import from_gold, vary
from .result import ParseResult
from .soak import Soak
from .store import Store

COUNTS = {"text": 2000, "html": 800, "docx": 300, "pdf": 60, "scan": 20}
STORED = 100_000  # reports in the synthetic store the evaluation is timed on
SOAK = 200  # uploads to a running server (scaled like the counts; skipped under 10)
TARGETS = {"text": "≤ 10×", "html": "≤ 10×", "docx": "", "pdf": "≤ 1.5×", "scan": "≤ 1 s, 400 MB"}


def _bases(corpus: Path) -> list[ParseResult]:
    return [from_gold(g) for g in sorted(corpus.rglob("*.gold.json"))]


def _write(args: tuple[str, int, str, ParseResult]) -> None:
    kind, i, folder, base = args
    report = vary(base, seed=i)
    layout = list(PERTURBED.values())[i % len(PERTURBED)]
    writer = {"text": lambda: to_text(report, layout).encode("gb18030" if i % 5 == 0 else "utf-8"),
              "html": lambda: to_html(report, layout).encode(), "docx": lambda: to_docx(report, layout),
              "pdf": lambda: to_pdf(report, layout), "scan": lambda: _scanned_page(to_pdf(report, layout))}[kind]
    suffix = {"text": "txt", "scan": "pdf"}.get(kind, kind)
    Path(folder, f"{i:05d}.{suffix}").write_bytes(writer())


def _scanned_page(pdf: bytes, dpi: float = 150) -> bytes:
    """The page holding the 三 table as a scanner gives it: a grey JPEG picture in a PDF, no text
    (one page a report, so its ms/report is OCR's time a page)."""
    import io

    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    page = document[min(1, len(document) - 1)].render(scale=dpi / 72).to_pil().convert("L")
    document.close()
    buf = io.BytesIO()
    page.save(buf, "PDF", resolution=dpi, quality=75)
    return buf.getvalue()


def build(corpus: Path, root: Path, counts: dict[str, int], jobs: int) -> dict[str, list[Path]]:
    bases = _bases(corpus)
    work = []
    for kind, n in counts.items():
        (root / kind).mkdir(parents=True, exist_ok=True)
        work += [(kind, i, str(root / kind), bases[i % len(bases)]) for i in range(n)]
    with ProcessPoolExecutor(jobs) as pool:
        list(pool.map(_write, work, chunksize=8))
    return {kind: sorted((root / kind).iterdir()) for kind in counts}


def _ours(paths: list[str]) -> tuple[float, int]:
    """Seconds to parse all, files that failed."""
    failed = 0
    start = time.perf_counter()
    for p in paths:
        failed += process_file(p).error is not None
    return time.perf_counter() - start, failed


def _paired(kind: str, paths: list[str], chunk: int = 10) -> tuple[float, float, int, int]:
    """In a fresh process: seconds for ours and for the baseline, peak memory (KB), files failed.

    The two alternate every `chunk` files, so that a machine slowed for a while (shared cores)
    slows both alike and their ratio holds.
    """
    _ours(paths[:3])  # imports and caches warm in this process, as in a long batch
    ours = base = 0.0
    failed = 0
    for i in range(0, len(paths), chunk):
        seconds, bad = _ours(paths[i:i + chunk])
        ours += seconds
        failed += bad
        base += _baseline(kind, paths[i:i + chunk])
    return ours, base, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, failed


def _baseline(kind: str, paths: list[str]) -> float:
    start = time.perf_counter()
    for p in paths:
        if kind in ("pdf", "scan"):
            subprocess.run(["pdftotext", "-layout", p, "-"], capture_output=True, check=False)
        elif kind == "docx":
            with zipfile.ZipFile(p) as z:
                unicodedata.normalize("NFKC", z.read("word/document.xml").decode("utf-8"))
        else:
            data = Path(p).read_bytes()
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = data.decode("gb18030")
            unicodedata.normalize("NFKC", text)
    return time.perf_counter() - start


def measure(files: dict[str, list[Path]], jobs: int) -> list[dict[str, float | str]]:
    ctx = multiprocessing.get_context("spawn")
    rows = []
    for kind, paths in files.items():
        names = [str(p) for p in paths]
        with ProcessPoolExecutor(1, mp_context=ctx) as one:
            seconds, base, peak_kb, failed = one.submit(_paired, kind, names).result()
        executor = LocalExecutor(jobs)
        start = time.perf_counter()
        for _ in executor.run(process_file, ((n, "") for n in names)):
            pass
        wall = time.perf_counter() - start
        executor.close()
        rows.append({"format": kind, "reports": len(names), "failed": failed, "per_s": len(names) / wall,
                     "ms": 1000 * seconds / len(names), "peak_mb": peak_kb / 1024, "base_ms": 1000 * base / len(names),
                     "ratio": seconds / base if base else float("inf"), "target": TARGETS[kind]})
    return rows


def ocr_per_page(paths: list[str]) -> dict[str, float]:
    """In a fresh process, one worker: OCR's CPU and wall seconds a page and the peak memory (MB)
    over the scans (one page each), after one page to load the models. CPU time is the process's own,
    so a shared machine's load slows the wall time but not it."""
    process_file(paths[0])
    cpu, wall = time.process_time(), time.perf_counter()
    for p in paths[1:]:
        process_file(p)
    pages = max(1, len(paths) - 1)
    return {"cpu_s": (time.process_time() - cpu) / pages, "wall_s": (time.perf_counter() - wall) / pages,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def show(rows: list[dict], jobs: int, console: Console) -> None:
    table = Table(title=f"xxgk bench — {os.cpu_count()} cores, {jobs} workers")
    for col in ("format", "reports", "failed", f"reports/s ({jobs} workers)", "ms/report (1 worker)",
                "peak MB/worker", "baseline ms/report", "× baseline", "target"):
        table.add_column(col, justify="left" if col == "format" else "right")
    for r in rows:
        table.add_row(r["format"], str(r["reports"]), str(r["failed"]), f"{r['per_s']:.1f}", f"{r['ms']:.1f}",
                      f"{r['peak_mb']:.0f}", f"{r['base_ms']:.2f}", f"{r['ratio']:.1f}", r["target"])
    console.print(table)
    console.print("baselines: text/html read + NFKC; docx unzip + NFKC of document.xml; pdf `pdftotext -layout`;"
                  " scan: one page a report, so ms/report is OCR's time a page")


def synthetic_store(url: str, n: int, seed: int = 0) -> Store:
    """A store of `n` reports with findings, inserted in bulk (no parsing): a province's year, for
    timing what reads a whole store. Agencies of three kinds in 50 cities; findings as audits find them."""
    import random

    from sqlalchemy import insert

    from .store.models import Agency, Finding, Report, Source

    rng = random.Random(seed)
    store = Store(url)
    kinds = ("department", "street", "county_gov")
    now = datetime(2026, 1, 1)
    rules = [("legal.deadline", "warning", "source"), ("requests.row_total", "error", "source"),
             ("values.blank", "warning", "source"), ("form.sections", "warning", "source"),
             ("extraction.unread", "warning", "extraction"), ("years.carried_over", "warning", "source")]
    with store.engine.begin() as c:
        c.execute(insert(Agency), [{"id": i + 1, "name": f"测试{i % 50}市第{i}局", "kind": kinds[i % 3]}
                                   for i in range(n // 2)])
        for lo in range(0, n, 10_000):
            ids = range(lo + 1, min(n, lo + 10_000) + 1)
            c.execute(insert(Source), [{"digest": f"{i:064x}", "name": f"{i}.txt", "kind": "text", "size": 1,
                                        "content": b"", "added": now} for i in ids])
            c.execute(insert(Report), [{"id": i, "digest": f"{i:064x}", "parser_version": "bench",
                                        "agency_id": 1 + i % (n // 2), "source_name": f"{i}.txt",
                                        "agency_name": f"测试{(i % (n // 2)) % 50}市第{i % (n // 2)}局",
                                        "year": 2023 + i % 2, "template": "2021",
                                        "published": None if i % 7 == 0 else "2025-01-20", "result": {},
                                        "parsed": now} for i in ids])
            c.execute(insert(Finding), [{"report_id": i, "rule": rule, "severity": sev, "kind": kind,
                                         "cells": ["requests.new.natural"], "message": "…"}
                                        for i in ids for rule, sev, kind in rules if rng.random() < 0.3])
    return store


def time_evaluation(n: int, root: Path) -> dict[str, float]:
    from .evaluate import evaluate, stored_facts

    start = time.perf_counter()
    store = synthetic_store(f"sqlite:///{root / 'evaluate.db'}", n)
    built = time.perf_counter() - start
    start = time.perf_counter()
    ev = evaluate(stored_facts(store))
    return {"reports": len(ev.reports), "build_s": built, "evaluate_s": time.perf_counter() - start,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


@contextlib.contextmanager
def temporary_postgres() -> Iterator[str | None]:
    """A PostgreSQL server of our own on a unix socket in a temporary folder (Debian's postgresql):
    its URL with `{db}` for the database's name; None when it is not installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        yield None
        return
    bindir = Path(found[-1]).parent
    root = Path(tempfile.mkdtemp(prefix="xxgk-bench-pg-"))
    data, sock = root / "pgdata", root / "pgsock"
    sock.mkdir(parents=True)
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        for p in (root, sock):
            shutil.chown(p, "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_postgres, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                    "--no-sync"], check=True, capture_output=True)
    subprocess.run([*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l", str(root / "pg.log"), "-o",
                    f"-k {sock} -c listen_addresses='' -p 54330", "start"], check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@/{{db}}?host={sock}&port=54330"
    finally:
        subprocess.run([*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def _new_database(kind: str, root: Path, pg: str | None, name: str) -> str | None:
    if kind == "sqlite":
        return f"sqlite:///{root / f'{name}.db'}"
    if pg is None:
        return None
    from sqlalchemy import create_engine

    engine = create_engine(pg.format(db="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.exec_driver_sql(f"CREATE DATABASE {name}")
    engine.dispose()
    return pg.format(db=name)


def measure_ingest(paths: list[Path], jobs: int, root: Path) -> list[dict[str, float | str]]:
    """Per database: reports stored per second from parse results (as `ingest`'s main process
    stores them: read, hash, batched inserts), and files per second through `ingest` whole."""
    from .store import Store, StoreLedger

    names = [str(p) for p in paths]
    executor = LocalExecutor(jobs)
    outcomes = [o for o in executor.run(process_file, ((n, "") for n in names)) if o.result is not None]
    executor.close()
    rows = []
    with temporary_postgres() as pg:
        for kind in ("sqlite", "postgresql"):
            url = _new_database(kind, root, pg, "store_only")
            if url is None:
                rows.append({"database": f"{kind} (not installed)", "reports": 0, "stored_per_s": float("nan"),
                             "stored_per_cpu_s": float("nan"), "ingest_per_s": float("nan")})
                continue
            store = Store(url)
            writer = store.writer()
            start, cpu = time.perf_counter(), time.process_time()
            for o in outcomes:
                data = Path(o.path).read_bytes()
                if hashlib.sha256(data).hexdigest() == o.digest:
                    writer.add(o.result, data, Path(o.path).name)  # type: ignore[arg-type]
            writer.flush()
            stored = len(outcomes) / (time.perf_counter() - start)
            per_cpu = len(outcomes) / (time.process_time() - cpu)
            store.engine.dispose()
            store = Store(_new_database(kind, root, pg, "whole"))
            writer = store.writer()

            def keep(o: Outcome, writer=writer) -> None:  # type: ignore[no-untyped-def]
                if o.result is not None:
                    writer.add(o.result, Path(o.path).read_bytes(), Path(o.path).name)

            executor = LocalExecutor(jobs)
            start = time.perf_counter()
            run_batch(paths, StoreLedger(store), keep, executor)
            writer.flush()
            whole = len(paths) / (time.perf_counter() - start)
            executor.close()
            store.engine.dispose()
            rows.append({"database": kind, "reports": len(outcomes), "stored_per_s": stored,
                         "stored_per_cpu_s": per_cpu, "ingest_per_s": whole})
    return rows


def show_ingest(rows: list[dict], jobs: int, console: Console) -> None:
    table = Table(title=f"xxgk ingest — {os.cpu_count()} cores, {jobs} workers (text reports)")
    for col in ("database", "reports", "stored/s (main process)", "stored per CPU-second",
                f"ingest files/s ({jobs} workers)", "target"):
        table.add_column(col, justify="left" if col == "database" else "right")
    for r in rows:
        table.add_row(r["database"], str(r["reports"]), f"{r['stored_per_s']:.0f}", f"{r['stored_per_cpu_s']:.0f}",
                      f"{r['ingest_per_s']:.1f}", "stored ≥ 200/s")
    console.print(table)
    console.print(f"load average during the run: {os.getloadavg()[0]:.1f} (a shared machine: wall-clock rates "
                  "fall with it; per CPU-second is the main process's own time, PostgreSQL's server not counted)")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="measure xxgk's speed and memory per input format")
    ap.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "corpus")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply the number of reports per format")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    ap.add_argument("--ingest-only", action="store_true", help="measure ingest only")
    args = ap.parse_args(argv)
    console = Console(width=150)
    counts = {k: max(2, int(v * args.scale)) for k, v in COUNTS.items()}
    if args.ingest_only:
        counts = {"text": counts["text"]}
    with tempfile.TemporaryDirectory(prefix="xxgk-bench-") as tmp:
        start = time.perf_counter()
        files = build(args.corpus, Path(tmp), counts, args.jobs)
        console.print(f"built {sum(counts.values())} reports in {time.perf_counter() - start:.0f} s")
        rows = measure(files, args.jobs) if not args.ingest_only else []
        if rows:
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as one:
                o = one.submit(ocr_per_page, [str(p) for p in files["scan"]]).result()
        ingest = measure_ingest(files["text"], args.jobs, Path(tmp))
        stored = max(100, int(STORED * args.scale))
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as one:
            evaluation = one.submit(time_evaluation, stored, Path(tmp)).result()
    if rows:
        show(rows, args.jobs, console)
        console.print(f"OCR: {o['cpu_s']:.2f} s CPU, {o['wall_s']:.2f} s wall a page, {o['peak_mb']:.0f} MB peak "
                      f"(one worker; target ≤ 1 s, ≤ 400 MB a page)")
    show_ingest(ingest, args.jobs, console)
    console.print(f"evaluate: {evaluation['reports']:,} stored reports scored and ranked in "
                  f"{evaluation['evaluate_s']:.1f} s (store built in bulk in {evaluation['build_s']:.0f} s; "
                  f"peak {evaluation['peak_mb']:.0f} MB)")
    if args.json:
        args.json.write_text(json.dumps({"formats": rows, "ocr": o if rows else None, "ingest": ingest,
                                         "evaluate": evaluation}, indent=1),
                             encoding="utf-8")
    if args.ingest_only:
        return
    from .audit.evaluate import evaluate
    from .audit.evaluate import show as show_audit

    # and how often the audit is right (every plant at full scale; a few per gold map for a quick run)
    show_audit(evaluate(args.corpus, limit=None if args.scale >= 1 else max(1, round(100 * args.scale)),
                        jobs=args.jobs, with_files=args.scale >= 1), console)
    uploads = round(SOAK * args.scale)
    if uploads >= 10:  # the server under many uploads at once, a tenth of them hostile (xxgk.soak)
        from .soak import run

        soak = run(args.corpus, uploads=uploads, at_once=min(20, uploads), hostile=uploads // 10)
        show_soak(soak, console)
        if soak.problems:
            raise SystemExit(1)


def show_soak(soak: Soak, console: Console) -> None:
    table = Table(title=f"xxgk serve soak — {soak.uploads} uploads, {soak.at_once} at a time, {soak.hostile} hostile")
    for col in ("uploads/s", "stored (good files)", "refused with reason (hostile)", "503 retried",
                "server RSS start MB", "peak MB", "end MB", "workers peak MB", "left running"):
        table.add_column(col, justify="right")
    table.add_row(f"{soak.per_s:.2f}", f"{soak.stored}/{soak.good}", f"{soak.refused}/{soak.hostile}", str(soak.busy),
                  f"{soak.start_rss_mb:.0f}", f"{soak.peak_rss_mb:.0f}", f"{soak.end_rss_mb:.0f}",
                  f"{soak.peak_workers_mb:.0f}", str(len(soak.left_running)))
    console.print(table)
    for problem in soak.problems:
        console.print(f"[red]soak:[/red] {problem}", highlight=False)


if __name__ == "__main__":
    main(sys.argv[1:])

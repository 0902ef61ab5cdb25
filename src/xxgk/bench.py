"""`make bench`: speed and memory per input format, against the physical baselines, on this machine;
ingest speed into SQLite and PostgreSQL; the evaluation of a 100k-report store; the audit's recall
and precision on planted errors (xxgk.audit.evaluate); a soak of the web server (xxgk.soak).

It builds its own corpus (the corpus's cell maps with other numbers, in varied layouts, as text,
HTML, DOCX, PDF, and scans: one page, pictures only, read by OCR), then for each format measures
one worker parsing every file (ms per report, peak memory), all cores parsing them (reports per
second), and on the same files, alternating with ours ten files at a time, the baseline: reading
and NFKC-normalising for text, HTML and DOCX; poppler's `pdftotext -layout` for PDF (and for
scans, where it finds no text: OCR is held to its target, ≤ 1 s and ≤ 400 MB a page).
Times are wall clock and CPU time (the machine is shared: CPU time is what one free core gives).
Each target (`TARGETS`) gets a "× target" figure (≥ 1 is met) and a line saying met or not.
`--quick` measures a tenth of the corpus, for use while developing.

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
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from .batch import LocalExecutor, Outcome, process_file, run_batch, settle_worker
from .ingest import cores

if TYPE_CHECKING:  # imported where used: OCR's memory is measured in a process importing this module,
    # and a batch worker imports none of these (WeasyPrint, SQLAlchemy: 47 MB)
    from .result import ParseResult
    from .soak import Soak
    from .store import Store

COUNTS = {"text": 2000, "html": 800, "docx": 300, "pdf": 60, "scan": 20}
STORED = 100_000  # reports in the synthetic store the evaluation is timed on
SOAK = 200  # uploads to a running server (scaled like the counts; skipped under 10)


@dataclass(frozen=True)
class Target:
    """A number the bench must reach: `measured(row)` against `bound`, at least or at most."""

    name: str  # what is measured, as printed
    table: str  # "formats" or "ingest": the rows it is read from
    key: str  # the row's format or database
    measured: Callable[[dict], float]
    bound: float
    at_least: bool
    unit: str = ""

    def times(self, value: float) -> float:
        """How far past the target: ≥ 1 is met (value/bound for at least, bound/value for at most)."""
        if self.at_least:
            return value / self.bound
        return self.bound / value if value > 0 else float("inf")

    def wanted(self) -> str:
        return f"{'≥' if self.at_least else '≤'} {self.bound:,g}{self.unit}"


TARGETS = (
    Target("text: reports/s per worker (CPU)", "formats", "text", lambda r: 1000 / r["cpu_ms"], 1000, True),
    Target("pdf: × pdftotext -layout (CPU)", "formats", "pdf", lambda r: r["cpu_ratio"], 1.5, False, "×"),
    Target("scan: OCR s/page (wall: OCR runs threads)", "ocr", "scan", lambda r: r["wall_s"], 1.0, False, "s"),
    Target("scan: OCR peak MB", "ocr", "scan", lambda r: r["peak_mb"], 400, False, "MB"),
    # stored/s by the wall clock: per CPU-second of our process would leave PostgreSQL's server out
    Target("ingest sqlite: stored/s", "ingest", "sqlite", lambda r: r["stored_per_s"], 200, True),
    Target("ingest postgresql: stored/s", "ingest", "postgresql", lambda r: r["stored_per_s"], 200, True),
)


def verdicts(numbers: dict[str, list[dict]]) -> list[dict[str, object]]:
    """Each target with a row measured: its value, × target, and whether it is met."""
    found = []
    for t in TARGETS:
        row = next((r for r in numbers.get(t.table, []) if r.get("format", r.get("database")) == t.key), None)
        if row is None or not row.get("reports"):
            continue
        value = t.measured(row)
        found.append({"target": t.name, "table": t.table, "key": t.key, "wanted": t.wanted(), "value": value,
                      "times": t.times(value), "met": t.times(value) >= 1})
    return found


def _bases(corpus: Path) -> list[ParseResult]:
    from .compose.synth import from_gold

    return [from_gold(g) for g in sorted(corpus.rglob("*.gold.json"))]


def _write(args: tuple[str, int, str, ParseResult]) -> None:
    from .compose.layout import PERTURBED
    from .compose.render import to_docx, to_html, to_pdf, to_text
    from .compose.synth import vary

    kind, i, folder, base = args
    report = vary(base, seed=i)
    layout = list(PERTURBED.values())[i % len(PERTURBED)]
    writer = {"text": lambda: to_text(report, layout).encode("gb18030" if i % 5 == 0 else "utf-8"),
              "html": lambda: to_html(report, layout).encode(), "docx": lambda: to_docx(report, layout),
              "pdf": lambda: to_pdf(report, layout), "scan": lambda: _scanned_page(to_pdf(report, layout))}[kind]
    suffix = {"text": "txt", "scan": "pdf"}.get(kind, kind)
    Path(folder, f"{i:05d}.{suffix}").write_bytes(writer())


def _scanned_page(pdf: bytes, dpi: float = 150) -> bytes:
    """The second page (most of the 三 table) as a scanner gives it: a grey JPEG picture in a PDF,
    no text (one page a report, so its ms/report is OCR's time a page). Where that page holds no
    table's title (in a three-page layout, only the middle of a table: read in a fifth of the time
    as no report, which flattered OCR's time a page), the page where the 三 table begins."""
    import io

    import pypdfium2

    from .formats import FORMATS

    titles = {t.id: t.title for t in FORMATS["2021"].tables}
    document = pypdfium2.PdfDocument(pdf)
    texts = [document[n].get_textpage().get_text_range().replace(" ", "") for n in range(len(document))]
    at = min(1, len(document) - 1)
    if not any(title in texts[at] for title in titles.values()):
        at = next((n for n, text in enumerate(texts) if titles["requests"] in text), at)
    page = document[at].render(scale=dpi / 72).to_pil().convert("L")
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


def _cpu() -> float:
    """CPU seconds of this process and of the children it waited for (pdftotext)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _ours(paths: list[str]) -> tuple[float, float, int]:
    """Seconds (wall, CPU) to parse all, files that failed."""
    failed = 0
    start, cpu = time.perf_counter(), _cpu()
    for p in paths:
        failed += process_file(p).error is not None
    return time.perf_counter() - start, _cpu() - cpu, failed


def _paired(kind: str, paths: list[str], chunk: int = 10) -> dict[str, float]:
    """In a fresh process: seconds (wall and CPU) for ours and for the baseline, peak memory (KB),
    files failed.

    The two alternate every `chunk` files, so that a machine slowed for a while (shared cores)
    slows both alike and their ratio holds.
    """
    settle_worker()  # as a batch's worker process starts
    _ours(paths[:3])  # imports and caches warm in this process, as in a long batch
    got = dict.fromkeys(("ours", "ours_cpu", "base", "base_cpu", "failed"), 0.0)
    for i in range(0, len(paths), chunk):
        seconds, cpu, bad = _ours(paths[i:i + chunk])
        got["ours"] += seconds
        got["ours_cpu"] += cpu
        got["failed"] += bad
        seconds, cpu = _baseline(kind, paths[i:i + chunk])
        got["base"] += seconds
        got["base_cpu"] += cpu
    got["peak_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return got


def _baseline(kind: str, paths: list[str]) -> tuple[float, float]:
    """Seconds (wall, CPU with pdftotext's own) the baseline takes on these files."""
    start, cpu = time.perf_counter(), _cpu()
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
    return time.perf_counter() - start, _cpu() - cpu


def measure(files: dict[str, list[Path]], jobs: int) -> list[dict[str, float | str]]:
    ctx = multiprocessing.get_context("spawn")
    rows = []
    for kind, paths in files.items():
        names = [str(p) for p in paths]
        with ProcessPoolExecutor(1, mp_context=ctx) as one:
            got = one.submit(_paired, kind, names).result()
        executor = LocalExecutor(jobs)
        start = time.perf_counter()
        for _ in executor.run(process_file, ((n, "") for n in names)):
            pass
        wall = time.perf_counter() - start
        executor.close()
        n = len(names)
        rows.append({"format": kind, "reports": n, "failed": int(got["failed"]), "per_s": n / wall,
                     "ms": 1000 * got["ours"] / n, "cpu_ms": 1000 * got["ours_cpu"] / n,
                     "peak_mb": got["peak_kb"] / 1024, "base_ms": 1000 * got["base"] / n,
                     "base_cpu_ms": 1000 * got["base_cpu"] / n,
                     "ratio": got["ours"] / got["base"] if got["base"] else float("inf"),
                     "cpu_ratio": got["ours_cpu"] / got["base_cpu"] if got["base_cpu"] else float("inf")})
    return rows


def ocr_per_page(paths: list[str]) -> dict[str, float]:
    """In a fresh process, one worker (a lone parse: OCR on every core): OCR's CPU and wall seconds a
    page and the peak memory (MB) over the scans (one page each), after one page to load the models.
    CPU time is the process's own (all its threads'), so a shared machine's load slows the wall time
    but not it. (A batch's workers read a page on a core each: the formats table's scan row.)"""
    from .ingest import ocr

    settle_worker()
    process_file(paths[0])
    cpu, wall = time.process_time(), time.perf_counter()
    for p in paths[1:]:
        process_file(p)
    pages = max(1, len(paths) - 1)
    return {"cpu_s": (time.process_time() - cpu) / pages, "wall_s": (time.perf_counter() - wall) / pages,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "threads": ocr.threads()}


def _times(table: str, key: str, verdict: list[dict]) -> str:
    """A row's "× target" cell: the worst of its targets (≥ 1 is met)."""
    mine = [v for v in verdict if v["table"] == table and v["key"] == key]
    return "—" if not mine else f"{min(v['times'] for v in mine):.2f}"


def _ratio(x: float) -> str:
    return f"{x:.2f}" if x < 10 else f"{x:.0f}"


def _wanted(table: str, key: str) -> str:
    return ", ".join(t.wanted() for t in TARGETS if t.table == table and t.key == key) or "—"


def show(rows: list[dict], jobs: int, console: Console, verdict: list[dict] | None = None) -> None:
    verdict = verdicts({"formats": rows}) if verdict is None else verdict
    table = Table(title=f"xxgk bench — {os.cpu_count()} cores, {jobs} workers, {_build()}")
    for col in ("format", "reports", "failed", f"reports/s ({jobs} workers)", "ms/report (1 worker)",
                "CPU ms/report", "peak MB/worker", "baseline CPU ms", "× baseline CPU (wall)", "target",
                "× target"):
        table.add_column(col, justify="left" if col == "format" else "right")
    for r in rows:
        table.add_row(r["format"], str(r["reports"]), str(r["failed"]), f"{r['per_s']:.1f}", f"{r['ms']:.2f}",
                      f"{r['cpu_ms']:.2f}", f"{r['peak_mb']:.0f}", f"{r['base_cpu_ms']:.2f}",
                      f"{_ratio(r['cpu_ratio'])} ({_ratio(r['ratio'])})",
                      _wanted("formats", r["format"]), _times("formats", r["format"], verdict))
    console.print(table)
    console.print("baselines: text/html read + NFKC; docx unzip + NFKC of document.xml; pdf `pdftotext -layout`"
                  " (its CPU counted with its process's); scan: one page a report, so ms/report is OCR's time a"
                  " page. CPU time is what one free core gives; wall clock falls with the shared machine's load."
                  " × target ≥ 1 is met.")


def _build() -> str:
    """How the extraction runs here: compiled by mypyc or pure Python (xxgk.compiled), on which
    Python (a shared-library build without optimisation is ~10 % slower: scripts/setup.sh)."""
    from . import compiled

    how = "extraction pure Python" if compiled.pure() else "extraction compiled by mypyc"
    return f"{how}, Python {platform.python_version()} ({os.path.realpath(sys.executable)})"


def show_verdicts(verdict: list[dict], console: Console) -> None:
    """One line per target: met or not."""
    for v in verdict:
        mark = "[green]met[/green]" if v["met"] else "[red]NOT met[/red]"
        console.print(f"target {v['target']}: {v['value']:,.2f} (wanted {v['wanted']}) — {mark}, "
                      f"{v['times']:.2f}× target", highlight=False)


def synthetic_store(url: str, n: int, seed: int = 0) -> Store:
    """A store of `n` reports with findings, inserted in bulk (no parsing): a province's year, for
    timing what reads a whole store. Agencies of three kinds in 50 cities; findings as audits find them."""
    import random

    from sqlalchemy import insert

    from .store import Store
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


# ---------------------------------------------------------------- pages of the web app over a large store
PAGE_TARGET_MS = 200  # p95 of each page
PAGE_SAMPLES = 30  # requests timed per page (after one not timed)


def page_store(url: str, n: int, corpus: Path, seed: int = 0) -> Store:
    """`synthetic_store` with a cell map for every report: the 2021 gold maps of the corpus with
    other numbers (`vary`), inserted in bulk as cells rows and as the report's result (no parsing)."""
    import random

    from .compose.synth import vary
    from .store.store import _json

    store = synthetic_store(url, n, seed)
    bases = [b for b in _bases(corpus) if b.template == "2021"]
    maps = [vary(bases[k % len(bases)], seed=k) for k in range(24)]
    rng = random.Random(seed)
    with store.engine.begin() as c:
        raw = c.connection.dbapi_connection
        cur = raw.cursor()  # type: ignore[union-attr]
        rows = cur.execute("SELECT id, source_name, agency_name, year FROM reports ORDER BY id").fetchall()
        for lo in range(0, len(rows), 5_000):
            chunk = rows[lo:lo + 5_000]
            cells, results = [], []
            for rid, source, agency, year in chunk:
                base = maps[rng.randrange(len(maps))]
                cells += [(rid, k, v, v is None, None, None) for k, v in base.cells.items()]
                results.append((_json({"source": source, "agency": agency, "year": year, "template": "2021",
                                       "variants": base.variants, "cells": base.cells}), rid))
            cur.executemany("INSERT INTO cells (report_id, key, value, blank, inferred, provenance) "
                            "VALUES (?, ?, ?, ?, ?, ?)", cells)
            cur.executemany("UPDATE reports SET result = ? WHERE id = ?", results)
    return store


def time_pages(n: int, root: Path, corpus: Path, samples: int = PAGE_SAMPLES) -> dict[str, float]:
    """p95 (ms) of the list, a report, an agency, the overview and /regions over a store of `n`
    reports, each page asked `samples` times (other reports and agencies each time) in process."""



    start = time.perf_counter()
    store = page_store(f"sqlite:///{root / 'pages.db'}", n, corpus)
    return {"reports": n, "build_s": time.perf_counter() - start, **page_timings(store, n, samples)}


def page_timings(store: Store, n: int, samples: int = PAGE_SAMPLES) -> dict[str, float]:
    """{page: p95 ms, page_cpu: p95 of this process's CPU ms} over a store of `n` reports."""
    import random
    import statistics

    from fastapi.testclient import TestClient
    from sqlalchemy import select

    from .serve.app import create_app
    from .store.models import Agency

    with store.session() as s:
        agencies = list(s.scalars(select(Agency.name)))
    rng = random.Random(1)
    client = TestClient(create_app(store, None))
    pages = {"list": lambda: f"/reports?page={rng.randint(1, max(1, n // 100))}",
             "report": lambda: f"/reports/{rng.randint(1, n)}",
             "agency": lambda: f"/agencies/{rng.choice(agencies)}",
             "overview": lambda: "/", "regions": lambda: "/regions"}
    out: dict[str, float] = {}
    for name, path in pages.items():
        client.get(path())  # the first: caches warm
        times, cpu = [], []
        for _ in range(samples):
            t, c = time.perf_counter(), time.process_time()
            response = client.get(path())
            times.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{name}: {response.status_code} {response.text[:200]}")
        out[name] = statistics.quantiles(times, n=20)[18]  # p95
        out[f"{name}_cpu"] = statistics.quantiles(cpu, n=20)[18]  # of this process's CPU: the machine's load aside
    return out


def bench_pages(n: int, corpus: Path, console: Console) -> dict[str, float]:
    """The page timings in a process of their own (its own memory, no worker pools of the others)."""
    with tempfile.TemporaryDirectory(prefix="xxgk-pages-") as tmp, \
            ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as one:
        pages = one.submit(time_pages, n, Path(tmp), corpus).result()
    show_pages(pages, console)
    return pages


def show_pages(pages: dict[str, float], console: Console) -> None:
    table = Table(title=f"xxgk serve pages — p95 over {PAGE_SAMPLES} requests, {int(pages['reports']):,} stored "
                        f"reports (built in bulk in {pages['build_s']:.0f} s); target < {PAGE_TARGET_MS} ms")
    for col in ("page", "p95 ms", "p95 CPU ms", "target"):
        table.add_column(col, justify="right")
    for name in ("list", "report", "agency", "overview", "regions"):
        ok = pages[name] < PAGE_TARGET_MS
        table.add_row(name, f"{pages[name]:.0f}", f"{pages[name + '_cpu']:.0f}",
                      "[green]met[/green]" if ok else "[red]missed[/red]")
    console.print(table)


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
    verdict = verdicts({"ingest": rows})
    for col in ("database", "reports", "stored/s (main process)", "stored per CPU-second",
                f"ingest files/s ({jobs} workers)", "target", "× target"):
        table.add_column(col, justify="left" if col == "database" else "right")
    for r in rows:
        table.add_row(r["database"], str(r["reports"]), f"{r['stored_per_s']:.0f}", f"{r['stored_per_cpu_s']:.0f}",
                      f"{r['ingest_per_s']:.1f}", "stored ≥ 200/s",
                      _times("ingest", r["database"], verdict))
    console.print(table)
    console.print(f"load average during the run: {os.getloadavg()[0]:.1f} (a shared machine: wall-clock rates "
                  "fall with it; per CPU-second is the main process's own time, PostgreSQL's server not counted)")


def options(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="measure xxgk's speed and memory per input format")
    ap.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "corpus")
    ap.add_argument("--scale", type=float, default=None, help="multiply the number of reports per format")
    ap.add_argument("--quick", action="store_true", help="a tenth of the corpus (--scale 0.1), while developing")
    ap.add_argument("--jobs", type=int, default=cores())
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    ap.add_argument("--ingest-only", action="store_true", help="measure ingest only")
    ap.add_argument("--pages-only", action="store_true", help="time the web pages over a large store only")
    args = ap.parse_args(argv)
    if args.scale is None:
        args.scale = 0.1 if args.quick else 1.0
    elif args.quick:
        ap.error("--quick is --scale 0.1: give one of them")
    return args


def main(argv: list[str] | None = None) -> None:
    args = options(argv)
    console = Console(width=150)
    if args.pages_only:
        pages = bench_pages(max(100, int(STORED * args.scale)), args.corpus, console)
        if args.json:
            args.json.write_text(json.dumps({"pages": pages}, indent=1), encoding="utf-8")
        return
    # OCR's time a page over three pages at least (its first loads the models and is not counted)
    counts = {k: max(4 if k == "scan" else 2, int(v * args.scale)) for k, v in COUNTS.items()}
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
    verdict = verdicts({"formats": rows, "ingest": ingest,
                        "ocr": [{"format": "scan", "reports": len(files["scan"]), **o}] if rows else []})
    if rows:
        show(rows, args.jobs, console, verdict)
        console.print(f"OCR: {o['cpu_s']:.2f} s CPU, {o['wall_s']:.2f} s wall a page, {o['peak_mb']:.0f} MB peak "
                      f"(one worker, a fresh process, {o['threads']} OCR threads; target ≤ 1 s, ≤ 400 MB a page)")
    show_ingest(ingest, args.jobs, console)
    console.print(f"evaluate: {evaluation['reports']:,} stored reports scored and ranked in "
                  f"{evaluation['evaluate_s']:.1f} s (store built in bulk in {evaluation['build_s']:.0f} s; "
                  f"peak {evaluation['peak_mb']:.0f} MB)")
    show_verdicts(verdict, console)
    if args.json:
        args.json.write_text(json.dumps({"formats": rows, "ocr": o if rows else None, "ingest": ingest,
                                         "evaluate": evaluation, "targets": verdict, "build": _build()}, indent=1),
                             encoding="utf-8")
    if args.ingest_only:
        return
    bench_pages(stored, args.corpus, console)
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

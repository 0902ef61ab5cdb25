"""`make bench`: speed and memory per input format, against the physical baselines, on this machine.

It builds its own corpus (the corpus's cell maps with other numbers, in varied layouts, as text,
HTML, DOCX, PDF, and scans: one page, pictures only, read by OCR), then for each format measures
one worker parsing every file (ms per report, peak memory), all cores parsing them (reports per
second), and on the same files, alternating with ours ten files at a time, the baseline: reading
and NFKC-normalising for text, HTML and DOCX; poppler's `pdftotext -layout` for PDF (and for
scans, where it finds no text: OCR is held to its target, ≤ 1 s and ≤ 400 MB a page).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
import unicodedata
import zipfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from rich.console import Console
from rich.table import Table

from .batch import LocalExecutor, process_file
from .compose.layout import PERTURBED
from .compose.render import to_docx, to_html, to_pdf, to_text
from .compose.synth import from_gold, vary
from .result import ParseResult

COUNTS = {"text": 2000, "html": 800, "docx": 300, "pdf": 60, "scan": 20}
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


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="measure xxgk's speed and memory per input format")
    ap.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "corpus")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply the number of reports per format")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    args = ap.parse_args(argv)
    console = Console(width=150)
    counts = {k: max(2, int(v * args.scale)) for k, v in COUNTS.items()}
    with tempfile.TemporaryDirectory(prefix="xxgk-bench-") as tmp:
        start = time.perf_counter()
        files = build(args.corpus, Path(tmp), counts, args.jobs)
        console.print(f"built {sum(counts.values())} reports in {time.perf_counter() - start:.0f} s")
        rows = measure(files, args.jobs)
    show(rows, args.jobs, console)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])

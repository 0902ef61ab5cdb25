"""Batches: bad files listed and skipped, a SIGKILL survived, the same results on a Dask cluster."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

from xxgk.compose.render import to_docx, to_html, to_text
from xxgk.compose.synth import vary

from .conftest import REAL, REPO
from .test_readers import GOLDS, from_gold

XXGK = str(REPO / ".venv" / "bin" / "xxgk")
LEDGER = ".xxgk-ledger.sqlite"


def make_reports(folder: Path, n: int) -> list[Path]:
    """n distinct valid reports: the corpus's cell maps with other numbers, as text, HTML and DOCX."""
    folder.mkdir(parents=True, exist_ok=True)
    bases = [from_gold(g) for g in GOLDS]
    paths = []
    for i in range(n):
        report = vary(bases[i % len(bases)], seed=i)
        kind = ("txt", "html", "txt", "docx")[i % 4]
        encoding = "gb18030" if i % 8 == 2 else "utf-8"
        data = (to_text(report).encode(encoding) if kind == "txt" else to_html(report).encode() if kind == "html"
                else to_docx(report))
        path = folder / f"report-{i:03d}.{kind}"
        path.write_bytes(data)
        paths.append(path)
    return paths


def zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"\0" * (300 * 1024 * 1024))
    return buf.getvalue()


def bad_files(folder: Path) -> dict[str, str]:
    """Ten bad inputs and a word of the reason each must be given."""
    pdf = (REAL / "hongze-2024.pdf").read_bytes()
    files = {
        "empty.txt": (b"", "empty"),
        "garbage.bin.txt": (bytes(range(256)) * 64, "binary"),
        "truncated.pdf": (pdf[: len(pdf) // 4], "PDF"),
        "bomb.docx": (zip_bomb(), "200 MB"),
        "scan.jpg.pdf": (b"\x89PNG\r\n\x1a\n" + b"\0" * 2000, "unreadable image"),
        "minutes.txt": ("关于召开2024年第一季度安全生产工作会议的通知\n各科室：定于3月5日召开会议。".encode(), "not a"),
        "deep.html": (("<div>" * 10000 + "x" + "</div>" * 10000).encode(), "nested too deeply"),  # refused, saying why
        "renamed.doc": (_xlsx(), "not a report"),  # a spreadsheet named .doc: its content says zip
        "cut.docx": (to_docx(from_gold(GOLDS[0]))[:3000], "corrupt"),
        "news.html": ("<html><body><p>今日新闻</p></body></html>".encode(), "not a"),
    }
    for name, (data, _) in files.items():
        (folder / name).write_bytes(data)
    return {name: why for name, (_, why) in files.items()}


def _xlsx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    return buf.getvalue()


def run(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([XXGK, *args], capture_output=True, text=True, **kw)  # type: ignore[call-overload]


def test_200_files_with_10_bad_ones(tmp_path: Path) -> None:
    src = tmp_path / "in"
    good = make_reports(src, 190)
    reasons = bad_files(src)
    out = tmp_path / "out"
    proc = run("parse", str(src), "--out", str(out), "--jobs", "2")
    assert proc.returncode == 1
    assert sorted(p.name for p in out.glob("*.json")) == sorted(f"{p.name}.json" for p in good)
    with open(out / "errors.csv", encoding="utf-8") as f:
        errors = {Path(row["file"]).name: row["error"] for row in csv.DictReader(f)}
    assert set(errors) == set(reasons)
    for name, why in reasons.items():
        assert why in errors[name], (name, errors[name])
    assert "190 parsed" in proc.stderr and "10 failed" in proc.stderr


def test_a_batch_converts_its_doc_rtf_and_odt_files_in_one_libreoffice_run(tmp_path: Path) -> None:
    src, work = tmp_path / "in", tmp_path / "work"
    src.mkdir()
    gold = from_gold(REAL / "huaian-2024.gold.json")
    (work / "report.docx").parent.mkdir()
    (work / "report.docx").write_bytes(to_docx(gold))
    for kind in ("doc", "rtf", "odt"):
        subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--convert-to",
                        kind, "--outdir", str(work), str(work / "report.docx")], check=True, capture_output=True,
                       timeout=300)
        (work / f"report.{kind}").rename(src / f"{kind}-report.{kind}")
    from xxgk.batch import convert_legacy_word

    assert len(convert_legacy_word(sorted(src.iterdir()), tmp_path / "converted")) == 3  # told by content
    out = tmp_path / "out"
    proc = run("parse", str(src), "--out", str(out), "--jobs", "2")
    assert proc.returncode == 0, proc.stderr
    for kind in ("doc", "rtf", "odt"):
        got = json.loads((out / f"{kind}-report.{kind}.json").read_text(encoding="utf-8"))
        assert got["cells"] == gold.cells, kind


def test_a_batch_killed_midway_resumes_and_stores_every_file_once(tmp_path: Path) -> None:
    src = tmp_path / "in"
    reports = make_reports(src, 160)
    out = tmp_path / "out"
    proc = subprocess.Popen([XXGK, "parse", str(src), "--out", str(out), "--jobs", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while len(list(out.glob("*.json"))) < 10 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.01)
    assert proc.poll() is None, "finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    first = len(list(out.glob("*.json")))
    assert 10 <= first < 160
    again = run("parse", str(src), "--out", str(out), "--jobs", "2")
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in out.glob("*.json")) == sorted(f"{p.name}.json" for p in reports)
    assert not list(out.glob(".*.tmp*"))
    with sqlite3.connect(out / LEDGER) as db:
        rows = db.execute("SELECT path FROM done").fetchall()
    assert len(rows) == len({r[0] for r in rows}) == 160
    skipped = int(again.stderr.split(" already done")[0].rsplit(" ", 1)[-1])
    assert skipped >= first - 4  # at most the files in flight at the kill are done again
    for path in reports[:10]:
        json.loads((out / f"{path.name}.json").read_text(encoding="utf-8"))  # whole, never half-written


def test_dask_local_cluster_gives_the_local_results(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    src = tmp_path / "in"
    make_reports(src, 24)
    local, remote = tmp_path / "local", tmp_path / "dask"
    assert run("parse", str(src), "--out", str(local), "--jobs", "2").returncode == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        proc = run("parse", str(src), "--out", str(remote), "--scheduler", c.scheduler_address)
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in local.glob("*.json"))
    assert names == sorted(p.name for p in remote.glob("*.json")) and len(names) == 24
    for name in names:
        a, b = (json.loads((d / name).read_text(encoding="utf-8")) for d in (local, remote))
        assert (a["cells"], a["findings"], a["agency"]) == (b["cells"], b["findings"], b["agency"])


def _troublesome(path: str, digest: str) -> object:
    """A per-file function whose worker dies on one file and is stuck past SIGALRM's reach on another."""
    from xxgk.batch import Outcome

    if path == "dies":
        os.kill(os.getpid(), signal.SIGKILL)  # as a segfault in a C library would
    if path == "stuck":
        signal.signal(signal.SIGALRM, signal.SIG_IGN)  # as a loop inside C code, where no alarm lands
        time.sleep(3600)
    return Outcome(path, digest, result="{}")


def test_a_dead_or_stuck_worker_costs_only_its_file() -> None:
    from xxgk.batch import LocalExecutor

    executor = LocalExecutor(2, stall=3)
    names = [f"ok{i}" for i in range(6)] + ["dies"] + [f"ok{i}" for i in range(6, 9)] + ["stuck", "ok9"]
    start = time.monotonic()
    outcomes = {o.path: o for o in executor.run(_troublesome, ((n, "") for n in names))}
    executor.close()
    assert time.monotonic() - start < 60
    assert set(outcomes) == set(names)
    assert "died" in outcomes["dies"].error and "stuck" in outcomes["stuck"].error
    assert all(outcomes[n].error is None for n in names if n.startswith("ok"))


def test_the_time_limit_holds_in_a_worker_thread_too() -> None:
    """Dask runs files in worker threads, where SIGALRM cannot reach: the limit still ends the wait."""
    import threading

    from xxgk.batch import within

    got: list = []

    def worker() -> None:
        start = time.monotonic()
        try:
            within(0.5, lambda: time.sleep(30))
        except TimeoutError as e:
            got.append((time.monotonic() - start, str(e)))
        got.append(within(5, lambda: "done"))
        try:
            within(5, lambda: 1 / 0)
        except ZeroDivisionError:
            got.append("raised")

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(20)
    (seconds, message), done, raised = got
    assert seconds < 5 and "longer than 0.5 s" in message and done == "done" and raised == "raised"


def _heap(path: str, digest: str) -> object:
    import gc

    from xxgk.batch import Outcome, process_file

    frozen = gc.get_freeze_count()
    parsed = process_file(path)
    left = gc.collect()  # garbage the worker kept after the file
    return Outcome(path, digest, result=json.dumps([frozen, gc.get_threshold()[0], parsed.error, left]))


def test_a_batch_worker_parses_with_its_imports_kept_out_of_the_collectors_passes(tmp_path: Path) -> None:
    """The parser's import-time heap frozen and young passes rare in every worker (the collector's
    passes found nothing and cost a fifth of a text report's time); the file is still parsed, and
    its garbage (a Word file leaves some 400 objects in reference cycles) is gone before the next file."""
    from xxgk.batch import YOUNG, LocalExecutor

    reports = make_reports(tmp_path, 4)  # text, HTML, text, Word
    executor = LocalExecutor(1)
    outcomes = list(executor.run(_heap, [(str(r), "") for r in reports]))
    executor.close()
    for outcome in outcomes:
        frozen, young, error, left = json.loads(outcome.result)
        assert frozen > 10_000 and young == YOUNG and error is None and left == 0, outcome.path


def _ocr_threads(path: str, digest: str) -> object:
    from xxgk.batch import Outcome
    from xxgk.ingest import ocr

    return Outcome(path, digest, result=str(ocr.threads()))


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_batch_worker_reads_pictures_on_its_share_of_the_cores(jobs: int) -> None:
    """A worker a core (a second OCR thread costs 5–10 % more CPU a page); one worker alone has them all."""
    from xxgk.batch import LocalExecutor
    from xxgk.ingest import cores

    executor = LocalExecutor(jobs)
    outcomes = list(executor.run(_ocr_threads, [(f"f{i}", "") for i in range(2 * jobs)]))
    executor.close()
    assert {o.result for o in outcomes} == {str(max(1, cores() // jobs))}


def test_a_dask_workers_child_reads_pictures_on_one_core() -> None:
    """Dask runs a file a thread, each in a child process of its own: a core each."""
    import threading

    from xxgk.batch import in_child

    got: list = []
    thread = threading.Thread(target=lambda: got.append(in_child(_ocr_threads, ("f", ""), 120)))
    thread.start()  # a thread of its own, as Dask's: its child ends with it
    thread.join()
    assert got[0].error is None and got[0].result == "1"

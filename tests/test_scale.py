"""Batches and stores under faults: Dask workers with another working folder, files that kill or
stall their process, kill -9 while a database is made or while workers run, two ingests at once,
same-named files and copies."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from xxgk.batch import DIED, DaskExecutor, InlineExecutor, Ledger, Outcome, process_file, run_batch
from xxgk.parse import parse_file
from xxgk.store import Store
from xxgk.store.models import Cell, Report, Source

from .conftest import REAL
from .test_batch import XXGK, make_reports, run
from .test_store import postgres, url  # noqa: F401  (fixtures: a real PostgreSQL, and each database)


# ---------------------------------------------------------------- Dask
@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A real Dask cluster (scheduler, two worker processes) whose workers work in a folder of
    their own, holding other reports under the names the client will give."""
    distributed = pytest.importorskip("distributed")
    import dask

    workers_folder = tmp_path_factory.mktemp("workers")
    make_reports(workers_folder / "in", 8)
    here = os.getcwd()
    os.chdir(workers_folder)
    try:
        with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
                distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                         dashboard_address=None) as c:
            os.chdir(here)
            yield c.scheduler_address, workers_folder
    finally:
        os.chdir(here)


def test_relative_paths_given_from_another_folder_are_read_on_dask(cluster: tuple[str, Path],
                                                                   tmp_path: Path) -> None:
    address, workers_folder = cluster
    client_folder = tmp_path / "client"
    for f in (workers_folder / "in").iterdir():  # the same names, other reports (rotated by 4)
        i = int(f.stem.split("-")[1])
        twin = workers_folder / "in" / f"report-{(i + 4) % 8:03d}{f.suffix}"
        (client_folder / "in").mkdir(parents=True, exist_ok=True)
        (client_folder / "in" / f.name).write_bytes(twin.read_bytes())
    proc = run("parse", "in", "--out", "out", "--scheduler", address, cwd=client_folder)
    assert proc.returncode == 0, proc.stderr
    for f in sorted((client_folder / "in").iterdir()):
        got = json.loads((client_folder / "out" / f"{f.name}.json").read_text(encoding="utf-8"))
        want = parse_file(f)
        assert (got["agency"], got["year"], got["cells"]) == (want.agency, want.year, want.cells), f.name


def _faulty(path: str, digest: str = "", read_from: str = "") -> Outcome:
    """The per-file function, but a file saying "exit" ends its process as a crash in C code would,
    "stall" runs a regex that holds the GIL for minutes, "kill-worker" kills the Dask worker itself."""
    data = Path(path).read_bytes()
    if data == b"exit":
        os._exit(3)
    if data == b"stall":
        re.match(r"(a+)+$", "a" * 40 + "b")
    if data == b"kill-worker":
        os.kill(os.getppid(), signal.SIGKILL)
        time.sleep(60)
    return process_file(path, digest, read_from)


def test_a_dask_batch_survives_files_that_kill_or_stall_their_process(cluster: tuple[str, Path],
                                                                     tmp_path: Path) -> None:
    address, _ = cluster
    src = tmp_path / "in"
    good = make_reports(src, 6)
    for name in ("exit", "stall"):
        (src / f"{name}.txt").write_bytes(name.encode())
    ledger = Ledger(tmp_path / "ledger.sqlite")
    outcomes: dict[str, Outcome] = {}
    executor = DaskExecutor(address, timeout=4)
    start = time.monotonic()
    try:
        tally = run_batch(sorted(src.iterdir()), ledger, lambda o: outcomes.setdefault(Path(o.path).name, o),
                          executor, fn=_faulty)
    finally:
        executor.close()
    assert time.monotonic() - start < 90  # the regex alone would take minutes
    assert (tally.done, tally.failed) == (6, 2)
    assert all(outcomes[p.name].error is None for p in good)
    assert outcomes["exit.txt"].error == DIED
    assert outcomes["stall.txt"].error == "timed out: took longer than 4 s (its process was killed)"
    assert ledger.failures() == [(str(src / "stall.txt"), outcomes["stall.txt"].error)]  # a died file: tried again
    ledger.close()


@pytest.mark.slow  # workers restarted four times
def test_a_file_whose_task_kills_its_dask_worker_is_failed_and_the_batch_goes_on(cluster: tuple[str, Path],
                                                                                 tmp_path: Path) -> None:
    address, _ = cluster
    (tmp_path / "kill-worker.txt").write_bytes(b"kill-worker")
    outcomes: list[Outcome] = []
    executor = DaskExecutor(address, timeout=30)
    try:  # the scheduler gives up on the task (KilledWorker); it is tried once more, then failed
        tally = run_batch([tmp_path / "kill-worker.txt"], Ledger(tmp_path / "l.sqlite"), outcomes.append,
                          executor, fn=_faulty)
        assert tally.failed == 1 and outcomes[0].error == DIED and outcomes[0].again
        (good,) = make_reports(tmp_path / "in", 1)
        tally = run_batch([good], Ledger(tmp_path / "l.sqlite"), outcomes.append, executor, fn=_faulty)
        assert tally.done == 1 and outcomes[1].error is None
    finally:
        executor.close()


# ---------------------------------------------------------------- a result from another file is refused
def _another_file_system(path: str, digest: str = "", read_from: str = "") -> Outcome:
    """A worker that finds other content at the path it is given (its own disk, not a shared one)."""
    seen = process_file(str(Path(path).with_name("other.txt")))
    return Outcome(path, seen.digest, seen.result)


def _another_path(path: str, digest: str = "", read_from: str = "") -> Outcome:
    """A worker that parses a file of the same relative name in its own working folder."""
    return process_file(str(Path(path).with_name("other.txt")), digest)


def test_a_result_for_other_content_or_another_path_is_refused(tmp_path: Path) -> None:
    a, other = make_reports(tmp_path, 2)
    other.rename(tmp_path / "other.txt")
    for fn, why in ((_another_file_system, "read other content at this path"),
                    (_another_path, "refused a result computed from another file")):
        got: list[Outcome] = []
        ledger = Ledger(tmp_path / f"{fn.__name__}.sqlite")
        tally = run_batch([a], ledger, got.append, InlineExecutor(), fn=fn)
        (outcome,) = got
        assert tally.failed == 1 and outcome.result is None and why in outcome.error, outcome.error
        assert outcome.path == str(a) and outcome.again and not ledger.has(outcome.digest)


# ---------------------------------------------------------------- outputs
def test_same_named_files_in_two_folders_keep_two_outputs(tmp_path: Path) -> None:
    reports = make_reports(tmp_path / "made", 6)
    c = tmp_path / "c"
    for year, made in (("2019", reports[0]), ("2020", reports[2])):
        (c / year).mkdir(parents=True)
        (c / year / "report.txt").write_bytes(made.read_bytes())
    proc = run("parse", str(c), "--out", str(tmp_path / "out"), "--jobs", "1")
    assert proc.returncode == 0 and "2 parsed" in proc.stderr, proc.stderr
    for year, made in (("2019", reports[0]), ("2020", reports[2])):
        got = json.loads((tmp_path / "out" / year / "report.txt.json").read_text(encoding="utf-8"))
        assert got["cells"] == parse_file(made).cells and got["source"] == "report.txt"
    proc = run("parse", str(c / "2019"), str(c / "2020"), "--out", str(tmp_path / "flat"), "--jobs", "1")
    assert proc.returncode == 0 and "2 parsed" in proc.stderr, proc.stderr
    outputs = sorted((tmp_path / "flat").glob("report.txt.*.json"))
    assert len(outputs) == 2
    agencies = {json.loads(p.read_text(encoding="utf-8"))["agency"] for p in outputs}
    assert agencies == {parse_file(reports[0]).agency, parse_file(reports[2]).agency}


def test_copies_get_their_output_without_being_parsed_again(tmp_path: Path) -> None:
    made = make_reports(tmp_path / "made", 3)
    src = tmp_path / "in"
    src.mkdir()
    names = []
    for i in range(10):
        original = made[i % 3]
        names.append(f"copy-{i}{original.suffix}")
        (src / names[-1]).write_bytes(original.read_bytes())
    proc = run("parse", str(src), "--out", str(tmp_path / "out"), "--jobs", "2")
    assert proc.returncode == 0, proc.stderr
    assert "3 parsed, 7 copies of other files, 0 already done, 0 failed" in proc.stderr
    for i, name in enumerate(names):
        got = json.loads((tmp_path / "out" / f"{name}.json").read_text(encoding="utf-8"))
        assert got["source"] == name and got["cells"] == parse_file(made[i % 3]).cells
    (src / "late-copy.txt").write_bytes(made[0].read_bytes())  # a copy of a file done by the last run
    proc = run("parse", str(src), "--out", str(tmp_path / "out"), "--jobs", "1")
    assert proc.returncode == 0 and "10 already done" in proc.stderr, proc.stderr
    assert json.loads((tmp_path / "out" / "late-copy.txt.json").read_text(encoding="utf-8"))["source"] == \
        "late-copy.txt"


def test_ingest_says_when_a_file_is_stored_under_another_name(tmp_path: Path) -> None:
    made = make_reports(tmp_path / "made", 1)[0]
    src = tmp_path / "in"
    src.mkdir()
    for name in ("a.txt", "b.txt"):
        (src / name).write_bytes(made.read_bytes())
    db = f"sqlite:///{tmp_path / 'x.db'}"
    proc = run("ingest", str(src), "--db", db, "--jobs", "1")
    assert proc.returncode == 0, proc.stderr
    assert "1 stored, 1 copies of other files, 0 already stored" in proc.stderr
    assert "b.txt: the same content as" in proc.stderr
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "c.txt").write_bytes(made.read_bytes())
    proc = run("ingest", str(tmp_path / "more"), "--db", db, "--jobs", "1")
    assert proc.returncode == 0 and "0 stored" in proc.stderr and "1 already stored" in proc.stderr
    assert "c.txt: already stored as a.txt" in proc.stderr


def test_export_into_a_folder_that_does_not_exist_yet(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    Store(db).add(parse_file(REAL / "hongze-2023.pdf"), (REAL / "hongze-2023.pdf").read_bytes(), "hongze-2023.pdf")
    target = tmp_path / "missing" / "deeper" / "x.parquet"
    proc = run("export", "--format", "parquet", "--out", str(target), "--db", db)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert target.exists()
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    proc = run("export", "--format", "csv", "--out", str(blocked / "x.csv"), "--db", db)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and "cannot write" in proc.stderr


# ---------------------------------------------------------------- processes
def _descendants(pid: int) -> set[int]:
    children: dict[int, set[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), set()).add(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_workers_die_when_their_parent_is_killed(tmp_path: Path) -> None:
    make_reports(tmp_path / "in", 200)  # enough that a quiet machine is still parsing when it is killed
    proc = subprocess.Popen([XXGK, "parse", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--jobs", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while len(_descendants(proc.pid)) < 3 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)  # two workers and multiprocessing's resource tracker
    time.sleep(0.2)
    workers = _descendants(proc.pid)
    assert proc.poll() is None and len(workers) >= 2, "no workers to orphan"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 15
    while any(_alive(w) for w in workers) and time.time() < deadline:
        time.sleep(0.1)
    left = [w for w in workers if _alive(w)]
    for w in left:  # ours: do not leave them to the next test
        os.kill(w, signal.SIGKILL)
    assert not left, f"{len(left)} of {len(workers)} processes outlived their parent"


# ---------------------------------------------------------------- databases
KILL_DURING_SCHEMA = """
import os, sys
from sqlalchemy import Engine, event

@event.listens_for(Engine, "before_cursor_execute")
def die(conn, cursor, statement, *args):
    if statement.lstrip().upper().startswith("CREATE TABLE") and "reports" in statement:
        os.kill(os.getpid(), 9)  # kill -9 half-way through making the schema

from xxgk.store import Store
Store(sys.argv[1])
"""


def test_a_sqlite_database_killed_while_its_schema_is_made_opens_after(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    proc = subprocess.run([sys.executable, "-c", KILL_DURING_SCHEMA, f"sqlite:///{db}"], capture_output=True,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert proc.returncode == -9, proc.stderr
    assert db.exists()
    store = Store(f"sqlite:///{db}")  # opens, makes the schema, works
    path = REAL / "hongze-2023.pdf"
    store.add(parse_file(path), path.read_bytes(), path.name)
    assert store.count() == 1
    # a database an older xxgk left half made: tables, no schema version, no rows
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as c:
        c.execute("CREATE TABLE agencies (id INTEGER NOT NULL, name VARCHAR(200) NOT NULL, kind VARCHAR(40) "
                  "NOT NULL, PRIMARY KEY (id), UNIQUE (name))")
    assert Store(f"sqlite:///{old}").count() == 0


def _counts(stderr: str) -> tuple[int, int]:
    m = re.search(r"(\d+) stored, \d+ copies of other files, (\d+) already stored, 0 failed", stderr)
    assert m, stderr
    return int(m[1]), int(m[2])


def test_two_ingests_into_one_database_at_once(url: str, tmp_path: Path) -> None:  # noqa: F811
    made = make_reports(tmp_path / "in", 12)
    procs = [subprocess.Popen([XXGK, "ingest", str(tmp_path / "in"), "--db", url, "--jobs", "1"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
    for code, stderr in results:
        assert code == 0, stderr
    counts = [_counts(stderr) for _, stderr in results]
    assert all(stored + already == len(made) for stored, already in counts), counts
    assert sum(stored for stored, _ in counts) == len(made)
    store = Store(url)
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Report)) == len(made)
        assert s.scalar(select(func.count()).select_from(Source)) == len(made)
        assert s.scalar(select(func.count()).select_from(Cell)) == sum(len(parse_file(p).cells) for p in made)


@pytest.mark.parametrize("later_first", [True, False])
def test_years_are_paired_within_one_stored_batch(url: str, later_first: bool) -> None:  # noqa: F811
    old, new = REAL / "hongze-2023.pdf", REAL / "hongze-2024.pdf"
    changed = parse_file(new)
    changed.cells["requests.carried_over.natural"] = 5  # 2023 carried forward 0
    items = [(changed, new.read_bytes(), new.name), (parse_file(old), old.read_bytes(), old.name)]
    store = Store(url)
    stored = store.add_many(items if later_first else items[::-1])
    assert [s.already for s in stored] == [None, None]
    later = next(r for r in store.reports() if r.source_name == new.name)
    assert [f.cells for f in later.findings if f.rule == "years.carried_over"] == [["requests.carried_over.natural"]]
    assert any(f["rule"] == "years.carried_over" for f in store.report(later.id).result["findings"])
    again = store.add_many(items)
    assert [s.already for s in again] == [new.name, old.name] and store.count() == 2

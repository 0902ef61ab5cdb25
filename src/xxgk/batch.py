"""Batches of any size: streamed, parallel, resumable after a crash, unbreakable by bad files.

    run_batch(paths, Ledger(out_dir / "ledger.sqlite"), store, executor_for(jobs=2))
    run_batch(paths, ledger, store, executor_for(scheduler="tcp://host:8786"))  # a Dask cluster

The per-file function is the same everywhere (`process_file`); an executor only decides where
it runs. The ledger (SQLite, beside the outputs) records each finished file by content hash,
committed after its output is written, so a rerun, also after `kill -9`, skips what is done
and redoes at most the files that were in flight.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from . import PARSER_VERSION
from .errors import ReportError

T = TypeVar("T")
TIMEOUT = 120.0  # seconds one file may take
STALL = 2 * TIMEOUT + 30  # no file in a batch finished for this long: a worker is stuck in C code


@dataclass(frozen=True)
class Outcome:
    path: str
    digest: str
    result: str | None = None  # the parse result as JSON
    error: str | None = None
    seconds: float = 0.0


def digest_of(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """SIGALRM in a process's main thread; elsewhere (Dask's threads) no limit can be set this way."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"took longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def within(seconds: float, fn: Callable[[], T]) -> T:
    """fn() or TimeoutError after `seconds`. In a process's main thread by SIGALRM; in another
    thread (a Dask worker's) fn runs in a helper thread that is left behind if it overruns, so the
    worker goes on with its next file (the stuck one keeps a core until it ends)."""
    if threading.current_thread() is threading.main_thread():
        with time_limit(seconds):
            return fn()
    future: Future[T] = Future()

    def run() -> None:
        try:
            future.set_result(fn())
        except BaseException as e:  # handed to the caller's thread
            future.set_exception(e)

    threading.Thread(target=run, name="xxgk-file", daemon=True).start()
    try:
        return future.result(timeout=seconds)
    except TimeoutError:
        if future.done():
            raise  # fn itself timed out
        raise TimeoutError(f"took longer than {seconds:g} s") from None


def process_file(path: str, digest: str = "", read_from: str = "", timeout: float = TIMEOUT) -> Outcome:
    """Parse and audit one file (from `read_from` when it was converted first); never raises."""
    from .parse import parse_file

    start = time.perf_counter()
    try:
        result = within(timeout, lambda: parse_file(read_from or path, name=Path(path).name))
        return Outcome(path, digest, result=result.model_dump_json(), seconds=time.perf_counter() - start)
    except ReportError as e:
        error = str(e)
    except TimeoutError as e:
        error = f"timed out: {e}"
    except MemoryError:
        error = "out of memory"
    except RecursionError:
        error = "too deeply nested to read"
    except Exception as e:  # a bug must cost one file, not the batch
        error = f"internal error: {type(e).__name__}: {e}"
    return Outcome(path, digest, error=error, seconds=time.perf_counter() - start)


class Finished(Protocol):
    """What a batch needs of a ledger; `Ledger` here, `xxgk.store.StoreLedger` for a database."""

    def has(self, digest: str, retry_failed: bool = False) -> bool: ...

    def record(self, outcome: Outcome) -> None: ...

    def failures(self) -> list[tuple[str, str]]: ...


class Ledger:
    """What a batch has finished, by content hash and parser version; lives beside the outputs."""

    def __init__(self, path: str | Path, version: str = PARSER_VERSION) -> None:
        self.path = Path(path)
        self.version = version  # a newer parser redoes every file
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS done (digest TEXT NOT NULL, version TEXT NOT NULL, "
                        "path TEXT NOT NULL, error TEXT, seconds REAL, finished REAL, PRIMARY KEY (digest, version))")

    def has(self, digest: str, retry_failed: bool = False) -> bool:
        row = self.db.execute("SELECT error FROM done WHERE digest = ? AND version = ?",
                              (digest, self.version)).fetchone()
        return row is not None and not (retry_failed and row[0] is not None)

    def record(self, outcome: Outcome) -> None:
        self.db.execute("INSERT OR REPLACE INTO done VALUES (?, ?, ?, ?, ?, ?)",
                        (outcome.digest, self.version, outcome.path, outcome.error, outcome.seconds, time.time()))

    def failures(self) -> list[tuple[str, str]]:
        return self.db.execute("SELECT path, error FROM done WHERE error IS NOT NULL AND version = ? ORDER BY path",
                               (self.version,)).fetchall()

    def close(self) -> None:
        self.db.close()


# ---------------------------------------------------------------- executors
class Executor(Protocol):
    def run(self, fn: Callable[..., Outcome], items: Iterable[tuple[str, ...]]) -> Iterator[Outcome]: ...

    def close(self) -> None: ...


class InlineExecutor:
    def run(self, fn: Callable[..., Outcome], items: Iterable[tuple[str, ...]]) -> Iterator[Outcome]:
        for item in items:
            yield fn(*item)

    def close(self) -> None:
        pass


class LocalExecutor:
    """Worker processes with a bounded number of files in flight (memory stays flat)."""

    def __init__(self, jobs: int, stall: float = STALL) -> None:
        self.jobs, self.stall = jobs, stall
        self.pool = self._pool()

    def _pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.jobs, max_tasks_per_child=200)

    def _restart(self) -> None:
        """Kill the workers (one may be stuck in C code) and start new ones."""
        for process in list(getattr(self.pool, "_processes", {}).values()):
            process.kill()
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.pool = self._pool()

    def run(self, fn: Callable[..., Outcome], items: Iterable[tuple[str, ...]]) -> Iterator[Outcome]:
        window = self.jobs * 4
        flying: dict[Future[Outcome], tuple[str, ...]] = {}
        it = iter(items)
        exhausted = False
        while flying or not exhausted:
            while not exhausted and len(flying) < window:
                item = next(it, None)
                if item is None:
                    exhausted = True
                    break
                flying[self.pool.submit(fn, *item)] = item
            if not flying:
                break
            ready, _ = wait(flying, timeout=self.stall, return_when=FIRST_COMPLETED)
            broken = not ready  # nothing finished for so long: a worker is stuck where SIGALRM cannot reach
            lost = []
            for future in ready:
                item = flying.pop(future)
                try:
                    yield future.result()
                except BrokenProcessPool:  # a worker died: every file in flight fails with it
                    broken = True
                    lost.append(item)
            if broken:  # which file did it is found by retrying each one alone
                lost += flying.values()
                flying.clear()
                self._restart()
                for item in lost:
                    yield self._alone(fn, item)

    def _alone(self, fn: Callable[..., Outcome], item: tuple[str, ...]) -> Outcome:
        try:
            return self.pool.submit(fn, *item).result(timeout=self.stall)
        except BrokenProcessPool:
            error = "the worker process died reading this file"
        except TimeoutError:
            error = f"timed out: stuck for more than {self.stall:g} s (the worker was killed)"
        self._restart()
        return Outcome(item[0], item[1], error=error)

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)


class DaskExecutor:
    """The same per-file function on a Dask cluster; files must be on a path every worker sees."""

    def __init__(self, scheduler: str) -> None:
        from distributed import Client

        self.client = Client(scheduler)

    def run(self, fn: Callable[..., Outcome], items: Iterable[tuple[str, ...]]) -> Iterator[Outcome]:
        from distributed import as_completed

        window = max(8, 4 * sum(self.client.nthreads().values()))
        it = iter(items)
        pending = as_completed()
        for item in itertools.islice(it, window):
            pending.add(self.client.submit(fn, *item, pure=False))
        for future in pending:
            yield future.result()
            future.release()
            item = next(it, None)
            if item is not None:
                pending.add(self.client.submit(fn, *item, pure=False))

    def close(self) -> None:
        self.client.close()


def convert_legacy_word(paths: Iterable[Path], out_dir: Path, chunk: int = 200) -> dict[Path, Path]:
    """DOC, WPS, RTF and ODT files among `paths`, converted to DOCX by one LibreOffice run per `chunk` files.

    Each run is boxed (`xxgk.sandbox`): a run that overruns is killed with all its processes and its
    files are left out, to be converted one by one, each in its own box, as the batch reads them (an
    ODT that would unpack too large is left out up front: its reader refuses it with the reason)."""
    from .ingest.bounds import check_zip
    from .ingest.office import convert_to_docx
    from .ingest.sniff import sniff

    legacy = []
    for p in paths:
        with contextlib.suppress(OSError), open(p, "rb") as f:
            kind = sniff(f.read(4096))
            if kind == "odt":
                try:
                    check_zip(Path(p).read_bytes(), kind)
                except ReportError:
                    continue
            if kind in ("ole", "rtf", "odt"):
                legacy.append(p)
    done: dict[Path, Path] = {}
    for i in range(0, len(legacy), chunk):
        part = legacy[i:i + chunk]
        names = {p.stem for p in part}
        with contextlib.suppress(ReportError):  # killed: these files are converted one by one later
            if len(names) < len(part):  # LibreOffice names outputs by stem: convert clashing names separately
                for p in part:
                    done.update(convert_to_docx([p], out_dir / f"{i}-{abs(hash(p))}"))
            else:
                done.update(convert_to_docx(part, out_dir / str(i)))
    return done


def executor_for(jobs: int | None = None, scheduler: str | None = None) -> Executor:
    if scheduler:
        return DaskExecutor(scheduler)
    jobs = jobs or os.cpu_count() or 1
    return InlineExecutor() if jobs == 1 else LocalExecutor(jobs)


# ---------------------------------------------------------------- the batch
@dataclass
class Tally:
    done: int = 0
    failed: int = 0
    skipped: int = 0


def run_batch(paths: Iterable[Path], ledger: Finished, on_outcome: Callable[[Outcome], None],
              executor: Executor, retry_failed: bool = False,
              on_skip: Callable[[Path], None] | None = None, converted: dict[Path, Path] | None = None) -> Tally:
    """Run every file not yet in the ledger; `on_outcome` stores a result before the ledger records it.

    `converted` maps DOC/WPS files to the DOCX that one LibreOffice run made of them all up front.
    """
    tally = Tally()
    converted = converted or {}

    def todo() -> Iterator[tuple[str, str, str]]:
        for path in paths:
            try:
                digest = digest_of(path)
            except OSError as e:
                why = "no such file" if isinstance(e, FileNotFoundError) else f"cannot read: {e.strerror or e}"
                outcome = Outcome(str(path), f"unreadable:{path}", error=why)
                on_outcome(outcome)
                tally.failed += 1
                continue
            if ledger.has(digest, retry_failed):
                tally.skipped += 1
                if on_skip:
                    on_skip(path)
                continue
            yield str(path), digest, str(converted.get(path, ""))

    for outcome in executor.run(process_file, todo()):
        on_outcome(outcome)
        if outcome.error and "worker process died" in outcome.error:
            tally.failed += 1  # not recorded: a rerun tries it again
            continue
        ledger.record(outcome)
        if outcome.error:
            tally.failed += 1
        else:
            tally.done += 1
    return tally

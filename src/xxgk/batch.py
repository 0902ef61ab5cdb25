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
import ctypes
import gc
import hashlib
import itertools
import os
import pickle
import select
import signal
import sqlite3
import struct
import subprocess
import sys
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
from .ingest import OCR_THREADS, core_share, cores

T = TypeVar("T")
TIMEOUT = 120.0  # seconds one file may take
STALL = 2 * TIMEOUT + 30  # no file in a batch finished for this long: a worker is stuck in C code


DIED = "the worker process died reading this file"


@dataclass(frozen=True)
class Outcome:
    path: str  # the file it was computed from (absolute when it comes from a batch)
    digest: str  # the content hash of the bytes it was computed from
    result: str | None = None  # the parse result as JSON
    error: str | None = None
    seconds: float = 0.0
    again: bool = False  # a failure of the run, not of the file: not recorded, a rerun tries it again


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
    """Parse and audit one file (from `read_from` when it was converted first); never raises.

    The outcome carries the content hash of the file this process found at `path`: when the
    caller's `digest` differs (a worker that sees another file system) nothing is parsed."""
    try:
        return _outcome(path, digest, read_from, timeout)
    finally:
        if _SETTLED:
            collect_between_files()


def _outcome(path: str, digest: str, read_from: str, timeout: float) -> Outcome:
    from .parse import MAX_BYTES, parse_bytes, parse_file

    start = time.perf_counter()
    data: bytes | None = None  # the file's bytes, read once for its hash and its parse
    try:
        if not read_from and os.stat(path).st_size <= MAX_BYTES:
            data = Path(path).read_bytes()
        found = hashlib.sha256(data).hexdigest() if data is not None else digest_of(path)
    except OSError as e:
        return Outcome(path, "", error=f"cannot read here: {e.strerror or e}", again=True)
    if digest and found != digest:
        return Outcome(path, found, error="another file at this path here", again=True)
    digest = found
    where = Path(path)
    try:
        result = within(timeout, lambda: parse_bytes(data, where.name, where.parent) if data is not None
                        else parse_file(read_from or path, name=where.name))
        return Outcome(path, digest, result=result.to_json(), seconds=time.perf_counter() - start)
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

    def failed(self, digest: str) -> bool:
        row = self.db.execute("SELECT error FROM done WHERE digest = ? AND version = ?",
                              (digest, self.version)).fetchone()
        return row is not None and row[0] is not None

    def record(self, outcome: Outcome) -> None:
        self.db.execute("INSERT OR REPLACE INTO done VALUES (?, ?, ?, ?, ?, ?)",
                        (outcome.digest, self.version, outcome.path, outcome.error, outcome.seconds, time.time()))

    def failures(self) -> list[tuple[str, str]]:
        return self.db.execute("SELECT path, error FROM done WHERE error IS NOT NULL AND version = ? ORDER BY path",
                               (self.version,)).fetchall()

    def close(self) -> None:
        self.db.close()


# ---------------------------------------------------------------- worker processes
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent: int) -> None:
    """In a worker process: end when `parent` ends, also by kill -9 (no orphans left holding memory).

    The kernel's parent-death signal where there is one (Linux), and a thread that checks the
    parent every second everywhere (it also covers a parent gone before the signal was set)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="xxgk-parent-watch", daemon=True).start()


# allocations between the collector's own young passes in a worker (Python's default: 700): within
# one file (a large Word file's garbage); between files a worker collects itself
YOUNG = 100_000
FULL_EVERY = 10_000  # files between a worker's full collections (for a cycle that outlived its file)
_SETTLED = False
_files = 0


def settle_worker() -> None:
    """In a process that parses file after file: the parser's modules imported, then what lives for
    the process (modules, format data, compiled patterns) kept out of the collector's passes, and the
    young passes made rare (then `collect_between_files`). A text report's parse leaves no reference
    cycles (none collected over 400 reports), so the passes found nothing and cost 15–20 % of its CPU
    time; memory is unchanged."""
    global _SETTLED
    from . import parse  # noqa: F401

    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG, 50, 50)
    _SETTLED = True


def collect_between_files() -> None:
    """A settled worker's collection after each file, when the file's own objects are gone: it walks
    only what outlived the file (the memos' new entries) and takes a Word file's cyclic garbage with
    it. A young pass every YOUNG allocations instead came mid-file or walked a hundred reports' memo
    entries at once (22 ms each: 5 % of a text report over 2,000; 1.6 % this way)."""
    global _files
    _files += 1
    gc.collect(1 if _files % FULL_EVERY else 2)


def start_worker(parent: int, jobs: int = 1) -> None:
    """A batch worker's start: it dies with its parent, reads pictures on its share of the cores
    (one of `jobs` workers), and parses with a settled heap."""
    die_with_parent(parent)
    os.environ[OCR_THREADS] = str(core_share(jobs))
    settle_worker()


class ChildDied(Exception):
    pass


class Sidecar:
    """A child process that runs per-file functions for one thread of a Dask worker.

    A file that kills its process, or holds the GIL past the time limit (where no thread or
    signal can stop it), costs this child — killed and started again — not the worker. The time
    limit counts from when the child has the function in hand (its imports are not the file's)."""

    STARTUP = 300.0  # seconds a child may take to start, or to import a function's module

    def __init__(self) -> None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(os.path.abspath(p) for p in sys.path if p),
                   XXGK_PARENT=str(os.getpid()),
                   **{OCR_THREADS: "1"})  # a child for each of the worker's threads: a core each
        self.proc = subprocess.Popen([sys.executable, "-c", "from xxgk.batch import sidecar_main; sidecar_main()"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, bufsize=0)
        self.ready = False

    def _read(self, n: int, timeout: float) -> bytes:
        """n bytes from the child within `timeout`; TimeoutError (the child killed) or ChildDied."""
        assert self.proc.stdout
        fd, data, deadline = self.proc.stdout.fileno(), b"", time.monotonic() + timeout
        while len(data) < n:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                self.close()
                raise TimeoutError(f"took longer than {timeout:g} s (its process was killed)")
            chunk = os.read(fd, n - len(data))
            if not chunk:
                self.close()
                raise ChildDied
            data += chunk
        return data

    def call(self, fn: Callable[..., T], args: tuple, timeout: float) -> T:
        """fn(*args) in the child; TimeoutError (the child killed) or ChildDied."""
        assert self.proc.stdin
        if not self.ready:
            self._read(1, self.STARTUP)
            self.ready = True
        payload = pickle.dumps((fn, args))
        message = memoryview(struct.pack("<Q", len(payload)) + payload)
        try:
            while message:
                message = message[os.write(self.proc.stdin.fileno(), message):]
        except OSError:  # a broken pipe: the child is gone
            self.close()
            raise ChildDied from None
        self._read(1, self.STARTUP)  # it has unpickled the function: the file's time starts
        head = self._read(8, timeout)  # written with the reply, once fn returned
        ok, value = pickle.loads(self._read(struct.unpack("<Q", head)[0], self.STARTUP))
        if not ok:
            raise value
        return value

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                stream and stream.close()


def sidecar_main() -> None:
    """The child's loop: (function, arguments) in on stdin, (ok, value) out on what was stdout."""
    die_with_parent(int(os.environ.get("XXGK_PARENT", os.getppid())))
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever the parsing code prints goes to stderr, never into the replies
    settle_worker()  # imports the parser before the first file's time starts

    out.write(b"R")
    out.flush()
    source = sys.stdin.buffer
    while len(head := source.read(8)) == 8:
        fn, args = pickle.loads(source.read(struct.unpack("<Q", head)[0]))
        out.write(b"A")
        out.flush()
        try:
            reply = pickle.dumps((True, fn(*args)))
        except BaseException as e:  # handed to the caller
            reply = pickle.dumps((False, e))
        out.write(struct.pack("<Q", len(reply)) + reply)
        out.flush()


_sidecars = threading.local()


def in_child(fn: Callable[..., Outcome], item: tuple[str, ...], timeout: float) -> Outcome:
    """fn(*item) in this thread's sidecar process: a file that kills it is tried once more in a new
    one, then failed; one that overruns `timeout` is failed and its process killed."""
    for attempt in (1, 2):
        sidecar = getattr(_sidecars, "child", None)
        if sidecar is None or not sidecar.alive():
            sidecar = _sidecars.child = Sidecar()
        try:
            return sidecar.call(fn, item, timeout)
        except TimeoutError as e:
            return Outcome(item[0], item[1] if len(item) > 1 else "", error=f"timed out: {e}")
        except ChildDied:
            if attempt == 2:
                return Outcome(item[0], item[1] if len(item) > 1 else "", error=DIED, again=True)
    raise AssertionError("unreachable")


# ---------------------------------------------------------------- executors
def matched(item: tuple[str, ...], outcome: Outcome) -> Outcome:
    """The outcome of `item` (path, digest, ...) as an executor hands it back: refused (a failure
    under the item's path) when it was computed from another path or content."""
    return verified(outcome, item[0], item[1] if len(item) > 1 else "")


class Executor(Protocol):
    def run(self, fn: Callable[..., Outcome], items: Iterable[tuple[str, ...]]) -> Iterator[Outcome]: ...

    def close(self) -> None: ...


class InlineExecutor:
    def run(self, fn: Callable[..., Outcome], items: Iterable[tuple[str, ...]]) -> Iterator[Outcome]:
        for item in items:
            yield matched(item, fn(*item))

    def close(self) -> None:
        pass


class LocalExecutor:
    """Worker processes with a bounded number of files in flight (memory stays flat); they die with
    this process."""

    def __init__(self, jobs: int, stall: float = STALL) -> None:
        self.jobs, self.stall = jobs, stall
        self.pool = self._pool()

    def _pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.jobs, max_tasks_per_child=200, initializer=start_worker,
                                   initargs=(os.getpid(), self.jobs))

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
                    yield matched(item, future.result())
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
            return matched(item, self.pool.submit(fn, *item).result(timeout=self.stall))
        except BrokenProcessPool:
            error, again = DIED, True
        except TimeoutError:
            error, again = f"timed out: stuck for more than {self.stall:g} s (the worker was killed)", False
        self._restart()
        return Outcome(item[0], item[1], error=error, again=again)

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)


class DaskExecutor:
    """The same per-file function on a Dask cluster; files must be on a path every worker sees.

    Each file runs in a child process of its worker (`in_child`), so the time limit holds for
    code that holds the GIL, and a file that kills its process fails alone. A task whose worker
    died anyway (`KilledWorker`: out of memory, the machine gone) is tried once more, then failed;
    the batch goes on either way."""

    def __init__(self, scheduler: str, timeout: float = TIMEOUT) -> None:
        from distributed import Client

        self.client = Client(scheduler)
        self.timeout = timeout

    def run(self, fn: Callable[..., Outcome], items: Iterable[tuple[str, ...]]) -> Iterator[Outcome]:
        from distributed import as_completed

        window = max(8, 4 * sum(self.client.nthreads().values()))
        it = iter(items)
        pending = as_completed()
        tries: dict[str, tuple[tuple[str, ...], int]] = {}

        def submit(item: tuple[str, ...], attempt: int = 1) -> None:
            future = self.client.submit(in_child, fn, item, self.timeout, pure=False)
            tries[future.key] = (item, attempt)
            pending.add(future)

        for item in itertools.islice(it, window):
            submit(item)
        for future in pending:
            item, attempt = tries.pop(future.key)
            try:
                outcome = future.result()
            except Exception as e:  # KilledWorker, a lost connection: the file is not to blame yet
                if attempt == 1:
                    submit(item, 2)
                    future.release()
                    continue
                outcome = Outcome(item[0], item[1] if len(item) > 1 else "", again=True,
                                  error=DIED if type(e).__name__ == "KilledWorker"
                                  else f"the cluster lost this file: {type(e).__name__}: {e}")
            future.release()
            yield matched(item, outcome)
            item = next(it, None)
            if item is not None:
                submit(item)

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
    jobs = jobs or cores()  # (a CPU affinity, as a container's, counts: not the machine's cores)
    return InlineExecutor() if jobs == 1 else LocalExecutor(jobs)


# ---------------------------------------------------------------- the batch
@dataclass
class Tally:
    done: int = 0
    failed: int = 0
    skipped: int = 0
    copies: int = 0  # files with the same content as another one of the batch: not parsed again


def verified(outcome: Outcome, path: str, digest: str) -> Outcome:
    """The outcome if it was computed from `path` with content `digest`; else a failure saying why
    (a worker that sees another file system, or no file, at that path)."""
    if outcome.path == path and (outcome.digest == digest or not digest):
        return outcome
    if outcome.path != path:
        why = f"refused a result computed from another file ({outcome.path})"
    elif not outcome.digest:
        why = f"the worker could not read it ({outcome.error}): files must be at the same path on every worker"
    else:
        why = "the worker read other content at this path: files must be at the same path on every worker"
    return Outcome(path, digest, error=why, again=True)


def run_batch(paths: Iterable[Path], ledger: Finished, on_outcome: Callable[[Outcome], None],
              executor: Executor, retry_failed: bool = False,
              on_skip: Callable[[Path, str], None] | None = None, converted: dict[Path, Path] | None = None,
              on_copy: Callable[[Path, Outcome], None] | None = None,
              redo: Callable[[Path, str], bool] | None = None,
              fn: Callable[..., Outcome] = process_file) -> Tally:
    """Run every file not yet in the ledger; `on_outcome` stores a result before the ledger records it.

    Paths go to the executor absolute (a Dask worker has another working folder), and an outcome
    is taken only for the path and content hash read here (`verified`); `on_outcome` gets it with
    the path as given. A file with the content of one before it in this batch is a copy: not run
    again; `on_copy(path, the first one's outcome without its result)` once that one is done.
    `redo(path, digest)`: do a file again although the ledger has it (its output is missing).
    `converted` maps DOC/WPS files to the DOCX that one LibreOffice run made of them all up front.
    """
    tally = Tally()
    converted = converted or {}
    given: dict[str, tuple[Path, str]] = {}  # absolute path in flight → the path as given, its digest
    seen: set[str] = set()  # absolute paths: a file named twice is done once
    first: dict[str, Outcome | None] = {}  # digest → its first file's outcome (no result; None: in flight)
    waiting: dict[str, list[Path]] = {}  # digest → copies waiting for the first's outcome

    def copy(path: Path, original: Outcome) -> None:
        tally.copies += 1
        if original.error:
            tally.failed += 1
        if on_copy:
            on_copy(path, original)

    def todo() -> Iterator[tuple[str, str, str]]:
        for path in paths:
            absolute = os.path.abspath(path)
            if absolute in seen:
                continue
            seen.add(absolute)
            try:
                digest = digest_of(absolute)
            except OSError as e:
                why = "no such file" if isinstance(e, FileNotFoundError) else f"cannot read: {e.strerror or e}"
                if isinstance(e, IsADirectoryError):
                    why = "a folder, not a file"
                on_outcome(Outcome(str(path), f"unreadable:{path}", error=why, again=True))
                tally.failed += 1
                continue
            if digest in first:
                done = first[digest]
                if done is None:
                    waiting.setdefault(digest, []).append(path)
                else:
                    copy(path, done)
                continue
            if ledger.has(digest, retry_failed) and not (redo and redo(path, digest)):
                tally.skipped += 1
                if on_skip:
                    on_skip(path, digest)
                continue
            first[digest] = None
            given[absolute] = (path, digest)
            yield absolute, digest, str(converted.get(path, ""))

    for outcome in executor.run(fn, todo()):
        path, digest = given.pop(outcome.path)
        outcome = verified(outcome, os.path.abspath(path), digest)
        outcome = Outcome(str(path), outcome.digest, outcome.result, outcome.error, outcome.seconds, outcome.again)
        on_outcome(outcome)
        first[digest] = Outcome(str(path), digest, error=outcome.error, again=outcome.again)
        if not outcome.again:
            ledger.record(outcome)
        if outcome.error:
            tally.failed += 1
        else:
            tally.done += 1
        for other in waiting.pop(digest, []):
            copy(other, first[digest])  # type: ignore[arg-type]
    return tally

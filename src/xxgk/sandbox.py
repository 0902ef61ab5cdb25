"""Work on untrusted files in a box: a process of its own group, a wall-clock timeout that kills
the whole group, and limits on address space and CPU time set in the child (`resource.setrlimit`).

    run_boxed(["soffice", …], Limits(seconds=60))      # an external converter (LibreOffice)
    call_boxed(parse_job, data, name, limits=Limits())  # a Python function in a child process

Killing only the process started is not enough: LibreOffice's `soffice` is a wrapper (`oosplash`)
whose `soffice.bin` outlives it. Every process a box starts stays in the box's process group, and
the group is killed when the box ends, in time or not. A boxed Python child that is told to stop
(SIGTERM) first kills the groups of the converters it started (they have groups of their own).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import resource
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from .errors import ReportError

T = TypeVar("T")


@dataclass(frozen=True)
class Limits:
    seconds: float = 120.0  # wall clock; the whole group is killed after it
    memory_mb: int = 3072  # address space of each process in the box (OCR of a page needs ~1.5 GB of it)
    cpu_seconds: int = 150  # CPU time of each process in the box

    @classmethod
    def from_env(cls, prefix: str = "XXGK_WORKER_") -> Limits:
        """`XXGK_WORKER_SECONDS`, `XXGK_WORKER_MEMORY_MB`, `XXGK_WORKER_CPU_SECONDS` when set."""
        base = cls()
        return cls(seconds=float(os.environ.get(f"{prefix}SECONDS", base.seconds)),
                   memory_mb=int(os.environ.get(f"{prefix}MEMORY_MB", base.memory_mb)),
                   cpu_seconds=int(os.environ.get(f"{prefix}CPU_SECONDS", base.cpu_seconds)))


class Stopped(ReportError):
    """A boxed conversion that overran its time, memory or CPU and was stopped."""


IN_BOX = False  # true in a boxed child: what it calls runs there, not in yet another box
_LIVE: set[int] = set()  # process groups of the converters running now, killed when this process is stopped


def limit_this_process(limits: Limits) -> None:
    """The limits, set in the child (before exec for a command) and inherited by what it starts."""
    def lower(kind: int, soft: int, hard: int) -> None:  # never above a limit already set (a box in a box)
        _, now = resource.getrlimit(kind)
        if now != resource.RLIM_INFINITY:
            soft, hard = min(soft, now), min(hard, now)
        resource.setrlimit(kind, (soft, hard))

    memory = limits.memory_mb << 20
    lower(resource.RLIMIT_AS, memory, memory)
    lower(resource.RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 5)  # SIGXCPU, then SIGKILL
    lower(resource.RLIMIT_CORE, 0, 0)


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def run_boxed(cmd: Sequence[str], limits: Limits, what: str = "the conversion") -> subprocess.CompletedProcess:
    """Run `cmd` in a new process group with `limits`; the group is killed when it ends or overruns.
    Raises `Stopped` (a ReportError: a clear per-file message) when it overran."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:  # not pipes: what it leaves
        proc = subprocess.Popen(list(cmd), stdin=subprocess.DEVNULL, stdout=out, stderr=err,  # running keeps them
                                start_new_session=True, preexec_fn=lambda: limit_this_process(limits))
        _LIVE.add(proc.pid)
        try:
            try:
                proc.wait(timeout=limits.seconds)
            except subprocess.TimeoutExpired:
                kill_group(proc.pid)
                proc.wait()
                raise Stopped(f"{what} took longer than {limits.seconds:g} s and was stopped") from None
        finally:
            kill_group(proc.pid)  # what the command left running (soffice.bin after oosplash returned)
            _LIVE.discard(proc.pid)
        if proc.returncode in (-signal.SIGXCPU, -signal.SIGKILL, 128 + signal.SIGXCPU, 128 + signal.SIGKILL):
            raise Stopped(f"{what} used more than {limits.cpu_seconds} s of CPU and was stopped")
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out.read(), err.read())


# ---------------------------------------------------------------- Python in a box
_CONTEXT: multiprocessing.context.BaseContext | None = None


def _context() -> multiprocessing.context.BaseContext:
    """Children forked from a small server that has imported the parser (fast to start, and not a
    fork of a process with threads)."""
    global _CONTEXT
    if _CONTEXT is None:
        ctx = multiprocessing.get_context("forkserver")
        main = getattr(sys.modules["__main__"].__spec__, "name", None) or ""  # each child runs it again:
        preload = ["xxgk.parse", "xxgk.sandbox", *([main] if main.startswith("xxgk") else [])]  # cheap once loaded
        ctx.set_forkserver_preload(preload)
        _CONTEXT = ctx
    return _CONTEXT


def _stop(signum: int, frame: object) -> None:
    for pgid in list(_LIVE):
        kill_group(pgid)
    os._exit(128 + signum)


def _child(conn: Any, limits: Limits, fn: Callable[..., Any], args: tuple) -> None:
    global IN_BOX
    os.setpgrp()
    limit_this_process(limits)
    IN_BOX = True
    signal.signal(signal.SIGTERM, _stop)
    try:
        reply: tuple[str, Any] = ("ok", fn(*args))
    except ReportError as e:
        reply = ("report", str(e))
    except MemoryError:
        reply = ("report", f"too large to read within {limits.memory_mb} MB of memory")
    except RecursionError:
        reply = ("report", "too deeply nested to read")
    except Exception as e:  # a bug costs this file only
        reply = ("bug", f"{type(e).__name__}: {e}")
    try:
        conn.send(reply)
    except MemoryError:
        conn.send(("report", f"too large to read within {limits.memory_mb} MB of memory"))
    finally:
        for pgid in list(_LIVE):
            kill_group(pgid)


def _death(exitcode: int | None, limits: Limits) -> str:
    if exitcode in (-signal.SIGXCPU, -signal.SIGKILL):
        return f"used more than {limits.cpu_seconds} s of CPU and was stopped"
    if exitcode is not None and exitcode < 0:
        return f"the reading process died (signal {-exitcode}; out of {limits.memory_mb} MB of memory?)"
    return f"the reading process died (exit status {exitcode})"


def call_boxed(fn: Callable[..., T], *args: Any, limits: Limits | None = None) -> T:
    """fn(*args) in a child process with `limits` (fn and its arguments and result are pickled).
    A ReportError in the child is raised here with its message; an overrun is `Stopped`."""
    limits = limits or Limits()
    if IN_BOX or multiprocessing.current_process().daemon:  # a daemonic process (Dask's) may not start one
        return fn(*args)
    ctx = _context()
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, limits, fn, args), name="xxgk-box")
    proc.start()
    send.close()
    try:
        if not receive.poll(limits.seconds):
            raise Stopped(f"took longer than {limits.seconds:g} s and was stopped")
        try:
            status, value = receive.recv()
        except (EOFError, OSError):
            proc.join(5)
            raise Stopped(_death(proc.exitcode, limits)) from None
    finally:
        receive.close()
        _end(proc)
    if status == "ok":
        return value
    if status == "report":
        raise ReportError(value)
    raise RuntimeError(value)


def _end(proc: multiprocessing.process.BaseProcess) -> None:
    """The child asked to stop (it kills its converters), then its whole group killed."""
    if proc.is_alive() and proc.pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        proc.join(2)
    if proc.pid:
        kill_group(proc.pid)
    if proc.is_alive():
        proc.kill()
    proc.join()
    proc.close()

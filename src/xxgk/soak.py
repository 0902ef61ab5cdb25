"""Soak: many uploads at once, good and hostile, against a running `xxgk serve` (run by `make bench`).

    python -m xxgk.soak [--uploads 200] [--at-once 20] [--hostile 20]

Every good file must be stored exactly once, every hostile one refused with its reason, the
server's own memory (RSS) back within 10% of its start, and no process it started left running.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

from .fuzz import hostile_files

TOKEN = "soak-" + secrets.token_urlsafe(8)


@dataclass
class Soak:
    uploads: int = 0
    at_once: int = 0
    seconds: float = 0.0
    per_s: float = 0.0
    stored: int = 0  # good files the server holds
    good: int = 0  # distinct good files sent
    refused: int = 0  # hostile files refused with their reason
    hostile: int = 0
    busy: int = 0  # 503s (retried)
    start_rss_mb: float = 0.0
    peak_rss_mb: float = 0.0
    end_rss_mb: float = 0.0
    peak_workers_mb: float = 0.0  # the worker processes' RSS together, at its peak
    left_running: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def good_files(corpus: Path, n: int) -> list[tuple[str, bytes]]:
    """n distinct valid reports: the corpus's cell maps with other numbers, as text, HTML and DOCX."""
    from .compose.layout import PERTURBED
    from .compose.render import to_docx, to_html, to_text
    from .compose.synth import from_gold, vary

    bases = [from_gold(g) for g in sorted(corpus.rglob("*.gold.json"))]
    layouts = list(PERTURBED.values())
    files = []
    for i in range(n):
        report = vary(bases[i % len(bases)], seed=1000 + i)
        layout = layouts[i % len(layouts)]
        kind = ("txt", "html", "docx")[i % 3]
        data = (to_text(report, layout).encode() if kind == "txt" else to_html(report, layout).encode()
                if kind == "html" else to_docx(report, layout))
        files.append((f"good-{i:03d}.{kind}", data))
    return files


def hostile_set(n: int) -> list[tuple[str, bytes, str]]:
    """n hostile files (each kind in turn): name, bytes, the reason its refusal must give."""
    kinds = sorted(hostile_files().items())
    return [(f"hostile-{i:02d}-{name}", data, reason)
            for i, (name, (data, reason)) in ((i, kinds[i % len(kinds)]) for i in range(n))]


def _multipart(name: str, data: bytes) -> tuple[bytes, str]:
    boundary = "xxgk" + secrets.token_hex(12)
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def post(base: str, name: str, data: bytes, timeout: float = 600) -> tuple[int, str, dict]:
    body, kind = _multipart(name, data)
    request = urllib.request.Request(f"{base}/api/reports", body, method="POST",
                                     headers={"Content-Type": kind, "Authorization": f"Bearer {TOKEN}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace"), dict(e.headers)


def get(base: str, path: str) -> object:
    with urllib.request.urlopen(f"{base}{path}", timeout=60) as r:
        return json.loads(r.read())


def _rss_mb(process: psutil.Process) -> float:
    return process.memory_info().rss / (1024 * 1024)


def start_server(db: Path, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    src = str(Path(__file__).resolve().parents[1])
    environ = {**os.environ, "XXGK_TOKEN": TOKEN, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", ""),
               **(env or {})}
    server = subprocess.Popen([sys.executable, "-m", "xxgk.cli", "serve", "--db", f"sqlite:///{db}", "--port",
                               str(port)], env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            get(base, "/api/agencies")
            return server, base
        except (OSError, ValueError):
            if server.poll() is not None:
                raise RuntimeError("the server did not start: " + server.stderr.read().decode()[-2000:]) from None
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("the server did not start in time")


def run(corpus: Path, uploads: int = 200, at_once: int = 20, hostile: int = 20, workers: int = 2) -> Soak:
    """Upload `uploads` files (`hostile` of them hostile), `at_once` at a time, to a server of its own."""
    good = good_files(corpus, uploads - hostile)
    bad = hostile_set(hostile)
    jobs: list[tuple[str, bytes, str | None]] = [(n, d, None) for n, d in good]
    for i, (n, d, reason) in enumerate(bad):  # spread through the run
        jobs.insert((i * len(jobs)) // max(1, len(bad)) + i, (n, d, reason))
    soak = Soak(uploads=len(jobs), at_once=at_once, good=len(good), hostile=len(bad))
    with tempfile.TemporaryDirectory(prefix="xxgk-soak-") as tmp:
        server, base = start_server(Path(tmp, "soak.db"), {"XXGK_WORKERS": str(workers),
                                                           "XXGK_QUEUE": str(max(32, at_once))})
        me = psutil.Process(server.pid)
        seen: dict[int, float] = {}  # every process the server started: pid → its start time
        sampling = True

        def sample() -> None:
            while sampling:
                try:
                    soak.peak_rss_mb = max(soak.peak_rss_mb, _rss_mb(me))
                    total = 0.0
                    for child in me.children(recursive=True):
                        try:
                            seen.setdefault(child.pid, child.create_time())
                            if child.ppid() != me.pid:  # a worker (or what it started), not the fork server
                                total += _rss_mb(child)
                        except psutil.Error:
                            pass
                    soak.peak_workers_mb = max(soak.peak_workers_mb, total)
                except psutil.Error:
                    return
                time.sleep(0.1)

        try:
            time.sleep(1)
            soak.start_rss_mb = _rss_mb(me)
            watcher = threading.Thread(target=sample, daemon=True)
            watcher.start()
            answers: dict[str, tuple[int, str]] = {}

            def send(job: tuple[str, bytes, str | None]) -> None:
                name, data, _ = job
                while True:
                    status, text, headers = post(base, name, data)
                    if status != 503:
                        break
                    soak.busy += 1
                    time.sleep(min(5.0, float(headers.get("Retry-After", "1"))))
                answers[name] = (status, text)

            start = time.perf_counter()
            with ThreadPoolExecutor(at_once) as pool:
                list(pool.map(send, jobs))
            soak.seconds = time.perf_counter() - start
            soak.per_s = len(jobs) / soak.seconds
            time.sleep(2)  # what the server frees after the last answer
            soak.end_rss_mb = _rss_mb(me)
            sampling = False
            watcher.join()
            _check(soak, base, good, bad, answers)
        finally:
            sampling = False
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
                soak.problems.append("the server did not stop on SIGTERM")
            time.sleep(1)
            for pid, created in seen.items():
                try:
                    p = psutil.Process(pid)
                    if p.create_time() == created and p.status() != psutil.STATUS_ZOMBIE:
                        soak.left_running.append(f"{pid} {' '.join(p.cmdline())[:80]}")
                        p.kill()
                except psutil.Error:
                    pass
            if soak.left_running:
                soak.problems.append(f"{len(soak.left_running)} processes left running: {soak.left_running[:3]}")
    return soak


def _check(soak: Soak, base: str, good: list[tuple[str, bytes]], bad: list[tuple[str, bytes, str]],
           answers: dict[str, tuple[int, str]]) -> None:
    for name, _ in good:
        status, text = answers[name]
        if status != 201:
            soak.problems.append(f"{name}: {status} {text[:200]}")
    for name, _, reason in bad:
        status, text = answers[name]
        said = json.loads(text).get("reason", "") if text.startswith("{") else ""  # the reader's own words
        if status == 422 and re.search(reason, said):
            soak.refused += 1
        else:
            soak.problems.append(f"{name}: {status} {text[:200]} (expected a refusal saying {reason!r})")
    stored = get(base, "/api/reports")
    names = [r["source"] for r in stored]  # type: ignore[union-attr]
    soak.stored = len(set(names) & {n for n, _ in good})
    if sorted(names) != sorted(n for n, _ in good):
        soak.problems.append(f"stored {len(names)} reports for {len(good)} good files "
                             f"(duplicates: {len(names) - len(set(names))})")
    if soak.end_rss_mb > 1.10 * soak.start_rss_mb:
        soak.problems.append(f"the server's RSS went from {soak.start_rss_mb:.0f} MB to {soak.end_rss_mb:.0f} MB")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "corpus")
    ap.add_argument("--uploads", type=int, default=200)
    ap.add_argument("--at-once", type=int, default=20)
    ap.add_argument("--hostile", type=int, default=20)
    args = ap.parse_args(argv)
    soak = run(args.corpus, args.uploads, args.at_once, args.hostile)
    print(json.dumps(asdict(soak), indent=1, ensure_ascii=False))
    raise SystemExit(1 if soak.problems else 0)


if __name__ == "__main__":
    main(sys.argv[1:])

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("XXGK_SHARED", REPO.parent / "shared"))
SEEDS = SHARED / "corpus" / "seeds"
REAL = SHARED / "corpus" / "real"
SCORE = SHARED / "tools" / "score.py"
PDF_MODES = {"layout": ["-layout"], "raw": ["-raw"], "default": []}


@pytest.fixture(scope="session")
def pdf_texts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    """{mode: {pdf stem: text file}} for every real PDF, made with poppler's pdftotext."""
    root = tmp_path_factory.mktemp("pdftotext")
    out: dict[str, dict[str, Path]] = {}
    for mode, flags in PDF_MODES.items():
        out[mode] = {}
        for pdf in sorted(REAL.glob("*.pdf")):
            dest = root / mode / f"{pdf.stem}.txt"
            dest.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["pdftotext", *flags, str(pdf), str(dest)], check=True)
            out[mode][pdf.stem] = dest
    return out


def fragment(path: Path, start: str, end: str | None = None) -> str:
    """The lines of a real report from the one containing `start` up to the one containing `end`."""
    lines = path.read_text(encoding="utf-8").split("\n")
    i = next(n for n, line in enumerate(lines) if start in line)
    j = next((n for n, line in enumerate(lines[i + 1:], i + 1) if end and end in line), len(lines))
    return "\n".join(lines[i:j])


@contextlib.contextmanager
def running(app: object) -> Iterator[str]:
    """A real uvicorn server for `app` on a free loopback port, in a thread: its base URL."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)

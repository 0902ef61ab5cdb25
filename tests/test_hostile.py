"""Hostile and heavy files: conversions boxed (a process group killed whole, memory and CPU
limited), zip bombs of every zip format and other heavy inputs refused with their reason."""

from __future__ import annotations

import contextlib
import io
import os
import time
import zipfile
from pathlib import Path

import pytest

from xxgk.errors import ReportError
from xxgk.fuzz import hostile_files
from xxgk.ingest.bounds import MAX_CELLS, MAX_TEXT
from xxgk.parse import parse_bytes
from xxgk.sandbox import Limits, Stopped, call_boxed, run_boxed


def alive(marker: str) -> list[str]:
    """Processes (not zombies) whose command line holds `marker`."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in cmdline and state != "Z":
            found.append(f"{pid} {cmdline}")
    return found


@pytest.fixture
def own_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """This test's LibreOffice profile folders (xxgk-lo-…) under its own tmp_path: a process left
    behind is told apart from another test's conversion running at the same moment (xdist)."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return f"{tmp_path}/xxgk-lo-"


def boxes_left() -> list[str]:
    """Boxed children still running: every child of the fork server that starts boxes (itself stays)."""
    import psutil

    left = []
    for server in psutil.Process().children():
        with contextlib.suppress(psutil.Error):
            if "forkserver" in " ".join(server.cmdline()):
                left += [f"{p.pid} {p.name()}" for p in server.children(recursive=True)
                         if p.status() != psutil.STATUS_ZOMBIE]
    return left


def test_a_command_that_overruns_is_killed_with_everything_it_started() -> None:
    # like soffice: a wrapper whose child outlives it when only the wrapper is killed
    start = time.monotonic()
    with pytest.raises(Stopped, match="longer than 1 s"):
        run_boxed(["sh", "-c", "sleep 7301 & sleep 7302"], Limits(seconds=1))
    assert time.monotonic() - start < 5
    time.sleep(0.2)
    assert alive("sleep 730") == []


def test_what_a_command_leaves_running_is_killed_when_it_returns() -> None:
    run_boxed(["sh", "-c", "(sleep 7303 &) ; exit 0"], Limits(seconds=10))
    time.sleep(0.2)
    assert alive("sleep 7303") == []


def test_a_command_over_its_cpu_time_is_stopped() -> None:
    with pytest.raises(Stopped, match="1 s of CPU"):
        run_boxed(["sh", "-c", "while :; do :; done"], Limits(seconds=30, cpu_seconds=1))


def test_libreoffice_overrunning_its_time_leaves_no_process_behind(tmp_path: Path, own_temp: str) -> None:
    from xxgk.ingest.office import convert_to_docx

    source = tmp_path / "report.rtf"
    source.write_text(r"{\rtf1\ansi hello\par}")
    with pytest.raises(Stopped, match="LibreOffice"):  # it takes over a second only to start
        convert_to_docx([source], tmp_path, Limits(seconds=0.5))
    time.sleep(0.5)
    assert alive(own_temp) == []  # neither oosplash nor soffice.bin (both run with our profile folder)


def test_python_in_a_box_gets_its_memory_time_and_cpu_limits() -> None:
    with pytest.raises(ReportError, match="512 MB of memory"):
        call_boxed(bytearray, 2 << 30, limits=Limits(memory_mb=512))
    start = time.monotonic()
    with pytest.raises(Stopped, match="longer than 1 s"):
        call_boxed(time.sleep, 60, limits=Limits(seconds=1))
    assert time.monotonic() - start < 6
    with pytest.raises(Stopped, match="CPU"):
        call_boxed(sum, range(10**12), limits=Limits(seconds=60, cpu_seconds=1))
    assert call_boxed(sum, [1, 2, 3]) == 6
    assert len(call_boxed(bytes, 10**7)) == 10**7  # a large result comes back whole
    assert boxes_left() == []


def test_a_report_error_in_a_box_is_the_same_clear_error() -> None:
    with pytest.raises(ReportError, match="empty file"):
        call_boxed(parse_bytes, b"", "empty.txt")


def test_an_odt_bomb_is_refused_before_libreoffice_sees_it(tmp_path: Path, own_temp: str) -> None:
    from xxgk.batch import convert_legacy_word

    bomb = tmp_path / "bomb.odt"
    bomb.write_bytes(hostile_files()["bomb.odt"][0])
    assert convert_legacy_word([bomb], tmp_path / "out") == {}
    assert alive(own_temp) == []


def test_text_and_table_cells_are_capped() -> None:
    with pytest.raises(ReportError, match="characters of text"):
        parse_bytes(("本年新收政府信息公开申请数量 1\n" * (MAX_TEXT // 16 + 10)).encode(), "long.txt")
    side = int(MAX_CELLS ** 0.5) + 2
    table = "<table>" + ("<tr>" + "<td>1</td>" * side + "</tr>") * side + "</table>"
    with pytest.raises(ReportError, match="table cells"):
        parse_bytes(f"<html><body>{table}</body></html>".encode(), "cells.html")


def test_zip_limits_leave_real_word_files_alone() -> None:
    from xxgk.compose.render import to_docx

    from .test_readers import GOLDS, from_gold

    data = to_docx(from_gold(GOLDS[0]))
    assert parse_bytes(data, "ok.docx").cells
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:  # well compressed, but small: not a bomb
        z.writestr("word/document.xml", b" " * (5 * 1024 * 1024))
    from xxgk.ingest.bounds import check_zip

    check_zip(buf.getvalue(), "docx")


def test_ocr_of_a_large_picture_runs_in_a_box(monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    import xxgk.ingest
    from xxgk.ingest import read_source

    buf = io.BytesIO()
    Image.new("L", (3000, 3000), 255).save(buf, "PNG")
    monkeypatch.setattr(xxgk.ingest, "OCR_LIMITS", Limits(seconds=0.2))
    with pytest.raises(Stopped, match=r"longer than 0\.2 s"):
        read_source(buf.getvalue(), "big.png")
    assert boxes_left() == []


def test_a_batch_conversion_killed_is_a_clear_error_for_its_file(tmp_path: Path, own_temp: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from xxgk.batch import convert_legacy_word, process_file
    from xxgk.ingest import office

    monkeypatch.setattr(office, "START", 0.4)  # LibreOffice needs over a second only to start
    monkeypatch.setattr(office, "PER_FILE", 0)
    source = tmp_path / "report.rtf"
    source.write_text(r"{\rtf1\ansi hello\par}")
    assert convert_legacy_word([source], tmp_path / "out") == {}  # the run was killed: left to the file itself
    outcome = process_file(str(source))
    assert outcome.error and "LibreOffice's conversion took longer than 0.4 s and was stopped" in outcome.error
    time.sleep(0.5)
    assert alive(own_temp) == []

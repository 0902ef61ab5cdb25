"""Bad input gets a clear one-line message and a non-zero status; the other files go on."""

from __future__ import annotations

import json
import os
import random
import subprocess
from pathlib import Path

import pytest

from xxgk.errors import BinaryInput, EmptyInput, NotAReport, ReportError
from xxgk.parse import parse_bytes

from .conftest import REPO, SEEDS

XXGK = str(REPO / ".venv" / "bin" / "xxgk")
SEED = sorted(SEEDS.glob("*.txt"))[0]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([XXGK, *args], capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})


@pytest.mark.parametrize(("data", "error", "words"), [
    (b"", EmptyInput, "empty"),
    (b"  \n\t \n", EmptyInput, "empty"),
    (bytes(range(256)) * 40, BinaryInput, "binary"),
    (b"\xff\xfe\x00\xd8" + random.Random(7).randbytes(3000), BinaryInput, "binary"),
    (random.Random(8).randbytes(5000).replace(b"\x00", b"\x01"), BinaryInput, "binary"),
    ("这是一篇关于春季植树活动的新闻稿，没有任何统计表。".encode(), NotAReport, "not a"),
    (SEED.read_bytes()[:300], NotAReport, "not a"),  # truncated before its tables
])
def test_bad_text_input_raises_a_clear_error(data: bytes, error: type, words: str) -> None:
    with pytest.raises(error) as e:
        parse_bytes(data, "x.txt")
    assert words in str(e.value)
    assert "\n" not in str(e.value)


def test_formats_not_read_yet_say_so() -> None:
    with pytest.raises(ReportError, match="zip"):
        parse_bytes(b"PK\x03\x04" + b"\x00" * 100, "a.zip")


def test_a_batch_with_bad_files_writes_the_good_ones_and_exits_nonzero(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "garbage.txt").write_bytes(bytes(range(256)) * 10)
    (tmp_path / "news.txt").write_text("今天天气很好。", encoding="utf-8")
    out = tmp_path / "out"
    proc = run("parse", str(tmp_path / "empty.txt"), str(tmp_path / "garbage.txt"), str(SEED),
               str(tmp_path / "news.txt"), str(tmp_path / "missing.txt"), "--out", str(out))
    assert proc.returncode == 1
    assert [p.name for p in out.glob("*.json")] == [f"{SEED.name}.json"]
    err = proc.stderr
    for name, why in (("empty.txt", "empty file"), ("garbage.txt", "binary"), ("news.txt", "not a"),
                      ("missing.txt", "no such file")):
        assert any(name in line and why in line for line in err.splitlines()), err
    assert "Traceback" not in err


def test_parse_one_file_prints_its_json() -> None:
    proc = run("parse", str(SEED))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["source"] == SEED.name
    assert result["template"] == "2019" and len(result["cells"]) == 198
    assert result["provenance"]["requests.new.natural"]["text"] == "3"


def test_show_prints_the_three_tables() -> None:
    proc = run("parse", str(SEED), "--show")
    assert proc.returncode == 0, proc.stderr
    for title in ("主动公开政府信息情况", "收到和处理政府信息公开申请情况", "行政复议、行政诉讼情况"):
        assert title in proc.stdout
    assert "警告" in proc.stdout  # its 63条 enumeration
    assert "本年新制作数量" in proc.stdout and "处理决定数量" in proc.stdout  # section 二's column headings


def test_directories_and_globs_expand(tmp_path: Path) -> None:
    proc = run("parse", str(SEEDS), str(SEEDS / "00[0-1]*.txt"), "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert len(list(tmp_path.glob("*.json"))) == 5

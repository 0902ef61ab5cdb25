"""The benchmark runs (its numbers are for `make bench` to print, not for tests to assert)."""

from __future__ import annotations

import json
from pathlib import Path

from xxgk.bench import STORED, main

from .conftest import SHARED


def test_bench_measures_every_format_on_a_tiny_corpus(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    main(["--corpus", str(SHARED / "corpus"), "--scale", "0.003", "--jobs", "2", "--json", str(out)])
    numbers = json.loads(out.read_text())
    rows = numbers["formats"]
    assert numbers["evaluate"]["reports"] == int(STORED * 0.003) and numbers["evaluate"]["evaluate_s"] > 0
    assert [r["format"] for r in rows] == ["text", "html", "docx", "pdf", "scan"]
    assert all(r["failed"] == 0 and r["ms"] > 0 and r["base_ms"] > 0 and r["peak_mb"] > 0 for r in rows)
    assert numbers["ocr"]["cpu_s"] > 0 and numbers["ocr"]["wall_s"] > 0 and numbers["ocr"]["peak_mb"] > 0

"""The benchmark runs (its numbers are for `make bench` to print, not for tests to assert) and says
of each target whether it is met."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xxgk.bench import STORED, TARGETS, main, options, verdicts

from .conftest import SHARED


def test_bench_measures_every_format_on_a_tiny_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bench.json"
    main(["--corpus", str(SHARED / "corpus"), "--scale", "0.003", "--jobs", "2", "--json", str(out)])
    numbers = json.loads(out.read_text())
    rows = numbers["formats"]
    assert numbers["evaluate"]["reports"] == int(STORED * 0.003) and numbers["evaluate"]["evaluate_s"] > 0
    assert [r["format"] for r in rows] == ["text", "html", "docx", "pdf", "scan"]
    assert all(r["failed"] == 0 and r["ms"] > 0 and r["cpu_ms"] > 0 and r["base_ms"] > 0 and r["base_cpu_ms"] > 0
               and r["peak_mb"] > 0 for r in rows)
    assert numbers["ocr"]["cpu_s"] > 0 and numbers["ocr"]["wall_s"] > 0 and numbers["ocr"]["peak_mb"] > 0
    # every target is judged from the rows measured, and printed on a line of its own
    judged = numbers["targets"]
    assert [v["target"] for v in judged] == [t.name for t in TARGETS if t.key != "postgresql" or
                                             any(r["database"] == "postgresql" and r["reports"]
                                                 for r in numbers["ingest"])]
    text = next(v for v in judged if v["key"] == "text")
    assert text["value"] == pytest.approx(1000 / rows[0]["cpu_ms"])
    pdf = next(v for v in judged if v["key"] == "pdf")
    assert pdf["value"] == pytest.approx(rows[3]["cpu_ratio"]) and pdf["times"] == pytest.approx(1.5 / pdf["value"])
    printed = capsys.readouterr().out
    for v in judged:
        assert v["met"] == (v["times"] >= 1)
        line = next(ln for ln in printed.splitlines() if ln.startswith(f"target {v['target']}:"))
        assert ("NOT met" in line) != v["met"]
    assert "× target" in printed


def test_targets_met_or_not_by_their_direction() -> None:
    """At least (reports/s) is met at or above the bound, at most (× pdftotext) at or below."""
    rows = {"formats": [{"format": "text", "reports": 10, "cpu_ms": 0.8},
                        {"format": "pdf", "reports": 10, "cpu_ratio": 1.8}],
            "ingest": [{"database": "sqlite", "reports": 10, "stored_per_s": 200.0, "stored_per_cpu_s": 400.0}]}
    got = {v["key"]: v for v in verdicts(rows)}
    assert set(got) == {"text", "pdf", "sqlite"}  # no scan or postgresql row measured: not judged
    assert got["text"]["met"] and got["text"]["times"] == pytest.approx(1.25)
    assert not got["pdf"]["met"] and got["pdf"]["times"] == pytest.approx(1.5 / 1.8)
    assert got["sqlite"]["met"] and got["sqlite"]["times"] == pytest.approx(1.0)


def test_quick_is_a_tenth_of_the_corpus() -> None:
    assert options(["--quick"]).scale == 0.1 and options([]).scale == 1.0 and options(["--scale", "2"]).scale == 2
    with pytest.raises(SystemExit):
        options(["--quick", "--scale", "0.5"])

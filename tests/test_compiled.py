"""The extraction's hot modules run compiled (mypyc, setup.py) where the build could, and as pure
Python otherwise, with the same results: XXGK_PURE=1 makes any machine run the pure fallback, and
`XXGK_PURE=1 pytest` runs every test on it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from xxgk import compiled
from xxgk.batch import process_file
from xxgk.compose.layout import PERTURBED
from xxgk.compose.render import to_html, to_text
from xxgk.compose.synth import from_gold, vary

from .conftest import REAL, REPO, SEEDS

_PARSE = """
import json, sys
import pytest

from xxgk import compiled
from xxgk.batch import process_file
print(json.dumps({"compiled": compiled.loaded(), "results": [process_file(p).result for p in sys.argv[1:]]}))
"""


def _reports(folder: Path) -> list[str]:
    """The corpus's text and PDF reports, and its gold maps rendered in every perturbed layout."""
    paths = [str(p) for p in sorted(SEEDS.glob("*.txt")) + sorted(REAL.glob("*.pdf"))]
    golds = sorted([*SEEDS.glob("*.gold.json"), *REAL.glob("*.gold.json")])
    for i, layout in enumerate(PERTURBED.values()):
        report = vary(from_gold(golds[i % len(golds)]), seed=i)
        text, html = folder / f"{i}.txt", folder / f"{i}.html"
        text.write_text(to_text(report, layout), encoding="utf-8")
        html.write_text(to_html(report, layout), encoding="utf-8")
        paths += [str(text), str(html)]
    return paths


def _parsed_in(env: dict[str, str], paths: list[str]) -> dict:
    run = subprocess.run([sys.executable, "-c", _PARSE, *paths], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(REPO / "src"), **env}, timeout=600)
    return json.loads(run.stdout)


def test_the_pure_fallback_reads_every_report_as_this_build_does(tmp_path: Path) -> None:
    paths = _reports(tmp_path)
    pure = _parsed_in({"XXGK_PURE": "1"}, paths)
    assert not any(pure["compiled"].values())  # the source files were imported
    here = [process_file(p).result for p in paths]
    assert all(r is not None for r in here)
    assert pure["results"] == here  # every cell, provenance, finding and doubt alike


def test_the_hot_modules_run_all_compiled_or_all_pure() -> None:
    """Compiled modules share their classes: one loaded from source beside compiled ones would not
    take their tokens. Where every one was built and is newer than its source, they run compiled."""
    state = compiled.loaded()
    assert len(set(state.values())) == 1
    fresh = all((built := compiled._compiled_file(name)) is not None
                and built.stat().st_mtime >= compiled._source(name).stat().st_mtime for name in compiled.HOT)
    assert all(state.values()) == (fresh and os.environ.get("XXGK_PURE", "") in ("", "0"))


def test_ci_runs_the_compiled_build() -> None:
    """On CI (a fresh clone, gcc and Python's headers installed by setup) mypyc must have compiled
    every hot module: a type mypyc refuses makes the build fall back to pure Python silently, and
    it showed only as speed lost (a merge once did exactly that)."""
    if not os.environ.get("CI") or os.environ.get("XXGK_PURE", "") not in ("", "0"):
        pytest.skip("the compiled build is required on CI only (a local edit runs pure until `make compile`)")
    assert all(compiled.loaded().values()), compiled.loaded()

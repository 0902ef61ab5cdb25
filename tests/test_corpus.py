"""Accuracy on the shared corpus, scored by the shared scorer. It must not drop."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from xxgk.extract.report import parse_text

from .conftest import REAL, REPO, SCORE, SEEDS

XXGK = REPO / ".venv" / "bin" / "xxgk"


def score(gold: Path, pred: Path) -> tuple[float, float, str]:
    out = subprocess.run([sys.executable, str(SCORE), str(gold), str(pred), "-v"], capture_output=True,
                         text=True, check=True).stdout
    m = re.search(r"cells \d+/\d+ \(([\d.]+)%\)\s+meta \d+/\d+ \(([\d.]+)%\)", out)
    assert m, out
    return float(m.group(1)), float(m.group(2)), out


def test_seeds_parse_perfectly_through_the_cli(tmp_path: Path) -> None:
    subprocess.run([str(XXGK), "parse", str(SEEDS), "--out", str(tmp_path)], check=True, capture_output=True)
    cells, meta, out = score(SEEDS, tmp_path)
    assert (cells, meta) == (100.0, 100.0), out


@pytest.mark.parametrize("mode", ["layout", "raw", "default"])
def test_real_pdfs_as_pdftotext_text(mode: str, pdf_texts: dict, tmp_path: Path) -> None:
    for stem, text_file in pdf_texts[mode].items():
        result = parse_text(text_file.read_text(encoding="utf-8"), f"{stem}.pdf")
        (tmp_path / f"{stem}.pdf.json").write_text(result.model_dump_json(), encoding="utf-8")
    cells, meta, out = score(REAL, tmp_path)
    assert cells >= 99.5, out
    assert meta == 100.0, out


def _every_third(pattern: str, change: object, text: str) -> str:
    seen = iter(range(10**9))
    return re.sub(pattern, lambda m: change(m.group()) if next(seen) % 3 == 2 else m.group(), text)  # type: ignore[operator]


REFORMAT = {
    "traditional characters": lambda t: __import__("opencc").OpenCC("s2t").convert(t),
    "full-width digits": lambda t: t.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
    "CRLF line ends": lambda t: t.replace("\n", "\r\n"),
    "tabs as two spaces": lambda t: t.replace("\t", "  "),
    "tabs as one space": lambda t: t.replace("\t", " "),
    "letters spaced apart": lambda t: re.sub(r"(?<=[\u4e00-\u9fff])(?=[\u4e00-\u9fff])", " ", t),
    "a blank line after every line": lambda t: t.replace("\n", "\n\n"),
    "page numbers and running heads": lambda t: "\n".join(
        line + (f"\n\n— {i // 35 + 1} —\n\n政府信息公开工作年度报告\n" if i % 35 == 34 else "")
        for i, line in enumerate(t.split("\n"))),
    "OCR letters for digits (every third lone 0 as O, 1 as l)": lambda t: _every_third(
        r"(?<![\d.])[01](?![\d.])", lambda d: {"0": "O", "1": "l"}[d], t),
    "long labels broken over two lines": lambda t: re.sub(r"([\u4e00-\u9fff]{4})([\u4e00-\u9fff]{4,})",
                                                           r"\1\n\2", t),
}


@pytest.mark.parametrize("name", list(REFORMAT))
def test_the_corpus_survives_reformatting(name: str, pdf_texts: dict) -> None:
    """The same reports, re-typed the ways crawlers and editors re-type them, still read (≥ 99.5%)."""
    right, total, wrong = _reread(REFORMAT[name], pdf_texts)
    assert right / total >= 0.995, f"{right}/{total}"
    assert wrong == []  # a cell not read is null, never another number


def test_every_space_removed_costs_cells_but_never_gives_a_wrong_number(pdf_texts: dict) -> None:
    """The worst crawl: no white space at all, digits of neighbouring cells and page numbers glued
    ("行政许可9487-2-第二十条…"). Rows the totals cannot split stay null."""
    right, total, wrong = _reread(lambda t: re.sub(r"\s+", "", t), pdf_texts)
    assert wrong == []
    assert right / total >= 0.85, f"{right}/{total}"


def _reread(change: object, pdf_texts: dict) -> tuple[int, int, list]:
    """(cells right, cells, cells read as another number) over the seeds and the real PDFs' text."""
    import json

    from xxgk.parse import parse_bytes

    sources = [(p, SEEDS) for p in sorted(SEEDS.glob("*.txt"))]
    sources += [(p, REAL) for mode in ("layout", "raw") for p in pdf_texts[mode].values()]
    right = total = 0
    wrong = []
    for path, gold_dir in sources:
        stem = path.name.removesuffix(".txt")
        gold = json.loads((gold_dir / f"{stem}.gold.json").read_text(encoding="utf-8"))["cells"]
        text = change(path.read_text(encoding="utf-8"))  # type: ignore[operator]
        cells = parse_bytes(text.encode("utf-8"), path.name).cells
        total += len(gold)
        good = {k for k, v in gold.items() if (cells[k] in v if isinstance(v, list) else cells[k] == v)}
        right += len(good)
        wrong += [(path.name, k, cells[k]) for k in gold if k not in good and cells[k] is not None]
    return right, total, wrong

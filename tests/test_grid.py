"""Tables read by their grid: every cell a structured source shows is placed by its cell, blanks
included. Renderings of every gold map with every zero printed as a blank cell (totals included,
as many agencies print them) read back exactly, blanks null."""

from __future__ import annotations

import html
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from xxgk.compose.layout import PERTURBED, Layout
from xxgk.compose.render import _place, document, to_docx, to_html, to_pdf
from xxgk.compose.synth import from_gold
from xxgk.formats import FORMATS
from xxgk.ingest import read_source
from xxgk.parse import parse_bytes
from xxgk.result import ParseResult

from .conftest import REAL, SEEDS

GOLDS = sorted(SEEDS.glob("*.gold.json")) + sorted(REAL.glob("*.gold.json"))
BLANK = Layout(blank_zeros=True)
FAST = {"000_d5b9bd30", "hongze-2024", "huaian-2024"}  # 2019; 2021 with one （六） row; 2021 split
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def stem(gold: Path) -> str:
    return gold.name.split(".")[0][:12]


def blanked(gold: Path) -> ParseResult:
    """The gold map as an agency that leaves every zero blank prints it: what must come back."""
    result = from_gold(gold)
    result.cells = {k: None if v == 0 else v for k, v in result.cells.items()}
    return result


def wrong(expected: ParseResult, got: ParseResult) -> dict:
    return {k: (v, got.cells.get(k)) for k, v in expected.cells.items() if got.cells.get(k) != v}


def sometimes_slow(golds: list[Path]) -> list:
    return [g if stem(g) in FAST else pytest.param(g, marks=pytest.mark.slow) for g in golds]


@pytest.mark.parametrize("gold", GOLDS, ids=stem)
def test_every_zero_blank_as_html(gold: Path) -> None:
    expected = blanked(gold)
    result = parse_bytes(to_html(from_gold(gold), BLANK).encode(), "blank.html")
    assert wrong(expected, result) == {}
    requests = FORMATS[result.template].table("requests")  # type: ignore[index]
    printed_blank = [k for k in requests.cells(result.variants.get("requests", "")) if expected.cells[k] is None]
    assert printed_blank and all(k in result.blank and result.evidence[k] == "grid" for k in printed_blank)


@pytest.mark.parametrize("gold", sometimes_slow(GOLDS), ids=stem)
def test_every_zero_blank_as_docx(gold: Path) -> None:
    assert wrong(blanked(gold), parse_bytes(to_docx(from_gold(gold), BLANK), "blank.docx")) == {}


@pytest.mark.parametrize("gold", sometimes_slow(GOLDS), ids=stem)
def test_every_zero_blank_as_a_ruled_pdf(gold: Path) -> None:
    result = parse_bytes(to_pdf(from_gold(gold), BLANK), "blank.pdf")
    assert wrong(blanked(gold), result) == {}
    assert list(result.evidence.values()).count("grid") > len(result.cells) / 2  # (a row a page cuts: by tokens)


@pytest.mark.parametrize("gold", sometimes_slow(GOLDS), ids=stem)
def test_every_zero_blank_as_a_pdf_without_rules(gold: Path) -> None:
    """No rules, so no cells: each labelled row's numbers go under the headings drawn above them, by
    x (headings a narrow column wraps, "社会公" over "益组织", joined); an empty column is blank."""
    expected = blanked(gold)
    result = parse_bytes(to_pdf(from_gold(gold), replace(BLANK, borders=False)), "borderless.pdf")
    assert wrong(expected, result) == {}
    if any(v is not None for k, v in expected.cells.items() if k.startswith("requests.")):
        assert "columns" in result.evidence.values()


def test_a_blank_total_does_not_veto_its_row() -> None:
    """Shanghai's family of reports: zeros and each row's 总计 left blank (&nbsp;), a count only where
    there is one: `258⇥12⇥⇥⇥1⇥1⇥`. The row is read cell by cell, its blank total null; the sums
    that cannot be checked veto nothing."""
    original = from_gold(REAL / "huaian-2024.gold.json")
    expected = original.model_copy(update={"cells": {
        k: None if v == 0 or (k.startswith("requests.") and k.endswith(".total")) else v
        for k, v in original.cells.items()}})
    page = to_html(expected).replace("<td></td>", "<td>&nbsp;</td>")
    result = parse_bytes(page.encode(), "shanghai.html")
    assert wrong(expected, result) == {}
    assert result.cells["requests.new.natural"] == 3001 and "requests.new.total" in result.blank
    assert result.evidence["requests.new.natural"] == "grid"
    assert not any("整行留空" in d for d in result.doubts)


# ---------------------------------------------------------------- Word's HTML
def word_html(result: ParseResult, layout: Layout) -> str:
    """The report as Word saves it as a web page: `width=` and `style="width:…pt"` on every cell, and
    each column edge nudged by a pixel from row to row, so that the header and the data rows reach
    one visual column with different colspans (a value cell spanning two grid columns in one row,
    the heading above it one in the next)."""
    parts = ["<html><head><meta charset='utf-8'></head><body>"]
    for block in document(result, layout):
        if block.grid is None:
            parts.append(f"<p class=MsoNormal>{html.escape(block.text)}</p>")
            continue
        placed = _place(block.grid)
        width = max(c + cell.colspan for (_, c), cell in placed.items())
        fine = [w for c in range(width) for w in (1, (110 if c == 0 else 70) - 1)]  # px: a sliver, then the rest
        forced: dict[tuple[int, int], int] = {}  # edges a rowspan from above fixes

        def nudge(r: int, edge: int, width: int = width, forced: dict = forced) -> int:
            return 0 if edge in (0, width) else forced.get((r, edge), (r + edge) % 2)

        parts.append("<table border=1 cellspacing=0 cellpadding=0>")
        for r in range(len(block.grid.rows)):
            parts.append("<tr>")
            for (_, c), cell in sorted((rc, cell) for rc, cell in placed.items() if rc[0] == r):
                a, b = 2 * c + nudge(r, c), 2 * (c + cell.colspan) + nudge(r, c + cell.colspan)
                for k in range(1, cell.rowspan):
                    forced[r + k, c], forced[r + k, c + cell.colspan] = nudge(r, c), nudge(r, c + cell.colspan)
                px = sum(fine[a:b])
                spans = f" colspan={b - a}" if b - a > 1 else ""
                spans += f" rowspan={cell.rowspan}" if cell.rowspan > 1 else ""
                parts.append(f"<td width={px}{spans} style='width:{px * 0.75:.1f}pt'><p class=MsoNormal>"
                             f"<span lang=ZH-CN>{html.escape(cell.text) or '&nbsp;'}</span></p></td>")
            parts.append("</tr>")
        parts.append("</table>")
    return "".join(parts) + "</body></html>"


@pytest.mark.parametrize("layout", ["standard", "blank_cells"])
@pytest.mark.parametrize("gold", GOLDS, ids=stem)
def test_word_html_whose_rows_span_one_column_differently(gold: Path, layout: str) -> None:
    """Spacer columns (blank_cells) leave more cells than columns: each value goes under its heading
    by the widths Word wrote, not by grid index (which the nudged edges make disagree)."""
    page = word_html(from_gold(gold), replace(PERTURBED[layout], blank_zeros=True))
    assert "colspan=2" in page and "style='width:" in page
    result = parse_bytes(page.encode(), "word.html")
    assert wrong(blanked(gold), result) == {}
    assert list(result.evidence.values()).count("grid") > len(result.cells) / 2  # (a row a page cuts: by tokens)


# ---------------------------------------------------------------- the readers' tables
def test_word_html_cells_carry_the_widths_word_wrote() -> None:
    """The HTML reader's cells know their x from Word's widths: under each heading of 申请人情况 lies
    one value cell of each data row by x, although row to row their grid columns differ."""
    page = word_html(from_gold(REAL / "huaian-2024.gold.json"), replace(PERTURBED["standard"], blank_zeros=True))
    requests = next(t for t in read_source(page.encode(), "word.html").tables
                    if any(c.text == "申请人情况" for c in t.cells))
    names = ["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]
    heads = [next(c for c in requests.cells if c.text == n) for n in names]
    shifted = 0
    for label in ("一、本年新收政府信息公开申请数量", "二、上年结转政府信息公开申请数量", "（一）予以公开"):
        at = next(c for c in requests.cells if c.text == label)
        row = sorted((c for c in requests.cells if c.row == at.row and c.column > at.column), key=lambda c: c.column)
        assert len(row) == len(heads) and all(c.x is not None for c in row), label
        for cell, head in zip(row, heads, strict=True):
            assert head.x[0] <= (cell.x[0] + cell.x[1]) / 2 <= head.x[1], (label, head.text, cell)
            shifted += cell.column != head.column
    assert shifted  # grid columns alone would misplace them


def test_readers_hand_over_tables_of_cells() -> None:
    original = from_gold(REAL / "huaian-2024.gold.json")
    for name, data in (("x.html", to_html(original, BLANK).encode()), ("x.docx", to_docx(original, BLANK)),
                       ("x.pdf", to_pdf(original, BLANK))):
        src = read_source(data, name)
        assert "\ue000" not in src.text and "\ue001" not in src.text
        requests = next(t for t in src.tables if any(c.text == "申请人情况" for c in t.cells))
        head = next(c for c in requests.cells if c.text == "申请人情况")
        assert (head.row, head.colspan) == (0, 7), name
        label = next(c for c in requests.cells if c.text == "1.本机关不掌握相关政府信息")
        row = sorted((c for c in requests.cells if c.row == label.row and c.column > label.column),
                     key=lambda c: c.column)
        assert [c.text for c in row] == ["746", "12", "", "", "10", "1", "769"], name
        assert all(src.text[c.start:c.start + len(c.text)] == c.text for c in row)
        where = row[0].where
        assert where is not None and (where.bbox is not None if name.endswith("pdf") else where.row is not None)
        group = next(c for c in requests.cells if c.text == "（四）无法提供")
        assert group.rowspan == 3, name


# ---------------------------------------------------------------- conversions by other programs
@pytest.fixture(scope="session")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The zeros-blank HTML of every gold map, and LibreOffice's DOCX of each (one run)."""
    root = tmp_path_factory.mktemp("converted")
    for gold in GOLDS:
        (root / f"{stem(gold)}.html").write_text(to_html(from_gold(gold), BLANK), encoding="utf-8")
    subprocess.run(["soffice", f"-env:UserInstallation=file://{root}/profile", "--headless", "--convert-to",
                    "docx:MS Word 2007 XML", "--outdir", str(root / "lo"), *sorted(map(str, root.glob("*.html")))],
                   check=True, capture_output=True, timeout=300)
    return root


@pytest.mark.parametrize("gold", sometimes_slow(GOLDS), ids=stem)
def test_every_zero_blank_through_libreoffice_docx(gold: Path, converted: Path) -> None:
    data = (converted / "lo" / f"{stem(gold)}.docx").read_bytes()
    assert wrong(blanked(gold), parse_bytes(data, "lo.docx")) == {}


@pytest.fixture(scope="session")
def libreoffice_pdfs(converted: Path) -> Path:
    subprocess.run(["soffice", f"-env:UserInstallation=file://{converted}/profile", "--headless", "--convert-to",
                    "pdf:writer_web_pdf_Export", "--outdir", str(converted / "lopdf"),
                    *sorted(map(str, converted.glob("*.html")))], check=True, capture_output=True, timeout=300)
    return converted / "lopdf"


@pytest.mark.parametrize("gold", sometimes_slow(GOLDS), ids=stem)
def test_every_zero_blank_through_libreoffices_pdf(gold: Path, libreoffice_pdfs: Path) -> None:
    """LibreOffice prints the page's tables without their (CSS) borders: read by position. (000's
    page break falls inside the wrapped headings 科研机|构, 社会公益|组织, 法律服务机|构: each is
    joined across it, so its column is found and the row's 3s go under 自然人 and 总计.)"""
    expected = blanked(gold)
    result = parse_bytes((libreoffice_pdfs / f"{stem(gold)}.pdf").read_bytes(), "lo.pdf")
    assert wrong(expected, result) == {}
    shown = [k for k, v in expected.cells.items() if v is not None and k.startswith("requests.")]
    assert all(result.evidence[k] in ("columns", "derived") for k in shown)  # under their headings, not by sums


@pytest.mark.parametrize("gold", sometimes_slow(GOLDS), ids=stem)
def test_every_zero_blank_through_chromiums_pdf(gold: Path, converted: Path) -> None:
    pdf = converted / f"{stem(gold)}.chrome.pdf"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                    (converted / f"{stem(gold)}.html").as_uri()], check=True, capture_output=True, timeout=120)
    assert wrong(blanked(gold), parse_bytes(pdf.read_bytes(), "chrome.pdf")) == {}

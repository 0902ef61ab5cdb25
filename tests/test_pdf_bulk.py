"""The PDF reader's C loops (ingest/_pdfbulk.c: a page's characters, drawn objects, thin rules and angles
read from PDFium without a ctypes call each) give exactly what its Python loops give: the same
characters, boxes, objects, rules and Source, on the real reports, on their pages placed in another
page through a form XObject (a form's objects go back to Python) and turned (Python's loops)."""

from __future__ import annotations

import os
from pathlib import Path

import pypdfium2
import pytest

from xxgk.ingest import pdf

from .conftest import REAL

needs_bulk = pytest.mark.skipif(pdf.BULK is None, reason="_pdfbulk not built here (or XXGK_PURE=1)")


def _formed(tmp_path: Path) -> Path:
    """A real report's first page drawn through a form XObject on a new page, moved and shrunk,
    then on another turned a quarter; its second page stored turned (/Rotate); its first as it was."""
    source = pypdfium2.PdfDocument(sorted(REAL.glob("*.pdf"))[0])
    out = pypdfium2.PdfDocument.new()
    width, height = source[0].get_size()
    for matrix in (pypdfium2.PdfMatrix().scale(0.8, 0.8).translate(30, 40),
                   pypdfium2.PdfMatrix().rotate(90).translate(0, height)):
        page = out.new_page(width, height)
        form = source.page_as_xobject(0, out).as_pageobject()
        form.transform(matrix)
        page.insert_obj(form)
        page.gen_content()
    out.import_pages(source, [1, 0])
    out[2].set_rotation(90)
    path = tmp_path / "formed.pdf"
    out.save(path)
    return path


def _pages(pages: list[tuple[pypdfium2.PdfPage, pypdfium2.PdfTextPage]]) -> list[tuple]:
    """Every page's characters, drawn objects (PDFium's, by address: the pages loaded once), rules,
    the turn its text reads upright in and whether each character stands upright."""
    found = []
    for page, textpage in pages:
        drawn, chars = pdf.page_drawn(page), pdf.page_chars(page, textpage)
        found.append((chars, drawn, pdf.page_edges(page, drawn=drawn), pdf.text_rotation(textpage),
                      pdf._upright(textpage, False)(chars)))
    return found


@needs_bulk
def test_the_c_loops_read_every_page_as_the_python_loops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = [*sorted(REAL.glob("*.pdf")), _formed(tmp_path)]
    pages = [[(page, page.get_textpage()) for page in pypdfium2.PdfDocument(p)] for p in paths]
    bulk = [_pages(d) for d in pages]
    sources = [repr(pdf.read_pdf(p.read_bytes())) for p in paths]
    monkeypatch.setattr(pdf, "BULK", None)
    assert [_pages(d) for d in pages] == bulk
    assert [repr(pdf.read_pdf(p.read_bytes())) for p in paths] == sources
    formed = bulk[-1]
    assert any(matrix is not None for _, _, matrix in formed[0][1])  # the form's objects, in its matrix
    assert formed[0][0] and all(formed[0][2])  # its characters and rules of both directions
    turned = formed[1]  # the form turned a quarter: its text reads upright turned back, no letter upright
    assert turned[3] not in (None, 0) and turned[4] and not any(turned[4])


def test_ci_builds_the_c_loops() -> None:
    """On CI (gcc and Python's headers installed) the C loops must be built: without them PDFs
    read as before, only slower, and nothing else would show it."""
    if not os.environ.get("CI") or os.environ.get("XXGK_PURE", "") not in ("", "0"):
        pytest.skip("required on CI only")
    assert pdf.BULK is not None

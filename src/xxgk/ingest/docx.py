"""DOCX → Source with python-docx: paragraphs, text boxes, tables (merged cells both ways), and
pictures large enough to be a table or a page (read by OCR, as numbered pages).

`row.cells` repeats a merged cell once per grid column it covers, horizontally and vertically;
the repeats are covered positions. Provenance: table index, row index and cell index in
`row.cells` — so `Document(f).tables[t].rows[r].cells[c]` is the cell a value came from where the
tables are all in the body. The index counts tables in document order, also those python-docx's
list leaves out: in content controls, and nested in a layout table's cells.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import docx
from docx.oxml.ns import qn
from docx.table import Table

from ..errors import ReportError
from ..result import Provenance
from .bounds import check_zip
from .source import Cell, Source, SourceWriter
from .source import Table as GridTable


def read_docx(data: bytes) -> Source:
    check_zip(data, "docx")  # a zip bomb is refused before it is read
    try:
        document = docx.Document(io.BytesIO(data))
    except ReportError:
        raise
    except Exception as e:
        raise ReportError(f"corrupt Word file ({type(e).__name__})") from e
    out = SourceWriter("docx")
    out.meta["title"] = (document.core_properties.title or "").strip()
    _write_blocks(out, document.element.body, document, [0])
    return out.source()


def _write_blocks(out: SourceWriter, parent: object, document: object, tables: list[int]) -> None:
    """Paragraphs as lines and tables as grids, in order. A table holding other tables is layout
    (a report pasted from a web page into one big cell): the contents of its cells are read in turn."""
    for child in blocks(parent):
        if child.tag == _P:
            out.line(paragraph_text(child))
            for box in child.iter(_BOX):  # text boxes anchored in the paragraph
                for p in box.iter(_P):
                    out.line("".join(t.text or "" for t in p.iter(_T)))
        elif child.tag == _TBL:
            table = Table(child, document)  # type: ignore[arg-type]
            tables[0] += 1  # numbered in document order, layout tables too
            if next(child.iterdescendants(_TBL), None) is not None:
                for tc in dict.fromkeys(cell._tc for row in table.rows for cell in row.cells):
                    _write_blocks(out, tc, document, tables)
                continue  # its pictures are read with its cells
            _table(out, table, tables[0] - 1)
        for picture in _pictures(child, document):  # after the paragraph or table it is in
            from .ocr import write_document_picture

            write_document_picture(out, picture)


_BLIP, _EMBED = qn("a:blip"), qn("r:embed")
_VML_IMAGE, _VML_ID = "{urn:schemas-microsoft-com:vml}imagedata", qn("r:id")


def _pictures(element: object, document: object) -> list[bytes]:
    """The pictures in a paragraph or table (DrawingML and old VML)."""
    ids = [el.get(_EMBED) for el in element.iter(_BLIP)]  # type: ignore[attr-defined]
    ids += [el.get(_VML_ID) for el in element.iter(_VML_IMAGE)]  # type: ignore[attr-defined]
    if not ids:
        return []
    parts = document.part.related_parts  # type: ignore[attr-defined]
    return [parts[i].blob for i in dict.fromkeys(ids) if i in parts]


def _table(out: SourceWriter, table: Table, index: int) -> None:
    """`row.cells` repeats a merged cell at every grid position it covers: a cell is its first."""
    first: dict[int, Cell] = {}  # id of a cell's element → the cell (the elements are held, so ids stay theirs)
    held: list[object] = []
    for r, row in enumerate(table.rows):
        for c, cell in enumerate(row.cells):
            tc = cell._tc
            found = first.get(id(tc))
            if found is None:
                held.append(tc)
                first[id(tc)] = Cell(r, c, cell_text(tc), where=Provenance(table=index, row=r, column=c))
            else:
                found.rowspan = max(found.rowspan, r - found.row + 1)
                found.colspan = max(found.colspan, c - found.column + 1)
    out.table(GridTable(list(first.values())))


_P, _R, _T, _TAB, _BR, _CR, _BOX = (qn(t) for t in ("w:p", "w:r", "w:t", "w:tab", "w:br", "w:cr", "w:txbxContent"))
_SDT, _SDT_CONTENT, _CUSTOM_XML, _TBL = qn("w:sdt"), qn("w:sdtContent"), qn("w:customXml"), qn("w:tbl")


def blocks(parent: object) -> Iterator:
    """The paragraphs and tables of a body or cell in order, also those inside content controls
    (a template's fields, w:sdt) and custom XML, which python-docx's own lists pass over."""
    for child in parent.iterchildren():  # type: ignore[attr-defined]
        if child.tag == _SDT:
            content = child.find(_SDT_CONTENT)
            if content is not None:
                yield from blocks(content)
        elif child.tag == _CUSTOM_XML:
            yield from blocks(child)
        else:
            yield child


def cell_text(tc: object) -> str:
    """What python-docx's `cell.text` gives (its paragraphs on lines; tabs and line breaks kept), in
    one pass over the XML (python-docx's own runs an XPath per run and was a third of a DOCX's
    time), with the paragraphs in content controls too."""
    return "\n".join(paragraph_text(p) for p in blocks(tc) if p.tag == _P)


def paragraph_text(p: object) -> str:
    """A paragraph's own text (text boxes anchored in it are read apart, as python-docx does)."""
    boxed = any(True for _ in p.iter(_BOX))  # type: ignore[attr-defined]
    parts = []
    for el in p.iter(_T, _TAB, _BR, _CR):  # type: ignore[attr-defined]
        if el.getparent().tag != _R or (boxed and any(a.tag == _BOX for a in el.iterancestors())):
            continue  # not part of a run of this paragraph's own text
        if el.tag == _T:
            parts.append(el.text or "")
        elif el.tag == _TAB:
            parts.append("\t")
        elif el.tag == _CR or el.get(qn("w:type"), "textWrapping") == "textWrapping":
            parts.append("\n")
    return "".join(parts)

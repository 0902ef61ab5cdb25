"""A report's source as the report page shows it: its text, with the tables the reader saw (an HTML
page's or a Word file's) drawn as tables in their place, each cell tagged with the table, row and
column its provenance names, so a clicked value can be marked in the source itself."""

from __future__ import annotations

from ..errors import ReportError
from ..ingest import read_source
from ..sandbox import Limits, call_boxed

_VIEWS: dict[str, dict] = {}  # file digest → its view (a few dozen, newest last)
KEEP = 64
TABLED = ("html", "mht", "docx")  # sources whose tables the reader saw as tables: drawn as such


def view_of(data: bytes, name: str) -> dict:
    """{"text": the text read, "tables": [{"start", "end", "rows": [[cell]]}]}: plain data, so it
    can come back from a boxed worker. A cell: its text, spans, and `at` = [table, row, column] of
    its provenance (None for a cell the reader gave no place)."""
    source = read_source(data, name)
    tables = []
    for table in source.tables:
        rows = [[{"text": c.text, "rowspan": c.rowspan, "colspan": c.colspan,
                  "at": None if c.where is None or c.where.table is None
                  else [c.where.table, c.where.row, c.where.column]} for c in row] for row in table.by_row()]
        tables.append({"start": table.start, "end": table.end, "rows": rows})
    return {"text": source.text, "tables": tables if source.kind != "pdf" else []}


def source_view(digest: str, name: str, data: bytes, limits: Limits | None = None) -> dict:
    """The view of a stored file, read in a boxed worker (as uploads are) and kept per file:
    reading it again may mean LibreOffice or OCR on every view."""
    if digest not in _VIEWS:
        try:
            keep(digest, call_boxed(view_of, data, name, limits=limits))
        except (ReportError, RuntimeError):
            keep(digest, {"text": "", "tables": []})
    return _VIEWS[digest]


def keep(digest: str, view: dict) -> None:
    """Keep a file's view (an upload's text is kept as it is parsed: no second reading)."""
    if len(_VIEWS) >= KEEP:
        _VIEWS.pop(next(iter(_VIEWS)))
    _VIEWS[digest] = view


def segments(view: dict) -> list[dict]:
    """The source in print order: runs of text lines ({"lines": [(line number, text)]}) and
    tables ({"rows": …}) where the text had the table's lines."""
    text, out, at = view["text"], [], 0
    for table in sorted(view["tables"], key=lambda t: t["start"]):
        if table["start"] < at:
            continue
        out.append({"lines": _lines(text, at, table["start"])})
        out.append({"rows": table["rows"]})
        at = table["end"]
    out.append({"lines": _lines(text, at, len(text))})
    return [s for s in out if s.get("rows") or s.get("lines")]


def _lines(text: str, start: int, end: int) -> list[tuple[int, str]]:
    first = text.count("\n", 0, start) + 1
    chunk = text[start:end]
    if chunk.endswith("\n"):
        chunk = chunk[:-1]
    if not chunk.strip():
        return []
    return [(first + i, line) for i, line in enumerate(chunk.split("\n"))]

"""How much a file may unpack to and hold before it is refused: a report is a few dozen pages.

A zip-based file (DOCX, ODT, XLSX) is measured from its directory before anything is unpacked or
converted: a zip bomb (a small file unpacking to gigabytes) and a document of hundreds of MB of
empty paragraphs cost a reader gigabytes of memory. The text and table cells a reader writes are
capped too, whatever the format.
"""

from __future__ import annotations

import io
import zipfile

from ..errors import ReportError

MAX_UNPACKED = 200 * 1024 * 1024  # all entries together
MAX_PART = 40 * 1024 * 1024  # one entry (document.xml, content.xml): ~40 MB of XML is some 600 MB parsed
MAX_RATIO = 100  # unpacked : packed; XML compresses 5–20×, a bomb thousands×
RATIO_FROM = 10 * 1024 * 1024  # the ratio counts from this unpacked size (a tiny file may compress well)
MAX_TEXT = 3_000_000  # characters of text (some 1,500 pages)
MAX_CELLS = 100_000  # table cells per document (a report has a few hundred)

_WHAT = {"docx": "Word file", "odt": "ODT file", "xlsx": "spreadsheet", "zip": "zip file"}


def check_zip(data: bytes, kind: str = "zip") -> None:
    """Raise ReportError when a zip-based file would unpack too large; a damaged directory is left
    to the reader (it says so itself)."""
    what = _WHAT.get(kind, "zip file")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            sizes = [(i.filename, i.file_size) for i in z.infolist()]
    except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError, EOFError):
        return
    total = sum(size for _, size in sizes)
    if total > MAX_UNPACKED:
        raise ReportError(f"refused: the {what} unpacks to {_mb(total)} (more than {_mb(MAX_UNPACKED)})")
    name, largest = max(sizes, key=lambda s: s[1], default=("", 0))
    if largest > MAX_PART:
        raise ReportError(f"refused: {name} in the {what} unpacks to {_mb(largest)} "
                          f"(more than {_mb(MAX_PART)}; too large to be a report)")
    if total > RATIO_FROM and total > MAX_RATIO * len(data):
        raise ReportError(f"refused: the {what} unpacks to {_mb(total)} from {_mb(len(data))} "
                          f"({total // max(1, len(data))}×: a zip bomb)")


def check_text(size: int) -> None:
    if size > MAX_TEXT:
        raise ReportError(f"refused: more than {MAX_TEXT:,} characters of text (a report has far fewer)")


def check_cells(count: int) -> None:
    if count > MAX_CELLS:
        raise ReportError(f"refused: more than {MAX_CELLS:,} table cells (a report has a few hundred)")


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"

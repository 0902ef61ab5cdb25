"""The library entry points: a file or its bytes → a checked parse result."""

from __future__ import annotations

from pathlib import Path

from .audit import audit
from .errors import ReportError
from .extract.report import parse_source
from .ingest import read_source
from .result import ParseResult

MAX_BYTES = 200 * 1024 * 1024


def parse_bytes(data: bytes, source: str, folder: Path | None = None) -> ParseResult:
    """Parse one report; raises ReportError with a one-line reason when it cannot be read.
    `folder`: where it lies (a saved web page keeps its pictures beside it)."""
    result = parse_source(read_source(data, source, folder), source)
    result.findings = audit(result)
    return result


def parse_file(path: str | Path, name: str = "") -> ParseResult:
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as e:
        raise ReportError(f"cannot read: {e.strerror or e}") from e
    if size > MAX_BYTES:
        raise ReportError(f"file too large ({size // (1024 * 1024)} MB; the limit is "
                          f"{MAX_BYTES // (1024 * 1024)} MB)")
    return parse_bytes(path.read_bytes(), name or path.name, path.parent)


def parse_upload(data: bytes, name: str) -> tuple[str, str]:
    """One uploaded file → (its parse result as JSON, the text it was read from; "" for a PDF, whose
    pages are shown instead). Run by the web app in a boxed worker process (`xxgk.sandbox`)."""
    source = read_source(data, name)
    result = parse_source(source, name)
    result.findings = audit(result)
    return result.to_json(), "" if source.kind == "pdf" else source.text



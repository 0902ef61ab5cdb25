"""Any file → a Source the extractor reads. The kind of file is told by its content, not its name."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ReportError
from ..sandbox import Limits
from .bounds import check_text, check_zip
from .decode import decode
from .sniff import sniff
from .source import Source

OCR_LIMITS = Limits(seconds=110, memory_mb=3072, cpu_seconds=240)  # within a batch's 120 s per file
# OCR's threads in a process that reads pictures (`ocr.threads`): set for the parsing processes a
# batch or a Dask worker runs side by side
OCR_THREADS = "XXGK_OCR_THREADS"


def cores() -> int:
    """The cores this process may run on (its CPU affinity, where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def core_share(workers: int) -> int:
    """The cores each of `workers` processes side by side may keep busy (OCR's threads): a worker a
    core reads the most pages an hour (a second thread costs 5–10 % more CPU a page)."""
    return max(1, cores() // max(1, workers))


def read_source(data: bytes, name: str = "", folder: Path | None = None) -> Source:
    """`folder`: where the file lies, for the pictures a saved web page keeps beside it."""
    kind = sniff(data)
    if kind in ("docx", "odt", "xlsx", "zip"):
        check_zip(data, kind)  # before anything is unpacked or converted
    if kind == "text":
        text = decode(data)
        check_text(len(text))
        return Source(text)
    if kind == "pdf":
        from .pdf import read_pdf

        return read_pdf(data)
    if kind == "html":
        from .html import folder_pictures, read_html

        return read_html(data, folder_pictures(folder) if folder else None)
    if kind == "mht":
        from .html import read_mht

        return read_mht(data)
    if kind == "docx":
        from .docx import read_docx

        return read_docx(data)
    if kind in ("ole", "rtf", "odt"):
        from .office import read_legacy_word

        return read_legacy_word(data, name, kind)
    if kind in ("png", "jpeg", "gif", "tiff"):
        from .ocr import large_picture, read_image

        if large_picture(data):  # seconds and gigabytes of OCR: in a box of its own (xxgk.sandbox)
            from ..sandbox import call_boxed

            return call_boxed(read_image, data, limits=OCR_LIMITS)
        return read_image(data)
    raise ReportError(f"not a report: a {kind} file")


__all__ = ["Source", "decode", "read_source", "sniff"]

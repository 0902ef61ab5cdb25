"""Any file → text the extractor reads. The kind of file is told by its content, not its name."""

from __future__ import annotations

from ..errors import ReportError
from .decode import decode
from .sniff import sniff


def read_text(data: bytes, source: str = "") -> str:
    kind = sniff(data)
    if kind == "text":
        return decode(data)
    raise ReportError(f"{kind} files are not read yet (only text)")


__all__ = ["decode", "read_text", "sniff"]

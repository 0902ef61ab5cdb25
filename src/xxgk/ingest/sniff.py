"""What a file is, from its first bytes."""

from __future__ import annotations

import re

_SIGNATURES = (
    (b"%PDF-", "pdf"),
    (b"PK\x03\x04", "zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),  # DOC, WPS, XLS
    (b"{\\rtf", "rtf"),
    (b"\x89PNG", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF8", "gif"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"\x1f\x8b", "gzip"),
    (b"Rar!", "rar"),
    (b"7z\xbc\xaf", "7z"),
)
_HTML = re.compile(rb"<\s*(?:!doctype\s+html|html|head|body|table|meta|div|p)\b", re.I)


def sniff(data: bytes) -> str:
    """"pdf", "docx", "ole", "html", "text", or another container name."""
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    for sig, kind in _SIGNATURES:
        if head.startswith(sig):
            if kind == "zip":
                return "docx" if b"word/" in data[:65536] or b"[Content_Types].xml" in data[:4096] else "zip"
            return kind
    if _HTML.search(data[:4096]):
        return "html"
    return "text"

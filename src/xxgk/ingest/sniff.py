"""What a file is, from its first bytes."""

from __future__ import annotations

import io
import re
import zipfile

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
_MHT = re.compile(rb"(?:[A-Za-z-]+:[^\n]*\r?\n|[ \t][^\n]*\r?\n)*?MIME-Version:", re.I)  # mail headers, then MIME
_HTML = re.compile(rb"<\s*(?:!doctype\s+html|html|head|body|table|meta|div|p)\b", re.I)


def sniff(data: bytes) -> str:
    """"pdf", "docx", "ole" (DOC, WPS), "rtf", "odt", "html", "mht" (a web archive), "text", a
    picture's kind, or another container name."""
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    for sig, kind in _SIGNATURES:
        if head.startswith(sig):
            return _zip_kind(data) if kind == "zip" else kind
    if _MHT.match(head) and b"multipart/related" in head.lower():
        return "mht"
    if _HTML.search(data[:4096]):
        return "html"
    return "text"


_ODT = b"mimetypeapplication/vnd.oasis.opendocument.text"  # an ODF file's first entry, stored as is


def _zip_kind(data: bytes) -> str:
    """A Word file is a zip with word/document.xml; a cut one still shows "word/" in its first entries."""
    if data[30:30 + len(_ODT)] == _ODT:
        return "odt"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = z.namelist()
        return "docx" if "word/document.xml" in names else "xlsx" if "xl/workbook.xml" in names else "zip"
    except (zipfile.BadZipFile, ValueError, OSError, NotImplementedError):  # a version zipfile lacks
        return "docx" if b"word/" in data[:65536] else "zip"

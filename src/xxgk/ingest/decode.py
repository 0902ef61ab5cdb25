"""Bytes → text: BOMs, UTF-8, GB18030/GBK; binary data refused with a reason."""

from __future__ import annotations

import re

from ..errors import BinaryInput, EmptyInput

_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f]")  # below 32, but for \t \n \f \r
_ESCAPED = re.compile("[\udc80-\udcff]")  # a byte UTF-8 could not decode, kept by "surrogateescape"
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def decode(data: bytes) -> str:
    if not data.strip():
        raise EmptyInput("empty file")
    bom = next(((b, e) for b, e in _BOMS if data.startswith(b)), None)
    if bom is not None:
        try:
            text = data[len(bom[0]):].decode(bom[1])
        except UnicodeDecodeError as e:
            raise BinaryInput(f"binary data: not valid {bom[1]} text after its byte order mark") from e
    elif b"\x00" in data[:8192]:
        raise BinaryInput("binary data, not text")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = _line_by_line(data)
    controls = len(_CONTROL.findall(text, 0, 20000))
    if controls > max(8, len(text[:20000]) // 50):
        raise BinaryInput("binary data, not text")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _line_by_line(data: bytes) -> str:
    """GBK text, or a file pieced together from UTF-8 and GBK parts: each line in what it decodes as.

    The file is decoded as UTF-8 in one pass, the bytes UTF-8 cannot read kept as escapes; only the
    lines holding one are decoded again, as GB18030 (an exception a line cost more than the file)."""
    lines = data.decode("utf-8", "surrogateescape").split("\n")
    for i, line in enumerate(lines):
        if _ESCAPED.search(line):
            try:
                lines[i] = line.encode("utf-8", "surrogateescape").decode("gb18030")
            except UnicodeDecodeError as e:
                raise BinaryInput("binary data: neither UTF-8 nor GB18030 text") from e
    return "\n".join(lines)

"""Bytes → text: BOMs, UTF-8, GB18030/GBK; binary data refused with a reason."""

from __future__ import annotations

from ..errors import BinaryInput, EmptyInput

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
        for encoding in ("utf-8", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise BinaryInput("binary data: neither UTF-8 nor GB18030 text")
    controls = sum(1 for c in text[:20000] if ord(c) < 32 and c not in "\t\n\r\f")
    if controls > max(8, len(text[:20000]) // 50):
        raise BinaryInput("binary data, not text")
    return text.replace("\r\n", "\n").replace("\r", "\n")

"""Feed mutated real reports and random bytes to every reader; report anything but a result or a clear error.

    python -m xxgk.fuzz --seconds 600 [--seed N]    # longer than CI allows; prints what broke

The test suite runs the same mutations through hypothesis with a bounded number of examples.
"""

from __future__ import annotations

import argparse
import io
import random
import time
import traceback
import zipfile
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path

from .batch import within
from .errors import ReportError
from .formats import FORMATS
from .parse import parse_bytes

LIMIT = 30.0  # seconds per input: a hang is a failure

Mutation = Callable[[random.Random, bytes], bytes]


def flip(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 20)):
        if b:
            b[rng.randrange(len(b))] = rng.randrange(256)
    return bytes(b)


def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def insert(rng: random.Random, data: bytes) -> bytes:
    i = rng.randrange(len(data) + 1)
    return data[:i] + rng.randbytes(rng.randint(1, 200)) + data[i:]


def duplicate(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    i = rng.randrange(len(data))
    j = min(len(data), i + rng.randint(1, 4000))
    return data[:j] + data[i:j] * rng.randint(1, 5) + data[j:]


def delete(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    i = rng.randrange(len(data))
    return data[:i] + data[i + rng.randint(1, 2000):]


def digits(rng: random.Random, data: bytes) -> bytes:
    """Numbers changed, glued and split, as OCR and crawlers do."""
    out = bytearray()
    for c in data:
        if 48 <= c <= 57 and rng.random() < 0.2:
            out += rng.choice([b"", b" ", bytes([rng.randint(48, 57)]), b"\t", b"--", b"7.12"])
        else:
            out.append(c)
    return bytes(out)


MUTATIONS: tuple[Mutation, ...] = (flip, truncate, insert, duplicate, delete, digits)


def mutate(rng: random.Random, data: bytes) -> bytes:
    for _ in range(rng.randint(1, 3)):
        data = rng.choice(MUTATIONS)(rng, data)
    return data


def check(data: bytes, name: str = "fuzz") -> str | None:
    """None when `data` gives a sound result or a ReportError in time; else what went wrong."""
    try:
        result = within(LIMIT, lambda: parse_bytes(data, name))
    except ReportError:
        return None
    except TimeoutError:
        return f"hang: more than {LIMIT:g} s"
    except Exception:
        return traceback.format_exc()
    keys = set(FORMATS[result.template or "2021"].cell_keys)
    if set(result.cells) != keys:
        return "a result without the format's cell keys"
    bad = [k for k, v in result.cells.items() if v is not None and not isinstance(v, int | float)]
    return f"non-numeric cells {bad[:5]}" if bad else None


# ---------------------------------------------------------------- hostile files
HOSTILE = {  # name → what the refusal must say
    "bomb.docx": "Word file unpacks to",
    "huge.docx": "document.xml in the Word file unpacks to",
    "bomb.odt": "ODT file unpacks to",
    "bomb.xlsx": "spreadsheet unpacks to",
    "deep.html": "nested too deeply",
}
_W = b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'


def _zip(entries: Iterable[tuple[str, Iterable[bytes]]], stored_first: tuple[str, bytes] | None = None) -> bytes:
    """A zip written entry by entry, each from chunks (a bomb is never whole in memory)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        if stored_first:
            z.writestr(zipfile.ZipInfo(stored_first[0]), stored_first[1], compress_type=zipfile.ZIP_STORED)
        for name, chunks in entries:
            with z.open(name, "w", force_zip64=True) as f:
                for chunk in chunks:
                    f.write(chunk)
    return buf.getvalue()


def _repeat(piece: bytes, size: int, head: bytes = b"", tail: bytes = b"") -> Iterable[bytes]:
    yield head
    block = piece * max(1, (1 << 20) // len(piece))
    for _ in range(size // len(block)):
        yield block
    yield tail


@cache
def hostile_files(mb: int = 120) -> dict[str, tuple[bytes, str]]:
    """Zip bombs of each zip format, a Word file of tens of MB of empty paragraphs, a page nested
    thousands of levels deep: each with the words its refusal must hold (`HOSTILE`)."""
    types = ("[Content_Types].xml", [b'<?xml version="1.0"?><Types/>'])
    files = {
        "bomb.docx": _zip([types, ("word/document.xml", _repeat(b"\0", mb << 20))]),
        "huge.docx": _zip([types, ("word/document.xml", _repeat(b"<w:p><w:r><w:t>1</w:t></w:r></w:p>", 45 << 20,
                                                                _W, b"</w:body></w:document>"))]),
        "bomb.odt": _zip([("content.xml", _repeat(b"<text:p/>", mb << 20))],
                         ("mimetype", b"application/vnd.oasis.opendocument.text")),
        "bomb.xlsx": _zip([types, ("xl/workbook.xml", [b"<workbook/>"]),
                           ("xl/worksheets/sheet1.xml", _repeat(b"<c><v>0</v></c>", mb << 20))]),
        "deep.html": b"<html><body>" + b"<div>" * 5000 + "<p>本年新收政府信息公开申请数量 5</p>".encode()
                     + b"</div>" * 5000 + b"</body></html>",
    }
    return {name: (data, HOSTILE[name]) for name, data in files.items()}


def seeds(corpus: Path) -> list[tuple[str, bytes]]:
    files = [p for p in sorted(corpus.rglob("*")) if p.is_file() and not p.name.endswith(".json")]
    return [(p.name, p.read_bytes()) for p in files]


def scan_seed(pdf: bytes) -> bytes:
    """Half a table page of `pdf` as a JPEG scan (small: a mutation that still decodes is OCR'd)."""
    import io

    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    page = document[min(2, len(document) - 1)].render(scale=1).to_pil().convert("L")
    document.close()
    buf = io.BytesIO()
    page.crop((0, page.height // 2, page.width, page.height)).save(buf, "JPEG", quality=60)
    return buf.getvalue()


def main() -> None:  # pragma: no cover - a harness for long runs
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "corpus")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    pool = seeds(args.corpus) + [("random", b"")]
    pool += [(f"{name}.scan.jpg", scan_seed(data)) for name, data in pool if data.startswith(b"%PDF")][:1]
    pool += [(name, data) for name, (data, _) in hostile_files().items()]
    end, n, found = time.time() + args.seconds, 0, 0
    while time.time() < end:
        name, data = rng.choice(pool)
        data = rng.randbytes(rng.randint(0, 5000)) if name == "random" else mutate(rng, data)
        problem = check(data, name)
        n += 1
        if problem:
            found += 1
            out = Path(f"fuzz-{args.seed}-{n}.bin")
            out.write_bytes(data)
            print(f"{name}: {problem.strip().splitlines()[-1]} (input kept in {out})")
    print(f"{n} inputs, {found} problems (seed {args.seed})")


if __name__ == "__main__":  # pragma: no cover
    main()

"""Feed mutated real reports and random bytes to every reader; report anything but a result or a clear error.

    python -m xxgk.fuzz --seconds 600 [--seed N]    # longer than CI allows; prints what broke

The test suite runs the same mutations through hypothesis with a bounded number of examples.
"""

from __future__ import annotations

import argparse
import random
import time
import traceback
from collections.abc import Callable
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

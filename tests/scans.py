"""Degraded scans, as pages come off an office scanner: made from any PDF, deterministic (seeded).

Each page is rendered at 120–200 dpi, turned up to ±2°, laid on grey paper, given sensor noise,
a slight blur and JPEG compression (quality 60–80); optionally two punch holes in the margin and
a red seal stamped over a table's corner. The pictures go back into a PDF with no text layer, as
a scanner's "scan to PDF" makes them. Made once per (PDF, seed, options) and kept in /tmp, since
rendering and compressing cost more than a test should spend twice.

    scan_of(pdf bytes, seed) → PDF bytes;  degrade(page, rng) → picture;  score(expected, result)
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pypdfium2
from PIL import Image, ImageDraw, ImageFilter

CACHE = Path(os.environ.get("XXGK_SCAN_CACHE", "/tmp/xxgk-scans"))


@dataclass(frozen=True)
class Scanner:
    """The ranges a scan's defects are drawn from (a seed picks one value of each per page)."""

    dpi: tuple[float, float] = (120, 200)
    turn: tuple[float, float] = (-2.0, 2.0)  # degrees
    paper: tuple[int, int] = (200, 235)  # grey level of the paper (ink stays dark)
    noise: tuple[float, float] = (4.0, 10.0)  # Gaussian noise, standard deviation in grey levels
    blur: tuple[float, float] = (0.3, 0.9)  # Gaussian blur radius in pixels
    quality: tuple[int, int] = (60, 80)  # JPEG
    holes: bool = False  # two punch holes in the left margin
    stamp: bool = False  # a red seal over the bottom right corner of a table


OFFICE = Scanner()
WORST = Scanner(dpi=(120, 125), turn=(1.8, 2.0), paper=(195, 200), noise=(9, 10), blur=(0.8, 0.9),
                quality=(60, 62), holes=True, stamp=True)


def pages_of(pdf: bytes, dpi: float) -> list[Image.Image]:
    document = pypdfium2.PdfDocument(pdf)
    pages = [page.render(scale=dpi / 72).to_pil().convert("RGB") for page in document]
    document.close()
    return pages


def degrade(page: Image.Image, rng: np.random.Generator, scanner: Scanner = OFFICE) -> Image.Image:
    """One clean page (rendered at the scan's dpi) as the scanner gives it back."""
    if scanner.stamp:
        page = _stamped(page, rng)
    turn = rng.uniform(*scanner.turn) * rng.choice((-1, 1)) if scanner.turn[0] > 0 else rng.uniform(*scanner.turn)
    page = page.rotate(turn, resample=Image.BICUBIC, fillcolor="white")
    pixels = np.asarray(page, dtype=np.float32)
    paper = rng.uniform(*scanner.paper)
    pixels = pixels * (paper / 255.0)  # white → the paper's grey, black stays black
    if scanner.holes:
        pixels = _punched(pixels, rng)
    pixels += rng.normal(0, rng.uniform(*scanner.noise), pixels.shape[:2])[..., None]
    page = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    page = page.filter(ImageFilter.GaussianBlur(rng.uniform(*scanner.blur)))
    buf = io.BytesIO()
    page.save(buf, "JPEG", quality=int(rng.integers(scanner.quality[0], scanner.quality[1] + 1)))
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def _punched(pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Two dark holes 6 mm wide, 8 cm apart, 12 mm from the left edge (the scanner's dark lid)."""
    height, width = pixels.shape[:2]
    mm = width / 210
    x = round(12 * mm + rng.uniform(-2, 2) * mm)
    for y in (height / 2 - 40 * mm, height / 2 + 40 * mm):
        cv2.circle(pixels, (x, round(y)), round(3 * mm), (40.0, 40.0, 40.0), -1)
    return pixels


def _stamped(page: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A red seal (ring, star, a line of text) centred on the bottom right corner of the lowest
    table on the page: where an office stamps a signed table. Half see-through, as ink is."""
    gray = np.asarray(page.convert("L")) < 128
    width = gray.shape[1]
    rows = np.flatnonzero(gray.sum(axis=1) > 0.5 * width)  # rules across half the page
    if not len(rows):
        return page
    y = int(rows.max())
    cols = np.flatnonzero(gray[max(0, y - 2):y + 3].any(axis=0))
    x = int(cols.max()) - round(0.02 * width)
    r = round(0.09 * width)
    seal = Image.new("RGBA", page.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(seal)
    red = (220, 30, 30, int(rng.integers(150, 200)))
    draw.ellipse((x - r, y - r, x + r, y + r), outline=red, width=max(3, r // 14))
    s = r * 0.3
    star = [(x + (s if i % 2 == 0 else s / 2.5) * np.sin(i * np.pi / 5),
             y - (s if i % 2 == 0 else s / 2.5) * np.cos(i * np.pi / 5)) for i in range(10)]
    draw.polygon(star, fill=red)
    draw.rectangle((x - r * 0.6, y + r * 0.45, x + r * 0.6, y + r * 0.55), fill=red)
    return Image.alpha_composite(page.convert("RGBA"), seal).convert("RGB")


def scan_of(pdf: bytes, seed: int, scanner: Scanner = OFFICE, pages: slice | None = None) -> bytes:
    """The PDF as scanned: each page (or those in `pages`) a degraded picture, no text layer."""
    key = hashlib.sha256(pdf + repr((seed, scanner, pages)).encode()).hexdigest()[:24]
    cached = CACHE / f"{key}.pdf"
    if cached.exists():
        return cached.read_bytes()
    rng = np.random.default_rng(seed)
    dpi = float(rng.uniform(*scanner.dpi))
    clean = pages_of(pdf, dpi)
    scanned = [degrade(p, rng, scanner) for p in (clean[pages] if pages else clean)]
    buf = io.BytesIO()
    scanned[0].save(buf, "PDF", resolution=dpi, save_all=True, append_images=scanned[1:], quality=90)
    CACHE.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(buf.getvalue())
    return buf.getvalue()


@dataclass
class Score:
    expected: int  # cells with a value
    read: int  # read right
    wrong: list[str]  # a value other than the expected one (a 0 where the cell is blank, too)
    unread: list[str]  # expected a value, got null
    silent: list[str]  # unread with no doubt naming its row or its table

    @property
    def share(self) -> float:
        return self.read / self.expected if self.expected else 1.0


def score(expected: dict[str, object], result: object) -> Score:
    """How a reading compares with the cells printed on the page (blank printed: None)."""
    cells = result.cells  # type: ignore[attr-defined]
    wrong = sorted(k for k, v in expected.items() if cells.get(k) is not None and cells.get(k) != v)
    unread = sorted(k for k, v in expected.items() if v is not None and cells.get(k) is None)
    doubts = " ".join(result.doubts)  # type: ignore[attr-defined]
    labels = dict(_printed_labels(result.template))  # type: ignore[attr-defined]
    labels.update(result.labels)  # type: ignore[attr-defined]
    silent = [k for k in unread if not _doubted(k, doubts, labels)]
    return Score(sum(v is not None for v in expected.values()),
                 sum(1 for k, v in expected.items() if v is not None and cells.get(k) == v), wrong, unread, silent)


def _printed_labels(template: str | None) -> dict[str, str]:
    """Each cell's row label in the format (the doubts name rows by it): {cell key: label}."""
    from xxgk.formats import FORMATS

    if template not in FORMATS:
        return {}
    return {key: row.label for table in FORMATS[template].tables for row in table.rows for key in row.cells}


def _doubted(key: str, doubts: str, labels: dict[str, str]) -> bool:
    """Whether some doubt names the cell's key, its row's key or its row's printed label, or the
    table as a whole."""
    parts = key.split(".")
    if any(".".join(parts[:n]) in doubts for n in range(2, len(parts) + 1)):
        return True
    names = [labels[k] for k in (".".join(parts[:n]) for n in range(len(parts), 0, -1)) if k in labels]
    return any(name[-6:] in doubts for name in names if name) or parts[0] in doubts

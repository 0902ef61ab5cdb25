"""Pages that are pictures (scans, photos, tables pasted as images) → the characters and ruling
lines a PDF's text layer would give, so `layout` lays them out as it does a PDF's page.

rapidocr runs PaddleOCR's models (shipped in its wheel: offline, deterministic) and gives each
character's box; OpenCV's morphology finds the table rules in the picture. Both come back in
points (1/72 inch) of the page, as PDFium's characters and lines do.

    picture → read_page (straight, upright, its characters) + image_rules → layout.edges_to_tables
        → layout.write_page → Source
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import logging
import os
import re
import threading
from dataclasses import dataclass
from functools import cache
from itertools import pairwise

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import ReportError
from . import OCR_THREADS, cores, layout
from .ocr_packed import PackedReader
from .source import Source, SourceWriter


@dataclass(frozen=True)
class OcrSettings:
    dpi: float = 144  # scans are rendered (PDF) or scaled (images) to this: PaddleOCR's sweet spot
    min_score: float = 0.5  # characters read with less confidence are left out
    sure: float = 0.9  # a number with a digit read with less confidence is read again, larger
    rule_fraction: float = 0.04  # a dark run this long (of the page's width/height) is a rule
    max_pages: int = 40  # a longer scan is refused: at ~2 s a page it would hold a worker too long
    max_skew: float = 5.0  # degrees: a page scanned turned by up to this much is turned back
    max_pixels: int = 50_000_000  # a page scanned at 600 dpi has 35 M; more is a bomb, not a page
    # Text is found (detection) in bands this many pixels high, overlapping by more than a line:
    # on a whole A4 page at 144 dpi detection's activations took 0.6 GB; scaled down instead,
    # a lone digit in a table cell was lost.
    band: int = 600
    band_overlap: int = 80
    # Text is found on the band scaled to this (its boxes then cut from the band as it is, for
    # recognition): finding costs with its pixels, but scaled down lone digits are lost — at 108 dpi
    # no number of a degraded scan was, yet three lone 0s of a photographed JPEG page were (test_ocr);
    # at 86 dpi lone digits of degraded scans were. So text is found at full resolution.
    detect_dpi: float = 144
    margin: int = 32  # pixels of paper kept about the page's ink, where text is found
    # OCR's threads (the detector's; lines read side by side); 0: $XXGK_OCR_THREADS, which a batch
    # and a Dask worker set for their parsing processes (a core each), else every core this process
    # may use (a lone parse or an upload: two on two cores read a page in 0.6× the time, for
    # 1.05–1.1× the CPU)
    threads: int = 0


SETTINGS = OcrSettings()
A4_WIDTH = 595  # points
_LOCK = threading.Lock()  # one engine per process (its models take ~0.5 GB), one page at a time


@cache
def _engine() -> PackedReader:
    logging.getLogger("RapidOCR").setLevel(logging.ERROR)  # "detection result is empty" is our message to give
    _large_blocks_mapped()
    return PackedReader(params={"Global.log_level": "error", "Global.use_cls": False,
                            "Det.limit_side_len": 4000, "Det.limit_type": "max",  # as it is (bands)
                            # a line read alone, not six padded to the widest of them: less work
                            # and memory, the same cells
                            "Rec.rec_batch_num": 1,
                            "EngineConfig.onnxruntime.inter_op_num_threads": 1}, threads=threads(SETTINGS))


def threads(settings: OcrSettings = SETTINGS) -> int:
    """OCR's threads in this process (`OcrSettings.threads`)."""
    return settings.threads or int(os.environ.get(OCR_THREADS) or 0) or cores()


def _return_freed_memory() -> None:
    """The heap's free memory given back: onnxruntime allocates and frees hundreds of MB a page,
    in sizes that change with every band and line, and glibc's heap kept them (a worker grew to
    0.7 GB where 0.3 GB are in use at once). (Every large block in its own mapping instead, by
    mallopt, cost more in page faults than the reading itself.)"""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: its allocator is its own
        _LIBC.malloc_trim(0)


try:
    _LIBC = ctypes.CDLL("libc.so.6")
except OSError:  # not glibc
    _LIBC = None


def _large_blocks_mapped(threshold: int = 4 << 20) -> None:
    """Blocks of 4 MB and more (detection's activations) in mappings of their own, unmapped when
    freed: the heap then holds only small blocks. (At 256 kB the page faults cost a second a page.)"""
    with contextlib.suppress(AttributeError):
        _LIBC.mallopt(-3, threshold)  # M_MMAP_THRESHOLD


def skew(image: Image.Image, settings: OcrSettings = SETTINGS) -> float:
    """Degrees to turn the page (counter-clockwise) to make it straight: a scan a degree off splits
    its lines and breaks its rules. The angle whose rows of ink are sharpest (projection profile),
    tried every 0.5° then every 0.1° on a small copy."""
    small = image.convert("L")
    small = small.resize((800, max(1, round(small.height * 800 / small.width))))
    ink = cv2.threshold(np.asarray(small), 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)[1]
    centre = (ink.shape[1] / 2, ink.shape[0] / 2)

    def sharpness(tenths: int) -> tuple[float, int]:
        turned = cv2.warpAffine(ink, cv2.getRotationMatrix2D(centre, tenths / 10, 1.0), ink.shape[::-1])
        rows = turned.sum(axis=1, dtype=np.float64)
        return float(np.square(np.diff(rows)).sum()), -abs(tenths)  # ties: the smaller turn

    steps = round(settings.max_skew * 10)
    coarse = max(range(-steps, steps + 1, 5), key=sharpness)
    return max(range(coarse - 4, coarse + 5), key=sharpness) / 10


def read_page(image: Image.Image, scale: float, settings: OcrSettings = SETTINGS
              ) -> tuple[Image.Image, list[layout.Char]]:
    """The page evened (black on white), turned straight, and upright if it was scanned on its
    side (its lines of text come out taller than wide) or upside down (read with little
    confidence), with the characters OCR reads on it. Which way up is the way OCR reads more characters."""
    image = straight(evened(flatten(image)), settings)
    result = _recognise(image)
    turns = (90, -90) if _sideways(result) else (180,) if _upside_down(image, result) else ()
    tries = [(image, result)]
    for turn in turns:
        turned = straight(image.rotate(turn, expand=True), settings)
        tries.append((turned, _recognise(turned)))
    image, result = max(tries, key=lambda t: len(_chars(t[1], 1.0, settings)))
    return image, _chars(result, scale, settings, image) + _unread_ink(image, result, scale, settings)


def _unread_ink(image: Image.Image, result: Lines, scale: float, settings: OcrSettings = SETTINGS) -> list[layout.Char]:
    """The marks OCR found no text in that are the size of a printed digit (a number the detector
    passed over, or a smudged or blotted one) and lie where numbers are printed: inside a ruled
    table, or — a table without rules — level with a number OCR read on its row, among the
    page's columns of numbers. Each number they print is read alone at twice the size, as an
    unsure number is (`_read_again`), and is a "?" if not surely read: the cell it lies in is
    printed, never an empty cell read as blank. Digits are as tall as the ink in the boxes of
    the numbers OCR read (not the boxes, which stand clear of small print)."""
    numbers = [b for b, t in zip(result.boxes, result.txts, strict=True) if _NUMBER.fullmatch(t.replace(" ", ""))]
    if len(numbers) < 3:
        return []
    height = float(np.median([b[:, 1].max() - b[:, 1].min() for b in numbers]))
    gray = np.asarray(image.convert("L"))
    ink = np.where(gray < 128, 255, 0).astype(np.uint8)  # ink, not the paper's noise (the page is evened)
    h, w = ink.shape
    across = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(
        cv2.MORPH_RECT, (max(2, int(w * settings.rule_fraction)), 1)))
    down = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(
        cv2.MORPH_RECT, (1, max(2, int(h * settings.rule_fraction)))))
    rows, cols = np.flatnonzero(across.any(axis=1)), np.flatnonzero(down.any(axis=0))
    ruled = len(rows) >= 2 and len(cols) >= 2
    levels = [((b[:, 1].min() + b[:, 1].max()) / 2) for b in numbers]  # rows of numbers (a table without rules)
    left, right = min(b[:, 0].min() for b in numbers), max(b[:, 0].max() for b in numbers)
    ruling = cv2.bitwise_or(across, down)
    marks = cv2.subtract(ink, ruling)
    marks = cv2.morphologyEx(marks, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    read = np.zeros_like(marks)
    for box in result.boxes:  # what OCR found is read already: a mark touching it is part of it
        (x0, y0), (x1, y1) = box.min(axis=0).astype(int) - 3, box.max(axis=0).astype(int) + 3
        read[max(0, y0):y1 + 1, max(0, x0):x1 + 1] = 1
    digit = _ink_height(marks, numbers) or height
    count, _, stats, _ = cv2.connectedComponentsWithStats(marks, connectivity=8)
    found: list[tuple[int, int, int, int]] = []
    for x, y, bw, bh, area in stats[1:count].tolist():
        if read[y:y + bh, x:x + bw].any() or ruling[max(0, y - 2):y + bh + 2, max(0, x - 2):x + bw + 2].any():
            continue  # read already, or what is left of rules where they cross
        if not (0.6 * digit <= bh <= 1.5 * digit and 0.25 * digit <= bw <= 3 * digit
                and area >= 0.2 * digit * digit):
            continue
        in_table = ruled and rows[0] < y and y + bh < rows[-1] and cols[0] < x and x + bw < cols[-1]
        in_a_row = left <= x and x + bw <= right and any(abs(y + bh / 2 - level) <= 0.25 * height for level in levels)
        if in_table or in_a_row:
            found.append((x, y, x + bw, y + bh))
    pixels = np.asarray(image.convert("RGB"))
    chars: list[layout.Char] = []
    for group in _side_by_side(found, digit):
        quads = [[(x0, y0), (x1, y0), (x1, y1), (x0, y1)] for x0, y0, x1, y1 in group]
        x0, y0 = min(g[0] for g in group), min(g[1] for g in group)
        x1, y1 = max(g[2] for g in group), max(g[3] for g in group)
        box = np.array([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], dtype=np.float64)
        for text, _, quad in _read_again(pixels, box, [("?", 0.0, q) for q in quads], settings):
            xs, ys = [p[0] for p in quad], [p[1] for p in quad]
            chars.append((text, min(xs) / scale, min(ys) / scale, max(xs) / scale, max(ys) / scale, -1))  # type: ignore[arg-type]
    return chars


def _side_by_side(marks: list[tuple[int, int, int, int]], digit: float) -> list[list[tuple[int, int, int, int]]]:
    """Marks (x0, y0, x1, y1) grouped into the numbers they print: level with each other and
    closer than a digit's spacing (the digits of one number are marks of their own)."""
    groups: list[list[tuple[int, int, int, int]]] = []
    for mark in sorted(marks):
        last = groups[-1][-1] if groups else None
        level = last is not None and min(mark[3], last[3]) - max(mark[1], last[1]) > 0.5 * digit
        if last is not None and level and mark[0] - last[2] < 0.35 * digit:
            groups[-1].append(mark)
        else:
            groups.append([mark])
    return groups


def _ink_height(marks: np.ndarray, boxes: list[np.ndarray]) -> float:
    """How tall the digits OCR read are printed: the median height of the ink in their boxes (the
    detector's boxes stand a few pixels clear of the ink, more so about small print)."""
    heights = []
    for box in boxes:
        (x0, y0), (x1, y1) = np.maximum(box.min(axis=0).astype(int), 0), box.max(axis=0).astype(int)
        rows = np.flatnonzero(marks[y0:y1 + 1, x0:x1 + 1].any(axis=1))
        if len(rows):
            heights.append(rows[-1] - rows[0] + 1)
    return float(np.median(heights)) if heights else 0.0


def _upside_down(image: Image.Image, result: object, lines: int = 8) -> bool:
    """Read with little confidence, and its widest lines read again turned over read better: a
    page scanned upside down. (Reading the whole page again turned doubled the cost of every page
    of a poor scan, whose confidence is low the right way up too.)"""
    if _confidence(result) >= 0.9:
        return False
    boxes = np.asarray(result.boxes)  # type: ignore[attr-defined]
    widest = np.argsort(boxes[:, :, 0].min(axis=1) - boxes[:, :, 0].max(axis=1))[:lines]
    pixels = np.asarray(image.convert("RGB"))
    before, after = [], []
    for i in widest:
        (x0, y0), (x1, y1) = boxes[i].min(axis=0).astype(int), boxes[i].max(axis=0).astype(int)
        crop = pixels[max(0, y0):y1 + 1, max(0, x0):x1 + 1]
        if crop.size == 0:
            continue
        with _LOCK:
            turned = _engine()(np.ascontiguousarray(crop[::-1, ::-1]), use_det=False, use_cls=False, use_rec=True,
                               return_word_box=False, return_single_char_box=False)
        before.append(float(result.scores[i]))  # type: ignore[attr-defined]
        after.append(float(turned.scores[0]) if turned.scores else 0.0)
    return bool(before) and np.mean(after) > np.mean(before)


def _confidence(result: object) -> float:
    scores = [s for line in result.word_results for _, s, _ in line] if getattr(result, "txts", None) else []
    return float(np.mean(scores)) if scores else 1.0  # nothing read: turning will not help


def _sideways(result: object) -> bool:
    boxes = getattr(result, "boxes", None)
    if boxes is None or not len(boxes):
        return False
    spans = [(max(b[:, 0]) - min(b[:, 0]), max(b[:, 1]) - min(b[:, 1])) for b in np.asarray(boxes)]
    tall = sum(1 for w, h in spans if h > 1.5 * w and h > 30)
    wide = sum(1 for w, h in spans if w > 1.5 * h and w > 30)
    return tall > 2 * wide


def flatten(image: Image.Image) -> Image.Image:
    """A page photographed at an angle, on a darker ground, cut out and drawn as a flat rectangle
    as wide as the photo (its rows of text straight again). Anything else is returned as it is: a
    scan (the paper fills the picture), a screenshot, a page whose edges do not show."""
    gray = np.asarray(image.convert("L"))
    k = 1000 / max(gray.shape)
    small = cv2.resize(gray, (max(1, round(gray.shape[1] * k)), max(1, round(gray.shape[0] * k))))
    paper = cv2.threshold(cv2.GaussianBlur(small, (5, 5), 0), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]
    paper = cv2.morphologyEx(paper, cv2.MORPH_CLOSE, np.ones((15, 15), np.uint8))  # letters and rules filled
    contours, _ = cv2.findContours(paper, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return image
    outline = max(contours, key=cv2.contourArea)
    if cv2.contourArea(outline) < 0.25 * paper.size:
        return image
    quad = cv2.approxPolyDP(outline, 0.02 * cv2.arcLength(outline, True), True).reshape(-1, 2).astype(np.float32)
    if len(quad) != 4 or not cv2.isContourConvex(quad):
        return image
    s, d = quad.sum(axis=1), np.diff(quad, axis=1).ravel()
    tl, br, tr, bl = quad[np.argmin(s)], quad[np.argmax(s)], quad[np.argmin(d)], quad[np.argmax(d)]
    box = cv2.boundingRect(quad)
    square = np.float32([[box[0], box[1]], [box[0] + box[2], box[1]], [box[0] + box[2], box[1] + box[3]],
                         [box[0], box[1] + box[3]]])
    corners = np.float32([tl, tr, br, bl])
    if np.abs(corners - square).max() < 0.015 * max(paper.shape):
        return image  # upright and flat already: nothing to undo (and a screenshot's band is not cut)
    corners /= k
    width = float(np.hypot(*(tr - tl)) + np.hypot(*(br - bl))) / 2  # the paper's sides, as seen
    height = float(np.hypot(*(bl - tl)) + np.hypot(*(br - tr))) / 2
    out_w = image.width
    out_h = max(1, round(out_w * height / width))
    target = np.float32([[0, 0], [out_w, 0], [out_w, out_h], [0, out_h]])
    flat = cv2.warpPerspective(np.asarray(image.convert("RGB")), cv2.getPerspectiveTransform(corners, target),
                               (out_w, out_h), flags=cv2.INTER_CUBIC, borderValue=(255, 255, 255))
    return Image.fromarray(flat)


def evened(image: Image.Image) -> Image.Image:
    """The page as black ink on white paper: grey or yellowed paper, a scanner's uneven light and
    a red seal's ink taken out (the seal stamped over a table's corner hid its digits). Each pixel
    is divided by the paper around it (the page with its ink dilated away, smoothed)."""
    rgb = np.asarray(image.convert("RGB"))
    red = rgb[:, :, 0].astype(np.int16) - np.maximum(rgb[:, :, 1], rgb[:, :, 2])  # (max(axis=2): 25× the time)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    gray = np.where(red > 60, rgb[:, :, 0], gray)  # seal ink: as light as its red channel
    small = cv2.resize(gray, (max(1, gray.shape[1] // 8), max(1, gray.shape[0] // 8)), interpolation=cv2.INTER_AREA)
    paper = cv2.GaussianBlur(cv2.dilate(small, np.ones((5, 5), np.uint8)), (0, 0), 3)
    paper = cv2.resize(paper, gray.shape[::-1], interpolation=cv2.INTER_LINEAR)
    flat = np.clip(gray.astype(np.float32) * 255 / np.maximum(paper, 1), 0, 255)
    ink = float(np.percentile(flat, 0.5))
    flat = np.clip((flat - ink) * 255 / max(1.0, 250 - ink), 0, 255).astype(np.uint8)
    return Image.fromarray(flat).convert("RGB")


def straight(image: Image.Image, settings: OcrSettings = SETTINGS) -> Image.Image:
    """The page turned back by its skew (OpenCV's warp: a tenth of the time PIL's rotate took)."""
    angle = skew(image, settings)
    if abs(angle) < 0.1:
        return image
    pixels = np.asarray(image.convert("RGB"))
    turn = cv2.getRotationMatrix2D((image.width / 2, image.height / 2), angle, 1.0)
    return Image.fromarray(cv2.warpAffine(pixels, turn, (image.width, image.height), flags=cv2.INTER_CUBIC,
                                          borderValue=(255, 255, 255)))


@dataclass
class Lines:
    """What OCR read on a picture: each line of text's box (4 corners, pixels), text, confidence,
    and its characters as (text, confidence, box)."""

    boxes: list[np.ndarray]
    txts: list[str]
    scores: list[float]
    word_results: list[list[tuple[str, float, list]]]


def _recognise(image: Image.Image, settings: OcrSettings = SETTINGS) -> Lines:
    """rapidocr's reading, band by band down the page: text is found on the band at
    `settings.detect_dpi` (a lone digit in a table cell is lost on a page scaled further down) and
    read from the band as it is, and the finder's memory, which grows with the pixels it sees,
    stays that of one band. Bands overlap by more than a line; a line is kept from the band its
    middle lies in the own part of, or near it: a line on the border between two bands' own parts
    (its middle found a pixel apart in each) was read twice ("31" twice: 3311) or not at all, so
    a line found in both is kept once, from the band whose own part it lies in. Only the page's
    inked part is read, padded with paper to the detector's stride (resized to it, the boxes
    moved a pixel or two)."""
    pixels = np.asarray(image.convert("RGB"))
    left, top0, right, bottom = _inked(pixels, settings)
    pixels = pixels[top0:bottom, left:right]
    height = pixels.shape[0]
    band, overlap = settings.band, settings.band_overlap
    tops = list(range(0, max(1, height - overlap), band - overlap)) if height > band else [0]
    _return_freed_memory()  # what evening and straightening the page freed (~25 MB), before the detector's ~110
    # (in the band's own part, box, its extent, text, score, chars)
    lines: list[tuple[bool, np.ndarray, tuple[float, float, float, float], str, float, list]] = []
    for n, top in enumerate(tops):
        own = (top + overlap / 2 if n else -overlap,
               tops[n + 1] + overlap / 2 if n + 1 < len(tops) else height + overlap)
        part = _padded(pixels[top:top + band])
        try:
            with _LOCK:
                _engine()._load_det_model().limit_side_len = round(max(part.shape[:2]) * _detect_scale(settings))
                found = _engine()(part, use_det=True, use_cls=False,
                                  use_rec=True, return_word_box=True,  # the engine keeps the last call's settings
                                  return_single_char_box=True)
        except Exception as e:  # the engine raises its own kinds for pictures it cannot take
            raise ReportError(f"OCR failed on a {image.width}×{image.height} picture ({type(e).__name__}: {e})") from e
        _return_freed_memory()
        if not getattr(found, "txts", None):
            continue
        before = len(lines)
        for box, text, score, chars in zip(found.boxes, found.txts, found.scores, found.word_results, strict=True):
            box = np.asarray(box, dtype=np.float64) + (0, top)
            middle = box[:, 1].mean()
            if not own[0] - overlap / 4 <= middle < own[1] + overlap / 4:
                continue
            box += (left, top0)  # on the page
            line = (own[0] <= middle < own[1], box, _extent(box), text, float(score),
                    [(t, s, [(x + left, y + top0 + top) for x, y in q]) for t, s, q in chars])
            twice = next((k for k in range(before) if _same_line(line[2], lines[k][2])), None)
            if twice is None:
                lines.append(line)
            elif line[0] and not lines[twice][0]:  # kept from the band whose own part it lies in
                lines[twice] = line
    read = Lines([], [], [], [])
    for _, box, _, text, score, chars in lines:
        read.boxes.append(box)
        read.txts.append(text)
        read.scores.append(score)
        read.word_results.append(chars)
    return read


def _extent(box: np.ndarray) -> tuple[float, float, float, float]:
    """A box's (4 corners) left, top, right and bottom."""
    (x0, y0), (x1, y1) = box.min(axis=0).tolist(), box.max(axis=0).tolist()
    return x0, y0, x1, y1


def _same_line(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    """Whether two boxes (their extents) are one line found twice: they share most of the smaller
    one. (Asked of each line of a band against each of the bands before: extents, not corners.)"""
    ax0, ay0, ax1, ay1 = a
    bx0, by0, bx1, by1 = b
    common = max(0.0, min(ax1, bx1) - max(ax0, bx0)) * max(0.0, min(ay1, by1) - max(ay0, by0))
    return common > 0.5 * min((ax1 - ax0) * (ay1 - ay0), (bx1 - bx0) * (by1 - by0))


def _padded(part: np.ndarray, unit: int = 32) -> np.ndarray:
    """A band with paper added right and below to a multiple of `unit` pixels, the detector's
    stride: else it is resized to one, and its boxes shift a pixel or two with the band's size."""
    h, w = part.shape[:2]
    return cv2.copyMakeBorder(part, 0, -h % unit, 0, -w % unit, cv2.BORDER_CONSTANT, value=(255, 255, 255))


def _inked(pixels: np.ndarray, settings: OcrSettings = SETTINGS) -> tuple[int, int, int, int]:
    """(left, top, right, bottom): the part of the page with ink on it and a margin of
    `settings.margin` pixels about it (white paper holds no text to find)."""
    ink = np.minimum(np.minimum(pixels[:, :, 0], pixels[:, :, 1]), pixels[:, :, 2]) < 128  # (min(axis=2): 25×)
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if not len(rows):
        return 0, 0, pixels.shape[1], pixels.shape[0]
    m = settings.margin
    return (max(0, int(cols[0]) - m), max(0, int(rows[0]) - m),
            min(pixels.shape[1], int(cols[-1]) + m + 1), min(pixels.shape[0], int(rows[-1]) + m + 1))


def _detect_scale(settings: OcrSettings) -> float:
    return min(1.0, settings.detect_dpi / settings.dpi)


def _chars(result: Lines, scale: float, settings: OcrSettings, image: Image.Image | None = None) -> list[layout.Char]:
    """Each character read with confidence, its box in points (`scale`: pixels per point). A
    number with a digit read with little confidence is read again, larger (`image`: the picture
    read); if it is still unsure it becomes "?", which no cell takes for a value (its row is then
    a reading doubt, not a wrong number)."""
    chars: list[layout.Char] = []
    pixels = None if image is None else np.asarray(image.convert("RGB"))
    for box, line in zip(result.boxes, result.word_results, strict=True):
        line = [(t, s, q) for t, s, q in line if t.strip()]
        if pixels is not None and line and _NUMBER.fullmatch("".join(t for t, _, _ in line)) \
                and min(s for _, s, _ in line) < settings.sure:
            line = _read_again(pixels, box, line, settings)
        kept = []
        for text, score, quad in line:
            if score < settings.min_score:
                continue
            xs, ys = [p[0] for p in quad], [p[1] for p in quad]
            kept.append([text, min(xs) / scale, min(ys) / scale, max(xs) / scale, max(ys) / scale, -1])
        for a, b in pairwise(kept):
            if _joined(a, b):
                a[3] = max(a[3], b[1])
        chars += [tuple(c) for c in kept]  # type: ignore[misc]
    return chars


_NUMBER = re.compile(r"[0-9.,%\-]+")


def _read_again(pixels: np.ndarray, box: np.ndarray, line: list, settings: OcrSettings) -> list:
    """A number OCR was unsure of, read again from its box at twice the size: the new reading if
    it is a number read with confidence, else one "?" over the box."""
    (x0, y0), (x1, y1) = np.asarray(box).min(axis=0).astype(int), np.asarray(box).max(axis=0).astype(int)
    pad = 4
    crop = pixels[max(0, y0 - pad):y1 + pad + 1, max(0, x0 - pad):x1 + pad + 1]
    if crop.size and not _blotted(pixels[max(0, y0):y1 + 1, max(0, x0):x1 + 1]):
        crop = cv2.resize(crop, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
        with _LOCK:
            again = _engine()(np.ascontiguousarray(crop), use_det=False, use_cls=False, use_rec=True,
                              return_word_box=False, return_single_char_box=False)
        text = again.txts[0].replace(" ", "") if again.txts else ""
        if _NUMBER.fullmatch(text) and again.scores[0] >= settings.sure:
            if len(text) == len(line):
                return [(t, 1.0, q) for t, (_, _, q) in zip(text, line, strict=True)]
            if _several(line):  # which digits go where among numbers a table left apart: unknown
                return [("?", 1.0, [(x0, y0), (x1, y0), (x1, y1), (x0, y1)])]
            step = (x1 - x0) / len(text)
            return [(t, 1.0, [(x0 + i * step, y0), (x0 + (i + 1) * step, y0), (x0 + (i + 1) * step, y1),
                              (x0 + i * step, y1)]) for i, t in enumerate(text)]
    return [("?", 1.0, [(x0, y0), (x1, y0), (x1, y1), (x0, y1)])]


def _blotted(pixels: np.ndarray, most: float = 0.65) -> bool:
    """A mark inked over more of its box than any digit is (a printed digit fills under half of
    it; a "1", narrow, is let be): a blot OCR reads as a number by guess ("8" for a smudged 3)."""
    ink = pixels.min(axis=2) < 128 if pixels.ndim == 3 else pixels < 128
    ys, xs = np.nonzero(ink)
    if not len(xs):
        return False
    tight = ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    return tight.shape[1] >= 0.5 * tight.shape[0] and float(tight.mean()) > most


def _several(line: list) -> bool:
    """Characters of one line OCR found standing apart as numbers do (a table without rules)."""
    boxes = [(min(p[0] for p in q), max(p[0] for p in q), max(p[1] for p in q) - min(p[1] for p in q))
             for _, _, q in line]
    return any(b[0] - a[1] >= 0.35 * max(a[2], b[2]) for a, b in pairwise(boxes))


def _joined(a: list, b: list) -> bool:
    """Two characters of one line of text OCR found whose boxes leave a gap a space would go in,
    though no space is printed: OCR's character boxes are narrower than the letters' cells, and a
    label read "1. 本机关 不掌握 相 关政府" is no label, "41 19" no 4119. Two numbers of a table
    without rules read as one line stand further apart than digits of one number."""
    height = max(a[4] - a[2], b[4] - b[2])
    digits = a[0].isdigit() and b[0].isdigit()
    return b[1] - a[3] < (0.35 if digits else 0.6) * height


def image_rules(image: Image.Image, scale: float, settings: OcrSettings = SETTINGS) -> layout.Rules:
    """Horizontal and vertical table rules: long thin dark runs, found by morphological opening."""
    gray = np.asarray(image.convert("L"))
    ink = cv2.adaptiveThreshold(255 - gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 15, -2)
    height, width = ink.shape
    rules: layout.Rules = ([], [])
    for axis, length in ((0, int(width * settings.rule_fraction)), (1, int(height * settings.rule_fraction))):
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (max(length, 2), 1) if axis == 0 else (1, max(length, 2)))
        lines = cv2.morphologyEx(ink, cv2.MORPH_OPEN, kernel)
        count, _, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
        for x, y, w, h, _ in stats[1:count].tolist():  # plain ints: the boxes end in provenance
            if axis == 0:
                mid = (y + h / 2) / scale
                rules[0].append((x / scale, mid, (x + w) / scale, mid))
            else:
                mid = (x + w / 2) / scale
                rules[1].append((mid, y / scale, mid, (y + h) / scale))
    return rules


def pages_of(picture: Image.Image, ratio: float = 1.5) -> list[Image.Image]:
    """A picture taller than a page (a long screenshot, as reports are passed on in chat apps) cut
    into pages, each cut along the blankest row near where a page would end."""
    pages = []
    top = 0
    ink = 255 - np.asarray(picture.convert("L"), dtype=np.int32)
    rows = ink.sum(axis=1)
    while picture.height - top > ratio * picture.width:
        end = top + round(ratio * picture.width)
        window = rows[end - picture.width // 4:end]
        cut = end - picture.width // 4 + int(np.argmin(window))
        pages.append(picture.crop((0, top, picture.width, cut)))
        top = cut
    pages.append(picture.crop((0, top, picture.width, picture.height)) if top else picture)
    return pages


def read_image(data: bytes, settings: OcrSettings = SETTINGS) -> Source:
    """A picture file (PNG, JPEG, a TIFF of several pages…) → Source, each frame a page."""
    out = SourceWriter("image")
    if not write_picture(out, data, 1, settings):
        raise ReportError("no text: OCR read nothing in the picture")
    return out.source()


def write_picture(out: SourceWriter, data: bytes, first: int, settings: OcrSettings = SETTINGS) -> int:
    """A picture's pages, OCR'd, written to `out` as pages `first`, `first + 1` …; the number of
    characters read. Pictures are scaled to an A4 page's width at `settings.dpi` (boxes are in
    points of that page), a long one cut into pages."""
    try:
        picture = Image.open(io.BytesIO(data))
        if picture.width * picture.height > settings.max_pixels:
            raise ReportError(f"image too large to be a page ({picture.width}×{picture.height} pixels)")
        frames = []
        for n in range(getattr(picture, "n_frames", 1)):
            if n >= settings.max_pages:
                raise ReportError(f"scan too long to read: more than {settings.max_pages} pages")
            picture.seek(n)
            frames.append(ImageOps.exif_transpose(picture).convert("RGB"))  # a phone's photo stored turned
    except UnidentifiedImageError as e:
        raise ReportError("unreadable image: damaged, or a kind of picture that cannot be decoded") from e
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise ReportError(f"unreadable image ({type(e).__name__}: {e})") from e
    scale = settings.dpi / 72
    width = round(A4_WIDTH * scale)
    pages = []
    for frame in frames:
        if abs(frame.width - width) > 0.25 * width:  # letters at the size OCR is made for
            height = max(1, round(frame.height * width / frame.width))
            if width * height > settings.max_pixels:
                raise ReportError(f"image too long to be read as pages ({frame.width}×{frame.height} pixels)")
            frame = frame.resize((width, height))
        pages += pages_of(frame)
    if len(pages) > settings.max_pages:
        raise ReportError(f"scan too long to read: more than {settings.max_pages} pages")
    seen = 0
    for number, frame in enumerate(pages, start=first):
        frame, chars = read_page(frame, scale, settings)
        tables = layout.edges_to_tables(image_rules(frame, scale, settings))
        layout.write_page(out, chars, tables, number, layout.SETTINGS, layout.char_dicts)
        out.ocr.append((number, (0.0, 0.0, frame.width / scale, frame.height / scale)))
        seen += len(chars)
    return seen


LARGE = 8_000_000  # pixels: a picture file larger than this (or of several pages) is OCR'd in a box


def large_picture(data: bytes) -> bool:
    """Whether a picture file is large enough to be read in a process of its own (from its header only)."""
    try:
        picture = Image.open(io.BytesIO(data))
        return picture.width * picture.height > LARGE or getattr(picture, "n_frames", 1) > 1
    except Exception:  # not decodable: read_image says why
        return False


def write_document_picture(out: SourceWriter, data: bytes) -> None:
    """A picture in a Word file or on a web page, read as the next page(s) if it may hold a table
    or a page (not a seal, a logo or a banner)."""
    if worth_reading(data):
        write_picture(out, data, max((page for page, _ in out.ocr), default=0) + 1)


def worth_reading(data: bytes) -> bool:
    """Whether a picture in a document is a table or a page to read: large, not a small square (a
    seal, a logo, a QR code), and ruled like a table or shaped like a page (not a banner or photo)."""
    try:
        picture = Image.open(io.BytesIO(data))
        width, height = picture.size
        if min(width, height) < 150 or max(width, height) < 500 or width * height > SETTINGS.max_pixels:
            return False
        if 0.8 < width / height < 1.25 and max(width, height) < 800:
            return False
        return (height >= 1.2 * width and width >= 900) or holds_a_table(picture)
    except Exception:  # not a picture PIL knows (EMF, WMF…): nothing OCR could read either
        return False


def holds_a_table(image: Image.Image) -> bool:
    """Ruled like a table: two rules across half its width and two down a third of its height (a
    banner, a photo or a seal is not; the strokes of large letters are shorter)."""
    horizontal, vertical = image_rules(image, 1.0)
    across = sum(1 for x0, _, x1, _ in horizontal if x1 - x0 >= 0.5 * image.width)
    down = sum(1 for _, top, _, bottom in vertical if bottom - top >= 0.3 * image.height)
    return across >= 2 and down >= 2

"""Short text boxes recognised together, several to a line: most boxes on a table's page are a lone
number ("0", "3", "18"), and the recogniser reads each box padded to a line 320 pixels wide (6–8
times the number): 60 % of its work was padding. Packed in page order onto lines, each box
followed by 160 pixels of the same grey as that padding, they read as they do alone (on degraded
scans: the same cells; with less grey the recogniser grew unsure of lone digits), for about 30 %
less recognition. Boxes the cropper turned a quarter (a header printed downwards) are read alone.

Each character the recogniser emits falls in one box's span of the packed line; one that falls
between two boxes is not guessed at: both boxes are read again alone.

With two threads or more, lines (packed or alone) are read side by side, a thread each: a line
is too small a piece of work to share out inside the recogniser, and each reads as it would alone.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import cv2
import numpy as np
from rapidocr import RapidOCR
from rapidocr.ch_ppocr_det import TextDetector
from rapidocr.ch_ppocr_rec import TextRecognizer
from rapidocr.ch_ppocr_rec.typings import TextRecInput, TextRecOutput, WordInfo
from rapidocr.inference_engine.onnxruntime import main as onnx_engine

T = TypeVar("T")
U = TypeVar("U")
HEIGHT = 48  # the recogniser's input height (its rec_img_shape)
STRIDE = 8  # pixels of input per output column
SHORT = 4.0  # a box this many times as wide as high, or less, is packed
LINE = 960  # pixels: a packed line's width at most
GAP = 160  # pixels of padding grey after each box (less and the recogniser grows unsure of lone digits)
MIN_WIDTH = 320  # a line is padded to this, as the recogniser's own batches are
LEFT = 0  # pixels of grey before the first box


class PackedReader(RapidOCR):
    """rapidocr's reader whose recognition packs the short boxes detection found; boxes standing
    tall (turned a quarter by the cropper) and long lines are read as rapidocr reads them."""

    _tall: list[bool] | None = None

    def __init__(self, params: dict, threads: int = 1) -> None:
        super().__init__(params=params)
        self.threads = threads
        # lines are read side by side, one thread each: a line's layers are too small to share out
        # well (two threads on one line: 0.68× its time, for 1.25× the CPU)
        self._lines = ThreadPoolExecutor(threads, thread_name_prefix="ocr-line") if threads > 1 else None

    def _load_det_model(self) -> TextDetector:
        with _sessions(self.threads):
            return super()._load_det_model()

    def _load_rec_model(self) -> TextRecognizer:
        with _sessions(1):
            return super()._load_rec_model()

    def each(self, fn: Callable[[T], U], items: list[T]) -> list[U]:
        """fn of each item, in order: side by side on the engine's threads."""
        return list(self._lines.map(fn, items)) if self._lines and len(items) > 1 else [fn(x) for x in items]

    def crop_text_regions(self, img: np.ndarray, det_boxes: np.ndarray) -> list[np.ndarray]:
        self._tall = [_tall(box) for box in det_boxes]
        return super().crop_text_regions(img, det_boxes)

    def recognize_txt(self, img: list[np.ndarray]) -> TextRecOutput:
        tall, self._tall = self._tall, None
        if tall is None or len(tall) != len(img):  # recognition alone (no detection before it)
            return super().recognize_txt(img)
        model = self._load_rec_model()
        short = [i for i, crop in enumerate(img)
                 if not tall[i] and crop.size and crop.shape[1] <= SHORT * crop.shape[0]]
        read: dict[int, tuple[str, float, WordInfo]] = {}
        alone = _packed(model, img, short, read, self.each)
        alone += [i for i in range(len(img)) if i not in read and i not in alone]
        # each alone (rapidocr's batches hold one: the same reading as all in one call)
        outs = self.each(lambda i: model(TextRecInput(img=[img[i]], return_word_box=True)), alone)
        for i, out in zip(alone, outs, strict=True):
            read[i] = (out.txts[0], out.scores[0], out.word_results[0])
        txts, scores, words = zip(*(read[i] for i in range(len(img))), strict=True)
        return TextRecOutput(imgs=img, txts=txts, scores=list(scores), word_results=words)


@contextlib.contextmanager
def _sessions(threads: int) -> Iterator[None]:
    """onnxruntime sessions made meanwhile on `threads` threads that sleep when out of work rather
    than spin (rapidocr sets no such option): spinning, two threads took 3.3 s a page where one
    took 2.6 on a machine whose other core was busy, and 15–30 % more CPU on a quiet one for the
    same time."""
    options = onnx_engine.OrtInferSession._init_sess_opts

    def sleeping(cfg: object) -> object:
        made = options(cfg)
        made.intra_op_num_threads = threads
        made.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return made

    onnx_engine.OrtInferSession._init_sess_opts = staticmethod(sleeping)
    try:
        yield
    finally:
        onnx_engine.OrtInferSession._init_sess_opts = staticmethod(options)


def _tall(box: np.ndarray) -> bool:
    """Whether the cropper turns this box a quarter (rapidocr's get_rotate_crop_image's test)."""
    width = max(np.linalg.norm(box[0] - box[1]), np.linalg.norm(box[2] - box[3]))
    height = max(np.linalg.norm(box[0] - box[3]), np.linalg.norm(box[1] - box[2]))
    return height >= 1.5 * width


def _normalised(crop: np.ndarray) -> np.ndarray:
    """A box as the recogniser takes it: HEIGHT pixels high, channels first, in [-1, 1]."""
    width = max(1, math.ceil(HEIGHT * crop.shape[1] / crop.shape[0]))
    pixels = cv2.resize(crop, (width, HEIGHT)).astype(np.float32).transpose(2, 0, 1) / 255
    return (pixels - 0.5) / 0.5


def _packed(model: object, img: list[np.ndarray], short: list[int],
            read: dict[int, tuple[str, float, WordInfo]], each: Callable[[Callable, list], list]) -> list[int]:
    """The `short` boxes read packed onto lines (into `read`), the lines read by `each` (side by
    side); the boxes to read alone instead."""
    lines: list[list[tuple[int, np.ndarray]]] = [[]]
    used = 0
    for i in short:
        pixels = _normalised(img[i])
        step = math.ceil(pixels.shape[2] / STRIDE) * STRIDE + GAP
        if lines[-1] and used + step > LINE:
            lines.append([])
            used = 0
        lines[-1].append((i, pixels))
        used += step
    alone: list[int] = []
    for spans, index, prob in each(lambda line: _read_line(model, line), [x for x in lines if x]):
        alone += _split(model, index, prob, spans, read)
    return alone


def _read_line(model: object, line: list[tuple[int, np.ndarray]]) -> tuple[list[tuple[int, int, int]], np.ndarray,
                                                                          np.ndarray]:
    """A packed line read: its boxes' spans (box, first and last pixel), and each output column's
    likeliest character and its probability (not the whole output: 9 MB a line)."""
    spans, x = [], LEFT
    for i, pixels in line:
        spans.append((i, x, x + pixels.shape[2]))
        x += math.ceil(pixels.shape[2] / STRIDE) * STRIDE + GAP
    batch = np.zeros((1, 3, HEIGHT, max(MIN_WIDTH, x)), np.float32)
    for (_, x0, x1), (_, pixels) in zip(spans, line, strict=True):
        batch[0, :, :, x0:x1] = pixels
    preds = model.session(batch)[0]  # type: ignore[attr-defined]
    return spans, preds.argmax(axis=1), preds.max(axis=1)


def _split(model: object, index: np.ndarray, prob: np.ndarray, spans: list[tuple[int, int, int]],
           read: dict[int, tuple[str, float, WordInfo]]) -> list[int]:
    """One packed line's output columns shared out to its boxes, each read as rapidocr reads a
    box alone (its text, mean confidence, characters' columns); the boxes a stray character lies
    between."""
    emitted = np.ones(len(index), dtype=bool)
    emitted[1:] = index[1:] != index[:-1]
    emitted &= index != 0  # CTC's blank
    characters = model.postprocess_op.character  # type: ignore[attr-defined]
    owner = np.full(len(index), -1)
    for n, (_, x0, x1) in enumerate(spans):
        owner[max(0, x0 // STRIDE - 1):min(len(index), -(-x1 // STRIDE) + 1)] = n
    stray = {n for c in np.flatnonzero(emitted & (owner < 0)) for n in _beside(c, spans)}
    alone = [spans[n][0] for n in sorted(stray)]
    for n, (i, x0, x1) in enumerate(spans):
        if n in stray:
            continue
        first, columns = x0 // STRIDE, -(-(x1 - x0) // STRIDE)
        mine = np.zeros(columns, dtype=bool)
        cols = list(np.flatnonzero(emitted & (owner == n)))
        local = [min(columns - 1, max(0, c - first)) for c in cols]
        mine[local] = True
        if len(set(local)) < len(local):  # two characters squeezed onto one column: read alone
            alone.append(i)
            continue
        text = "".join(characters[index[c]] for c in cols)
        confs = [round(float(prob[c]), 5) for c in cols] or [0.0]
        info = model.postprocess_op.get_word_info(text, mine) if text else WordInfo()  # type: ignore[attr-defined]
        info.line_txt_len = (x1 - x0) / STRIDE
        info.confs = confs
        read[i] = (text, round(float(np.mean(confs)), 5), info)
    return alone


def _beside(column: int, spans: list[tuple[int, int, int]]) -> list[int]:
    """The boxes on either side of an output column."""
    x = (column + 0.5) * STRIDE
    before = [n for n, (_, _, x1) in enumerate(spans) if x1 <= x]
    after = [n for n, (_, x0, _) in enumerate(spans) if x0 >= x]
    return before[-1:] + after[:1]

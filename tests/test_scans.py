"""Scans as they come off an office scanner (tests/scans.py makes them): grey paper, noise, blur,
JPEG, a turn of up to 2°, punch holes and a seal. No cell may be wrong; every cell not read has
a doubt. The full matrix (every gold map rendered ruled and borderless, with zeros printed and
left blank, and the real PDFs) is slow; the fast suite reads one degraded page for each thing it checks."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import pypdfium2
import pytest
from PIL import Image, ImageDraw, ImageFont

from xxgk.audit import audit
from xxgk.compose.layout import Layout
from xxgk.compose.render import to_pdf, to_text
from xxgk.compose.synth import from_gold
from xxgk.extract.report import parse_text
from xxgk.ingest import ocr, read_source
from xxgk.parse import parse_bytes
from xxgk.result import ParseResult

from . import scans
from .conftest import REAL, SEEDS
from .scans import OFFICE, WORST, scan_of, score


def _zeros_blank(result: ParseResult) -> ParseResult:
    """The report as printed by an office that leaves zeros blank: blank is null, never 0."""
    return result.model_copy(update={"cells": {k: (None if v == 0 else v) for k, v in result.cells.items()}})


def _seed(prefix: str) -> ParseResult:
    return from_gold(next(SEEDS.glob(f"{prefix}*.gold.json")))


def _pixels(pdf: bytes) -> bytes:
    document = pypdfium2.PdfDocument(pdf)
    pixels = document[0].render(scale=1).to_pil().tobytes()
    document.close()
    return pixels


def test_degraded_scans_are_made_alike_from_a_seed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scans, "CACHE", tmp_path)
    pdf = (REAL / "hongze-2024.pdf").read_bytes()
    first = scan_of(pdf, 7, WORST, pages=slice(2, 3))
    (cached,) = tmp_path.iterdir()
    cached.unlink()
    again = scan_of(pdf, 7, WORST, pages=slice(2, 3))  # made again, not read back
    assert _pixels(again) == _pixels(first) and _pixels(scan_of(pdf, 8, WORST, pages=slice(2, 3))) != _pixels(first)
    document = pypdfium2.PdfDocument(first)
    assert len(document) == 1 and document[0].get_textpage().count_chars() == 0  # pictures only
    page = document[0].render(scale=2).to_pil().convert("RGB")
    document.close()
    pixels = np.asarray(page).astype(int)
    assert 190 <= np.median(pixels) <= 205  # grey paper
    seal = (pixels[:, :, 0] - pixels[:, :, 1:].max(axis=2)) > 60
    assert seal.sum() > 500  # a red seal over the table


def test_a_page_is_evened_to_black_ink_on_white_paper_and_a_seal_is_taken_out() -> None:
    page = Image.new("RGB", (800, 400), (200, 198, 190))  # grey, yellowish paper
    font = ImageFont.truetype(next(map(str, Path("/usr/share/fonts").rglob("wqy-zenhei.ttc"))), 40)
    draw = ImageDraw.Draw(page)
    draw.text((40, 40), "本年新收 4119", font=font, fill=(30, 30, 30))
    draw.ellipse((500, 150, 700, 350), outline=(220, 30, 30), width=12)  # a seal's ring
    flat = np.asarray(ocr.evened(page).convert("L"))
    assert np.median(flat) >= 245  # paper white
    assert flat[40:100, 40:400].min() <= 40  # ink black
    assert flat[245:255, 500:515].mean() >= 200  # the ring's left side: gone


def _number_picture(text: str) -> np.ndarray:
    font = ImageFont.truetype(next(map(str, Path("/usr/share/fonts").rglob("wqy-zenhei.ttc"))), 22)
    picture = Image.new("RGB", (200, 60), "white")
    ImageDraw.Draw(picture).text((60, 18), text, font=font, fill="black")
    return np.asarray(picture)


def test_an_unsure_number_is_read_again_larger_or_left_unread() -> None:
    box = np.array([[55, 14], [125, 14], [125, 44], [55, 44]], dtype=float)
    unsure = [("4", 1.0, box.tolist()), ("1", 0.6, box.tolist()), ("1", 1.0, box.tolist()), ("9", 1.0, box.tolist())]
    again = ocr._read_again(_number_picture("4119"), box, unsure, ocr.SETTINGS)
    assert "".join(t for t, _, _ in again) == "4119"
    noise = np.random.default_rng(0).integers(0, 255, (60, 200, 3), dtype=np.uint8)
    assert [t for t, _, _ in ocr._read_again(noise, box, unsure, ocr.SETTINGS)] == ["?"]
    # digits standing apart are numbers of a table without rules: never spread over as one
    apart = [(d, 0.6, [(x, 14), (x + 10, 14), (x + 10, 44), (x, 44)]) for d, x in (("1", 55), ("0", 100))]
    assert ocr._several(apart) and not ocr._several(unsure[:1] + [("1", 1.0, [(66, 14), (76, 14), (76, 44), (66, 44)])])


def test_a_row_whose_label_ocr_reads_in_pieces_keeps_its_own_values() -> None:
    """Zeros left blank, a degraded scan: 「1.本机关不掌握相关政府信息」 was read in pieces ("1. 本机关
    不掌握 相 关政府"), matched no row, and its 3 … 3 went to 「8.属于行政查询事项」 above it."""
    report = _zeros_blank(_seed("000"))
    got = parse_bytes(scan_of(to_pdf(report), 1, OFFICE), "scan.pdf")  # two pages
    assert got.cells["requests.unavailable.not_held.natural"] == 3 == got.cells["requests.unavailable.not_held.total"]
    assert got.cells["requests.denied.query_matter.natural"] is None
    assert score(report.cells, got).wrong == []


def _page(pdf: bytes, index: int) -> bytes:
    document, one = pypdfium2.PdfDocument(pdf), pypdfium2.PdfDocument.new()
    one.import_pages(document, [index])
    buf = io.BytesIO()
    one.save(buf)
    return buf.getvalue()


def test_a_number_ocr_boxes_in_pieces_is_read_whole() -> None:
    """「行政处罚」 4119 on the third page of a degraded scan: OCR's boxes of its two 1s leave a gap,
    and the cell read "41 19" gave 41."""
    scan = scan_of((REAL / "hongze-2023.pdf").read_bytes(), 1, OFFICE)
    text = read_source(_page(scan, 2), "p3.pdf").text
    row = next(line for line in text.splitlines() if "行政处罚" in line)
    assert "4119" in row.split()


def test_a_digit_the_detector_passed_over_is_read_where_it_is_printed() -> None:
    """Lone 0s in the ruled table of a real report in small print, scanned as an office does, that
    the text detector passed over (it did, with the page's bands cut a little differently): their
    cells were read blank — null, certain, no doubt. The marks OCR found no text in were held to
    the height of OCR's boxes, which stand clear of small print, and were too small to be digits.
    Held to the height of the digits' ink, each is read alone, larger, where it is printed; what
    is left of the rules where they cross is no digit."""
    scan = scan_of((REAL / "huaian-2024.pdf").read_bytes(), 1, OFFICE)
    document = pypdfium2.PdfDocument(scan)
    picture = document[4].render(scale=ocr.SETTINGS.dpi / 72).to_pil().convert("RGB")
    document.close()
    page = ocr.straight(ocr.evened(ocr.flatten(picture)))
    read = ocr._recognise(page)
    zeros = [i for i, t in enumerate(read.txts) if t == "0"][::9]
    assert len(zeros) >= 5
    passed = ocr.Lines(*([v for i, v in enumerate(field) if i not in zeros]
                         for field in (read.boxes, read.txts, read.scores, read.word_results)))
    found = ocr._unread_ink(page, passed, 1.0)
    assert {t for t, *_ in found} == {"0"}  # (and a 0 the detector passed over on this page too)
    for i in zeros:
        (x0, y0), (x1, y1) = read.boxes[i].min(axis=0), read.boxes[i].max(axis=0)
        assert any(x0 <= c[1] and c[3] <= x1 and y0 <= c[2] and c[4] <= y1 for c in found)


def _renderings() -> list[tuple[str, bytes, dict]]:
    out = [(p.stem, p.read_bytes(), from_gold(REAL / f"{p.stem}.gold.json").cells) for p in sorted(REAL.glob("*.pdf"))]
    for gold in sorted(SEEDS.glob("*.gold.json")):
        report = from_gold(gold)
        blank = _zeros_blank(report)
        out += [(f"{gold.name[:3]}-ruled", to_pdf(report), report.cells),
                (f"{gold.name[:3]}-zeros-blank", to_pdf(blank), blank.cells),
                (f"{gold.name[:3]}-borderless", to_pdf(report, Layout(borders=False)), report.cells),
                (f"{gold.name[:3]}-borderless-zeros-blank", to_pdf(blank, Layout(borders=False)), blank.cells)]
    return out


@pytest.mark.slow
def test_office_scans_of_every_rendering_and_real_pdf_read_right_or_say_why() -> None:
    total = read = 0
    problems = {}
    for name, pdf, cells in _renderings():
        got = parse_bytes(scan_of(pdf, 1, OFFICE), f"{name}.pdf")
        s = score(cells, got)
        total, read = total + s.expected, read + s.read
        if s.wrong or s.silent:
            problems[name] = (s.wrong, s.silent)
    assert problems == {}
    assert read >= 0.98 * total


def test_the_scan_helper_scores_a_reading_against_what_is_printed() -> None:
    report = _seed("002")
    got = report.model_copy(deep=True)
    got.cells["requests.new.natural"] = None
    got.cells["requests.new.total"] = (report.cells["requests.new.total"] or 0) + 1
    got.doubts = ["「一、本年新收政府信息公开申请数量」未读到数值"]
    got.labels = {"requests.new": "一、本年新收政府信息公开申请数量"}
    s = score(report.cells, got)
    assert s.wrong == ["requests.new.total"] and s.unread == ["requests.new.natural"] and s.silent == []
    got.doubts = []
    assert score(report.cells, got).silent == ["requests.new.natural"]


def test_lone_numbers_are_recognised_packed_onto_lines_and_read_as_alone() -> None:
    """Most boxes on a table's page are a lone number, each read padded to a 320-pixel line: packed
    several to a line they read the same, for far less of the recogniser's input."""
    from rapidocr import RapidOCR

    from xxgk.ingest.ocr_packed import PackedReader

    document = pypdfium2.PdfDocument(scan_of(to_pdf(_seed("000")), 1, OFFICE))
    page = ocr.straight(ocr.evened(document[0].render(scale=ocr.SETTINGS.dpi / 72).to_pil()))
    document.close()
    band = np.ascontiguousarray(np.asarray(page)[1000:1600])  # the 三 table's rows of numbers
    params = {"Global.log_level": "error", "Global.use_cls": False, "Det.limit_side_len": 4000,
              "Det.limit_type": "max", "EngineConfig.onnxruntime.intra_op_num_threads": 1}
    readings, columns = [], []
    for kind in (RapidOCR, PackedReader):
        reader = kind(params=params)
        session = reader._load_rec_model().session
        fed = []
        reader._load_rec_model().session = lambda x, s=session, fed=fed: fed.append(x.shape[0] * x.shape[3]) or s(x)
        got = reader(band, use_det=True, use_cls=False, use_rec=True, return_word_box=True,
                     return_single_char_box=True)
        readings.append([(t, [c for c, _, _ in w]) for t, w in zip(got.txts, got.word_results, strict=True)])
        columns.append(sum(fed))
    alone, packed = readings
    numbers = [t for t, _ in alone if t.isdigit()]
    assert len(numbers) >= 80  # a band of lone numbers
    assert [r for r in packed if r[0].isdigit()] == [r for r in alone if r[0].isdigit()]  # each digit where it was
    assert columns[1] < 0.75 * columns[0]


def _smudged(pdf: bytes, label: str, nth: int, dpi: float = 150) -> bytes:
    """The first page of `pdf` as a PNG at `dpi`, with the `nth` number after `label` blotted out
    by a blob of noise over its box (a smudge or a drop of ink on the paper)."""
    document = pypdfium2.PdfDocument(pdf)
    page = document[0]
    text, height = page.get_textpage(), page.get_height()
    at = text.get_text_range().find(label)
    top, bottom = text.get_charbox(at)[1], text.get_charbox(at)[3]
    boxes = [text.get_charbox(i) for i in range(text.count_chars())]
    digits = [b for i, b in enumerate(boxes) if text.get_text_range(i, 1).isdigit()
              and top <= (b[1] + b[3]) / 2 <= bottom and b[0] > text.get_charbox(at)[2] + 50]
    x0, y0, x1, y1 = digits[nth]
    s = dpi / 72
    picture = page.render(scale=s).to_pil().convert("RGB")
    document.close()
    pixels = np.asarray(picture).copy()
    box = (slice(int((height - y1) * s) - 2, int((height - y0) * s) + 3), slice(int(x0 * s) - 2, int(x1 * s) + 3))
    blot = np.random.default_rng(0).integers(0, 255, pixels[box].shape[:2])[..., None]
    pixels[box] = np.minimum(pixels[box], blot)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG")
    return buf.getvalue()


def test_a_smudged_digit_leaves_its_own_cell_unread_with_a_doubt_naming_it() -> None:
    """A blot over 「本年新收」's 自然人 number: OCR found no text there, and the cell was taken for a
    blank one (null, certain, no doubt). It is printed and unread: null, no evidence, a doubt and
    the audit's 读取 finding name that cell, and every other cell of the row is read as printed."""
    report = _seed("000")
    got = parse_bytes(_smudged(to_pdf(report), "本年新收", 0), "smudged.png")
    key = "requests.new.natural"
    assert report.cells[key] == 3 and got.cells[key] is None and key not in got.blank
    assert got.evidence.get(key) in (None, "derived")
    assert any(d.startswith(key + "（一、本年新收") for d in got.doubts)
    row = [k for k in report.cells if k.startswith("requests.new.") and k != key]
    assert {k: got.cells[k] for k in row} == {k: report.cells[k] for k in row}
    assert all(got.evidence[k] == "grid" for k in row)
    assert score(report.cells, got).wrong == []
    unread = next(f for f in audit(got) if f.rule == "extraction.unread")
    assert key in unread.cells and unread.kind == "extraction"


def test_a_smudged_digit_on_a_degraded_scan_is_unread_never_guessed() -> None:
    """The same blot, the page then scanned as an office does (grey paper, noise, blur, JPEG): OCR
    found the blot and read it, unsure, as "8"; read again larger it was "8" with confidence, and
    the cell held 8 where 3 is printed. A number box inked over more than any digit is unread."""
    report = _seed("000")
    picture = Image.open(io.BytesIO(_smudged(to_pdf(report), "本年新收", 0, dpi=200)))
    page = io.BytesIO()
    picture.save(page, "PDF", resolution=200)
    got = parse_bytes(scan_of(page.getvalue(), 1, OFFICE), "scan.pdf")
    key = "requests.new.natural"
    assert got.cells[key] is None and key not in got.blank
    assert any(d.startswith(key + "（") for d in got.doubts)
    assert score(report.cells, got).wrong == []


def _keystoned(pdf: bytes, squeeze: float, dpi: float = 150) -> bytes:
    """The first page of `pdf` as a JPEG photographed with the phone turned about its upright axis:
    the left edge `squeeze` of the height shorter at top and bottom than the right, so rows tilt
    one way at the top of the page and the other way at its foot, and straightening evens neither."""
    import cv2

    document = pypdfium2.PdfDocument(pdf)
    picture = np.asarray(document[0].render(scale=dpi / 72).to_pil().convert("RGB"))
    document.close()
    h, w = picture.shape[:2]
    a = squeeze * h
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    tilted = np.float32([[0, a], [w, 0], [w, h], [0, h - a]])
    warped = cv2.warpPerspective(picture, cv2.getPerspectiveTransform(corners, tilted), (w, h),
                                 flags=cv2.INTER_CUBIC, borderValue=(255, 255, 255))
    buf = io.BytesIO()
    Image.fromarray(warped).save(buf, "JPEG", quality=85)
    return buf.getvalue()


def test_rows_that_tilt_are_placed_by_their_labels_band_never_by_the_order_of_boxes() -> None:
    """A table without rules on a page photographed askew: its rows tilt up to 1.5°, so the last
    columns' numbers sit as high as the row above's label. OCR's boxes grouped into lines by their
    tops gave 「规范性文件」 the 14 and 15 of 「行政许可」 under it, and 「行政许可」 the 0s of the row
    below. Each row takes the numbers on its label's band, followed along the slope of their own
    row of numbers; a row with a number off its band, or another one on it, is left unread and
    said so."""
    report = _seed("002")
    got = parse_bytes(_keystoned(to_pdf(report, Layout(borders=False)), 0.03), "photo.jpg")
    s = score(report.cells, got)
    assert s.wrong == [] and s.silent == []
    active = [k for k in report.cells if k.startswith("active.")]
    assert sum(got.cells[k] == report.cells[k] for k in active) >= 20  # most rows read, by their bands


def _page_picture(pdf: bytes, dpi: float = 150) -> tuple[np.ndarray, Callable[[str], list[tuple]]]:
    """The first page of `pdf` as pixels, and where (in those pixels) each printing of a text is."""
    document = pypdfium2.PdfDocument(pdf)
    page = document[0]
    text, height, s = page.get_textpage(), page.get_height(), dpi / 72
    printed = text.get_text_range()
    pixels = np.asarray(page.render(scale=s).to_pil().convert("RGB")).copy()
    boxes = [text.get_charbox(i) for i in range(text.count_chars())]
    document.close()

    def where(word: str) -> list[tuple]:
        out, at = [], printed.find(word)
        while at >= 0:
            chars = boxes[at:at + len(word)]
            out.append((int(min(b[0] for b in chars) * s) - 2, int((height - max(b[3] for b in chars)) * s) - 2,
                        int(max(b[2] for b in chars) * s) + 3, int((height - min(b[1] for b in chars)) * s) + 3))
            at = printed.find(word, at + 1)
        return out

    return pixels, where


@cache
def _blotted_and_unlabelled() -> tuple[ParseResult, ParseResult]:
    """Seed 002 printed without rules, scanned clean at 150 dpi, with the 自然人 number of 「本年新收」
    blotted out and the label 「行政许可」 wiped off: (what is printed, what is read)."""
    report = _seed("002")
    pdf = to_pdf(report, Layout(borders=False))
    pixels, where = _page_picture(pdf)
    x0, y0, x1, y1 = where("行政许可")[0]
    pixels[y0:y1, x0:x1] = 255
    label = where("一、本年新收")[0]
    x0, y0, x1, y1 = next(b for b in where("0") if abs(b[1] + b[3] - label[1] - label[3]) < 10 and b[0] > label[2])
    blot = np.random.default_rng(0).integers(0, 255, (y1 - y0, x1 - x0))[..., None]
    pixels[y0:y1, x0:x1] = np.minimum(pixels[y0:y1, x0:x1], blot)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG")
    return report, parse_bytes(buf.getvalue(), "blotted.png")


def test_a_smudged_digit_in_a_table_without_rules_is_named_by_its_cell() -> None:
    """OCR found no text under the blot, and 「本年新收」's six other numbers were placed under the
    columns of the rows about it: 自然人 read as a blank cell (null, certain, no doubt). A
    digit-sized mark level with a row of numbers OCR read is an unread number: null, not blank,
    a doubt naming the cell."""
    report, got = _blotted_and_unlabelled()
    key = "requests.new.natural"
    assert report.cells[key] == 0 and got.cells[key] is None and key not in got.blank
    assert any(d.startswith(key + "（一、本年新收") for d in got.doubts)
    row = [k for k in report.cells if k.startswith("requests.new.") and k != key]
    assert {k: got.cells[k] for k in row} == {k: report.cells[k] for k in row}
    assert score(report.cells, got).wrong == []


def test_numbers_whose_band_holds_no_label_stay_unplaced_with_a_doubt() -> None:
    """「行政许可」 wiped off the page: its 1, 14, 15 follow 「规范性文件」's full row, and print order
    gave them to the next row — no label says whose they are. They stay unplaced, and a doubt
    names the row; the rows around it are read by their own labels."""
    report, got = _blotted_and_unlabelled()
    licensing = [k for k in report.cells if k.startswith("active.licensing.")]
    assert all(got.cells[k] is None for k in licensing) and any(report.cells[k] for k in licensing)
    assert any(d.startswith("「行政许可」") and "行标签" in d for d in got.doubts)
    around = [k for k in report.cells if k.startswith(("active.normative.", "active.other_services."))]
    assert {k: got.cells[k] for k in around} == {k: report.cells[k] for k in around}
    assert score(report.cells, got).wrong == [] and score(report.cells, got).silent == []


def test_an_unread_number_in_text_laid_out_without_rules_is_a_cell_left_unread() -> None:
    """OCR's "?" (a number it saw and could not read) on the lines of a table without rules, as
    the PDF layout writes an OCR'd page: alone among numbers, and glued to the label before it.
    Each is that cell, null with a doubt naming it — not a word of the label, not a blank, not a
    value of the next cell."""
    report = _seed("000")
    text = to_text(report).replace("\t", "      ")
    lines = text.split("\n")
    new = next(i for i, line in enumerate(lines) if line.startswith("一、本年新收"))
    held = next(i for i, line in enumerate(lines) if "1.本机关不掌握相关政府信息" in line)
    lines[new] = re.sub(r"(申请数量\s+)3", r"\1?", lines[new])
    lines[held] = re.sub(r"政府信息\s+3", "政府信息?", lines[held])
    got = parse_text("\n".join(lines), "ocr.txt")
    for key, label in (("requests.new.natural", "一、本年新收"), ("requests.unavailable.not_held.natural", "三/（四")):
        assert report.cells[key] == 3 and got.cells[key] is None and key not in got.blank
        assert any(d.startswith(f"{key}（{label}") for d in got.doubts)
    assert got.labels["requests.unavailable.not_held"] == "1.本机关不掌握相关政府信息"
    assert {k: v for k, v in got.cells.items() if v is not None} == {
        k: report.cells[k] for k, v in got.cells.items() if v is not None}
    assert sum(v is None for v in got.cells.values()) == sum(v is None for v in report.cells.values()) + 2

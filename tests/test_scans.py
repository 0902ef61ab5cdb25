"""Scans as they come off an office scanner (tests/scans.py makes them): grey paper, noise, blur,
JPEG, a turn of up to 2°, punch holes and a seal. No cell may be wrong; every cell not read has
a doubt. The full matrix (every gold map rendered ruled, borderless and with zeros left blank, and
the real PDFs) is slow; the fast suite reads one degraded page for each thing it checks."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pypdfium2
import pytest
from PIL import Image, ImageDraw, ImageFont

from xxgk.audit import audit
from xxgk.compose.layout import Layout
from xxgk.compose.render import to_pdf
from xxgk.compose.synth import from_gold
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


def _renderings() -> list[tuple[str, bytes, dict]]:
    out = [(p.stem, p.read_bytes(), from_gold(REAL / f"{p.stem}.gold.json").cells) for p in sorted(REAL.glob("*.pdf"))]
    for gold in sorted(SEEDS.glob("*.gold.json")):
        report = from_gold(gold)
        blank = _zeros_blank(report)
        out += [(f"{gold.name[:3]}-ruled", to_pdf(report), report.cells),
                (f"{gold.name[:3]}-zeros-blank", to_pdf(blank), blank.cells),
                (f"{gold.name[:3]}-borderless", to_pdf(report, Layout(borders=False)), report.cells)]
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

"""Scans: pages that are pictures are read by OCR into the same cells as the text layer gives.

The scans are made here from the real PDFs (rendered by PDFium, saved as pictures only), so each
has a hand-checked gold file; one is turned 1.5° as a sheet fed askew, one is a TIFF of several
pages, one a single JPEG page.
"""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import numpy as np
import pypdfium2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from xxgk.audit import audit
from xxgk.compose.render import html_to_pdf, to_html
from xxgk.compose.synth import from_gold
from xxgk.errors import ReportError
from xxgk.extract.report import parse_source
from xxgk.ingest import read_source, sniff
from xxgk.ingest.ocr import skew
from xxgk.ingest.pdf import garbled, page_chars
from xxgk.parse import parse_bytes
from xxgk.result import ParseResult

from .conftest import REAL


def _pages(name: str, dpi: float = 150, turn: float = 0.0) -> list[Image.Image]:
    document = pypdfium2.PdfDocument(str(REAL / f"{name}.pdf"))
    pages = [page.render(scale=dpi / 72).to_pil().convert("L") for page in document]
    document.close()
    return [p.rotate(turn, resample=Image.BICUBIC, fillcolor=255) if turn else p for p in pages]


def _save(pages: list[Image.Image], kind: str, dpi: float = 150) -> bytes:
    buf = io.BytesIO()
    if kind == "PDF":
        pages[0].save(buf, "PDF", resolution=dpi, save_all=True, append_images=pages[1:])
    elif kind == "TIFF":
        pages[0].save(buf, "TIFF", save_all=True, append_images=pages[1:], dpi=(dpi, dpi))
    else:
        pages[0].save(buf, kind, quality=70)
    return buf.getvalue()


def _wrong_and_missing(gold: ParseResult, got: ParseResult) -> tuple[dict, dict]:
    wrong = {k: (v, got.cells.get(k)) for k, v in gold.cells.items() if got.cells.get(k) not in (v, None)}
    missing = [k for k, v in gold.cells.items() if v is not None and got.cells.get(k) is None]
    return wrong, dict.fromkeys(missing)


def test_a_scanned_pdf_reads_like_its_text_layer() -> None:
    gold = from_gold(REAL / "huaian-2024.gold.json")
    text_layer = parse_bytes((REAL / "huaian-2024.pdf").read_bytes(), "huaian-2024.pdf")
    scanned = parse_bytes(_save(_pages("huaian-2024"), "PDF"), "scan.pdf")
    assert _wrong_and_missing(gold, scanned) == ({}, {})
    assert (scanned.agency, scanned.year, scanned.template) == (gold.agency, gold.year, gold.template)
    # provenance: the same page, and a box within a few points of the printed value's
    near = 0
    for key, where in text_layer.provenance.items():
        there = scanned.provenance.get(key)
        if "bbox" in where and there and "bbox" in there and where.get("page") == there.get("page"):
            near += all(abs(a - b) < 6 for a, b in zip(where["bbox"][:2], there["bbox"][:2], strict=True))
    assert near >= 0.9 * len(text_layer.provenance)
    # every value says it was read by OCR; a sum that then fails is a reading doubt, not the agency's error
    assert all(w.get("ocr") for w in scanned.provenance.values())
    assert not any(w.get("ocr") for w in text_layer.provenance.values())
    for result in (text_layer, scanned):
        result.cells["requests.new.natural"] += 1
        result.labels["requests.granted"] = "（一）予以公开开"
    text_kinds = {f.rule: f.kind for f in audit(text_layer)}
    scan_kinds = {f.rule: f.kind for f in audit(scanned)}
    assert text_kinds["requests.row_total"] == "source" and scan_kinds["requests.row_total"] == "extraction"
    assert text_kinds["form.label_typo"] == "source" and scan_kinds["form.label_typo"] == "extraction"


def _without_unicode_maps(data: bytes) -> bytes:
    """The PDF with every font's ToUnicode map removed, as some PDF makers embed CJK fonts: PDFium
    then gives glyph numbers for letters (pdftotext prints the same gibberish)."""
    import pikepdf

    with pikepdf.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            for _, font in page.Resources.get("/Font", {}).items():
                if "/ToUnicode" in font:
                    del font["/ToUnicode"]
        buf = io.BytesIO()
        pdf.save(buf)
    return buf.getvalue()


def test_a_pdf_whose_fonts_have_no_unicode_map_is_read_by_ocr() -> None:
    data = _without_unicode_maps((REAL / "hongze-2024.pdf").read_bytes())
    document = pypdfium2.PdfDocument(data)
    printed = [page_chars(page, page.get_textpage()) for page in document]
    document.close()
    assert all(garbled(chars) for chars in printed)  # the text layer is there, and gibberish
    gold = from_gold(REAL / "hongze-2024.gold.json")
    got = parse_bytes(data, "hongze-2024.pdf")
    assert _wrong_and_missing(gold, got) == ({}, {})
    assert (got.agency, got.year, got.template) == (gold.agency, gold.year, gold.template)
    assert all(w.get("ocr") for w in got.provenance.values())
    assert [d for d in got.doubts if "文字层无法解码" in d] == [
        f"第{n}页的文字层无法解码（所嵌字体没有到 Unicode 的映射），已按图片识别（OCR）" for n in range(1, 6)]
    assert not got.extras  # "3 危及…": the label's number OCR read without its dot is not a value


def test_a_pdf_with_its_letters_drawn_as_outlines_is_read_by_ocr(tmp_path: Path) -> None:
    """Some PDFs are printed with the text turned into shapes ("转曲"): no text layer, no picture.
    Made here as pdftocairo's SVG of each page (glyphs as paths) drawn into a PDF by WeasyPrint."""
    source = REAL / "hongze-2024.pdf"
    pages = []
    for n in range(1, 6):
        subprocess.run(["pdftocairo", "-svg", "-f", str(n), "-l", str(n), str(source), str(tmp_path / f"{n}.svg")],
                       check=True)
        pages.append(f'<img src="{(tmp_path / f"{n}.svg").as_uri()}">')
    data = html_to_pdf("<style>@page{size:A4;margin:0} img{width:210mm;height:297mm;display:block}</style>"
                       + "".join(pages))
    document = pypdfium2.PdfDocument(data)
    assert len(document) == 5 and all(page.get_textpage().count_chars() == 0 for page in document)
    document.close()
    gold = from_gold(REAL / "hongze-2024.gold.json")
    got = parse_bytes(data, "hongze-2024.pdf")
    assert _wrong_and_missing(gold, got) == ({}, {})
    assert (got.agency, got.year) == (gold.agency, gold.year) and not got.extras
    assert all(w.get("ocr") for w in got.provenance.values())


def test_no_page_of_the_real_pdfs_is_taken_for_garbled() -> None:
    for path in sorted(REAL.glob("*.pdf")):
        document = pypdfium2.PdfDocument(str(path))
        assert not any(garbled(page_chars(page, page.get_textpage())) for page in document), path.name
        document.close()


def test_a_line_on_the_border_of_two_bands_is_read_once() -> None:
    """Text is found band by band; bands overlap, and a line is kept from the band its middle lies
    in the own part of. A number whose middle lies on the border was found a pixel apart in each
    band: kept from both ("31" twice, read as 3311 on a photographed page) or from neither (a
    cell read blank). Numbers across the page, each a pixel lower than the last, about the
    border: each is read once, and the text above and below it too."""
    from PIL import ImageDraw, ImageFont

    from xxgk.ingest import ocr

    font = ImageFont.truetype(next(map(str, Path("/usr/share/fonts").rglob("wqy-zenhei.ttc"))), 24)
    page = Image.new("RGB", (1191, 1100), "white")
    draw = ImageDraw.Draw(page)
    draw.text((100, 40), "上面一行文字", font=font, fill="black")
    draw.text((100, 1000), "下面一行文字", font=font, fill="black")
    top = ocr._inked(np.asarray(page))[1]
    border = top + ocr.SETTINGS.band - ocr.SETTINGS.band_overlap / 2  # of the first band's own part
    numbers = [str(31 + 11 * i) for i in range(9)]
    for i, number in enumerate(numbers):  # middles from 4 px above the border to 4 px below
        (_, y0, _, y1) = draw.textbbox((0, 0), number, font=font)
        draw.text((100 + 110 * i, border - 4 + i - (y0 + y1) / 2), number, font=font, fill="black")
    read = ocr._recognise(page)
    assert sorted(t for t in read.txts if t.isdigit()) == sorted(numbers)
    assert sorted(t for t in read.txts if not t.isdigit()) == ["上面一行文字", "下面一行文字"]
    for box, text in zip(read.boxes, read.txts, strict=True):  # where they are on the page (text is
        if text.isdigit():  # found on its inked part only)
            assert abs(box[:, 0].min() - (100 + 110 * numbers.index(text))) < 8
            assert abs(box[:, 1].mean() - border) < 8


def test_a_page_scanned_askew_is_turned_straight_first() -> None:
    straight = _pages("hongze-2023")[2]
    for turn in (0.0, 0.7, -1.5, 3.2):
        assert skew(straight.rotate(turn, resample=Image.BICUBIC, fillcolor=255)) == pytest.approx(-turn, abs=0.11)
    gold = from_gold(REAL / "hongze-2023.gold.json")
    scanned = parse_bytes(_save(_pages("hongze-2023", dpi=120, turn=1.5), "TIFF", dpi=120), "scan.tif")
    assert _wrong_and_missing(gold, scanned) == ({}, {})
    assert (scanned.agency, scanned.year) == (gold.agency, gold.year)


def test_one_photographed_page_as_jpeg_gives_the_cells_on_it() -> None:
    """OCR hands its tables over as the PDF reader does: a `Table` of `Cell`s, merged cells spanning."""
    gold = from_gold(REAL / "hongze-2024.gold.json")
    src = read_source(_save(_pages("hongze-2024")[2:3], "JPEG"), "p3.jpg")
    requests = next(t for t in src.tables if any(c.text == "申请人情况" for c in t.cells))
    assert next(c for c in requests.cells if c.text == "申请人情况").colspan == 7
    assert next(c for c in requests.cells if c.text == "三、本年度办理结果").rowspan > 1
    label = next(c for c in requests.cells if c.text == "1.本机关不掌握相关政府信息")
    row = sorted((c for c in requests.cells if c.row == label.row and c.column > label.column), key=lambda c: c.column)
    held = [k for k in gold.cells if k.startswith("requests.unavailable.not_held.")]
    assert [c.text for c in row] == [str(gold.cells[k]) for k in held]
    assert all(c.where is not None and c.where.bbox is not None and src.locate(c.start, c.start + 1).ocr for c in row)
    page = parse_source(src, "p3.jpg")
    wrong, _ = _wrong_and_missing(gold, page)
    assert wrong == {}
    assert sum(v is not None for v in page.cells.values()) >= 80
    assert {w.get("page") for w in page.provenance.values()} == {1}
    assert all(page.evidence[k] == "grid" for k in held)


def test_a_blank_scan_and_a_broken_picture_say_what_is_wrong() -> None:
    blank = Image.new("L", (1240, 1754), 255)
    with pytest.raises(ReportError, match="OCR read nothing"):
        parse_bytes(_save([blank], "PDF"), "blank.pdf")
    with pytest.raises(ReportError, match="OCR read nothing"):
        parse_bytes(_save([blank], "PNG"), "blank.png")
    png = _save([blank], "PNG")
    html_to_pdf("<p>报告</p>")  # WeasyPrint, once used, must not make Pillow take a truncated picture
    with pytest.raises(ReportError, match="unreadable image"):
        parse_bytes(png[: len(png) // 2], "cut.png")


def test_a_pdf_with_no_text_and_no_picture_says_so(tmp_path: Path) -> None:
    document = pypdfium2.PdfDocument.new()
    document.new_page(595, 842)
    document.save(tmp_path / "empty.pdf")
    with pytest.raises(ReportError, match="no text layer and no pictures"):
        parse_bytes((tmp_path / "empty.pdf").read_bytes(), "empty.pdf")


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"II*\x00", b"GIF89a"]), st.binary(max_size=2000))
def test_garbage_behind_a_picture_signature_is_refused_not_crashed(signature: bytes, rest: bytes) -> None:
    with pytest.raises(ReportError):
        parse_bytes(signature + rest, "x.png")


def test_a_picture_bomb_is_refused_before_it_is_decoded() -> None:
    buf = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buf, "PNG")  # 400 M pixels in a few kilobytes
    with pytest.raises(ReportError, match="DecompressionBomb"):  # PIL's own limit
        parse_bytes(buf.getvalue(), "bomb.png")
    buf = io.BytesIO()
    Image.new("1", (9000, 9000)).save(buf, "PNG")  # under PIL's own limit, over a page's
    with pytest.raises(ReportError, match="too large to be a page"):
        parse_bytes(buf.getvalue(), "big.png")
    buf = io.BytesIO()
    Image.new("L", (10, 3000), 0).save(buf, "PNG")  # a sliver: as a page it would be 1190 × 357,000 pixels
    with pytest.raises(ReportError, match="too long to be read as pages"):
        parse_bytes(buf.getvalue(), "sliver.png")


def _page_with_pictures(sources: list[str]) -> str:
    """hongze-2024's title and a sentence as text, its tables as the pictures at `sources`."""
    return ("<html><head><meta charset='utf-8'></head><body><h1>淮安市洪泽区人民政府2024年政府信息公开工作年度报告</h1>"
            "<p>本报告所列数据统计期限自2024年1月1日起至12月31日止。</p>"
            + "".join(f'<p>见下表（第{i + 1}部分）。</p><img src="{s}" style="width:100%">'
                      for i, s in enumerate(sources))
            + "</body></html>")


def _table_shots() -> list[bytes]:
    """hongze-2024's two pages of tables as screenshots (PNG)."""
    shots = []
    for page in _pages("hongze-2024")[2:4]:
        buf = io.BytesIO()
        page.crop((0, 60, page.width, page.height - 60)).save(buf, "PNG")
        shots.append(buf.getvalue())
    return shots


def _data_uris() -> list[str]:
    import base64

    return [f"data:image/png;base64,{base64.b64encode(s).decode()}" for s in _table_shots()]


def test_a_table_pasted_as_a_picture_between_lines_of_text_is_read() -> None:
    """A text PDF whose tables are screenshots: the text layer is read, and the pictures by OCR."""
    gold = from_gold(REAL / "hongze-2024.gold.json")
    result = parse_bytes(html_to_pdf(_page_with_pictures(_data_uris())), "pasted.pdf")
    wrong, _ = _wrong_and_missing(gold, result)
    assert wrong == {}
    assert sum(v is not None for v in result.cells.values()) >= 100
    assert (result.agency, result.year) == (gold.agency, gold.year)  # from the text layer


def _read_like_the_original(result: object) -> None:
    gold = from_gold(REAL / "hongze-2024.gold.json")
    wrong, _ = _wrong_and_missing(gold, result)
    assert wrong == {}
    assert sum(v is not None for v in result.cells.values()) >= 100  # type: ignore[attr-defined]
    assert (result.agency, result.year) == (gold.agency, gold.year)  # type: ignore[attr-defined]
    assert {w["page"] for w in result.provenance.values() if w.get("ocr")} == {1, 2}


def test_a_web_page_whose_tables_are_pictures_in_the_page() -> None:
    """Pictures carried in the page itself (data: URIs), one of them framed in a table."""
    first, second = _data_uris()
    framed = f'<table><tr><td><img src="{second}"></td></tr></table>'
    html = _page_with_pictures([first]).replace("</body>", framed + "</body>")
    _read_like_the_original(parse_bytes(html.encode(), "page.html"))


def test_a_web_page_saved_with_its_files_reads_its_pictures_from_its_folder(tmp_path: Path) -> None:
    """"网页，全部" saves `报告_files/…` beside the page: read from there, and from nowhere else."""
    from xxgk.parse import parse_file

    (tmp_path / "报告_files").mkdir()
    for i, shot in enumerate(_table_shots()):
        (tmp_path / "报告_files" / f"image{i + 1}.png").write_bytes(shot)
    page = tmp_path / "报告.html"
    page.write_text(_page_with_pictures(["%E6%8A%A5%E5%91%8A_files/image1.png", "./报告_files/image2.png?v=2"]),
                    encoding="utf-8")
    _read_like_the_original(parse_file(page))
    outside = tmp_path / "site" / "报告.html"  # the same page one folder down: ../ leads outside it
    outside.parent.mkdir()
    outside.write_text(_page_with_pictures(["../报告_files/image1.png", f"{tmp_path}/报告_files/image2.png"]),
                       encoding="utf-8")
    with pytest.raises(ReportError, match="none of its three tables"):
        parse_file(outside)


def test_a_web_archive_saved_by_chromium_reads_its_pictures(tmp_path: Path) -> None:
    """Chromium's "save as MHTML" (as IE's .mht and Word's 单个文件网页): the page and its pictures
    in one MIME message."""
    from playwright.sync_api import sync_playwright

    from .test_browser import ARGS, CHROMIUM

    for i, shot in enumerate(_table_shots()):
        (tmp_path / f"t{i}.png").write_bytes(shot)
    (tmp_path / "page.html").write_text(_page_with_pictures(["t0.png", "t1.png"]), encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page()
        page.goto((tmp_path / "page.html").as_uri())
        archive = page.context.new_cdp_session(page).send("Page.captureSnapshot", {"format": "mhtml"})["data"]
        browser.close()
    data = archive.encode("utf-8")
    assert sniff(data) == "mht"
    _read_like_the_original(parse_bytes(data, "page.mhtml"))


def test_a_long_screenshot_is_cut_into_pages_between_lines() -> None:
    """Reports passed on in chat apps as one tall picture: cut where a page would end, at a blank row."""
    gold = from_gold(REAL / "huaian-2024.gold.json")
    pages = _pages("huaian-2024", dpi=110)[2:5]
    tall = Image.new("L", (pages[0].width, sum(p.height for p in pages)), 255)
    top = 0
    for p in pages:
        tall.paste(p, (0, top))
        top += p.height
    result = parse_bytes(_save([tall], "PNG"), "长图.png")
    wrong, _ = _wrong_and_missing(gold, result)
    assert wrong == {}
    assert sum(v is not None for v in result.cells.values()) >= 150
    assert max(w["page"] for w in result.provenance.values()) >= 3


def test_a_table_pasted_as_a_picture_in_a_word_file_is_read() -> None:
    import docx
    from docx.shared import Cm

    gold = from_gold(REAL / "hongze-2024.gold.json")
    document = docx.Document()
    document.add_paragraph("淮安市洪泽区人民政府2024年政府信息公开工作年度报告")
    seal = io.BytesIO()
    Image.new("L", (300, 300), 255).save(seal, "PNG")  # a seal or a logo: not read
    document.add_picture(seal, width=Cm(3))
    first, second = _pages("hongze-2024")[2:4]
    buf = io.BytesIO()
    first.crop((0, 60, first.width, first.height - 60)).save(buf, "PNG")
    document.add_paragraph("见下表。")
    document.add_picture(buf, width=Cm(16))
    buf = io.BytesIO()
    second.crop((0, 60, second.width, second.height - 60)).save(buf, "PNG")
    frame = document.add_table(rows=1, cols=1)  # a picture framed in a one-cell table
    frame.cell(0, 0).paragraphs[0].add_run().add_picture(buf, width=Cm(16))
    data = io.BytesIO()
    document.save(data)
    result = parse_bytes(data.getvalue(), "pasted.docx")
    wrong, _ = _wrong_and_missing(gold, result)
    assert wrong == {}
    assert sum(v is not None for v in result.cells.values()) >= 100
    assert {w["page"] for w in result.provenance.values() if w.get("ocr")} == {1, 2}  # the two pictures, in order


def _photographed(page: Image.Image) -> Image.Image:
    """The page as a phone sees it on a desk: farther at the top (narrower), a little turned,
    on a darker, grainy ground."""
    import cv2

    w, h = page.size
    ground_w, ground_h = int(w * 1.35), int(h * 1.25)
    ox, oy, d = (ground_w - w) / 2, (ground_h - h) / 2, 0.08 * w
    corners = np.float32([[ox + d, oy + 0.02 * h], [ox + w - 0.6 * d, oy], [ox + w + 0.2 * d, oy + h],
                          [ox - 0.1 * d, oy + 0.99 * h]])
    warp = cv2.getPerspectiveTransform(np.float32([[0, 0], [w, 0], [w, h], [0, h]]), corners)
    ground = np.clip(90 + np.random.default_rng(0).normal(0, 12, (ground_h, ground_w)), 0, 255).astype(np.uint8)
    photo = cv2.warpPerspective(np.asarray(page), warp, (ground_w, ground_h), dst=ground,
                                borderMode=cv2.BORDER_TRANSPARENT)
    return Image.fromarray(photo).rotate(3, resample=Image.BICUBIC, fillcolor=80)


def test_a_page_photographed_at_an_angle_is_flattened() -> None:
    from xxgk.ingest.ocr import flatten

    gold = from_gold(REAL / "hongze-2024.gold.json")
    page = _pages("hongze-2024")[2]
    assert flatten(page) is page  # a scan: the paper fills the picture
    scanned = parse_bytes(_save([page], "JPEG"), "scan.jpg")
    photo = parse_bytes(_save([_photographed(page)], "JPEG"), "photo.jpg")
    wrong, _ = _wrong_and_missing(gold, photo)
    assert wrong == {}
    read = {k for k, v in gold.cells.items() if v is not None and photo.cells.get(k) == v}
    assert len(read) >= 0.9 * sum(1 for k, v in gold.cells.items() if v is not None and scanned.cells.get(k) == v)


@pytest.mark.parametrize("turn", [90, -90, 180])
def test_a_page_scanned_on_its_side_or_upside_down_is_turned_upright(turn: int) -> None:
    gold = from_gold(REAL / "huaian-2024.gold.json")
    page = _pages("huaian-2024")[3].rotate(turn, expand=True, fillcolor=255)
    result = parse_bytes(_save([page], "PNG"), "横放.png")
    wrong, _ = _wrong_and_missing(gold, result)
    assert wrong == {}
    assert sum(v is not None for v in result.cells.values()) >= 80


def test_a_banner_picture_above_a_text_report_is_not_read_as_its_words() -> None:
    """A PDF printed from a portal: the site's banner (a picture of its name) is no part of the report."""
    import base64

    from PIL import ImageDraw, ImageFont

    banner = Image.new("RGB", (1600, 520), (200, 30, 30))  # a fifth of the page: more than a table needs
    font = ImageFont.truetype(next(p for p in map(str, Path("/usr/share/fonts").rglob("wqy-zenhei.ttc"))), 120)
    ImageDraw.Draw(banner).text((60, 200), "某省人民政府门户网站", font=font, fill="white")
    buf = io.BytesIO()
    banner.save(buf, "PNG")

    gold = from_gold(REAL / "huaian-2024.gold.json")
    img = f'<img src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}" style="width:100%">'
    html = to_html(gold).replace("<body>", "<body>" + img, 1)
    assert img in html
    pdf = html_to_pdf(html)
    printed = parse_bytes(pdf, "printed.pdf")
    assert printed.agency == gold.agency and _wrong_and_missing(gold, printed) == ({}, {})
    assert "门户网站" not in read_source(pdf, "printed.pdf").text


def test_a_scan_longer_than_the_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    from xxgk.ingest import ocr

    monkeypatch.setattr(ocr, "SETTINGS", replace(ocr.SETTINGS, max_pages=1))
    blank = Image.new("L", (600, 800), 255)
    with pytest.raises(ReportError, match="more than 1 pages need OCR"):
        parse_bytes(_save([_pages("hongze-2024", dpi=72)[2], blank], "PDF", dpi=72), "long.pdf")


def test_ocr_runs_on_this_process_share_of_the_cores_and_its_threads_sleep_when_idle(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A lone parse or an upload uses every core it may (two on two cores: 0.6× the wall time a page):
    the detector shares each layer out, the recogniser reads lines side by side, one thread each; a
    batch's workers are told their share (test_batch); idle threads sleep rather than spin
    (spinning, two threads lost to one on a busy machine)."""
    from dataclasses import replace

    from xxgk.ingest import OCR_THREADS, cores, ocr

    monkeypatch.delenv(OCR_THREADS, raising=False)
    assert ocr.threads() == cores()
    monkeypatch.setenv(OCR_THREADS, "3")
    assert ocr.threads() == 3 and ocr.threads(replace(ocr.SETTINGS, threads=1)) == 1
    monkeypatch.undo()
    engine = ocr._engine()
    assert engine.threads == ocr.threads()
    for model, threads in ((engine._load_det_model(), ocr.threads()), (engine._load_rec_model(), 1)):
        options = model.session.session.get_session_options()
        assert options.intra_op_num_threads == threads
        assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert engine.each(lambda x: x * x, [1, 2, 3]) == [1, 4, 9]


def test_a_scan_reads_the_same_on_one_thread_as_on_all_cores(tmp_path: Path) -> None:
    """The detector's threads share each layer's work out, never its sums, and lines read side by
    side read as one after another: the same cells, doubts and boxes."""
    import os
    import sys

    from xxgk.ingest import OCR_THREADS, ocr

    if ocr.threads() < 2:
        pytest.skip("one core: nothing to compare")
    scan = tmp_path / "scan.pdf"
    pages = _pages("huaian-2024")
    scan.write_bytes(_save([pages[0], pages[3]], "PDF"))  # the title, and the tables of 二 and 三
    here = parse_bytes(scan.read_bytes(), "scan.pdf")
    alone = subprocess.run([sys.executable, "-c", "import sys; from xxgk.parse import parse_file; "
                            "sys.stdout.write(parse_file(sys.argv[1]).to_json())", str(scan)],
                           capture_output=True, text=True, check=True,
                           env=dict(os.environ, **{OCR_THREADS: "1"})).stdout
    assert here.cells and alone == here.to_json()

"""No input crashes or hangs a reader: a result or a clear error, always (bounded here; see xxgk.fuzz)."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xxgk.compose.render import to_docx, to_html
from xxgk.errors import ReportError
from xxgk.fuzz import HOSTILE, MUTATIONS, check, hostile_files, mutate, scan_seed
from xxgk.parse import parse_bytes, parse_file

from .conftest import REAL, SEEDS
from .test_readers import GOLDS, from_gold

TEXTS = [p.read_bytes() for p in sorted(SEEDS.glob("*.txt"))]


def _web_archive(html: str) -> bytes:
    """A page and a picture in one MIME message, as browsers save .mht files."""
    from email.mime.image import MIMEImage
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText

    archive = MIMEMultipart("related")
    page = MIMEText(html.replace("</body>", '<img src="logo.png"></body>'), "html", "utf-8")
    page["Content-Location"] = "http://www.example.gov.cn/xxgk/report.html"
    picture = MIMEImage(bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                                      "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"))
    picture["Content-Location"] = "http://www.example.gov.cn/xxgk/logo.png"
    archive.attach(page)
    archive.attach(picture)
    return archive.as_bytes()


STRUCTURED = [to_html(from_gold(GOLDS[1])).encode(), to_docx(from_gold(GOLDS[6])),
              _web_archive(to_html(from_gold(GOLDS[2])))]
PDF = (REAL / "hongze-2024.pdf").read_bytes()


SCAN = scan_seed(PDF)


def bounded(n: int) -> settings:
    return settings(max_examples=n, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@bounded(150)
@given(st.binary(max_size=6000))
def test_random_bytes(data: bytes) -> None:
    assert check(data) is None


@bounded(150)
@given(st.sampled_from(range(len(TEXTS))), st.integers(0, 2**32))
def test_mutated_text_reports(which: int, seed: int) -> None:
    assert check(mutate(random.Random(seed), TEXTS[which]), "t.txt") is None


@bounded(60)
@given(st.sampled_from(range(len(STRUCTURED))), st.integers(0, 2**32))
def test_mutated_html_word_and_web_archive(which: int, seed: int) -> None:
    assert check(mutate(random.Random(seed), STRUCTURED[which])) is None


@bounded(12)
@given(st.integers(0, 2**32))
def test_mutated_pdf(seed: int) -> None:
    assert check(mutate(random.Random(seed), PDF), "m.pdf") is None


@bounded(12)
@given(st.integers(0, 2**32))
def test_mutated_scan(seed: int) -> None:
    assert check(mutate(random.Random(seed), SCAN), "m.jpg") is None


def test_every_mutation_changes_something() -> None:
    rng = random.Random(1)
    for m in MUTATIONS:
        assert any(m(rng, TEXTS[0]) != TEXTS[0] for _ in range(5)), m.__name__


def test_a_200_mb_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    with open(big, "wb") as f:
        f.truncate(201 * 1024 * 1024)  # sparse: no 200 MB written
    with pytest.raises(ReportError, match="too large"):
        parse_file(big)


def test_a_zip_bomb_is_refused() -> None:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b" " * (250 * 1024 * 1024))
    assert len(buf.getvalue()) < 2 * 1024 * 1024
    with pytest.raises(ReportError, match="200 MB"):
        parse_bytes(buf.getvalue(), "bomb.docx")


def test_mixed_encodings_in_one_file() -> None:
    text = (SEEDS / "000_d5b9bd303c21ba6d.txt").read_text(encoding="utf-8")
    lines = text.split("\n")
    half = len(lines) // 2
    data = "\n".join(lines[:half]).encode("utf-8") + b"\n" + "\n".join(lines[half:]).encode("gbk")
    result = parse_bytes(data, "mixed.txt")
    assert result.agency == "广州市海珠区新港街道办事处"
    assert result.cells == parse_bytes(text.encode(), "clean.txt").cells


def test_a_pdf_word_at_an_absurd_x_does_not_become_gigabytes_of_spaces() -> None:
    # found by xxgk.fuzz: a flipped byte in a content stream put a word at x = 10^10
    from xxgk.ingest.layout import _line
    from xxgk.ingest.source import SourceWriter

    out = SourceWriter("pdf")
    words = [{"text": "规章", "x0": 70.0, "x1": 91.0, "top": 100.0, "bottom": 110.0},
             {"text": "0", "x0": 1e10, "x1": 1e10 + 5, "top": 100.0, "bottom": 110.0}]
    _line(out, words, 1, 5.0)
    assert out.size < 400


def test_a_zip_of_a_version_python_cannot_open_is_refused() -> None:
    """Found by the fuzz suite: zipfile raises NotImplementedError for an entry of "version 13.8"."""
    data = bytearray(STRUCTURED[1])
    central = data.index(b"PK\x01\x02")
    data[central + 6:central + 8] = (138).to_bytes(2, "little")
    assert check(bytes(data), "v.docx") is None


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_every_hostile_file_is_refused_with_its_reason(name: str) -> None:
    """Zip bombs of each zip format, a Word file of 45 MB of paragraphs, a page nested 5,000 deep."""
    data, reason = hostile_files()[name]
    assert len(data) < 2 * 1024 * 1024
    start = time.monotonic()
    with pytest.raises(ReportError, match=reason):
        parse_bytes(data, name)
    assert time.monotonic() - start < 20
    assert check(data, name) is None


def _each_line_alone(data: bytes) -> str:
    """The definition: each line decoded as UTF-8, else as GB18030."""
    out = []
    for raw in data.split(b"\n"):
        try:
            out.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            out.append(raw.decode("gb18030"))
    return "\n".join(out)


_LINE = st.text(st.sampled_from("政府信息公开年度报告申请０１2 3行政许可（）、。\t"), max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_LINE, st.sampled_from(["utf-8", "gbk", "gb18030"])), min_size=1, max_size=12))
def test_a_file_of_utf8_and_gbk_lines_decodes_each_line_as_it_alone_would(lines: list[tuple[str, str]]) -> None:
    from xxgk.ingest.decode import _line_by_line

    data = b"\n".join(text.encode(encoding) for text, encoding in lines)
    assert _line_by_line(data) == _each_line_alone(data)

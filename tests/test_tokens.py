"""Printed cells → values: numbers, signs, amounts, notes, blanks, and what is not a value."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xxgk.extract.tokens import tokenize
from xxgk.extract.values import cell_value


def values(line: str) -> list[str]:
    return [t.text for t in tokenize(line).tokens if t.kind in ("value", "blank")]


def value(text: str, cell_type: str) -> object:
    (tok,) = [t for t in tokenize(text).tokens if t.kind in ("value", "blank")]
    return cell_value(tok, cell_type)


@pytest.mark.parametrize(("printed", "cell_type", "expected"), [
    ("+14", "signed", 14), ("-2", "signed", -2), ("0", "count", 0), ("3985758", "count", 3985758),
    ("29.1万元", "amount", 29.1), ("251000元", "amount", 25.1), ("2429. 9828万元", "amount", 2429.9828),
    ("11750 万元", "amount", 11750.0), ("96171.6", "amount", 96171.6), ("22（其中修订16件）", "count", 22),
    ("１２", "count", 12), ("3,119", "count", 3119), ("5件", "count", 5),
    ("/", "count", None), ("—", "count", None), ("-", "count", None), ("无", "count", None),
    ("减少3", "signed", -3), ("增加 2", "signed", 2),
])
def test_cell_values(printed: str, cell_type: str, expected: object) -> None:
    assert value(f"规章\t{printed}\t", cell_type) == expected


def test_a_label_cell_numbered_without_its_dot_gives_no_value() -> None:
    """OCR often loses the dot of "3.危及…"; some tables print "3 危及…" anyway."""
    assert values("\t3 危及“三安全一稳定”\t5\t0") == ["5", "0"]
    assert values("\t12 其中修订3件\t4") == ["12", "3件", "4"]  # a count with a note: still a value
    assert values("行政许可 3 危及") == ["3"]  # outside a cell it may be a value before the next label


def test_a_decimal_is_not_a_count() -> None:
    with pytest.raises(ValueError):
        value("7.12", "count")


def test_ordinals_dates_and_page_numbers_are_not_values() -> None:
    assert values("1. 属于国家秘密\t0\t0") == ["0", "0"]
    assert values("1、申请人无正当理由逾期不补 67 3") == ["67", "3"]
    assert values("石壁街道办事处 2020年1月20日") == []
    assert values("联系电话：0517-87222589") == []
    assert values("                                          -1-") == []
    assert values("营商环境 - 4 - 法提供 11 0") == ["11", "0"]
    assert values("第二十条第（一）项") == []


def test_an_ordinal_glued_to_the_previous_cell_is_split_off() -> None:
    # a crawled page: "…0 0 01.属于国家秘密 2 0"
    toks = [t for t in tokenize("0 0 01.属于国家秘密 2 0").tokens]
    assert [t.text for t in toks if t.kind == "value"] == ["0", "0", "0", "2", "0"]
    assert any(t.kind == "text" and "属于国家秘密" in t.text for t in toks)


def test_offsets_point_at_the_original_text() -> None:
    text = "（六）其他处理\t０\t１２\n"
    doc = tokenize(text)
    for t in doc.tokens:
        if t.kind == "value":
            assert text[t.start:t.end] in ("０", "１２")


def test_ocr_zero_read_as_the_letter_o_is_a_zero_and_says_so() -> None:
    from xxgk.extract.report import parse_text

    from .conftest import SEEDS

    text = (SEEDS / "000_d5b9bd303c21ba6d.txt").read_text(encoding="utf-8")
    damaged = text.replace("二、上年结转政府信息公开申请数量\t\t0\t", "二、上年结转政府信息公开申请数量\t\tO\t", 1)
    assert damaged != text
    result = parse_text(damaged, "ocr.txt")
    assert result.cells["requests.carried_over.natural"] == 0
    assert "OCR" in result.inferred["requests.carried_over.natural"]


def test_an_amount_under_a_header_in_yuan_is_converted_to_wan_yuan() -> None:
    from xxgk.extract.report import parse_text

    from .conftest import SEEDS

    text = (SEEDS / "001_5f1380157b69d8b6.txt").read_text(encoding="utf-8")
    assert "\t采购总金额\n" in text and "\t29.1万元\n" in text
    in_yuan = text.replace("\t采购总金额\n", "\t采购总金额（单位：元）\n").replace("\t29.1万元\n", "\t291000\n")
    result = parse_text(in_yuan, "yuan.txt")
    assert result.cells["active.procurement.amount"] == 29.1
    assert "万元" in result.inferred["active.procurement.amount"]
    assert parse_text(text, "wan.txt").cells["active.procurement.amount"] == 29.1
    assert "active.procurement.amount" not in parse_text(text, "wan.txt").inferred


def test_a_line_seen_before_gets_its_own_place_in_each_document() -> None:
    """Lines are scanned once per process (`line_tokens`): a line met again, in another document
    and at another place, gets tokens at that place, equal to those of a first reading."""
    from xxgk.extract import tokens

    row = "收到申请数\t12\t0\t3"
    first = tokenize(f"标题\n{row}\n")
    tokens._LINES.clear()
    cold = tokenize(f"其他报告的标题，更长\n\n{row}\n  - 2 -\n{row}")
    warm = tokenize(f"其他报告的标题，更长\n\n{row}\n  - 2 -\n{row}")
    assert cold.tokens == warm.tokens
    assert [t.line for t in warm.tokens if t.text == "12"] == [3, 5]
    for doc in (first, warm):
        assert all(doc.norm[t.start:t.end] == t.text for t in doc.tokens)
        assert all(doc.norm[doc.line_starts[t.line - 1] + t.col:].startswith(t.text) for t in doc.tokens)
    assert not [t for t in warm.tokens if t.line == 4]  # the page number is no token
    # the tokens of a line's first scan are its document's; each other document, and the line met
    # again in the same document, gets tokens of its own (readings tell tokens apart by identity)
    for doc in (first, cold, warm):
        assert len({id(t) for t in doc.tokens}) == len(doc.tokens)
    assert not {id(t) for t in cold.tokens} & {id(t) for t in warm.tokens}


@pytest.mark.parametrize("printed", ["12", "3.5", "—", "251000元", "3万元", "+4", "-2", "无", "A4", "0.0", "1,200"])
@pytest.mark.parametrize("cell_type", ["count", "amount", "signed"])
def test_fits_is_cell_value_not_raising(printed: str, cell_type: str) -> None:
    from xxgk.extract.values import fits

    for tok in tokenize(f"行\t{printed}").tokens[1:]:
        try:
            cell_value(tok, cell_type)
            takes = True
        except ValueError:
            takes = False
        assert fits(tok, cell_type) == takes, tok


@given(st.text(alphabet=st.sampled_from("⁻−-（(，,臺台薴苧苎１1 \u3000甲a\n")) | st.text(
    alphabet=st.sampled_from("⁻−（臺１1 甲\n\n"), min_size=400, max_size=2000) | st.text(
    alphabet=st.sampled_from("⁻−-（臺１1 甲\n"), min_size=800, max_size=2000).map(lambda t: t.replace("\n", "", 600)))
def test_normalising_maps_each_character_as_norm_char_does(text: str) -> None:
    """Whole texts are normalised line by line (each line once per process), a long line by replacing
    each distinct character that changes; where one changes into another that changes too ("⁻" →
    "−", "−" → "-"), by a translation."""
    from xxgk.textnorm import norm_char, normalize

    assert normalize(text) == "".join(norm_char(c) for c in text)


@given(st.text(alphabet=st.sampled_from(" \t\n\u3000\u00a0\u2028\x1c甲1a")))
def test_squeezed_text_drops_exactly_white_space(text: str) -> None:
    from xxgk.extract.sections import Squeezed

    s = Squeezed.of(text)
    kept = [i for i, c in enumerate(text) if not c.isspace()]
    assert [s.at(i) for i in range(len(s.text))] == kept and s.text == "".join(text[i] for i in kept)
    # and back: an offset there → the first character kept at or after it (a slice of it squeezed)
    assert all(s.text[s.index(a):s.index(b)] == "".join(c for c in text[a:b] if not c.isspace())
               for a in range(len(text) + 1) for b in range(a, len(text) + 1))


@given(st.from_regex(r"\s?[0-9]{1,7}\s?", fullmatch=True))
def test_a_bare_count_is_read_as_the_full_scan_reads_it(chunk: str) -> None:
    from xxgk.extract.tokens import Document, _scan_chunk, _scan_text

    fast, full = Document(chunk, chunk), Document(chunk, chunk)
    _scan_chunk(fast, chunk, 5, 2, 3, 1)
    _scan_text(full, chunk, 5, 2, 3, 1)
    assert fast.tokens == full.tokens and len(fast.tokens) == 1


def test_a_sign_glued_inside_a_run_of_digits_starts_a_value() -> None:
    """A crawled row 「行政许可0+11」 is 0 then +11 (the signed 本年增/减 cell starts at the sign); a date,
    a range, a phone number or a page number is not split so."""
    assert values("行政许可0+11") == ["0", "+11"]
    assert values("行政强制2-20") == ["2", "-20"]
    assert [t.sign for t in tokenize("行政许可0+11").tokens if t.kind == "value"] == ["", "+"]
    assert values("电话0517-8722123") == []
    assert values("于2020-12-31前") == ["2020"]  # as before: the year alone
    assert values("2020-2021年") == values("1-12月") == values("第3-1条") == []


def test_markdown_rows_give_one_cell_per_field() -> None:
    """Every field between pipes is a cell, an empty one a blank; rules and generic headings
    (数据1, 列2 …: a converter's names for columns it could not name) give no value."""
    doc = tokenize("| 数据1 | 数据2 | 数据3 |\n| --- | :-: | --- |\n| 1.属于国家秘密 |  | 12 |\n|  | 5 |  |")
    toks = [(t.kind, t.text, t.field, t.markdown) for t in doc.tokens]
    assert toks[:3] == [("text", "数据1", 0, 3), ("text", "数据2", 1, 3), ("text", "数据3", 2, 3)]
    assert toks[3:] == [("text", "1.属于国家秘密", 0, 3), ("empty", "", 1, 3), ("value", "12", 2, 3),
                        ("empty", "", 0, 3), ("value", "5", 1, 3), ("empty", "", 2, 3)]
    assert values("a | b 3") == ["3"]  # a pipe inside a line is no table


def test_a_field_seen_before_elsewhere_is_placed_where_it_stands_now() -> None:
    """Fields are scanned once per process: the same cell in another column, line and offset keeps
    its own place and field index, and a label cell's bare ordinal stays text only in a cell."""
    first = tokenize("3 危及安全\t7\t+2").tokens
    assert [(t.kind, t.text, t.start, t.field) for t in first] == [
        ("text", "3", 0, 0), ("text", "危及安全", 2, 0), ("value", "7", 7, 1), ("value", "+2", 9, 2)]
    doc = tokenize("标题\n\t\t3 危及安全\t7\n3 危及安全 7")
    assert [(t.kind, t.text, t.start, t.col, t.field, t.line) for t in doc.tokens[1:]] == [
        ("empty", "", 3, 0, 0, 2), ("empty", "", 4, 1, 1, 2), ("text", "3", 5, 2, 2, 2),
        ("text", "危及安全", 7, 4, 2, 2), ("value", "7", 12, 9, 3, 2),
        ("value", "3", 14, 0, -1, 3), ("text", "危及安全", 16, 2, -1, 3), ("value", "7", 21, 7, -1, 3)]
    assert all(doc.text[t.start:t.end] == t.text for t in doc.tokens)
    alone = tokenize("3 危及安全").tokens  # the same text as a line without cells: its 3 may be a value
    assert [(t.kind, t.text, t.field) for t in alone] == [("value", "3", -1), ("text", "危及安全", -1)]

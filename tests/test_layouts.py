"""Each layout behaviour on real fragments of the corpus; expected values come from the gold files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from xxgk.extract.report import parse_text
from xxgk.extract.tables import Reading, _may_be_printed, read_table
from xxgk.extract.tokens import tokenize
from xxgk.formats import FORMATS

from .conftest import REAL, SEEDS, fragment

SEED = {p.name[:3]: p for p in SEEDS.glob("*.txt")}


def gold(path: Path) -> dict:
    stem = path.name.removesuffix(".txt").removesuffix(".pdf")
    return json.loads((path.parent / f"{stem}.gold.json").read_text(encoding="utf-8"))["cells"]


def differs(result: object, path: Path) -> dict:
    """Cells of a whole parse result that differ from the gold of `path`."""
    expected = gold(path)
    return {k: v for k, v in result.cells.items() if v != expected[k]}  # type: ignore[attr-defined]


def read(text: str, table_id: str, template: str = "2019") -> Reading:
    fmt = FORMATS[template]
    return read_table(fmt, fmt.table(table_id), tokenize(text).tokens)


def agrees(reading: Reading, expected: dict, keys: list[str] | None = None) -> list[str]:
    """Keys whose value differs from gold (a gold list means any of these)."""
    bad = []
    for key in keys or list(reading.cells):
        want = expected[key]
        got = reading.cells[key].value
        if not (got in want if isinstance(want, list) else got == want):
            bad.append(f"{key}: gold {want!r}, read {got!r}")
    return bad


def test_tab_separated_rows_with_merged_label_cells() -> None:
    text = fragment(SEED["000"], "三、收到和处理", "四、政府信息公开行政复议")
    r = read(text, "requests")
    assert agrees(r, gold(SEED["000"])) == []
    assert r.cells["requests.new.natural"].value == 3


def test_page_break_inside_a_label_and_a_repeated_header() -> None:
    # "6. 属于四类过" … the header printed again on the next page … "程性信息"
    text = fragment(SEED["000"], "5. 属于三类内部事务信息", "(四) 无法提供")
    assert "程性信息" in text and "申请人情况" in text
    r = read(text, "requests")
    keys = [k for k in r.cells if ".denied." in k and k.split(".")[2] in
            ("internal_affairs", "process_info", "enforcement_file", "query_matter")]
    assert agrees(r, gold(SEED["000"]), keys) == []
    assert r.labels["requests.denied.process_info"] == "属于四类过|程性信息"


def test_one_cell_per_line() -> None:
    text = fragment(SEED["001"], "三、收到和处理", "五、存在的主要问题")
    assert agrees(read(text, "requests"), gold(SEED["001"])) == []
    assert agrees(read(text[text.index("四、政府信息公开"):], "review"), gold(SEED["001"])) == []


def test_markdown_tables_split_into_many_small_tables() -> None:
    text = fragment(SEED["004"], "## 二、主动公开", "### 三、收到和处理")
    assert text.count("信息内容") == 5
    assert agrees(read(text, "active"), gold(SEED["004"])) == []


def test_ocr_damage_garbled_labels_lookalikes_and_a_stray_number() -> None:
    expected = gold(SEED["002"])
    section2 = fragment(SEED["002"], "二、主动公开", "三、收到和处理")
    assert "本年増/減" in section2 and "服务事项\tU" in section2
    r2 = read(section2, "active")
    assert agrees(r2, expected) == []
    assert r2.cells["active.licensing.change"].value == 14 and r2.cells["active.coercion.change"].value == -2
    section3 = fragment(SEED["002"], "三、收到和处理", "四、政府信息公开行政复议")
    assert "7.12" in section3 and "Ξ" in section3 and "收政府信息公开 请数量" in section3
    r3 = read(section3, "requests")
    assert agrees(r3, expected) == []
    # its 上年结转 row lost one value in the OCR: recovered from the totals, and said so
    row = [k for k in r3.cells if k.startswith("requests.carried_over.")]
    assert sum(1 for k in row if r3.cells[k].inferred) == 1
    assert not r3.cells["requests.new.natural"].inferred


def test_blank_cells_stay_null_never_zero() -> None:
    text = fragment(SEED["003"], "四、政府信息公开行政复议", "五、存在的主要问题")
    r = read(text, "review")
    assert agrees(r, gold(SEED["003"])) == []
    assert r.cells["review.total"].value is None and r.cells["review.total"].blank
    assert r.cells["litigation_direct.upheld"].value == 0


@pytest.mark.parametrize("mode", ["layout", "raw", "default"])
def test_pdftotext_modes_for_the_2021_format_with_three_other_rows(mode: str, pdf_texts: dict) -> None:
    text = pdf_texts[mode]["huaian-2024"].read_text(encoding="utf-8")
    result = parse_text(text, "huaian-2024.pdf")
    assert result.variants["requests"] == "split"
    assert differs(result, REAL / "huaian-2024.pdf") == {}


@pytest.mark.parametrize("mode", ["layout", "raw", "default"])
def test_only_the_row_variant_whose_labels_are_printed_is_read(mode: str, pdf_texts: dict) -> None:
    """（六）其他处理 as three rows or as one: the other variant labels fewer of its own rows than
    the printed one at least labels, so it is not read at all (it could not win)."""
    table = FORMATS["2021"].table("requests")
    for name, printed in (("huaian-2024", "split"), ("hongze-2023", "one_row")):
        tokens = tokenize(pdf_texts[mode][name].read_text(encoding="utf-8")).tokens
        assert _may_be_printed(table, table.variants, tokens) == (printed,)


def test_pdftotext_default_mode_prints_columns_top_to_bottom(pdf_texts: dict) -> None:
    text = pdf_texts["default"]["hongze-2023"].read_text(encoding="utf-8")
    assert "1\n0\n0\n0\n0\n1\n1\n0\n10\n3" in text  # the 自然人 column of ten rows
    result = parse_text(text, "hongze-2023.pdf")
    assert result.variants["requests"] == "one_row"
    assert differs(result, REAL / "hongze-2023.pdf") == {}


def test_pdftotext_default_mode_moves_a_block_and_the_totals_put_it_back(pdf_texts: dict) -> None:
    text = pdf_texts["default"]["huaian-2024"].read_text(encoding="utf-8")
    section4 = text[text.index("四、政府信息公开行政复议"):text.index("五、存在的主要问题")]
    printed = re.findall(r"^\d+$", section4, re.M)
    assert printed[:6] == ["72", "64", "178", "37", "12", "1"]  # 复议后起诉 before 复议's 总计
    r = read(section4, "review", "2021")
    assert agrees(r, gold(REAL / "huaian-2024.pdf")) == []
    assert r.cells["litigation_after_review.upheld"].inferred


def crawled(text: str) -> str:
    """A report as a crawler flattens it: one paragraph, no page numbers."""
    lines = [x for x in text.split("\n") if not re.fullmatch(r"\s*-\s*\d+\s*-\s*", x)]
    return re.sub(r"\s+", " ", " ".join(lines))


def test_a_crawled_page_in_one_paragraph_with_glued_digits(pdf_texts: dict) -> None:
    page = crawled(pdf_texts["layout"]["huaian-2024"].read_text(encoding="utf-8"))
    assert "3001 53 0 0 61 4 3119" in page and "1288 21 0 0 50 3 1362" in page
    page = page.replace("3001 53 0 0 61 4 3119", "300153 00614 3119")  # "230 000023"-style glue
    page = page.replace("1288 21 0 0 50 3 1362", "1288210 0503 1362")
    result = parse_text(page, "huaian-2024.pdf")
    assert differs(result, REAL / "huaian-2024.pdf") == {}
    for key in ("requests.new.natural", "requests.new.legal", "requests.granted.commercial"):
        assert "拆分" in result.inferred[key]
    assert "requests.denied.state_secret.natural" not in result.inferred


def test_glued_digits_with_one_possible_cut_are_read_without_a_sum() -> None:
    """Section 二 has no sums: 「规章000」 is 0|0|0, 「规范性文件999」 9|9|9 (one digit a cell),
    「行政许可0+11」 0|+1|1 (the sign starts the signed 本年增/减), 「行政处罚2-20」 2|-2|0; 「政府集中采购929.1」
    is 9|29.1 or 92|9.1 and stays null, saying how many cuts there are."""
    text = fragment(SEED["000"], "二、主动公开政府信息情况", "三、收到和处理")
    for label, glued in (("规章", "000"), ("规范性文件", "999"), ("行政许可", "0+11"), ("行政处罚", "2-20"),
                         ("政府集中采购", "929.1")):
        width = 2 if label == "政府集中采购" else 3
        assert f"\n{label}" + "\t0" * width + "\n" in text
        text = text.replace(f"\n{label}" + "\t0" * width + "\n", f"\n{label}{glued}\n")
    r = read(text, "active")
    got = {k.split(".", 1)[1]: (c.value, c.evidence) for k, c in r.cells.items() if c.value is not None or c.evidence}
    for row, values in (("regulations", (0, 0, 0)), ("normative", (9, 9, 9)), ("licensing", (0, 1, 1)),
                        ("penalty", (2, -2, 0))):
        keys = [k for k in got if k.startswith(f"{row}.")]
        assert [got[k] for k in keys] == [(v, "cut") for v in values], row
    assert r.cells["active.licensing.change"].token.sign == "+"  # the audit still sees the printed sign
    assert r.cells["active.procurement.projects"].value is None and r.cells["active.procurement.amount"].value is None
    assert any("929.1" in d and "拆法有 2 种" in d for d in r.doubts)
    assert agrees(r, gold(SEED["000"]), [k for k in r.cells if ".other_services." in k or ".coercion." in k]) == []


def test_glued_digits_that_no_split_can_make_add_up_stay_null_and_say_why(pdf_texts: dict) -> None:
    page = crawled(pdf_texts["layout"]["huaian-2024"].read_text(encoding="utf-8"))
    assert "3.危及“三安全一稳定” 5 0 0 0 0 0 5" in page
    page = page.replace("3.危及“三安全一稳定” 5 0 0 0 0 0 5", "3.危及“三安全一稳定” 500000 3")
    result = parse_text(page, "huaian-2024.pdf")
    row = [k for k in result.cells if k.startswith("requests.denied.safety_stability.")]
    assert all(result.cells[k] is None for k in row)
    assert any("500000 3" in d and "合计" in d for d in result.doubts)
    from xxgk.audit import audit

    assert any(f.rule == "extraction.unread" and f.kind == "extraction" and set(row) <= set(f.cells)
               for f in audit(result))


def test_glued_digits_the_row_cuts_two_ways_are_cut_by_the_column_totals(pdf_texts: dict) -> None:
    """"110000011" is 11,0,0,0,0,0,11 or 1,10,0,0,0,0,11 by its row; the 自然人 and 商业企业 columns'
    totals (through the three printed rows of （六）其他处理) keep the first. The 复议/诉讼 row glued
    whole cuts three ways by its totals: the ten cells they agree on are read, the rest stay null."""
    page = crawled(pdf_texts["layout"]["huaian-2024"].read_text(encoding="utf-8"))
    assert "需要另行制作 11 0 0 0 0 0 11" in page and "72 64 178 37 351 13 4 8 1 26 12 1 1 6 20" in page
    page = page.replace("需要另行制作 11 0 0 0 0 0 11", "需要另行制作 110000011")
    page = page.replace("72 64 178 37 351 13 4 8 1 26 12 1 1 6 20", "72641783735113481261211620")
    result = parse_text(page, "huaian-2024.pdf")
    wrong = differs(result, REAL / "huaian-2024.pdf")
    assert set(wrong) == {f"litigation_after_review.{k}" for k in ("upheld", "corrected", "other", "pending")}
    assert set(wrong.values()) == {None}
    assert "本表合计" in result.inferred["requests.unavailable.needs_creation.commercial"]
    assert result.evidence["requests.unavailable.needs_creation.commercial"] == "cut_sums"  # chosen among two
    assert result.evidence["review.upheld"] == "cut_sums"
    assert "一致" in result.inferred["review.upheld"] and "一致" in result.inferred["litigation_after_review.total"]
    assert any("拆法有 3 种" in d and "4 格无法确定" in d for d in result.doubts)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_encodings(encoding: str, tmp_path: Path) -> None:
    from xxgk.parse import parse_bytes

    data = SEED["000"].read_text(encoding="utf-8").encode(encoding)
    result = parse_bytes(data, SEED["000"].name)
    assert differs(result, SEED["000"]) == {}
    assert result.agency == "广州市海珠区新港街道办事处"


def test_2021_report_printing_one_other_row(pdf_texts: dict) -> None:
    result = parse_text(pdf_texts["raw"]["hongze-2024"].read_text(encoding="utf-8"), "hongze-2024.pdf")
    assert result.variants["requests"] == "one_row"
    assert result.cells["requests.other.no_correction.natural"] is None
    assert result.cells["requests.other.total"] == 0


def test_provenance_points_at_the_printed_value() -> None:
    text = SEED["002"].read_text(encoding="utf-8")
    result = parse_text(text, SEED["002"].name)
    lines = text.split("\n")
    for key, where in result.provenance.items():
        line = lines[where["line"] - 1]
        (a, b), (start, end) = where["col"], where["offset"]
        assert line[a:b] == where["text"] == text[start:end]
        v = result.cells[key]
        if v is not None and key not in result.inferred:
            assert str(abs(int(v)) if float(v).is_integer() else v) in where["text"].replace(" ", "")


def test_blank_cells_in_pdftotext_layout_text_fall_under_their_columns(pdf_texts: dict) -> None:
    text = pdf_texts["layout"]["huaian-2024"].read_text(encoding="utf-8")
    line = next(x for x in text.split("\n") if "2.其他法律行政法规禁止公开" in x)
    numbers = list(re.finditer(r"\d+", line))
    chars = list(line)
    for m in (numbers[-5], numbers[-1]):  # leave 科研机构 and 总计 blank
        chars[m.start():m.end()] = " " * (m.end() - m.start())
    result = parse_text(text.replace(line, "".join(chars)), "huaian-2024.pdf")
    row = {k.rsplit(".", 1)[1]: v for k, v in result.cells.items() if k.startswith("requests.denied.law_prohibited.")}
    expected = gold(REAL / "huaian-2024.pdf")
    assert row["research"] is None and row["total"] is None
    assert (row["natural"], row["commercial"]) == (expected["requests.denied.law_prohibited.natural"],
                                                   expected["requests.denied.law_prohibited.commercial"])
    assert "requests.denied.law_prohibited.total" in result.blank


def test_a_review_table_printed_turned_one_row_per_outcome() -> None:
    expected = gold(REAL / "huaian-2024.pdf")
    groups = ("review", "litigation_direct", "litigation_after_review")
    lines = ["四、政府信息公开行政复议、行政诉讼情况", "\t行政复议\t未经复议直接起诉\t复议后起诉"]
    for outcome, label in (("upheld", "结果维持"), ("corrected", "结果纠正"), ("other", "其他结果"),
                           ("pending", "尚未审结"), ("total", "总计")):
        lines.append("\t".join([label, *(str(expected[f"{g}.{outcome}"]) for g in groups)]))
    r = read("\n".join(lines), "review", "2021")
    assert r.strategy == "turned"
    assert agrees(r, expected) == []


def test_a_provincial_extra_row_keeps_its_numbers_out_of_statutory_cells() -> None:
    text = fragment(SEED["000"], "二、主动公开政府信息情况", "三、收到和处理")
    assert "规范性文件\t0\t0\t0\n" in text
    # Hubei adds 其他主动公开文件 under 第二十条第（一）项; here the row above it lost its last cell
    text = text.replace("规范性文件\t0\t0\t0\n", "规范性文件\t0\t0\n其他主动公开文件\t12\t10\t30\n")
    r = read(text, "active")
    assert [r.cells[f"active.normative.{c}"].value for c in ("made", "published", "total")] == [None] * 3
    assert [t.text for t in r.extras] == ["12", "10", "30"]
    assert agrees(r, gold(SEED["000"]), [k for k in r.cells if not k.startswith("active.normative.")]) == []


@pytest.mark.parametrize("wrapped", ["72 64 17\n8 37 35\n1 13", "72 64 17\n8件 37 35\n1 13"])
def test_numbers_wrapped_in_narrow_cells_are_joined_where_the_totals_decide(pdf_texts: dict, wrapped: str) -> None:
    # huaian's 复议 row as a narrow-celled PDF prints it: 178 as 17⏎8, 351 as 35⏎1
    text = pdf_texts["raw"]["huaian-2024"].read_text(encoding="utf-8")
    assert "72 64 178 37 351 13" in text
    result = parse_text(text.replace("72 64 178 37 351 13", wrapped), "huaian-2024.pdf")
    assert differs(result, REAL / "huaian-2024.pdf") == {}
    assert "合计关系" in result.inferred["review.other"] and "合计关系" in result.inferred["review.total"]


def test_more_numbers_than_cells_that_no_join_makes_add_up_leave_the_row_null(pdf_texts: dict) -> None:
    text = pdf_texts["raw"]["huaian-2024"].read_text(encoding="utf-8")
    result = parse_text(text.replace("72 64 178 37 351 13", "72 64 17\n9 37 35\n1 13"), "huaian-2024.pdf")
    review = [k for k in result.cells if k.startswith(("review.", "litigation"))]
    assert all(result.cells[k] is None for k in review)  # not 17 columns shifted into 15
    assert any("应有 15 个" in d and "多" in d for d in result.doubts)


def _goldmaps() -> list[Path]:
    return sorted(SEEDS.glob("*.gold.json")) + sorted(REAL.glob("*.gold.json"))


@pytest.mark.parametrize("zeros", ["printed", "blank", "varied"])
def test_mineru_like_markdown_gives_no_wrong_cell(zeros: str) -> None:
    """Every gold map as a PDF converter's or OCR pipeline's markdown prints it (xxgk.compose.mineru:
    small tables with generic headings 数据1…, labels detached above label-less rows, blank cells as
    empty `| |`, the 第二十条第（五）项 rows as text before the 主动公开 table). Nothing is read as another
    number; with zeros printed everything is read; a cell left null is named in a doubt."""
    from xxgk.compose.mineru import to_mineru
    from xxgk.compose.synth import from_gold, vary
    from xxgk.parse import parse_bytes

    maps = [from_gold(p) for p in _goldmaps()]
    if zeros == "varied":  # other numbers (signed changes, amounts), every other map with zeros blank
        maps = [vary(m, seed) for seed in range(4) for m in maps]
    for n, original in enumerate(maps):
        path = Path(original.source)
        if zeros == "blank" or (zeros == "varied" and n % 2):  # zero cells left blank, totals included
            original.cells = {k: None if v == 0 else v for k, v in original.cells.items()}
        text = to_mineru(original)
        assert "| 数据1 |" in text and ("|  |" in text or zeros == "printed")
        result = parse_bytes(text.encode(), "report.md")
        missed = {k: (v, result.cells[k]) for k, v in original.cells.items() if result.cells[k] != v}
        assert all(got is None for _, got in missed.values()), (path.name, missed)
        derived = {d.key for f in FORMATS.values() for d in f.derived}  # null when a part is blank
        if zeros == "printed":
            assert missed == {}, path.name
        fmt = FORMATS[result.template or "2021"]
        for key in set(missed) - derived:
            row = next(r for t in fmt.tables for r in t.rows if key in r.cells)
            assert any(row.label in d for d in result.doubts), (path.name, key, result.doubts)


def test_mineru_like_markdown_label_less_rows_placed_only_after_their_label() -> None:
    """A label-less row of numbers belongs to the label printed just before it; one that follows
    another row's numbers could be any row's: it stays unplaced, and the doubt says so. Before, the
    blank cells of such rows were lost and the row's numbers slid one column left."""
    from xxgk.compose.mineru import to_mineru
    from xxgk.compose.synth import from_gold
    from xxgk.parse import parse_bytes

    original = from_gold(REAL / "huaian-2024.gold.json")
    original.cells["requests.denied.safety_stability.natural"] = None  # 5 → blank: 0 0 0 0 0 5 after a blank
    text = to_mineru(original)
    labelless = "|  |  | 0 | 0 | 0 | 0 | 0 | 5 |"
    attached = next(x for x in text.split("\n") if x.startswith("| 4.保护第三方合法权益 |"))
    assert labelless in text and text.index("3.危及") < text.index(labelless) < text.index(attached)
    result = parse_bytes(text.encode(), "report.md")
    row = [k for k in result.cells if k.startswith("requests.denied.safety_stability.")]
    assert [result.cells[k] for k in row] == [None, 0, 0, 0, 0, 0, 5]
    assert "requests.denied.safety_stability.natural" in result.blank
    # the label-less row moved below the next row's numbers: no label says whose it is
    moved = text.replace(labelless + "\n" + attached, attached + "\n" + labelless)
    result = parse_bytes(moved.encode(), "report.md")
    assert all(result.cells[k] is None for k in row)
    third_party = [k for k in result.cells if k.startswith("requests.denied.third_party.")]
    assert [result.cells[k] for k in third_party] == [6, 0, 0, 0, 0, 0, 6]
    assert any("没有行标签" in d for d in result.doubts)
    assert result.evidence["requests.denied.third_party.natural"] == "label"


def test_a_row_whose_label_is_not_found_is_filled_in_print_order_and_its_failing_sums_are_reading_doubts() -> None:
    """A row whose label cannot be read gets the values between its neighbours' (print order): its
    cells say evidence "order", and a sum they break is reported as a doubt about the reading (读取),
    not as the agency's error (原文)."""
    from xxgk.audit import audit

    text = SEED["000"].read_text(encoding="utf-8")
    row = "\t2. 重复申请\t0\t0\t0\t0\t0\t0\t0\t"
    assert row in text
    result = parse_text(text.replace(row, "\t2. 某某某某\t0\t0\t0\t0\t0\t0\t1\t"), SEED["000"].name)
    keys = [k for k in result.cells if k.startswith("requests.not_processed.repeated.")]
    assert [result.cells[k] for k in keys] == [0, 0, 0, 0, 0, 0, 1]
    assert {result.evidence[k] for k in keys} == {"order"}
    sums = [f for f in audit(result) if f.rule.startswith("requests.") and set(keys) & set(f.cells)]
    assert sums and {f.kind for f in sums} == {"extraction"}
    assert result.evidence["requests.not_processed.complaint.total"] == "label"

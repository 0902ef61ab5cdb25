"""Issue 12: an error called the agency's is the agency's. Each case is a corpus gold map rendered
to the shape a real report had, parsed and audited."""

from __future__ import annotations

from pathlib import Path

import pytest

from xxgk.audit import audit
from xxgk.compose.render import to_html, to_text
from xxgk.compose.synth import from_gold
from xxgk.parse import parse_bytes
from xxgk.result import ParseResult

from .conftest import REAL, SEEDS

HUAIAN = REAL / "huaian-2024.gold.json"
HONGZE = REAL / "hongze-2024.gold.json"


def gold(path: Path, **changes: object) -> ParseResult:
    base = from_gold(path)
    for k, v in changes.items():
        if k == "cells":
            base.cells.update(v)  # type: ignore[arg-type]
        else:
            setattr(base, k, v)
    return base


def read(text: str, name: str = "r.txt") -> ParseResult:
    return parse_bytes(text.encode(), name)


def fired(result: ParseResult, rule: str) -> list:
    return [f for f in result.findings if f.rule == rule]


# ---------------------------------------------------------------- a misreading is 读取
def test_items_printed_outside_the_table_read_by_order_are_a_reading_doubt_not_the_agencys() -> None:
    # a converted-markdown report: the labels of 二 printed as prose, the table holding only values;
    # read by print order, 行政许可 97 lands in 规章/本年制发
    report = gold(HONGZE, cells={"active.licensing.decisions": 97})
    text = to_text(report)
    i, j = text.index("二、主动公开"), text.index("三、收到和处理")
    rows = ["| 第二十条第（一）项 | | | |", "| 信息内容 | 本年制发件数 | 本年废止件数 | 现行有效件数 |",
            "| 第二十条第（五）项 | | | |", "| 信息内容 | 本年处理决定数量 | | |", "| 97 | | | |",
            "| 第二十条第（六）项 | | | |", "| 信息内容 | 本年处理决定数量 | | |", "| 2776 | | | |", "| 84 | | | |",
            "| 第二十条第（八）项 | | | |", "| 信息内容 | 本年收费金额（万元） | | |", "| 7545 | | | |"]
    prose = "规章 0 0 0 行政规范性文件 3 0 8 行政许可 行政处罚 行政强制 行政事业性收费"
    r = read(text[:i] + "二、主动公开政府信息情况\n" + "\n".join(rows) + f"\n\n{prose}\n\n" + text[j:])
    assert r.cells["active.regulations.issued"] != 97  # the reader places no value of 二 by print order now
    assert not [f for f in r.findings if f.kind == "source" and f.severity != "info" and f.cells]
    # and where a value is placed by print order, every rule that reads it inherits the doubt
    placed = r.model_copy(deep=True)
    placed.cells["active.regulations.issued"] = 97
    placed.evidence["active.regulations.issued"] = "order"
    (issuer,) = [f for f in audit(placed) if f.rule == "legal.regulations_issuer"]
    assert issuer.kind == "extraction" and "按印刷顺序" in issuer.message and "规章/本年制发件数" in issuer.message


def test_a_unique_cut_of_glued_digits_makes_a_real_error_the_agencys() -> None:
    # a crawled page: （七）总计 printed with its digits glued, cut one way only; the report's own
    # 总计 is not the sum of its results in two columns (its HTML page shows the numbers plainly)
    report = gold(HUAIAN, cells={"requests.total.natural": 2900, "requests.total.legal": 60})
    plain = read(to_html(report), "r.html")
    plain_errors = {f.cells[0] for f in fired(plain, "requests.results_sum") if f.severity == "error"}
    assert plain_errors == {"requests.total.natural", "requests.total.legal"}
    glued = plain.model_copy(deep=True)
    for key in (f"requests.total.{c}" for c in ("natural", "commercial", "research", "social", "legal", "other_org")):
        glued.inferred[key] = "由粘连的数字按本表合计关系拆分"
        glued.evidence[key] = "cut"  # the only cut every other relation confirms
    errors = [f for f in audit(glued) if f.rule == "requests.results_sum" and f.severity == "error"]
    assert {f.cells[0] for f in errors} == plain_errors and all(f.kind == "source" for f in errors)
    for f in errors:  # a cut chosen by sums among several is not certain
        glued.evidence[f.cells[0]] = "cut_sums"
    doubted = [f for f in audit(glued) if f.rule == "requests.results_sum" and f.severity == "error"]
    assert doubted and all(f.kind == "extraction" and "拆法不唯一" in f.message for f in doubted)


def test_a_finding_over_cells_read_by_ocr_is_a_reading_doubt() -> None:
    r = read(to_text(gold(HUAIAN, cells={"review.upheld": 75})))
    (f,) = [f for f in fired(r, "review.total") if f.severity == "error"]
    assert f.kind == "source"
    r.provenance["review.upheld"]["ocr"] = True
    (f,) = [f for f in audit(r) if f.rule == "review.total" and f.severity == "error"]
    assert f.kind == "extraction" and "OCR" in f.message and "结果维持" in f.message


def test_a_one_row_other_report_with_a_wrong_total_is_not_read_as_three_rows_to_hide_it() -> None:
    # its （七）总计 is off by 5: read as 2021's three-row （六）, two rows would stay unread and the
    # failing column sum uncheckable; the printed one-row （六） is read, and the sum fails as 原文
    report = gold(HONGZE)
    report.cells["requests.total.natural"] += 5  # type: ignore[operator]
    r = read(to_html(report), "r.html")
    assert r.variants["requests"] == "one_row"
    (f,) = [f for f in fired(r, "requests.results_sum") if f.severity == "error"]
    assert f.cells[0] == "requests.total.natural" and f.kind == "source"


def test_a_review_row_printed_on_one_line_is_not_read_as_turned() -> None:
    # hongze-2023 already has two broken 复议/诉讼 totals; a third must not make the reader take the
    # one printed row for a table turned on its side (and call all three a reading doubt)
    report = gold(REAL / "hongze-2023.gold.json")
    report.cells["litigation_direct.corrected"] = (report.cells["litigation_direct.corrected"] or 0) + 7
    r = read(to_text(report))
    assert r.readings["review"] == "labels"
    errors = [f for f in fired(r, "review.total") if f.severity == "error"]
    assert len(errors) == 3 and all(f.kind == "source" for f in errors)


# ---------------------------------------------------------------- false warnings
def _with_prose(one: str) -> ParseResult:
    return read(to_text(gold(HUAIAN, sections={"一": "一、总体情况\n" + one})))


def test_enumeration_stops_at_the_end_of_its_clause() -> None:
    r = _with_prose("全年共办理政府信息公开申请81件，其中予以公开42件、部分公开5件、不予公开31件、无法提供1件、"
                    "不予处理2件；行政复议2件、诉讼7件。")
    assert not fired(r, "prose.enumeration")


def test_two_breakdowns_of_one_total_are_not_added_together() -> None:
    r = _with_prose("全年共收到申请749件，其中自然人申请741件，法人或其他组织申请8件，予以公开718件，其他31件。")
    assert not fired(r, "prose.enumeration")


def test_an_enumeration_that_does_not_add_up_in_one_clause_still_warns() -> None:
    r = _with_prose("全年共收到申请749件，其中自然人申请741件、法人或其他组织申请18件。")
    (f,) = fired(r, "prose.enumeration")
    assert "759" in f.message and "749" in f.message


def test_a_heading_variant_of_section_five_is_found() -> None:
    text = to_text(gold(HUAIAN)).replace("五、存在的主要问题及改进情况", "五、存在问题及改进情况")
    r = read(text)
    assert "五" in r.found_sections and not fired(r, "form.sections")


def test_a_provincial_governments_office_reports_the_governments_regulations() -> None:
    for agency in ("上海市人民政府办公厅", "淮安市人民政府办公室"):
        r = read(to_text(gold(HUAIAN, agency=agency, cells={"active.regulations.issued": 3})))
        assert r.agency == agency and not fired(r, "legal.regulations_issuer")
    r = read(to_text(gold(HUAIAN, agency="淮安市洪泽区人民政府办公室", cells={"active.regulations.issued": 3})))
    (f,) = fired(r, "legal.regulations_issuer")  # a county's office: its government issues none
    assert f.kind == "source"


def test_a_label_glued_to_the_cell_before_is_not_a_typo() -> None:
    lines = to_text(gold(HUAIAN)).split("\n")
    i = next(n for n, line in enumerate(lines) if line.startswith("一、本年新收"))
    lines[i - 1:i + 1] = [lines[i - 1].rstrip("\t") + lines[i]]  # 「…法律服务机构\t其他一、本年新收…」
    r = read("\n".join(lines))
    assert r.labels["requests.new"].startswith("其他一、") and r.cells["requests.new.total"] == 3119
    assert not fired(r, "form.label_typo")


def test_values_the_reader_could_not_place_are_its_doubt() -> None:
    lines = to_text(gold(HUAIAN)).split("\n")
    i = next(n for n, line in enumerate(lines) if line.startswith("一、本年新收"))
    lines.insert(i + 3, "\t\t\t7\t\t\t\t\t\t")
    (f,) = fired(read("\n".join(lines)), "form.extra_values")
    assert f.kind == "extraction" and "「7」" in f.message


# ---------------------------------------------------------------- blanks
def test_every_blank_total_of_the_result_rows_is_named_with_what_its_parts_add_to() -> None:
    report = gold(HUAIAN)
    results = [k for k in report.cells if k.endswith(".total") and k.startswith("requests.")
               and not k.startswith(("requests.new.", "requests.carried", "requests.total.", "requests.other.total"))]
    for k in results:
        report.cells[k] = None
    r = read(to_html(report), "r.html")
    (f,) = [f for f in fired(r, "values.blank") if f.cells[0].startswith("requests.")]
    assert sorted(f.cells) == sorted(results) and f.kind == "source"
    assert "1.属于国家秘密：总计（各项之和为 2）" in f.message and "予以公开：总计（各项之和为 1362）" in f.message


def test_no_error_on_any_corpus_rendering_whose_gold_satisfies_the_relations() -> None:
    for path in sorted(SEEDS.glob("*.gold.json")) + sorted(REAL.glob("*.gold.json")):
        base = from_gold(path)
        truth = {(f.rule, tuple(f.cells)) for f in audit(base) if f.severity == "error"}
        for name, data in (("r.txt", to_text(base)), ("r.html", to_html(base))):
            r = read(data, name)
            got = {(f.rule, tuple(f.cells)) for f in r.findings if f.severity == "error"}
            assert got <= truth, f"{path.name} as {name}: {got - truth}"


# ---------------------------------------------------------------- rates across a batch
def test_check_summary_gives_per_rule_the_reports_it_fired_on_and_the_share() -> None:
    import json
    import subprocess

    from .conftest import REPO

    files = [str(p) for p in sorted(SEEDS.glob("*.txt"))]
    proc = subprocess.run([str(REPO / ".venv" / "bin" / "xxgk"), "check", "--summary", "--format", "json", *files],
                          capture_output=True, text=True)
    assert proc.returncode == 1  # seed 002's date is still an error of the source
    summary = json.loads(proc.stdout)
    rates = {r["rule"]: r for r in summary["rules"]}
    assert summary["reports"] == 5
    assert rates["legal.published_after_year"]["reports"] == 1 and rates["legal.published_after_year"]["share"] == 0.2
    assert rates["values.blank"]["reports"] == 2  # 003 (blank 复议 cells, a short row), 002 (上年结转 总计 unprinted)
    assert "review.total" not in rates  # 003's 无法核对 (info) is not a firing
    text = subprocess.run([str(REPO / ".venv" / "bin" / "xxgk"), "check", "--summary", *files],
                          capture_output=True, text=True).stdout
    assert "legal.published_after_year" in text and "20.0%" in text


def test_the_web_overview_shows_each_rules_share_of_reports(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from xxgk.serve.app import create_app
    from xxgk.store import Store

    client = TestClient(create_app(Store(f"sqlite:///{tmp_path / 'web.db'}"), "t"))
    for path in (SEEDS / "002_64090608850f335c.txt", SEEDS / "004_72ada0ed4d86cbfe.txt"):
        assert client.post("/api/reports", files={"file": (path.name, path.read_bytes())},
                           headers={"Authorization": "Bearer t"}).status_code == 201
    page = client.get("/").text
    assert "占比" in page and '<code class="rule">legal.published_after_year</code></td><td>1</td><td>50.0%' in page


# ---------------------------------------------------------------- the evaluation
def test_plants_cover_every_constrained_cell_and_each_breaks_a_relation() -> None:
    from xxgk.audit.evaluate import holding_relations, planted, plants
    from xxgk.audit.rules import Context

    base = from_gold(HUAIAN)
    found = plants(base)
    constrained = {k for r in holding_relations(base) for k in r.cells} & Context.of(base).printed
    changed = {p.cells[0] for p in found if p.how == "±"}
    assert len(changed) > 0.95 * len(constrained)
    assert {p.how for p in found} == {"±", "swap", "blank"}
    for p in found:
        if p.how != "blank":
            after = planted(base, dict(p.changes))  # （六）其他处理 added up again from its three rows
            assert any(r.holds(after) is False for r in holding_relations(base))


def test_the_evaluation_on_a_few_plants_finds_them_all_as_the_agencys(tmp_path: Path) -> None:
    import shutil

    from xxgk.audit.evaluate import evaluate

    for path in (HUAIAN, SEEDS / "004_72ada0ed4d86cbfe.gold.json"):
        shutil.copy(path, tmp_path / path.name)
    ev = evaluate(tmp_path, ("text",), limit=6, with_files=False)
    total = ev.total
    assert total.plants == 12 and total.source == 12, total.missed
    assert total.kinds and total.kinds_right == total.kinds
    assert ev.false_alarms == [] and ev.files == 2


@pytest.mark.slow
def test_the_audit_meets_its_targets_on_every_plant_of_the_corpus() -> None:
    """Issue 12's targets: recall ≥ 99% where a relation constrains the planted cell, kind accuracy
    ≥ 99%, no false 原文 error on an unperturbed file."""
    from xxgk.audit.evaluate import evaluate

    ev = evaluate(SEEDS.parent, jobs=2)
    arithmetic = [t for name, t in ev.families.items() if name not in ("values.blank", "(unperturbed)")]
    plants = sum(t.plants for t in arithmetic)
    assert plants > 1000 and sum(t.source for t in arithmetic) >= 0.99 * plants
    total = ev.total
    assert total.kinds_right >= 0.99 * total.kinds
    assert ev.false_alarms == []

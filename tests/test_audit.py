"""The audit on the corpus, each rule with a passing and a failing case, and a property test."""

from __future__ import annotations

import functools
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xxgk.audit import RULES, audit
from xxgk.audit.agency import agency_kind
from xxgk.audit.rules import Context
from xxgk.extract.report import parse_text
from xxgk.formats import FORMATS
from xxgk.result import ParseResult

from .conftest import REAL, REPO, SEEDS

SEED = {p.name[:3]: p for p in SEEDS.glob("*.txt")}


def parsed(path: Path) -> ParseResult:
    if path.suffix == ".pdf":
        text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                              check=True).stdout
    else:
        text = path.read_text(encoding="utf-8")
    result = parse_text(text, path.name)
    result.findings = audit(result)
    return result


@functools.cache
def with_gold(path: Path) -> ParseResult:
    """The report as parsed, with its cells and metadata replaced by the hand-checked gold."""
    gold = json.loads(path.with_name(path.name.removesuffix(".txt").removesuffix(".pdf") + ".gold.json")
                      .read_text(encoding="utf-8"))
    result = parsed(path)
    first = (lambda v: v[0] if isinstance(v, list) else v)  # noqa: E731
    result.cells = {k: first(v) for k, v in gold["cells"].items()}
    for field in ("agency", "year", "template", "published"):
        setattr(result, field, first(gold["meta"][field]))
    result.inferred, result.doubts = {}, []
    result.findings = audit(result)
    return result


CORPUS = sorted(SEEDS.glob("*.txt")) + sorted(REAL.glob("*.pdf"))


def rules_of(result: ParseResult, severity: str | None = None) -> list[str]:
    return [f.rule for f in result.findings if severity is None or f.severity == severity]


# ---------------------------------------------------------------- the corpus cases of the issue
def test_seed_002_printed_date_precedes_the_end_of_its_year() -> None:
    r = parsed(SEED["002"])
    (f,) = [f for f in r.findings if f.rule == "legal.published_after_year"]
    assert f.severity == "error" and f.kind == "source" and "2020-01-20" in f.message


def test_seed_003_blank_review_cells_warn_and_its_short_row_is_derived_and_marked() -> None:
    r = parsed(SEED["003"])
    review, requests = sorted((f for f in r.findings if f.rule == "values.blank"), key=lambda f: -len(f.cells))
    assert review.severity == "warning" and set(review.cells) == {f"review.{o}" for o in
                                                                  ("upheld", "corrected", "other", "pending", "total")}
    assert r.cells["requests.unavailable.not_held.total"] == 0
    assert "requests.unavailable.not_held.total" in r.inferred
    # the row printed six values: its 总计 was left blank, and the message says what its parts add to
    assert requests.cells == ["requests.unavailable.not_held.total"] and "各项之和为 0" in requests.message


def test_seed_000_enumeration_adding_to_73_not_63() -> None:
    r = parsed(SEED["000"])
    (f,) = [f for f in r.findings if f.rule == "prose.enumeration"]
    assert f.severity == "warning" and "73" in f.message and "63" in f.message


def test_seed_001_street_office_reporting_regulations() -> None:
    r = parsed(SEED["001"])
    assert r.agency is None  # it never names itself: the kind comes from "我街道"
    (f,) = [f for f in r.findings if f.rule == "legal.regulations_issuer"]
    assert f.severity == "warning" and f.cells == ["active.regulations.total"]


def test_hongze_2023_review_totals_not_equal_to_their_parts() -> None:
    r = parsed(REAL / "hongze-2023.pdf")
    errors = [f for f in r.findings if f.rule == "review.total" and f.severity == "error"]
    assert sorted(f.cells[0] for f in errors) == ["litigation_after_review.total", "review.total"]
    assert any("11" in f.message for f in errors) and any("（5）" in f.message for f in errors)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_no_error_that_the_gold_values_do_not_also_show(path: Path) -> None:
    """Every error on the parsed report is one the hand-checked values make too."""
    ours = parsed(path)
    truth = with_gold(path)
    expected = {(f.rule, tuple(f.cells)) for f in truth.findings if f.severity == "error"}
    got = {(f.rule, tuple(f.cells)) for f in ours.findings if f.severity == "error"}
    assert got <= expected


def test_prose_that_agrees_raises_nothing_and_hedged_prose_is_not_read() -> None:
    huaian = parsed(REAL / "huaian-2024.pdf")  # 受理3119件, 复议351件, 诉讼46件: all agree
    assert "prose.table" not in rules_of(huaian)
    hongze = parsed(REAL / "hongze-2024.pdf")  # "区政府办代表区政府受理…申请17件" vs 95: not the same quantity
    assert "prose.table" not in rules_of(hongze)


# ---------------------------------------------------------------- the property
def _constrained_cells(result: ParseResult) -> list[str]:
    fmt = FORMATS[result.template]  # type: ignore[index]
    ctx = Context.of(result)
    return sorted({k for r in fmt.relations if r.kind == "eq" and set(r.cells) <= ctx.printed
                   and r.holds(result.cells) is True for k in r.cells})


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_changing_any_constrained_cell_fires_a_finding_naming_it(path: Path, data: st.DataObject) -> None:
    base = with_gold(path)
    key = data.draw(st.sampled_from(_constrained_cells(base)))
    delta = data.draw(st.integers(min_value=1, max_value=500))
    changed = base.model_copy(deep=True)
    changed.cells[key] = changed.cells[key] + delta  # type: ignore[operator]
    fired = [f for f in audit(changed) if key in f.cells and f.severity == "error"]
    assert fired, f"{path.name}: {key} +{delta} went unnoticed"


# ---------------------------------------------------------------- every rule: a passing and a failing case
def _base() -> ParseResult:
    return with_gold(SEED["004"]).model_copy(deep=True)


def _huaian() -> ParseResult:
    return with_gold(REAL / "huaian-2024.pdf").model_copy(deep=True)


def _with(base: ParseResult, **changes: object) -> ParseResult:
    r = base.model_copy(deep=True)
    for k, v in changes.items():
        if k == "cells":
            r.cells.update(v)  # type: ignore[arg-type]
        else:
            setattr(r, k, v)
    return r


def _prev(base: ParseResult, **cells: object) -> ParseResult:
    p = base.model_copy(deep=True)
    p.year = (base.year or 0) - 1
    p.cells.update(cells)  # type: ignore[arg-type]
    return p


# rule id → (builder of a report that passes, builder of one that fails); the previous year's report,
# when the rule needs one, is the second element of a pair.
Case = Callable[[], ParseResult | tuple[ParseResult, ParseResult]]
CASES: dict[str, tuple[Case, Case]] = {
    "requests.row_total": (_base, lambda: _with(_base(), cells={"requests.new.natural": 2})),
    "requests.balance": (_base, lambda: _with(_base(), cells={"requests.carried_forward.natural": 1,
                                                              "requests.carried_forward.total": 1})),
    "requests.results_sum": (_base, lambda: _with(_base(), cells={"requests.total.legal": 1,
                                                                  "requests.total.total": 1,
                                                                  "requests.new.legal": 1, "requests.new.total": 1})),
    "review.total": (_base, lambda: _with(_base(), cells={"review.upheld": 1})),
    "active.total_ge_published": (_base, lambda: _with(_base(), cells={"active.normative.published": 3})),
    "active.in_force_roll": (_huaian, lambda: _with(_huaian(), cells={"active.normative.issued": 100})),
    "values.negative": (_base, lambda: _with(_base(), cells={"active.penalty.decisions": -3})),
    "values.sign": (_base, lambda: _with(_base(), signs={"active.normative.made": "+"})),
    "values.blank": (_base, lambda: _with(_base(), cells={"review.other": None}, blank=["review.other"])),
    "extraction.unread": (_base, lambda: _with(_base(), cells={"review.other": None})),
    "extraction.inferred": (_base, lambda: _with(_base(), inferred={"review.other": "由粘连的数字按本行总计拆分"})),
    "form.sections": (_base, lambda: _with(_base(), found_sections=["一", "二", "三", "四", "六"])),
    "form.template_year": (_base, lambda: _with(_base(), year=2022)),
    "form.extra_values": (_base, lambda: _with(_base(), extras=["二: line 9: 12"])),
    "form.label_typo": (_huaian, lambda: _with(
        _base(), labels={"requests.denied.law_prohibited": "2.其他法律行政止公开"})),
    "legal.published_after_year": (lambda: _with(_base(), published="2021-01-15"),
                                   lambda: _with(_base(), published="2020-12-30")),
    "legal.deadline": (lambda: _with(_base(), agency="XX市XX区财政局", published="2021-01-31"),
                       lambda: _with(_base(), agency="XX市XX区财政局", published="2021-02-01")),
    "legal.regulations_issuer": (
        lambda: _with(_base(), agency="广东省人民政府", cells={"active.regulations.made": 2}),
        lambda: _with(_base(), cells={"active.regulations.made": 2})),
    "legal.fees": (_huaian, lambda: _with(_huaian(), sections={**_huaian().sections, "六": "本机关未发出收费通知。"})),
    "prose.table": (_huaian, lambda: _with(_huaian(), cells={"review.total": 350, "review.upheld": 71})),
    "prose.enumeration": (_base, lambda: _with(_base(), sections={
        **_base().sections, "一": "全年主动公开信息 20 条，其中组织机构类 3 条，动态类 19 条。"})),
    "years.carried_over": (lambda: (_base(), _prev(_base())),
                           lambda: (_base(), _prev(_base(), **{"requests.carried_forward.natural": 2}))),
    "years.in_force": (
        lambda: (_huaian(), _prev(_huaian(), **{"active.normative.in_force": 84, "active.regulations.in_force": 10})),
        lambda: (_huaian(), _prev(_huaian(), **{"active.normative.in_force": 80, "active.regulations.in_force": 10}))),
    "years.items_roll": (lambda: (_base(), _prev(_base())),
                         lambda: (_base(), _prev(_base(), **{"active.licensing.change": 4}))),
}


def test_every_rule_has_a_case() -> None:
    assert {r.id for r in RULES} == set(CASES)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_passes_and_fails(rule_id: str) -> None:
    rule = next(r for r in RULES if r.id == rule_id)

    def findings(case: Case) -> list:
        built = case()
        report, previous = built if isinstance(built, tuple) else (built, None)
        return [f for f in rule.run(Context.of(report, previous)) if f.severity != "info" or rule.severity == "info"]

    passing, failing = CASES[rule_id]
    assert findings(passing) == []
    fired = findings(failing)
    assert fired and all(f.rule == rule_id and f.message for f in fired)


def test_a_relation_with_blank_cells_is_reported_not_checkable_never_computed() -> None:
    r = _with(_base(), cells={"review.other": None})
    rule = next(x for x in RULES if x.id == "review.total")
    (f,) = [f for f in rule.run(Context.of(r)) if "review.other" in f.cells]
    assert f.severity == "info" and "无法核对" in f.message


def test_a_broken_relation_over_inferred_cells_is_an_extraction_doubt() -> None:
    r = _with(_base(), cells={"review.upheld": 1}, inferred={"review.upheld": "数值块印刷顺序错乱，按合计关系重排"})
    (f,) = [f for f in audit(r) if f.rule == "review.total"]
    assert f.kind == "extraction" and f.severity == "error"


@pytest.mark.parametrize(("placed", "kind"), [("label", "source"), ("grid", "source"), ("columns", "source"),
                                               ("cut", "source"), ("order", "extraction"),
                                               ("cut_sums", "extraction"), ("derived", "extraction")])
def test_a_broken_relation_is_the_agencys_only_when_every_cell_in_it_was_placed_surely(placed: str, kind: str) -> None:
    # the kind follows the evidence of the cells the relation reads, not the rule: one cell placed by
    # print order (pdftotext's default mode), cut by sums or derived makes a failed sum a reading doubt
    r = _with(_huaian(), cells={"requests.new.natural": 3000})
    r.evidence = {k: "label" for k in r.cells} | {"requests.carried_over.natural": placed}
    found = [f for f in audit(r) if "requests.new.natural" in f.cells and f.severity == "error"]
    balance = next(f for f in found if f.rule == "requests.balance")
    assert balance.kind == kind
    assert kind == "source" or "上年结转" in balance.message  # names the uncertain cell
    row = next(f for f in found if f.rule == "requests.row_total")
    assert row.kind == "source"  # the row of 一 was read by its label: the agency's error


@pytest.mark.parametrize(("placed", "kind"), [("labels", "source"), ("order", "extraction")])
def test_a_result_stored_before_evidence_falls_back_to_how_its_table_was_read(placed: str, kind: str) -> None:
    r = _with(_huaian(), cells={"requests.new.natural": 3000}, readings={"requests": placed}, evidence={})
    found = [f for f in audit(r) if "requests.new.natural" in f.cells and f.severity == "error"]
    assert found and all(f.kind == kind for f in found)
    assert kind == "source" or all("按印刷顺序" in f.message for f in found)


@pytest.mark.parametrize(("name", "kind"), [
    ("广州市海珠区新港街道办事处", "street"), ("XX县XX镇人民政府", "township"),
    ("淮安市洪泽区人民政府", "county_gov"), ("淮安市人民政府", "city_gov"), ("江苏省人民政府", "province_gov"),
    ("广州市海珠区政务服务数据管理局", "department"), ("国家税务总局", "state_council_dept"),
    ("佳木斯市前进区港湾街道", "street"),
])
def test_agency_kind_from_the_name(name: str, kind: str) -> None:
    assert agency_kind(name) == kind


def test_check_cli_exits_1_on_an_error_and_pairs_years(tmp_path: Path) -> None:
    xxgk = str(REPO / ".venv" / "bin" / "xxgk")
    proc = subprocess.run([xxgk, "check", str(SEED["002"]), "--format", "json"], capture_output=True, text=True)
    assert proc.returncode == 1
    (report,) = json.loads(proc.stdout)
    assert any(f["rule"] == "legal.published_after_year" for f in report["findings"])
    proc = subprocess.run([xxgk, "check", str(SEED["004"])], capture_output=True, text=True)
    assert proc.returncode == 0 and "1 份报告" in proc.stdout


def test_check_pairs_an_agencys_consecutive_years_even_when_it_names_itself_differently(pdf_texts: dict) -> None:
    xxgk = str(REPO / ".venv" / "bin" / "xxgk")
    files = [str(pdf_texts["layout"][s]) for s in ("hongze-2023", "hongze-2024", "huaian-2024")]
    proc = subprocess.run([xxgk, "check", *files, "--format", "json"], capture_output=True, text=True)
    by_source = {r["source"]: r for r in json.loads(proc.stdout)}
    assert by_source["hongze-2024.txt"]["previous"] == "hongze-2023.txt"  # 洪泽区人民政府 → 淮安市洪泽区人民政府
    assert by_source["huaian-2024.txt"]["previous"] is None
    # carried over 0 = carried forward 0, and 规范性文件 5 + 3 − 0 = 8: nothing across the years
    assert not [f for f in by_source["hongze-2024.txt"]["findings"] if f["rule"].startswith("years.")]


def test_a_year_index_of_thousands_pairs_each_agency_with_its_own_previous_year() -> None:
    from xxgk.audit import YearIndex

    base = _huaian()
    index = YearIndex()
    names = [f"第{i}市人民政府" for i in range(3000)]
    for i, name in enumerate(names):  # 2023 under the short name, 2024 under the full one
        carried = {**base.cells, "requests.carried_forward.total": i}
        index.add(2 * i, base.model_copy(update={"agency": name, "year": 2023, "cells": carried,
                                                 "source": f"{i}-2023"}))
        index.add(2 * i + 1, base.model_copy(update={"agency": f"某某省{name}", "year": 2024, "source": f"{i}-2024"}))
    for i in range(3000):
        previous = index.previous(2 * i + 1)
        assert previous is not None and previous.source == f"{i}-2023"
        assert previous.cells["requests.carried_forward.total"] == i
        assert index.previous(2 * i) is None


@pytest.mark.parametrize(("mode", "kind"), [("-layout", "source"), ("-raw", "source"), ("", "extraction")])
def test_hongze_2023_review_error_is_the_agencys_where_its_row_is_printed_whole(mode: str, kind: str,
                                                                                pdf_texts: dict) -> None:
    # one printed row (-layout, -raw) places the 复议 values surely; one value per line (default) does not
    text = pdf_texts[{"-layout": "layout", "-raw": "raw", "": "default"}[mode]]["hongze-2023"].read_bytes()
    from xxgk.parse import parse_bytes

    errors = [f for f in parse_bytes(text, "h.txt").findings if f.rule == "review.total" and f.severity == "error"]
    assert len(errors) == 2 and all(f.kind == kind for f in errors)

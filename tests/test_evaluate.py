"""Evaluating a region: a synthetic region made from a corpus map, each report with one planted
defect, ranks as computed by hand from the indicators' weights; reading doubts cost nothing."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from xxgk.audit import audit_all
from xxgk.compose.render import to_text
from xxgk.compose.synth import from_gold, vary
from xxgk.evaluate import DEFAULT_INDICATORS, evaluate, facts_of, load_indicators, stored_facts
from xxgk.evaluate.output import write
from xxgk.evaluate.score import printed_cells
from xxgk.parse import parse_bytes
from xxgk.result import ParseResult
from xxgk.store import Store

from .conftest import REAL, running

WEIGHT = {i.id: i.weight for i in DEFAULT_INDICATORS}
TOTAL = sum(WEIGHT.values())
BASE = from_gold(REAL / "hongze-2024.gold.json")
MARK = 987654  # a value written where the text is then damaged


def made(agency: str, seed: int, year: int = 2024, published: str = "2025-01-20") -> ParseResult:
    r = vary(BASE, seed)
    r.cells.update({k: v for k, v in BASE.cells.items() if k.startswith("active.")})  # real, consistent
    r.agency, r.year, r.published, r.source = agency, year, published, f"{agency}{year}.txt"
    r.sections = {"一": f"{year}年，{agency}认真贯彻落实《中华人民共和国政府信息公开条例》。",
                  "五": "主要问题是公开内容不够全面。", "六": "本年度未收取信息处理费。"}
    return r


def text_of(r: ParseResult, drop: str = "") -> str:
    text = to_text(r)
    if drop:
        lines = text.split("\n")
        i = next(n for n, line in enumerate(lines) if line.startswith(drop))
        text = "\n".join(lines[:i] + lines[i + 2:])
    return text.replace(f"\t{MARK}\t", "\tl\t")  # a cell OCR gave as the letter l: read as 1, in doubt


@pytest.fixture(scope="module")
def region() -> dict[str, tuple[ParseResult, str]]:
    """name → (the report as made, its text). Each planted defect costs one indicator."""
    out: dict[str, tuple[ParseResult, str]] = {}
    out["clean"] = (r := made("淮安市财政局", 1), text_of(r))
    out["late"] = (r := made("淮安市教育局", 2, published="2025-03-01"), text_of(r))
    out["no_five"] = (r := made("淮安市民政局", 3), text_of(r, drop="五、"))
    r = made("淮安市人民政府", 4, published="2025-03-20")  # a government: due by 3月31日, on time
    r.cells["requests.new.natural"] += 5  # its row total and the column balance now fail
    out["sums"] = (r, text_of(r))
    r = made("淮安市审计局", 5)
    for key in ("requests.granted.research", "requests.new.social", "review.upheld"):
        r.cells[key] = None
    out["blanks"] = (r, text_of(r))
    r = made("淮安市卫生健康委员会", 6)
    assert r.cells["requests.new.natural"] != 1
    r.cells["requests.new.natural"] = MARK
    out["doubt"] = (r, text_of(r))
    clean_doubt = made("淮安市卫生健康委员会", 6)
    out["doubt_clean"] = (clean_doubt, text_of(clean_doubt))
    out["roll_before"] = (r := made("淮安市水务局", 7, year=2023, published="2024-01-15"), text_of(r))
    out["roll"] = (r := made("淮安市水务局", 8), text_of(r))
    assert any(out["roll"][0].cells[f"requests.carried_over.{c}"] !=
               out["roll_before"][0].cells[f"requests.carried_forward.{c}"] for c in ("natural", "commercial", "total"))
    return out


def expected_scores(region: dict, weights: dict[str, float]) -> dict[str, float]:
    total = sum(weights.values())
    printed = printed_cells("2021", region["blanks"][0].variants)
    lost = {"clean": 0, "late": weights["on_time"], "no_five": weights["sections"], "sums": weights["arithmetic"],
            "blanks": weights["complete"] * 3 / printed, "doubt": 0, "doubt_clean": 0, "roll_before": 0,
            "roll": weights["rollover"]}
    return {k: round(100 * (total - v) / total, 1) for k, v in lost.items()}


def hand_ranks(scores: dict[str, float], names: list[str]) -> dict[str, int]:
    return {n: 1 + sum(1 for m in names if scores[m] > scores[n]) for n in names}


def parsed(region: dict, names: list[str]) -> list[ParseResult]:
    results = [parse_bytes(region[n][1].encode(), region[n][0].source) for n in names]
    audit_all(results)
    return results


YEAR_2024 = ["clean", "late", "no_five", "sums", "blanks", "doubt", "roll"]


def test_a_region_ranks_as_computed_by_hand(region: dict) -> None:
    names = [*YEAR_2024, "roll_before"]
    results = parsed(region, names)
    assert set(results[4].blank) == {"requests.granted.research", "requests.new.social", "review.upheld"}
    ev = evaluate(facts_of(r) for r in results)
    by_source = {r.facts.source: r for r in ev.reports}
    got = {n: by_source[region[n][0].source] for n in names}
    want = expected_scores(region, WEIGHT)
    assert {n: got[n].score for n in names} == {n: want[n] for n in names}
    assert {n: got[n].rank for n in YEAR_2024} == hand_ranks(want, YEAR_2024)
    assert got["sums"].facts.level == "政府" and got["sums"].level_rank == 1
    assert got["clean"].facts.region == "淮安市"
    # every lost point names its finding; the late report's is the deadline
    late = next(i for i in got["late"].indicators if i.id == "on_time")
    assert late.status == "fail" and late.lost[0].rule == "legal.deadline" and "2025-03-01" in late.lost[0].message
    sums = next(i for i in got["sums"].indicators if i.id == "arithmetic")
    assert "requests.new.natural" in {c for f in sums.lost for c in f.cells}
    # rates: one report of eight fails each planted indicator
    rate = {r["id"]: r for r in ev.rates}
    assert rate["on_time"]["failed"] == 1 and rate["rollover"]["failed"] == 1 and rate["sections"]["failed"] == 1
    assert {r["rule"] for r in ev.rule_rates} >= {"legal.deadline", "form.sections", "requests.row_total",
                                                  "years.carried_over", "values.blank"}


def test_a_reading_doubt_never_changes_a_score(region: dict) -> None:
    doubt, clean = parsed(region, ["doubt", "doubt_clean"])
    assert "requests.new.natural" in doubt.inferred and doubt.cells["requests.new.natural"] == 1
    assert any(f.kind == "extraction" and "requests.new.natural" in f.cells for f in doubt.findings)
    scored = evaluate([facts_of(doubt), facts_of(clean)])
    a, b = (next(r for r in scored.reports if r.facts.source == x.source) for x in (doubt, clean))
    assert a.score == b.score == 100.0
    arithmetic = next(i for i in a.indicators if i.id == "arithmetic")
    assert arithmetic.status == "verify" and arithmetic.verify and not arithmetic.lost


def test_a_users_indicator_file_changes_the_ranking(region: dict, tmp_path: Path) -> None:
    scheme = tmp_path / "province.toml"
    scheme.write_text('[[indicator]]\nid = "on_time"\nweight = 60\n\n'
                      '[[indicator]]\nid = "publicity"\nname = "公开平台"\nweight = 5\nrules = ["form.extra_values"]\n',
                      encoding="utf-8")
    chosen = load_indicators(scheme)
    weights = {i.id: i.weight for i in chosen}
    assert weights["on_time"] == 60 and weights["publicity"] == 5 and len(chosen) == len(DEFAULT_INDICATORS) + 1
    results = parsed(region, [*YEAR_2024, "roll_before"])
    ev = evaluate((facts_of(r) for r in results), chosen)
    got = {n: next(r for r in ev.reports if r.facts.source == region[n][0].source) for n in YEAR_2024}
    want = expected_scores(region, weights)
    assert {n: got[n].score for n in YEAR_2024} == {n: want[n] for n in YEAR_2024}
    assert {n: got[n].rank for n in YEAR_2024} == hand_ranks(want, YEAR_2024)
    assert got["late"].rank == len(YEAR_2024)  # late is now the worst; by default the bad sums were
    default = evaluate(facts_of(r) for r in results)
    assert next(r for r in default.reports if r.facts.source == region["sums"][0].source).rank == len(YEAR_2024)
    (tmp_path / "bad.toml").write_text('[[indicator]]\nid = "x"\nweight = 1\n', encoding="utf-8")
    with pytest.raises(ValueError, match="needs"):
        load_indicators(tmp_path / "bad.toml")


def test_a_store_evaluates_by_sql_as_the_files_do(region: dict, tmp_path: Path) -> None:
    names = [*YEAR_2024, "roll_before"]
    results = parsed(region, names)
    store = Store(f"sqlite:///{tmp_path / 'x.db'}")
    for n, r in zip(names, results, strict=True):
        store.add(r, region[n][1].encode(), r.source)
    from_files = {r.facts.source: (r.score, r.rank) for r in evaluate(facts_of(r) for r in results).reports}
    from_store = {r.facts.source: (r.score, r.rank) for r in evaluate(stored_facts(store)).reports}
    assert from_store == from_files
    only = evaluate(stored_facts(store, year=2023)).reports
    assert [r.facts.agency for r in only] == ["淮安市水务局"]


def test_xlsx_and_html_outputs_open(region: dict, tmp_path: Path) -> None:
    ev = evaluate(facts_of(r) for r in parsed(region, [*YEAR_2024, "roll_before"]))
    write(ev, tmp_path / "out" / "ev.xlsx", "xlsx")
    book = openpyxl.load_workbook(tmp_path / "out" / "ev.xlsx")
    assert {"总排名", "政府", "部门", "指标未通过率", "规则触发率", "失分依据", "待核实"} <= set(book.sheetnames)
    evidence = [row for row in book["失分依据"].iter_rows(values_only=True)]
    assert any(row[1] == 2024 and row[5] == "legal.deadline" and row[0] == "淮安市教育局" for row in evidence)
    ranking = list(book["总排名"].iter_rows(values_only=True))
    assert ranking[0][:6] == ("排名", "机关", "年度", "层级", "地区", "得分") and len(ranking) == 1 + len(ev.reports)
    write(ev, tmp_path / "ev.html", "html")
    from playwright.sync_api import sync_playwright

    from .test_browser import ARGS, CHROMIUM

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto((tmp_path / "ev.html").as_uri())
        for chart in ("eval-scores", "eval-failed", "eval-regions"):
            page.wait_for_selector(f"#{chart} canvas", timeout=10_000)
        assert page.locator("table").first.locator("tr").count() == 1 + len(ev.reports)
        browser.close()
    assert not errors


def test_the_evaluation_page_ranks_filters_and_exports(region: dict, tmp_path: Path) -> None:
    import json
    import urllib.request

    from playwright.sync_api import sync_playwright

    from xxgk.serve.app import create_app

    from .test_browser import ARGS, CHROMIUM

    names = [*YEAR_2024, "roll_before"]
    store = Store(f"sqlite:///{tmp_path / 'web.db'}")
    for n, r in zip(names, parsed(region, names), strict=True):
        store.add(r, region[n][1].encode(), r.source)
    with running(create_app(store, None)) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page()
        page.goto(f"{url}/evaluate")
        page.select_option("select[name=year]", "2024")
        page.click("form.filters button")
        page.wait_for_selector("#eval-scores canvas", timeout=10_000)
        rows = page.locator("table.list").first.locator("tr")
        assert rows.count() == 1 + len(YEAR_2024)
        first = rows.nth(1).inner_text()
        assert first.startswith("1") and "100" in first
        assert "勾稽关系 −20" in page.locator("table.list").first.inner_text()
        page.goto(f"{url}/evaluate?year=2024&level=政府")
        assert page.locator("table.list").first.locator("tr").count() == 2
        page.click("table.list a")  # the agency's report: its evidence
        assert "/reports/" in page.url and "淮安市人民政府" in page.content()
        page.goto(f"{url}/evaluate?year=abc")
        assert "年度须为" in page.content()
        browser.close()
        with urllib.request.urlopen(f"{url}/api/evaluate?format=xlsx&year=2024") as r:
            (tmp_path / "e.xlsx").write_bytes(r.read())
        assert "失分依据" in openpyxl.load_workbook(tmp_path / "e.xlsx").sheetnames
        with urllib.request.urlopen(f"{url}/api/evaluate") as r:
            data = json.loads(r.read())
        assert {r["agency"] for r in data["reports"]} >= {"淮安市财政局", "淮安市水务局"}


def test_files_of_one_agency_year_are_ranked_once(region: dict, tmp_path: Path) -> None:
    import json
    import subprocess

    from xxgk.compose.render import to_html

    from .conftest import REPO

    clean, text = region["clean"]
    (tmp_path / "page.txt").write_text(text, encoding="utf-8")
    (tmp_path / "page.html").write_text(to_html(clean), encoding="utf-8")  # the same report as a web page
    (tmp_path / "late.txt").write_text(region["late"][1], encoding="utf-8")
    proc = subprocess.run([str(REPO / ".venv" / "bin" / "xxgk"), "evaluate", str(tmp_path), "--format", "json",
                           "--jobs", "1"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    ranked = json.loads(proc.stdout)["reports"]
    assert sorted(r["agency"] for r in ranked) == ["淮安市教育局", "淮安市财政局"]
    assert [r["rank"] for r in sorted(ranked, key=lambda r: r["rank"])] == [1, 2]

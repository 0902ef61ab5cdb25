"""Issue 16 (web-b): a reviewer reads a report (二's headings, label paths, rule names, an HTML
report's cell marked in its source), compares an agency's years, browses by region; in Debian's
chromium against a real server, over reports rendered from the corpus' gold maps and parsed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from xxgk.compose.render import to_html
from xxgk.compose.synth import from_gold
from xxgk.parse import parse_bytes
from xxgk.serve.app import create_app
from xxgk.store import Store

from .conftest import REAL, running
from .test_browser import ARGS, CHROMIUM

HONGZE_2023, HONGZE_2024 = REAL / "hongze-2023.gold.json", REAL / "hongze-2024.gold.json"
HUAIAN_2024 = REAL / "huaian-2024.gold.json"


HONGZE = "淮安市洪泽区人民政府"


def stored_html(store: Store, gold: Path, name: str, cells: dict | None = None, tail: str = "",
                **changes: object) -> int:
    """A gold map rendered as an HTML page (`tail` appended: another file of the same report),
    parsed as an upload is, and stored: its report id."""
    result = from_gold(gold)
    result.cells.update(cells or {})
    for k, v in changes.items():
        setattr(result, k, v)
    data = (to_html(result) + tail).encode()
    return store.add(parse_bytes(data, name), data, name)


# 洪泽's 2023 report as if for 2022, carrying 2 applications forward that its 2023 report does not take
# over (its 上年结转 is 0): the balance of 2022 kept (2 more carried over into it as well)
BROKEN_2022 = {"requests.carried_forward.natural": 2, "requests.carried_forward.total": 2,
               "requests.carried_over.natural": 2, "requests.carried_over.total": 2}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    from xxgk.parse import parse_file

    from .conftest import SEEDS

    store = Store(f"sqlite:///{tmp_path_factory.mktemp('browse') / 'xxgk.db'}")
    stored_html(store, HONGZE_2023, "hongze-2022.html", cells=BROKEN_2022, year=2022)
    stored_html(store, HONGZE_2023, "hongze-2023.html")
    stored_html(store, HONGZE_2024, "hongze-2024.html")
    for copy in range(3):  # re-uploads of one agency-year: other bytes, the same report
        stored_html(store, HUAIAN_2024, f"huaian-2024-{copy}.html", tail=f"<!-- {copy} -->")
    for seed in ("000_d5b9bd303c21ba6d.txt", "003_ca5209cc26856f4b.txt"):  # 广州: a 2020 street, a 2019 bureau
        store.add(parse_file(SEEDS / seed), (SEEDS / seed).read_bytes(), seed)
    return store


@pytest.fixture(scope="module")
def client(store: Store) -> TestClient:
    return TestClient(create_app(store, None))


@pytest.fixture(scope="module")
def url(store: Store) -> Iterator[str]:
    with running(create_app(store, None)) as base:
        yield base


@pytest.fixture(scope="module")
def page(url: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser.new_page()
        browser.close()


def report_id(store: Store, source: str) -> int:
    return next(r.id for r in store.reports() if r.source_name == source)


# ---------------------------------------------------------------- item 1: a report page says what it shows
def test_table_two_has_its_column_heads_per_group(store: Store, url: str, page) -> None:
    page.goto(f"{url}/reports/{report_id(store, 'hongze-2024.html')}")
    table = page.locator("table.cells").first
    heads = table.locator("tr.group").all_inner_texts()
    assert heads[0].split("\t")[:4] == ["第二十条第（一）项", "本年制发件数", "本年废止件数", "现行有效件数"]
    assert any("本年处理决定数量" in h for h in heads)
    # the row under the heads holds 规章's three numbers in the heads' order
    regulations = table.locator("tr", has_text="规章").first
    keys = regulations.locator("td.cell").evaluate_all("tds => tds.map(td => td.dataset.key)")
    assert keys == ["active.regulations.issued", "active.regulations.repealed", "active.regulations.in_force"]


def test_a_clicked_cell_says_its_label_path_not_its_key(store: Store, url: str, page) -> None:
    page.goto(f"{url}/reports/{report_id(store, 'hongze-2024.html')}")
    page.click('td.cell[data-key="requests.new.natural"]')
    where = page.inner_text("#where")
    assert where.startswith("三、收到和处理政府信息公开申请情况 / 一、本年新收政府信息公开申请数量 / 自然人")
    assert "requests.new.natural" not in where


def test_the_overview_names_what_each_rule_checks(store: Store, client: TestClient) -> None:
    from xxgk.audit import rule_summaries

    rules = store.overview()["rules"]
    assert rules, "the rendered reports have findings"
    html = client.get("/").text
    for rule, _ in rules:
        assert rule_summaries()[rule] in html


# ---------------------------------------------------------------- item 2: the cell marked in its source
def test_an_html_reports_cell_is_marked_in_its_own_rendered_tables(store: Store, url: str, page) -> None:
    rid = report_id(store, "hongze-2024.html")
    result = store.report(rid).result
    key = "requests.granted.total"
    where = result["provenance"][key]
    page.goto(f"{url}/reports/{rid}")
    assert page.locator(".source table.source-table").count() == 3  # 二, 三, 四 drawn as tables
    page.click(f'td.cell[data-key="{key}"]')
    hit = page.locator(".source-table td.hit")
    assert hit.count() == 1
    assert hit.inner_text().strip() == where["text"] == str(int(result["cells"][key]))
    assert hit.get_attribute("data-at") == f"{where['table']}-{where['row']}-{where['column']}"
    assert hit.is_visible()
    page.click('td.cell[data-key="requests.new.total"]')  # another cell: the mark moves
    assert page.locator(".source-table td.hit").count() == 1
    assert page.locator(".source-table td.hit").inner_text().strip() == \
        str(int(result["cells"]["requests.new.total"]))



def test_a_word_reports_tables_are_drawn_with_each_value_findable_by_its_provenance(tmp_path: Path) -> None:
    import re

    from xxgk.compose.render import to_docx

    store = Store(f"sqlite:///{tmp_path / 'x.db'}")
    data = to_docx(from_gold(HUAIAN_2024))
    rid = store.add(parse_bytes(data, "r.docx"), data, "r.docx")
    html = TestClient(create_app(store, None)).get(f"/reports/{rid}").text
    result = store.report(rid).result
    assert html.count('class="source-table"') == 3
    for key in ("requests.new.total", "review.upheld", "active.normative.in_force"):
        where = result["provenance"][key]
        at = f"{where['table']}-{where['row']}-{where['column']}"
        assert re.findall(rf'data-at="{at}">([^<]*)<', html) == [where["text"]] == [str(int(result["cells"][key]))]


# ---------------------------------------------------------------- item 3: charts and missing years
def chart_data(html: str) -> dict:
    import json
    import re

    return json.loads(re.search(r'id="chart-data">(.*?)</script>', html, re.S).group(1))


def test_agency_charts_take_computed_totals_and_one_bar_a_year(client: TestClient) -> None:
    data = chart_data(client.get(f"/agencies/{HONGZE}").text)
    assert data["years"] == ["2022", "2023", "2024"]
    review = next(s["data"] for s in data["review"] if s["name"] == "行政复议")
    # 2023 prints 行政复议 总计 0 beside 维持 10 + 纠正 1: the chart shows the 11 cases
    assert review[1] == 11
    assert 'title="原文印为 0，各项之和为 11">11*</span>' in client.get(f"/agencies/{HONGZE}").text  # its table too
    huaian = chart_data(client.get("/agencies/淮安市人民政府").text)
    assert huaian["years"] == ["2024"]  # three stored files of 2024, one bar


def test_charts_sum_parts_only_where_they_are_all_there() -> None:
    from xxgk.formats import FORMATS
    from xxgk.serve.views import computed_totals

    fmt = FORMATS["2021"]
    cells = {"review.upheld": 10, "review.corrected": 1, "review.other": 0, "review.pending": 0, "review.total": 0}
    assert computed_totals(cells, fmt)["review.total"] == 11
    assert computed_totals({**cells, "review.total": None}, fmt)["review.total"] == 11
    assert computed_totals({**cells, "review.pending": None}, fmt)["review.total"] == 0  # a part unread: as printed
    assert computed_totals({**cells, "review.total": 11}, fmt)["review.total"] == 11


def test_missing_years_are_each_agencys_own(store: Store, client: TestClient) -> None:
    from xxgk.store.browse import gaps, missing_years

    assert gaps([2020, 2022], 2024) == [2021, 2023, 2024]
    assert gaps([2024], 2024) == []
    missing = dict(missing_years(store))
    assert "淮安市人民政府" not in missing  # its first report is of the latest year: 2019 is not its gap
    assert HONGZE not in missing
    assert missing["广州市海珠区新港街道办事处"] == (2021, 2022, 2023, 2024)
    html = client.get("/").text
    assert "淮安市人民政府" not in html.split("缺少年度报告的机关")[1]


def test_missing_years_are_paged(tmp_path: Path) -> None:
    from xxgk.result import ParseResult
    from xxgk.serve import ui

    store = Store(f"sqlite:///{tmp_path / 'x.db'}")
    for i in range(ui.MISSING_PAGE + 3):  # agencies each with 2020 and 2022, none with 2021
        for year in (2020, 2022):
            result = ParseResult(source=f"{i}-{year}.txt", agency=f"某市第{i:03d}局", year=year, template="2019")
            store.add(result, f"{i} {year}".encode(), result.source)
    client = TestClient(create_app(store, None))
    first, second = client.get("/").text, client.get("/?missing=2").text
    assert "第 1/2 页" in first and "某市第000局" in first and "某市第052局" not in first
    assert "某市第052局" in second and "某市第000局" not in second
    assert second.count("<td>2021</td>") == 3


# ---------------------------------------------------------------- item 4: an agency's years compared
def test_compare_two_years_side_by_side_marks_changes_and_the_broken_roll_over(store: Store, url: str, page) -> None:
    page.goto(f"{url}/agencies/{HONGZE}")
    page.click("text=2022 与 2023")
    assert page.url.endswith("/compare?years=2022&years=2023")
    heads = page.locator("table.compare tr").first.inner_text()
    assert "2022" in heads and "2023" in heads
    rows = page.locator("table.compare tr[data-key]")
    assert rows.count() >= 180  # every cell of the format
    carried = page.locator('tr[data-key="requests.carried_over.natural"]')
    assert "三、收到和处理政府信息公开申请情况 / 二、上年结转政府信息公开申请数量 / 自然人" in carried.inner_text()
    assert carried.locator("td").nth(1).get_attribute("class") == "rollover-bad"  # 2023's 0 after 2022's 2
    assert carried.locator("td").nth(0).inner_text() == "2"
    assert page.locator('tr[data-key="requests.carried_over.commercial"] td').nth(1).get_attribute("class") \
        == "rollover-ok"
    assert "2023 年：" in page.inner_text("ul.checks")
    # a value that differs from the year before is marked; one that does not, not
    page.goto(f"{url}/agencies/{HONGZE}")
    page.click("text=2023 与 2024")
    a, b = store.reports(year=2023, agency=HONGZE)[0], store.reports(year=2024, agency=HONGZE)[0]
    va, vb = ({c.key: c.value for c in r.cells} for r in (store.report(a.id), store.report(b.id)))
    changed = [k for k in vb if va.get(k) != vb[k] and vb[k] is not None and va.get(k) is not None
               and not k.startswith("requests.carried")]
    same = [k for k in vb if va.get(k) == vb[k] and not k.startswith("requests.carried")]
    assert changed and same
    assert page.locator(f'tr[data-key="{changed[0]}"] td').nth(1).get_attribute("class") == "changed"
    assert page.locator(f'tr[data-key="{same[0]}"] td').nth(1).get_attribute("class") in ("", None)
    # the chain over every year is drawn, the 2023 break marked; case axes tick at integers
    page.wait_for_function("() => window.echarts && echarts.getInstanceByDom(document.getElementById('chart-chain'))")
    ticks = page.evaluate("() => echarts.getInstanceByDom(document.getElementById('chart-chain')).getModel()"
                          ".getComponent('yAxis', 0).axis.scale.getTicks().map(t => t.value)")
    assert ticks and all(float(t).is_integer() for t in ticks)
    chain = page.evaluate("() => JSON.parse(document.getElementById('chain-data').textContent)")
    assert chain["years"] == ["2022", "2023", "2024"]
    assert chain["breaks"] == [{"year": 2023, "carried": 0, "before": 2}]


def test_compare_checks_its_years(client: TestClient) -> None:
    assert client.get(f"/agencies/{HONGZE}/compare?years=1999").status_code == 422
    assert "年度须是" in client.get(f"/agencies/{HONGZE}/compare?years=1999").text
    assert client.get(f"/agencies/{HONGZE}/compare?years=2019").status_code == 404
    assert "没有 2019 年度的报告" in client.get(f"/agencies/{HONGZE}/compare?years=2019&years=2023").text
    assert client.get("/agencies/没有的机关/compare?years=2020").status_code == 404
    every = client.get(f"/agencies/{HONGZE}/compare").text  # no year chosen: all of them
    assert all(f'">{y}</a></th>' in every for y in (2022, 2023, 2024))


# ---------------------------------------------------------------- item 5: by region and level
def test_regions_group_agencies_by_region_and_level_with_totals(store: Store, url: str, page) -> None:
    page.goto(url)
    page.click("header >> text=地区")
    assert page.url.endswith("/regions")
    groups = {tuple(t.split("\t")[:2]): t.split("\t")[2:] for t in page.locator("tr.group").all_inner_texts()}
    huaian = groups[("淮安市", "政府")]
    assert huaian[0] == "2 个"  # 淮安市人民政府 and 洪泽区人民政府
    assert huaian[1] == "4"  # 洪泽 2022–2024, 淮安 2024 once (its copies are not counted)
    received = sum(v for r in store.reports() if r.current and r.agency_name and "淮安" in (r.agency.name or "")
                   for v in [{c.key: c.value for c in store.report(r.id).cells}["requests.new.total"]])
    assert float(huaian[2]) == received
    assert ("广州市", "街道乡镇") in groups and ("广州市", "部门") in groups
    page.click("tr.group >> text=淮安市")
    names = page.locator("tr.agency a").all_inner_texts()
    assert sorted(names) == ["淮安市人民政府", HONGZE]


# ---------------------------------------------------------------- item 6: pages over a large store
def test_the_list_shows_each_files_newest_parse_kept_through_a_delete(tmp_path: Path) -> None:
    from xxgk.compose.render import to_text

    store = Store(f"sqlite:///{tmp_path / 'x.db'}")
    base = from_gold(HONGZE_2024)
    data = to_text(base).encode()
    old = parse_bytes(data, "r.txt")
    first = store.add(old, data, "r.txt")
    newer = store.add(old.model_copy(update={"parser_version": "9.0.0"}), data, "r.txt")
    assert [r.id for r in store.reports()] == [newer] and store.count() == 1
    assert store.overview()["reports"] == 1
    store.delete(newer)  # the older parse is the file's newest again
    assert [r.id for r in store.reports()] == [first] and store.count() == 1


def test_every_page_answers_over_a_bulk_store(tmp_path: Path) -> None:
    from xxgk.bench import time_pages

    from .conftest import SHARED

    pages = time_pages(300, tmp_path, SHARED / "corpus", samples=3)  # raises on any answer but 200
    assert pages["reports"] == 300
    assert all(pages[p] > 0 for p in ("list", "report", "agency", "overview", "regions"))

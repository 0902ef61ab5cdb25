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


def stored_html(store: Store, gold: Path, name: str, **changes: object) -> int:
    """A gold map rendered as an HTML page, parsed as an upload is, and stored: its report id."""
    result = from_gold(gold)
    for k, v in changes.items():
        setattr(result, k, v)
    data = to_html(result).encode()
    return store.add(parse_bytes(data, name), data, name)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('browse') / 'xxgk.db'}")
    stored_html(store, HONGZE_2023, "hongze-2023.html")
    stored_html(store, HONGZE_2024, "hongze-2024.html")
    stored_html(store, HUAIAN_2024, "huaian-2024.html")
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

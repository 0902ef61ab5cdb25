"""A reviewer's day in Debian's chromium (Playwright) against a real server and store: who may
write, reviews that change the counts, cells corrected (and kept through a re-parse), a report's
status; the same work through the API (TestClient)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from xxgk.parse import parse_bytes
from xxgk.serve.app import create_app
from xxgk.store import Store

from . import test_browser, test_store
from .conftest import SEEDS, running

browser = test_browser.browser  # a chromium for the module
postgres = test_store.postgres  # fixtures: a PostgreSQL server, and a store's URL on SQLite and on it
store_url = test_store.url

TOKEN = "review-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
HAIZHU = SEEDS / "000_d5b9bd303c21ba6d.txt"  # 新港街道 2020: 3 new applications, all from 自然人
SHIBI = SEEDS / "002_64090608850f335c.txt"  # 石壁街道: one error (published before its year ended)
NATURAL = "requests.new.natural"


def misprinted() -> bytes:
    """新港街道's report with its 自然人 new applications printed 5 instead of 3: the row total (3)
    and the column's balance then fail, until a reviewer corrects the cell back to 3."""
    lines = HAIZHU.read_text(encoding="utf-8").split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("一、本年新收政府信息公开申请数量"))
    assert lines[at].split("\t")[2] == "3"
    cells = lines[at].split("\t")
    cells[2] = "5"
    lines[at] = "\t".join(cells)
    return "\n".join(lines).encode()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Store]]:
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('review') / 'xxgk.db'}")
    for name, data in (("haizhu-misprinted.txt", misprinted()), (SHIBI.name, SHIBI.read_bytes())):
        store.add(parse_bytes(data, name), data, name)
    with running(create_app(store, TOKEN)) as url:
        yield url, store



def _id(store: Store, name: str) -> int:
    return next(r.id for r in store.reports() if r.source_name == name)


def _login(page, url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{url}/login")
    page.fill("input[name=token]", TOKEN)
    page.click("form.login button")
    page.wait_for_url(f"{url}/")


def _submit(page, selector: str) -> None:  # type: ignore[no-untyped-def]
    """Click a form's button and wait for the page it leads to (maybe this same page again)."""
    with page.expect_navigation():
        page.click(selector)


def _row(page, name: str):  # type: ignore[no-untyped-def]
    return page.locator("#reports tr", has_text=name)


def test_anonymous_users_see_no_writes_and_signed_in_users_can_sign_out(site, browser) -> None:  # type: ignore[no-untyped-def]
    url, store = site
    page = browser.new_page()
    page.goto(f"{url}/")
    assert page.locator("#upload").count() == 0 and page.locator("header nav a", has_text="登录").count() == 1
    page.goto(f"{url}/reports/{_id(store, SHIBI.name)}")
    assert page.locator(".findings li.error").count() == 1
    assert page.locator("form.review, form.correct, form.status-form, #delete-report").count() == 0
    assert page.locator("#download-source").count() == 1  # reading the file needs no token

    _login(page, url)
    assert page.locator("#upload").count() == 1
    assert page.locator("header nav a", has_text="登录").count() == 0
    # a file that is not a report: the reason in Chinese
    notes = "会议纪要：今天讨论了食堂的菜单。\n".encode() * 20
    page.set_input_files("#upload input[type=file]", files=[{"name": "notes.txt", "mimeType": "text/plain",
                                                             "buffer": notes}])
    page.click("#upload button[type=submit]")
    body = page.inner_text("main")
    assert "notes.txt" in body and "不是政府信息公开工作年度报告" in body and "not a" not in body

    # the same file again: said so, not stored twice
    page.goto(f"{url}/")
    page.set_input_files("#upload input[type=file]", str(SHIBI))
    page.click("#upload button[type=submit]")
    page.wait_for_url(f"{url}/reports/*")
    assert "此文件已上传过" in page.inner_text("#again")
    assert page.url.split("?")[0].endswith(f"/reports/{_id(store, SHIBI.name)}")
    assert len([r for r in store.reports() if r.source_name == SHIBI.name]) == 1

    page.click("header form.logout button")
    page.wait_for_url(f"{url}/")
    assert page.locator("#upload").count() == 0 and page.locator("header nav a", has_text="登录").count() == 1
    assert page.context.cookies() and all(c["name"] != "xxgk_token" for c in page.context.cookies())
    page.close()


def test_a_dismissed_error_stops_counting_in_the_list_the_filter_and_the_overview(site, browser) -> None:  # type: ignore[no-untyped-def]
    url, store = site
    page = browser.new_page()
    _login(page, url)
    rid = _id(store, SHIBI.name)
    errors_before = int(page.inner_text(".totals div:nth-child(4) b"))
    page.goto(f"{url}/reports?errors=true")
    assert _row(page, SHIBI.name).locator("td.n-error").inner_text() == "1"

    page.goto(f"{url}/reports/{rid}")
    _submit(page, ".findings li.error button[value=dismissed]")
    assert page.locator(".findings li.error.dismissed").count() == 1

    page.goto(f"{url}/reports")
    assert _row(page, SHIBI.name).locator("td.n-error").inner_text() == "0"
    page.goto(f"{url}/reports?errors=true")
    assert _row(page, SHIBI.name).count() == 0
    page.goto(f"{url}/")
    assert int(page.inner_text(".totals div:nth-child(4) b")) == errors_before - 1

    page.goto(f"{url}/reports/{rid}")  # undone: it counts again
    _submit(page, ".findings li.error button[value=confirmed]")
    page.goto(f"{url}/reports?errors=true")
    assert _row(page, SHIBI.name).locator("td.n-error").inner_text() == "1"
    page.close()


def test_a_corrected_cell_reruns_the_audit_survives_a_reparse_and_is_exported(site, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url, store = site
    name = "haizhu-misprinted.txt"
    rid = _id(store, name)
    page = browser.new_page(accept_downloads=True)
    page.goto(f"{url}/reports/{rid}")
    rules = page.locator(".findings li.error code").all_inner_texts()
    assert {"requests.row_total", "requests.balance"} <= set(rules)
    assert page.locator(f'td.cell[data-key="{NATURAL}"]').inner_text() == "5"

    _login(page, url)
    page.goto(f"{url}/reports/{rid}")
    page.click(f'td.cell[data-key="{NATURAL}"]')  # chooses the cell in the form
    assert page.input_value("#correct-key") == NATURAL and page.input_value("#correct-value") == "5"
    page.fill("form.correct input[name=value]", "3")
    page.fill("form.correct input[name=note]", "原文表格打印错误，核对申请台账为 3 件")
    page.fill("form.correct input[name=who]", "张三")
    _submit(page, "form.correct button")
    cell = page.locator(f'td.cell.corrected[data-key="{NATURAL}"]')
    assert cell.inner_text() == "3" and "读取值 5" in cell.get_attribute("title")
    row = page.locator("table.corrections tr", has_text="张三")
    assert row.locator("td.read").inner_text() == "5" and row.locator("td.value").inner_text() == "3"
    assert "台账" in row.locator("td.note").inner_text()
    rules = page.locator(".findings li.error code").all_inner_texts()
    assert "requests.row_total" not in rules and "requests.balance" not in rules  # audited again
    assert store.report(rid).result["cells"][NATURAL] == 5  # the value read is kept

    # parsed again by a newer parser: the correction still holds, the findings too
    data = store.source(store.report(rid).digest)[1]
    reread = parse_bytes(data, name)
    assert reread.cells[NATURAL] == 5 and "requests.row_total" in {f.rule for f in reread.findings}
    again = store.add(reread.model_copy(update={"parser_version": "test-next"}), data, name)
    assert again != rid
    page.goto(f"{url}/reports/{again}")
    assert page.locator(f'td.cell.corrected[data-key="{NATURAL}"]').inner_text() == "3"
    assert "requests.row_total" not in page.locator(".findings li code").all_inner_texts()
    page.goto(f"{url}/reports")
    assert _row(page, name).locator("td.n-error").inner_text() == "0"

    # the export says which cells were corrected, and has the corrected value
    page.goto(f"{url}/reports?q=新港")
    with page.expect_download() as download:
        page.click("#export-csv")
    saved = tmp_path / "export.csv"
    download.value.save_as(saved)
    (exported,) = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert exported["corrected"] == NATURAL and exported[NATURAL] == "3"

    # withdrawn: the value read is in force again, and so are its errors
    page.goto(f"{url}/reports/{again}")
    _submit(page, "table.corrections form.withdraw button")
    assert page.locator(f'td.cell[data-key="{NATURAL}"]').inner_text() == "5"
    assert "requests.row_total" in page.locator(".findings li.error code").all_inner_texts()
    page.close()


def test_a_reports_status_is_set_filtered_counted_and_exported(site, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url, store = site
    rid = _id(store, SHIBI.name)
    page = browser.new_page(accept_downloads=True)
    _login(page, url)
    pending_before = int(page.locator("#status-counts a", has_text="待审").locator("b").inner_text())
    page.goto(f"{url}/reports/{rid}")
    assert page.inner_text("#report-status") == "待审"
    page.select_option("form.status-form select[name=status]", "returned")
    page.fill("form.status-form input[name=note]", "发布日期早于年度结束，请核实")
    _submit(page, "form.status-form button")
    assert page.inner_text("#report-status") == "退回" and "请核实" in page.inner_text(".review-note")

    page.goto(f"{url}/reports")
    page.select_option("form.filters select[name=status]", "returned")
    page.click("form.filters button")
    assert "status=returned" in page.url
    assert page.locator("#reports tr td.review-status").all_inner_texts() == ["退回"]
    assert _row(page, SHIBI.name).count() == 1
    page.goto(f"{url}/")
    assert page.locator("#status-counts a", has_text="退回").locator("b").inner_text() == "1"
    assert int(page.locator("#status-counts a", has_text="待审").locator("b").inner_text()) == pending_before - 1

    page.goto(f"{url}/reports?status=returned")
    with page.expect_download() as download:
        page.click("#export-csv")
    saved = tmp_path / "status.csv"
    download.value.save_as(saved)
    rows = {r["source"]: r for r in csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig")))}
    assert rows[SHIBI.name]["review_status"] == "退回" and "请核实" in rows[SHIBI.name]["review_note"]
    page.close()


def test_a_report_is_deleted_from_its_page_after_confirming(tmp_path: Path, browser) -> None:  # type: ignore[no-untyped-def]
    store = Store(f"sqlite:///{tmp_path / 'x.db'}")
    rid = store.add(parse_bytes(SHIBI.read_bytes(), SHIBI.name), SHIBI.read_bytes(), SHIBI.name)
    with running(create_app(store, TOKEN)) as url:
        page = browser.new_page()
        _login(page, url)
        page.goto(f"{url}/reports/{rid}")
        page.once("dialog", lambda d: d.dismiss())  # 取消: nothing happens
        page.click("#delete-report button")
        assert store.report(rid) is not None
        page.once("dialog", lambda d: d.accept())
        page.click("#delete-report button")
        page.wait_for_url(f"{url}/reports?deleted=true")
        assert "报告已删除" in page.inner_text("main") and store.report(rid) is None
        page.close()


def test_reviewers_work_in_the_store_on_sqlite_and_postgresql(store_url: str) -> None:
    store = Store(store_url)
    data = misprinted()
    rid = store.add(parse_bytes(data, "h.txt"), data, "h.txt")
    shibi = store.add(parse_bytes(SHIBI.read_bytes(), SHIBI.name), SHIBI.read_bytes(), SHIBI.name)
    assert store.open_counts([rid])[rid]["error"] == 2 and store.count(errors=True) == 2
    store.correct(rid, NATURAL, 3, "台账为 3 件", "张三")
    assert store.open_counts([rid])[rid]["error"] == 0 and store.cell_values([rid])[rid][NATURAL] == 3
    again = store.add(parse_bytes(data, "h.txt").model_copy(update={"parser_version": "test-next"}), data, "h.txt")
    assert store.open_counts([again])[again]["error"] == 0 and store.cell_values([again])[again][NATURAL] == 3
    error = next(f for f in store.report(shibi).findings if f.severity == "error")
    store.review(error.id, "dismissed")
    assert store.count(errors=True) == 0 and store.overview()["errors"] == 0
    store.set_report_status(store.report(shibi).digest, "退回", "请核实")
    assert store.count(status="returned") == 1 and store.count(status="pending") == 1
    assert store.overview()["statuses"] == {"pending": 1, "reviewed": 0, "returned": 1}
    assert store.withdraw(again, NATURAL) and store.open_counts([again])[again]["error"] == 2


def test_a_correction_holds_when_the_agencys_other_years_are_stored(tmp_path: Path) -> None:
    from .test_pairing import _report

    def misprint(data: bytes) -> bytes:  # 自然人 new applications 2 where the row's total says 0
        lines = data.decode().split("\n")
        at = next(i for i, line in enumerate(lines) if line.strip() == "一、本年新收政府信息公开申请数量")
        assert lines[at + 1] == "\t0"
        lines[at + 1] = "\t2"
        return "\n".join(lines).encode()

    store = Store(f"sqlite:///{tmp_path / 'x.db'}")
    later = misprint(_report("沭阳县财政局", 2022))
    rid = store.add(parse_bytes(later, "2022.txt"), later, "2022.txt")
    assert store.open_counts([rid])[rid]["error"] >= 1
    store.correct(rid, NATURAL, 0, "台账为 0 件")
    assert store.open_counts([rid])[rid]["error"] == 0
    earlier = _report("沭阳县财政局", 2021)  # storing the year before audits 2022 again, against it
    before = store.add(parse_bytes(earlier, "2021.txt"), earlier, "2021.txt")
    assert store.report(before).agency_id == store.report(rid).agency_id
    assert store.open_counts([rid])[rid]["error"] == 0, [f.message for f in store.report(rid).findings]


# ------------------------------------------------------------ the API (TestClient)
@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    return TestClient(create_app(Store(f"sqlite:///{tmp_path / 'api.db'}"), TOKEN))


def _upload(client: TestClient, name: str, data: bytes) -> object:
    return client.post("/api/reports", files={"file": (name, data)}, headers=AUTH)


def test_corrections_and_status_through_the_api(client: TestClient) -> None:
    created = _upload(client, "haizhu.txt", misprinted()).json()
    rid = created["id"]
    assert created["findings"]["error"] == 2 and created["status"] == "pending"
    cell = f"/api/reports/{rid}/cells/{NATURAL}"
    assert client.put(cell, json={"value": 3}).status_code == 401
    bad = {"requests.nonsense": {"value": 1}, NATURAL: {"value": -1}}
    for key, body in bad.items():
        refused = client.put(f"/api/reports/{rid}/cells/{key}", json=body, headers=AUTH)
        assert refused.status_code == 422 and any("\u4e00" <= ch <= "\u9fff" for ch in refused.json()["detail"])
    assert client.put(cell, json={"value": 2.5}, headers=AUTH).status_code == 422  # a count is whole
    garbled = client.put(cell, content=b"{value: 3", headers={**AUTH, "content-type": "application/json"})
    assert garbled.status_code == 422 and "不是有效的 JSON" in garbled.json()["detail"]
    done = client.put(cell, json={"value": 3, "note": "台账为 3 件"}, headers=AUTH).json()
    assert done["read"] == 5 and done["value"] == 3 and done["who"] == "审核人"
    assert client.get(f"/api/reports/{rid}/cells").json()[NATURAL] == 3
    assert client.get(f"/api/reports/{rid}").json()["cells"][NATURAL] == 5  # the result as read
    assert [s["findings"]["error"] for s in client.get("/api/reports").json()] == [0]
    assert [c["key"] for c in client.get(f"/api/reports/{rid}/corrections").json()] == [NATURAL]
    blank = client.put(f"/api/reports/{rid}/cells/requests.new.legal", json={"value": None}, headers=AUTH)
    assert blank.status_code == 200 and client.get(f"/api/reports/{rid}/cells").json()["requests.new.legal"] is None
    assert client.delete(f"/api/reports/{rid}/cells/requests.new.legal", headers=AUTH).status_code == 204
    both = {NATURAL: 9, "requests.new.total": 9}  # the chart shows the corrected count, by total or by parts
    for key, value in both.items():
        assert client.put(f"/api/reports/{rid}/cells/{key}", json={"value": value}, headers=AUTH).status_code == 200
    agency = client.get(f"/agencies/{created['agency']}").text
    charts = json.loads(agency.split('id="chart-data">')[1].split("</script>")[0])
    assert charts["received"] == [9]
    assert client.put(f"/api/reports/{rid}/cells/{NATURAL}", json={"value": 3}, headers=AUTH).status_code == 200
    assert client.delete(f"/api/reports/{rid}/cells/requests.new.total", headers=AUTH).status_code == 204
    assert client.delete(cell, headers=AUTH).status_code == 204
    assert client.delete(cell, headers=AUTH).status_code == 404
    assert client.get(f"/api/reports/{rid}/cells").json()[NATURAL] == 5
    assert client.get("/api/reports").json()[0]["findings"]["error"] == 2

    assert client.put(f"/api/reports/{rid}/status", json={"status": "done"}, headers=AUTH).status_code == 422
    status = client.put(f"/api/reports/{rid}/status", json={"status": "已审", "note": "无误", "who": "李四"},
                        headers=AUTH).json()
    assert status["status"] == "reviewed" and status["who"] == "李四"
    assert [s["id"] for s in client.get("/api/reports?status=reviewed").json()] == [rid]
    assert client.get("/api/reports?status=pending").json() == []

    # a dismissed error no longer counts; the forms need the login and the CSRF token
    error = next(f for f in client.get(f"/api/reports/{rid}/findings").json() if f["severity"] == "error")
    client.post(f"/api/findings/{error['id']}/review", data={"status": "dismissed"}, headers=AUTH)
    assert client.get("/api/reports").json()[0]["findings"]["error"] == 1
    form = {"key": NATURAL, "value": "3"}
    assert client.post(f"/reports/{rid}/cells", data=form).status_code == 401
    client.get("/login")
    csrf = client.cookies.get("xxgk_csrf")
    client.post("/login", data={"token": TOKEN, "csrf": csrf})
    assert client.post(f"/reports/{rid}/cells", data=form).status_code == 403  # no CSRF token
    done = client.post(f"/reports/{rid}/cells", data={**form, "csrf": csrf}, follow_redirects=False)
    assert done.status_code == 303 and client.get(f"/api/reports/{rid}/cells").json()[NATURAL] == 3


def test_the_report_list_api_is_paged_and_typed(client: TestClient) -> None:
    ids = [_upload(client, p.name, p.read_bytes()).json()["id"] for p in sorted(SEEDS.glob("00[0-3]_*.txt"))]
    first = client.get("/api/reports?limit=2")
    assert first.headers["x-total-count"] == "4" and len(first.json()) == 2
    rest = client.get("/api/reports?offset=2&limit=2").json()
    assert sorted([r["id"] for r in first.json()] + [r["id"] for r in rest]) == sorted(ids)
    assert client.get("/api/reports?limit=1001").status_code == 422
    schema = client.get("/openapi.json").json()
    models = schema["components"]["schemas"]
    assert {"ReportSummary", "FindingOut", "AgencyOut", "CorrectionIn", "StatusIn"} <= set(models)
    listed = schema["paths"]["/api/reports"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert listed["items"]["$ref"].endswith("/ReportSummary")
    assert "integer" in str(models["ReportSummary"]["properties"]["year"])


def test_a_reupload_says_so_and_the_original_file_downloads_under_its_name(client: TestClient) -> None:
    data = SHIBI.read_bytes()
    name = '番禺"石壁"\r\n报告.txt'
    first = _upload(client, name, data)
    assert first.status_code == 201 and first.json()["already"] is False
    second = _upload(client, "again.txt", data)
    assert second.status_code == 200 and second.json()["already"] is True and second.json()["id"] == first.json()["id"]
    got = client.get(f"/reports/{first.json()['id']}/source")
    assert got.status_code == 200 and got.content == data
    disposition = got.headers["content-disposition"]
    assert disposition.startswith("attachment;") and "\r" not in disposition and "\n" not in disposition
    assert "filename*=UTF-8''" in disposition and "%E7%95%AA%E7%A6%BA" in disposition  # 番禺
    assert client.get("/reports/999/source").status_code == 404

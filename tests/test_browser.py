"""A reviewer in a real browser (Playwright driving Debian's chromium) against a real server."""

from __future__ import annotations

import csv
import io
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from xxgk.serve.app import create_app
from xxgk.store import Store

from .conftest import REAL, SEEDS

TOKEN = "browser-token"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('web') / 'xxgk.db'}")
    for path in (REAL / "hongze-2023.pdf", REAL / "hongze-2024.pdf"):
        from xxgk.parse import parse_file

        store.add(parse_file(path), path.read_bytes(), path.name)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_app(store, TOKEN), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def test_upload_see_tables_and_findings_open_the_agency_chart_and_export(server: str, browser, tmp_path: Path) -> None:
    page = browser.new_page(accept_downloads=True)
    blocked: list[str] = []  # what the Content-Security-Policy refused (htmx, ECharts and app.js must all run)
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: blocked.append(str(e)))
    page.goto(f"{server}/login")
    page.fill("input[name=token]", TOKEN)
    page.click("form.login button")
    page.wait_for_url(f"{server}/")

    # upload: the seed whose 规范性文件 was printed "+2" (a warning on that cell)
    page.set_input_files("#upload input[type=file]", str(SEEDS / "002_64090608850f335c.txt"))
    page.click("#upload button[type=submit]")
    page.wait_for_url(f"{server}/reports/*")
    assert page.is_visible("text=三、收到和处理政府信息公开申请情况")
    flagged = page.locator('td.cell.warning[data-key="active.normative.published"]')
    assert flagged.count() == 1 and flagged.inner_text() == "2"
    assert page.locator(".findings li.error").count() == 1  # published before the year ended

    # a cell shows where it was printed
    page.click('td.cell[data-key="active.licensing.change"]')
    lines = (SEEDS / "002_64090608850f335c.txt").read_text(encoding="utf-8").split("\n")
    printed_at = next(i for i, line in enumerate(lines, 1) if line.startswith("行政许可") and "+14" in line)
    assert f"第 {printed_at} 行" in page.inner_text("#where") and "+14" in page.inner_text("#where")
    assert page.locator(".line.hit").inner_text().startswith("行政许可")

    # the agency page draws its charts
    page.goto(f"{server}/agencies/淮安市洪泽区人民政府")
    chart = "echarts.getInstanceByDom(document.getElementById('chart-received'))"
    page.wait_for_function(f"() => window.echarts && {chart}")
    series = page.evaluate(f"() => {chart}.getOption().series.map(s => s.data)")
    assert series[0] == [21, 95]  # 2023 (printed as 洪泽区人民政府) and 2024: new applications
    assert page.locator("#chart-received canvas").count() == 1
    assert page.evaluate("() => typeof window.htmx") == "object"
    csp = page.request.get(f"{server}/agencies/淮安市洪泽区人民政府").headers["content-security-policy"]
    assert "script-src 'self'" in csp and not blocked, blocked

    # export what the list shows and read it back
    page.goto(f"{server}/reports?year=2024")
    with page.expect_download() as download:
        page.click("#export-csv")
    saved = tmp_path / "export.csv"
    download.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert [r["source"] for r in rows] == ["hongze-2024.pdf"]
    assert rows[0]["requests.new.total"] == "95"
    page.close()


def test_a_pdf_report_page_marks_the_value_on_the_page_image(server: str, browser) -> None:
    page = browser.new_page()
    page.goto(f"{server}/reports?q=洪泽")
    page.click("text=hongze-2023.pdf")
    page.wait_for_url(f"{server}/reports/*", wait_until="commit")  # the cell is clicked while the page may still load
    flagged = page.locator('td.cell.error[data-key="review.total"]')
    flagged.wait_for()  # strict: exactly one such cell (总计 0 with parts 11)
    page.locator(".page img").first.wait_for()
    page.click('td.cell[data-key="review.upheld"]')
    mark = page.locator('.page[data-page="4"] .mark')
    mark.wait_for(state="visible")
    box = mark.bounding_box()
    assert box and box["width"] > 5 and box["height"] > 5
    assert "第 4 页" in page.inner_text("#where")
    page.close()


def test_a_value_read_by_ocr_from_a_picture_file_shows_where_without_a_page_image(server: str, browser) -> None:
    import pypdfium2

    document = pypdfium2.PdfDocument(str(REAL / "hongze-2024.pdf"))
    buf = io.BytesIO()
    document[2].render(scale=150 / 72).to_pil().convert("L").save(buf, "JPEG", quality=80)
    document.close()
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    created = page.request.post(f"{server}/api/reports", headers={"Authorization": f"Bearer {TOKEN}"},
                                multipart={"file": {"name": "第3页.jpg", "mimeType": "image/jpeg",
                                                    "buffer": buf.getvalue()}},
                                timeout=180_000)  # OCR in a fresh worker process: slow on a busy machine
    assert created.status == 201, created.text()
    page.goto(f"{server}/reports/{created.json()['id']}")
    cell = page.locator('td.cell.ocr[data-key="requests.new.natural"]')
    assert "OCR" in (cell.get_attribute("title") or "")
    cell.click()
    assert "第 1 页" in page.inner_text("#where") and not errors
    page.close()

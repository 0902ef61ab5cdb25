"""The web app as a reviewer uses it, in Debian's chromium: what works offline, as a person sees it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from xxgk.serve.app import create_app
from xxgk.store import Store

from .conftest import running
from .test_browser import ARGS, CHROMIUM


def test_api_docs_render_offline_from_vendored_files(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    app = create_app(Store(f"sqlite:///{tmp_path / 'x.db'}"), None)
    with running(app) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page()
        asked: list[str] = []
        page.on("request", lambda r: asked.append(r.url))
        page.goto(f"{url}/redoc")  # the old address leads to the same documentation
        page.wait_for_selector(".opblock", timeout=15_000)
        assert page.url == f"{url}/docs"
        assert page.locator(".opblock").count() >= 10  # every route of the API is listed
        assert "/api/reports" in page.inner_text("body")
        assert [u for u in asked if not u.startswith(url)] == []  # nothing from a CDN
        browser.close()


def test_version_option() -> None:
    from xxgk import __version__

    done = subprocess.run([sys.executable, "-m", "xxgk.cli", "--version"], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == __version__


def test_the_report_search_works_with_every_year_chosen(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    from xxgk.parse import parse_file

    from .conftest import SEEDS

    store = Store(f"sqlite:///{tmp_path / 'x.db'}")
    for path in (SEEDS / "000_d5b9bd303c21ba6d.txt", SEEDS / "002_64090608850f335c.txt"):
        store.add(parse_file(path), path.read_bytes(), path.name)
    with running(create_app(store, None)) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page()
        page.goto(f"{url}/reports")
        page.fill("input[name=q]", "海珠")  # 全部年度 left as it is: the form sends year= empty
        page.click("form.filters button")
        assert "year=" in page.url
        body = page.inner_text("main")
        assert "新港街道办事处" in body and "石壁街道" not in body
        page.fill("input[name=q]", "番禺 石壁")  # two words, a year chosen
        page.select_option("select[name=year]", "2020")
        page.click("form.filters button")
        assert "year=2020" in page.url
        body = page.inner_text("main")
        assert "石壁街道办事处" in body and "新港街道" not in body
        page.goto(f"{url}/reports?q=&year=abc")
        assert "年度须为" in page.inner_text("main")
        browser.close()


def test_errors_a_person_meets_are_chinese_pages(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    app = create_app(Store(f"sqlite:///{tmp_path / 'x.db'}"), "secret")
    with running(app) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page()
        answer = page.goto(f"{url}/no/such/page")
        assert answer is not None and answer.status == 404
        assert "没有这个页面" in page.inner_text("main") and "Not Found" not in page.content()
        page.goto(f"{url}/reports?page=0")  # a validation error: the error page, not raw JSON
        assert "页码须" in page.inner_text("main")
        page.goto(f"{url}/login")
        page.fill("input[name=token]", "wrong")
        page.click("form.login button")
        assert "令牌不正确" in page.inner_text("main")
        page.context.clear_cookies()  # the form's CSRF cookie gone: an expired form
        page.goto(f"{url}/login")
        page.context.clear_cookies()
        page.fill("input[name=token]", "secret")
        page.click("form.login button")
        assert "表单已过期" in page.inner_text("main")
        api = page.request.get(f"{url}/api/nothing")
        assert api.status == 404 and api.json() == {"detail": "没有这个页面"}
        browser.close()

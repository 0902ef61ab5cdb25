"""The web app and API, over a real SQLite store: reads open, writes guarded, text never executed."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from xxgk.serve.app import MAX_UPLOAD, create_app
from xxgk.store import Store

from .conftest import REAL, SEEDS

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SEED = SEEDS / "002_64090608850f335c.txt"


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    return TestClient(create_app(Store(f"sqlite:///{tmp_path / 'web.db'}"), TOKEN))


def upload(client: TestClient, path: Path, data: bytes | None = None, headers: dict | None = None) -> object:
    return client.post("/api/reports", files={"file": (path.name, data or path.read_bytes())},
                       headers=AUTH if headers is None else headers)


def test_upload_list_and_read_a_report_through_the_api(client: TestClient) -> None:
    created = upload(client, SEED)
    assert created.status_code == 201
    report = created.json()
    assert report["agency"] == "广州市番禺区人民政府石壁街道办事处" and report["findings"]["error"] == 1
    listed = client.get("/api/reports").json()
    assert [r["id"] for r in (listed["items"] if isinstance(listed, dict) else listed)] == [report["id"]]
    cells = client.get(f"/api/reports/{report['id']}/cells").json()
    assert cells["active.licensing.change"] == 14
    findings = client.get(f"/api/reports/{report['id']}/findings").json()
    error = next(f for f in findings if f["severity"] == "error")
    reviewed = client.post(f"/api/findings/{error['id']}/review", data={"status": "dismissed"}, headers=AUTH)
    assert reviewed.status_code == 200
    assert {f["id"]: f["review"] for f in client.get(f"/api/reports/{report['id']}/findings").json()}[
        error["id"]] == "dismissed"
    assert upload(client, SEED).json()["id"] == report["id"]  # the same file again changes nothing
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/reports", "/api/reports/{report_id}/cells", "/api/export", "/api/agencies"} <= set(paths)


def test_writes_need_the_token(client: TestClient) -> None:
    assert upload(client, SEED, headers={}).status_code == 401
    assert upload(client, SEED, headers={"Authorization": "Bearer wrong"}).status_code == 401
    rid = upload(client, SEED).json()["id"]
    assert client.delete(f"/api/reports/{rid}").status_code == 401
    assert client.delete(f"/api/reports/{rid}", headers=AUTH).status_code == 204
    assert client.get(f"/api/reports/{rid}").status_code == 404


def test_read_only_without_a_configured_token(tmp_path: Path) -> None:
    client = TestClient(create_app(Store(f"sqlite:///{tmp_path / 'ro.db'}"), None))
    refused = upload(client, SEED)
    assert refused.status_code == 403 and "XXGK_TOKEN" in refused.json()["detail"]


def test_an_oversized_upload_is_refused_with_a_clear_message(client: TestClient) -> None:
    response = upload(client, SEED, data=b"0" * (MAX_UPLOAD + 1))
    assert response.status_code == 413 and "超过" in response.json()["detail"]


def test_a_file_that_is_not_a_report_is_refused_by_its_content(client: TestClient) -> None:
    response = client.post("/api/reports", files={"file": ("report.pdf", b"\x89PNG\r\n\x1a\n" + b"\0" * 100)},
                           headers=AUTH)
    assert response.status_code == 422 and "无法识别的图片" in response.json()["detail"]
    assert response.json()["reason"].startswith("unreadable image")  # the reader's own words, for programs


def test_report_text_and_file_names_render_inert(client: TestClient) -> None:
    attack = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    text = SEED.read_text(encoding="utf-8").replace("无。", attack, 1)
    name = "<i onmouseover=alert(1)>x.txt"
    rid = client.post("/api/reports", files={"file": (name, text.encode())}, headers=AUTH).json()["id"]
    page = client.get(f"/reports/{rid}").text
    assert "<script>alert" not in page and "<img src=x" not in page and "<i onmouseover" not in page
    assert "&lt;script&gt;alert" in page and "&lt;i onmouseover=alert(1)&gt;x.txt" in page
    listing = client.get("/reports").text
    assert "<i onmouseover" not in listing and "&lt;i onmouseover" in listing


def test_forms_need_the_csrf_token_and_the_login_cookie(client: TestClient) -> None:
    client.get("/login")
    csrf = client.cookies.get("xxgk_csrf")
    assert client.post("/login", data={"token": TOKEN}).status_code == 403  # no csrf field
    assert client.post("/login", data={"token": TOKEN, "csrf": csrf}, follow_redirects=False).status_code == 303
    files = {"files": (SEED.name, SEED.read_bytes())}
    assert client.post("/upload", files=files, data={"csrf": "forged"}).status_code == 403
    done = client.post("/upload", files=files, data={"csrf": csrf}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith("/reports/")


def test_pages_of_a_pdf_report(client: TestClient) -> None:
    rid = upload(client, REAL / "hongze-2023.pdf").json()["id"]
    page = client.get(f"/reports/{rid}").text
    assert page.count('class="page"') == 5 and "td class=\"cell error" in page
    image = client.get(f"/reports/{rid}/page/4.png")
    assert image.status_code == 200 and image.content[:4] == b"\x89PNG"
    agency = client.get("/agencies/洪泽区人民政府")
    assert agency.status_code == 200 and "chart-data" in agency.text


def test_exports_download(client: TestClient) -> None:
    upload(client, SEED)
    upload(client, REAL / "huaian-2024.pdf")
    csv = client.get("/api/export", params={"format": "csv", "year": 2024})
    assert csv.status_code == 200 and "huaian-2024.pdf" in csv.text and SEED.name not in csv.text
    findings = client.get("/api/export", params={"format": "csv", "findings": True})
    assert findings.text.splitlines()[0].startswith("\ufeffsource,agency,year,rule")
    assert client.get("/api/export", params={"format": "xml"}).status_code == 422


def test_page_images_requested_all_at_once(client: TestClient) -> None:
    # A browser asks for every page image at once; PDFium must not be entered from two threads.
    from concurrent.futures import ThreadPoolExecutor

    ids = [upload(client, REAL / name).json()["id"] for name in ("hongze-2023.pdf", "huaian-2024.pdf")]
    urls = [f"/reports/{rid}/page/{n}.png" for _ in range(4) for rid in ids for n in range(1, 5)]
    with ThreadPoolExecutor(8) as pool:
        images = list(pool.map(client.get, urls))
    assert all(r.status_code == 200 and r.content[:4] == b"\x89PNG" for r in images)
    assert images[0].headers["cache-control"].startswith("private")


def test_the_report_list_comes_in_pages(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import xxgk.serve.ui

    monkeypatch.setattr(xxgk.serve.ui, "PAGE", 2)
    for path in sorted(SEEDS.glob("*.txt"))[:3]:
        upload(client, path)
    first = client.get("/reports").text
    second = client.get("/reports?page=2").text
    assert first.count('href="/reports/') == 2 and "下一页" in first and "共 3 份" in first
    assert second.count('href="/reports/') == 1 and "上一页" in second


def test_a_report_page_says_what_could_not_be_read_for_sure(client: TestClient) -> None:
    rid = upload(client, SEEDS / "001_5f1380157b69d8b6.txt").json()["id"]  # one cell per line
    page = client.get(f"/reports/{rid}").text
    assert "读取说明" in page and "第四部分按数值的印刷顺序（而非行标签）读取" in page


def test_the_report_list_finds_agency_words_and_file_names(client: TestClient) -> None:
    for path in sorted(SEEDS.glob("*.txt"))[:3]:
        upload(client, path)
    assert client.get("/reports?q=广州市").text.count('href="/reports/') == 2  # 000 and 002 name themselves so
    assert client.get("/reports?q=001_5f13").text.count('href="/reports/') == 1  # 001 names no agency


def test_a_scanned_page_uploaded_shows_its_values_as_read_by_ocr(client: TestClient,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    import pypdfium2

    import xxgk.ingest

    document = pypdfium2.PdfDocument(str(REAL / "hongze-2024.pdf"))
    buf = io.BytesIO()
    document[2].render(scale=150 / 72).to_pil().convert("L").save(buf, "JPEG", quality=80)
    document.close()
    response = client.post("/api/reports", files={"file": ("第3页.jpg", buf.getvalue())}, headers=AUTH)
    assert response.status_code == 201, response.text
    page = client.get(f"/reports/{response.json()['id']}").text
    assert page.count(" ocr\" data-key=") >= 80 and "OCR 从图片识别" in page
    monkeypatch.setattr(xxgk.ingest, "read_source", lambda *a: pytest.fail("the picture was OCR'd again"))
    again = client.get(f"/reports/{response.json()['id']}").text  # the text beside the tables is kept
    assert "本年新收政府信息公开申请数量" in again


# ---------------------------------------------------------------- hostile requests
BIG = "9" * 20  # beyond 64 bits


def test_numbers_out_of_range_are_a_404_or_422_in_chinese_never_a_500(tmp_path: Path) -> None:
    client = TestClient(create_app(Store(f"sqlite:///{tmp_path / 'n.db'}"), TOKEN), raise_server_exceptions=False)
    rid = upload(client, SEED).json()["id"]
    client.get("/login")
    csrf = client.cookies.get("xxgk_csrf")
    client.post("/login", data={"token": TOKEN, "csrf": csrf})
    finding = client.get(f"/api/reports/{rid}/findings").json()[0]["id"]
    answers = {
        "review of no finding": client.post("/findings/999999/review", data={"status": "dismissed", "csrf": csrf}),
        "review of a 20-digit id": client.post(f"/findings/{BIG}/review", data={"status": "dismissed", "csrf": csrf}),
        "a bogus status": client.post(f"/findings/{finding}/review", data={"status": "bogus", "csrf": csrf}),
        "a bogus status by the API": client.post(f"/api/findings/{finding}/review", data={"status": "bogus"},
                                                 headers=AUTH),
        "page": client.get(f"/reports?page={BIG}"),
        "page 0": client.get("/reports?page=0"),
        "year in the list": client.get(f"/reports?year={BIG}"),
        "year by the API": client.get(f"/api/reports?year={BIG}"),
        "year 1999": client.get("/api/reports?year=1999"),
        "report": client.get(f"/reports/{BIG}"),
        "report by the API": client.get(f"/api/reports/{BIG}"),
        "report cells": client.get(f"/api/reports/{BIG}/cells"),
        "report findings": client.get(f"/api/reports/{BIG}/findings"),
        "delete": client.delete(f"/api/reports/{BIG}", headers=AUTH),
        "page image": client.get(f"/reports/{rid}/page/{BIG}.png"),
        "not a number": client.get("/reports/abc"),
        "export year": client.get(f"/api/export?year={BIG}"),
    }
    for what, response in answers.items():
        assert response.status_code in (404, 422), (what, response.status_code, response.text[:300])
        body = response.text
        assert any("\u4e00" <= ch <= "\u9fff" for ch in body), (what, body[:300])  # said in Chinese
    assert "审核状态" in answers["a bogus status"].text and "年度" in answers["year by the API"].text
    assert client.get(f"/api/reports/{rid}").status_code == 200


def test_review_goes_back_only_to_a_page_of_this_site(client: TestClient) -> None:
    rid = upload(client, SEED).json()["id"]
    finding = client.get(f"/api/reports/{rid}/findings").json()[0]["id"]
    client.get("/login")
    csrf = client.cookies.get("xxgk_csrf")
    client.post("/login", data={"token": TOKEN, "csrf": csrf})
    for back, where in [("//evil.example", "/"), ("https://evil.example/x", "/"), ("/\\evil.example", "/"),
                        ("javascript:alert(1)", "/"), (f"/reports/{rid}", f"/reports/{rid}")]:
        response = client.post(f"/findings/{finding}/review", data={"status": "confirmed", "back": back,
                                                                     "csrf": csrf}, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == where, back


def test_every_response_carries_the_security_headers(client: TestClient) -> None:
    rid = upload(client, SEED).json()["id"]
    for url in ["/", "/reports", f"/reports/{rid}", "/api/reports", "/static/app.css", "/reports/0", "/login",
                "/api/export?format=csv"]:
        headers = client.get(url).headers
        assert "script-src 'self'" in headers["content-security-policy"] and "frame-ancestors 'none'" in \
            headers["content-security-policy"], url
        assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff", url


def test_names_are_kept_as_typed_and_bidi_controls_cannot_reverse_them(client: TestClient) -> None:
    name = "<script>alert(1)</script>.txt"
    created = client.post("/api/reports", files={"file": (name, SEED.read_bytes())}, headers=AUTH).json()
    assert created["source"] == name
    page = client.get(f"/reports/{created['id']}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.txt" in page and "<script>alert(1)" not in page
    text = SEED.read_text(encoding="utf-8").replace("。", "。 ", 1).encode()  # another file
    flipped = client.post("/api/reports", files={"file": ("report\u202etxt.exe", text)}, headers=AUTH).json()
    assert "\u202e" not in flipped["source"] and flipped["source"] == "report\ufffdtxt.exe"
    assert "\u202e" not in client.get("/reports").text


def test_an_agency_name_with_a_slash_links_to_its_page(tmp_path: Path) -> None:
    from xxgk.parse import parse_file

    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    result = parse_file(SEED)
    result = result.model_copy(update={"agency": "广州市番禺区人民政府/石壁街道办事处"})
    store.add(result, SEED.read_bytes(), SEED.name)
    client = TestClient(create_app(store, TOKEN))
    listing = client.get("/reports").text
    href = listing.split('href="/agencies/', 1)[1].split('"', 1)[0]
    assert "%2F" in href
    agency = client.get(f"/agencies/{href}")
    assert agency.status_code == 200 and "石壁街道办事处" in agency.text


def test_a_multi_file_upload_checks_every_size_before_storing_any(client: TestClient) -> None:
    client.get("/login")
    csrf = client.cookies.get("xxgk_csrf")
    client.post("/login", data={"token": TOKEN, "csrf": csrf})
    files = [("files", (SEED.name, SEED.read_bytes())), ("files", ("big.txt", b"0" * (MAX_UPLOAD + 1)))]
    response = client.post("/upload", files=files, data={"csrf": csrf})
    assert response.status_code == 413 and "big.txt" in response.text
    assert client.get("/api/reports").json() == []


def _rtf(text: str) -> bytes:
    """A report as RTF (read through LibreOffice: a second or more)."""
    def escape(ch: str) -> str:
        code = ord(ch)
        return ch if code < 128 and ch not in "\\{}\n" else "\\par\n" if ch == "\n" else \
            f"\\u{code - 65536 if code > 32767 else code}?"
    return ("{\\rtf1\\ansi\\uc1 " + "".join(escape(c) for c in text) + "}").encode("ascii")


def test_uploads_beyond_the_workers_and_queue_get_a_503_with_retry_after(tmp_path: Path) -> None:
    import threading
    import time

    app = create_app(Store(f"sqlite:///{tmp_path / 'q.db'}"), TOKEN, workers=1, queue=0)
    with TestClient(app) as client:
        first: list = []
        slow = threading.Thread(target=lambda: first.append(
            client.post("/api/reports", files={"file": ("slow.rtf", _rtf(SEED.read_text(encoding="utf-8")))},
                        headers=AUTH)))
        slow.start()
        deadline = time.monotonic() + 30
        while app.state.gate.active == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert app.state.gate.active == 1
        busy = upload(client, SEEDS / "000_d5b9bd303c21ba6d.txt")
        assert busy.status_code == 503 and int(busy.headers["retry-after"]) > 0 and "服务器正忙" in busy.text
        slow.join(120)
        assert first[0].status_code == 201, first[0].text
        assert upload(client, SEEDS / "000_d5b9bd303c21ba6d.txt").status_code == 201  # free again


def test_an_upload_that_overruns_its_worker_limits_is_a_clear_error(tmp_path: Path) -> None:
    from xxgk.sandbox import Limits

    app = create_app(Store(f"sqlite:///{tmp_path / 'l.db'}"), TOKEN, limits=Limits(seconds=0.3))
    response = TestClient(app).post("/api/reports", files={"file": ("slow.rtf", _rtf("政府信息公开"))}, headers=AUTH)
    assert response.status_code == 422 and "读取超过 0.3 秒" in response.json()["detail"]

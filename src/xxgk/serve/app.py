"""The web app and REST API over a store.

Reads are open; writes (upload, review, delete) need the token given at start (XXGK_TOKEN): the
API takes it as `Authorization: Bearer …`, the browser after /login as an HttpOnly cookie, and
every form also carries a CSRF token (double submit). Report text and file names are only ever
rendered escaped; uploads are size-limited and told apart by content.
"""

from __future__ import annotations

import hmac
import json
import secrets
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from .. import __version__
from ..audit.rules import fmt_num
from ..batch import TIMEOUT, within
from ..compose.layout import active_groups, format_of, label_path, request_rows
from ..errors import ReportError
from ..formats.national import OUTCOMES, REVIEW_GROUPS
from ..parse import parse_bytes
from ..result import ParseResult
from ..store import Store
from ..store.export import FORMATS_OUT, export
from ..store.models import Report
from .pages import page_png, page_widths

HERE = Path(__file__).parent
MAX_UPLOAD = 30 * 1024 * 1024
PAGE = 100  # reports per page of the list
CSRF_COOKIE, TOKEN_COOKIE = "xxgk_csrf", "xxgk_token"


_TEXTS: dict[str, str] = {}  # file digest → the text it was read as (a few dozen, newest last)


def source_text(digest: str, name: str, data: bytes) -> str:
    """The text a report was read from, shown beside its tables; kept per file, as reading it again
    may mean LibreOffice or OCR (seconds) on every view."""
    if digest not in _TEXTS:
        from ..ingest import read_source

        if len(_TEXTS) >= 64:
            _TEXTS.pop(next(iter(_TEXTS)))
        try:
            _TEXTS[digest] = read_source(data, name).text.replace("\ue001", "").replace("\ue000", "")
        except ReportError:
            _TEXTS[digest] = ""
    return _TEXTS[digest]


def create_app(store: Store, token: str | None) -> FastAPI:
    app = FastAPI(title="xxgk", version=__version__, description="政府信息公开工作年度报告: data, findings, exports")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    pages = Jinja2Templates(directory=HERE / "templates")
    pages.env.globals.update(num=fmt_num, version=__version__)

    # ------------------------------------------------------------ access
    def write_allowed(request: Request) -> None:
        if not token:
            raise HTTPException(403, "writes are disabled: start xxgk serve with XXGK_TOKEN set")
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip() \
            or request.cookies.get(TOKEN_COOKIE, "")
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise HTTPException(401, "a valid token is needed to change anything")

    async def csrf_checked(request: Request) -> None:
        if request.headers.get("authorization"):
            return  # API clients send the token in a header, which a foreign page cannot
        form = await request.form()
        cookie = request.cookies.get(CSRF_COOKIE, "")
        if not cookie or not hmac.compare_digest(cookie, str(form.get("csrf", ""))):
            raise HTTPException(403, "the form has expired; reload the page")

    def page(request: Request, template: str, **context: object) -> HTMLResponse:
        csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        response = pages.TemplateResponse(request, template, {"csrf": csrf, "can_write": bool(token), **context})
        response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="strict")
        return response

    def report_or_404(report_id: int) -> Report:
        report = store.report(report_id)
        if report is None:
            raise HTTPException(404, "no such report")
        return report

    async def read_upload(file: UploadFile) -> tuple[str, bytes]:
        data = await file.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            raise HTTPException(413, f"the file is larger than {MAX_UPLOAD // (1024 * 1024)} MB")
        return Path(file.filename or "upload").name, data

    async def ingest(name: str, data: bytes) -> int:
        """Parse in the thread pool (the event loop stays free), within the batch's time limit."""
        try:
            result = await run_in_threadpool(within, TIMEOUT, lambda: parse_bytes(data, name))
        except (ReportError, TimeoutError) as e:
            raise HTTPException(422, f"{name}: {e}") from e
        return await run_in_threadpool(store.add, result, data, name)

    # ------------------------------------------------------------ pages
    @app.get("/", response_class=HTMLResponse)
    def overview(request: Request) -> HTMLResponse:
        return page(request, "overview.html", **store.overview())

    @app.get("/reports", response_class=HTMLResponse)
    def report_list(request: Request, q: str = "", year: int | None = None, errors: bool = False,
                    page_no: Annotated[int, Query(alias="page", ge=1)] = 1) -> HTMLResponse:
        total = store.count(year=year, search=q or None, errors=errors)
        reports = store.reports(year=year, search=q or None, errors=errors, offset=(page_no - 1) * PAGE, limit=PAGE)
        return page(request, "reports.html", reports=reports, q=q, year=year, errors=errors, years=store.years(),
                    total=total, page_no=page_no, pages=max(1, -(-total // PAGE)))

    @app.get("/reports/{report_id}", response_class=HTMLResponse)
    def report_page(request: Request, report_id: int) -> HTMLResponse:
        report = report_or_404(report_id)
        result = ParseResult.model_validate(report.result)
        source = store.source(report.digest)
        kind = format_of(result)
        text = None
        widths: list[float] = []  # of each PDF page in points: the unit of the bounding boxes
        if source and source[1][:5] == b"%PDF-":
            widths = page_widths(source[1])
        elif source:
            text = source_text(report.digest, source[0], source[1])
        flagged: dict[str, str] = {}
        statuses = list(store.status_of(report))
        for f, status in statuses:
            if status != "dismissed" and f.severity != "info":
                for k in f.cells:
                    flagged.setdefault(k, f.severity)
        return page(request, "report.html", report=report, result=result, fmt=kind, text=text, widths=widths,
                    tables=_tables(result), flagged=flagged, findings=statuses,
                    provenance={k: v.model_dump(mode="json") for k, v in result.provenance.items()})

    @app.get("/reports/{report_id}/page/{number}.png")
    def page_image(report_id: int, number: int) -> Response:
        report = report_or_404(report_id)
        source = store.source(report.digest)
        if not source or source[1][:5] != b"%PDF-":
            raise HTTPException(404, "not a PDF")
        png = page_png(source[1], number)
        if png is None:
            raise HTTPException(404, "no such page")
        return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=86400"})

    @app.get("/agencies/{name}", response_class=HTMLResponse)
    def agency_page(request: Request, name: str) -> HTMLResponse:
        reports = sorted(store.reports(agency=name, cells=True), key=lambda r: r.year or 0)
        reports = [r for r in reports if r.agency and r.agency.name == name]
        if not reports:
            raise HTTPException(404, "no such agency")
        shown = [r for r in reports if r.current]  # one per agency-year; the others linked beside it
        others = {r.id: [o for o in reports if o.year == r.year and o.id != r.id] for r in shown}
        return page(request, "agency.html", name=name, reports=shown, others=others, charts=_charts(shown))

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request) -> HTMLResponse:
        return page(request, "login.html")

    @app.post("/login")
    async def login(request: Request, given: Annotated[str, Form(alias="token")],
                    _: None = Depends(csrf_checked)) -> Response:
        if not token or not hmac.compare_digest(given.encode(), token.encode()):
            raise HTTPException(401, "wrong token")
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
        return response

    @app.post("/upload")
    async def upload_form(request: Request, files: Annotated[list[UploadFile], File()],
                          _w: None = Depends(write_allowed), _c: None = Depends(csrf_checked)) -> Response:
        done, errors = [], []
        for file in files:
            name, data = await read_upload(file)
            try:
                done.append(await ingest(name, data))
            except HTTPException as e:
                errors.append(str(e.detail))
        if len(done) == 1 and not errors:
            return RedirectResponse(f"/reports/{done[0]}", status_code=303)
        return page(request, "uploaded.html", done=[report_or_404(i) for i in done], errors=errors)

    @app.post("/findings/{finding_id}/review")
    async def review_form(finding_id: int, status: Annotated[str, Form()], back: Annotated[str, Form()] = "/",
                          _w: None = Depends(write_allowed), _c: None = Depends(csrf_checked)) -> Response:
        store.review(finding_id, status)
        return RedirectResponse(back if back.startswith("/") else "/", status_code=303)

    # ------------------------------------------------------------ API
    @app.get("/api/reports")
    def api_reports(year: int | None = None, agency: str | None = None) -> list[dict]:
        return [_summary(r) for r in store.reports(year=year, agency=agency)]

    @app.post("/api/reports", status_code=201)
    async def api_upload(file: Annotated[UploadFile, File()], _w: None = Depends(write_allowed)) -> dict:
        name, data = await read_upload(file)
        return _summary(report_or_404(await ingest(name, data)))

    @app.get("/api/reports/{report_id}")
    def api_report(report_id: int) -> dict:
        return report_or_404(report_id).result

    @app.delete("/api/reports/{report_id}", status_code=204)
    def api_delete(report_id: int, _w: None = Depends(write_allowed)) -> Response:
        store.delete(report_or_404(report_id).id)
        return Response(status_code=204)

    @app.get("/api/reports/{report_id}/cells")
    def api_cells(report_id: int) -> dict:
        return report_or_404(report_id).result["cells"]

    @app.get("/api/reports/{report_id}/findings")
    def api_findings(report_id: int) -> list[dict]:
        return [{"id": f.id, "rule": f.rule, "severity": f.severity, "kind": f.kind, "cells": f.cells,
                 "message": f.message, "review": status} for f, status in store.status_of(report_or_404(report_id))]

    @app.post("/api/findings/{finding_id}/review")
    def api_review(finding_id: int, status: Annotated[str, Form()], _w: None = Depends(write_allowed)) -> dict:
        try:
            store.review(finding_id, status)
        except KeyError as e:
            raise HTTPException(404, "no such finding") from e
        except ValueError as e:
            raise HTTPException(422, str(e)) from e
        return {"id": finding_id, "review": status}

    @app.get("/api/agencies")
    def api_agencies() -> list[dict]:
        return [{"name": a, "years": ys} for a, ys in store.agencies()]

    @app.get("/api/export")
    def api_export(format: Annotated[str, Query()] = "csv", year: int | None = None, agency: str | None = None,
                   chinese: bool = False, findings: bool = False) -> Response:
        if format not in FORMATS_OUT:
            raise HTTPException(422, f"format is one of {', '.join(FORMATS_OUT)}")
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            paths = export(store, format, Path(tmp, f"reports.{format}"), year, agency, chinese)
            path = paths[1] if findings and len(paths) > 1 else paths[0]
            data = path.read_bytes()
        media = {"csv": "text/csv", "json": "application/json", "parquet": "application/octet-stream",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}[format]
        return Response(data, media_type=media,
                        headers={"Content-Disposition": f'attachment; filename="{path.name}"'})

    @app.exception_handler(HTTPException)
    async def errors(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        return pages.TemplateResponse(request, "error.html", {"status": exc.status_code, "detail": exc.detail,
                                                              "can_write": bool(token)},
                                      status_code=exc.status_code)

    return app


def _summary(r: Report) -> dict:
    counts = {s: sum(1 for f in r.findings if f.severity == s) for s in ("error", "warning", "info")}
    return {"id": r.id, "source": r.source_name, "agency": r.agency_name, "year": r.year, "template": r.template,
            "published": r.published, "posted": r.posted, "current": r.current,
            "parser_version": r.parser_version, "digest": r.digest, "findings": counts}


def _tables(result: ParseResult) -> list[dict]:
    """The three statutory tables as rows of (label, [(key, value)]), from the format data."""
    fmt = format_of(result)
    active = [{"label": f"{group} · {row.label}", "heads": heads, "cells": list(row.cells)}
              for group, heads, rows in active_groups(fmt) for row in rows]
    _, rows = request_rows(result)
    requests = [{"label": " / ".join(label_path(row)), "cells": list(row.cells)} for row in rows]
    review = [{"label": label, "cells": [f"{g}.{o}" for o, _ in OUTCOMES]} for g, label in REVIEW_GROUPS]
    return [{"title": "二、主动公开政府信息情况", "rows": active, "heads": None},
            {"title": "三、收到和处理政府信息公开申请情况", "rows": requests,
             "heads": [c.label for c in fmt.table("requests").columns]},
            {"title": "四、政府信息公开行政复议、行政诉讼情况", "rows": review, "heads": [o for _, o in OUTCOMES]}]


def _charts(reports: list[Report]) -> str:
    """ECharts data for an agency's years: requests received, outcome shares, review/litigation results."""
    cells = [{c.key: c.value for c in r.cells} for r in reports]
    years = [str(r.year) for r in reports]
    outcomes = {"予以公开": "requests.granted.total", "部分公开": "requests.partial.total",
                "不予公开": "requests.denied.%", "无法提供": "requests.unavailable.%",
                "不予处理": "requests.not_processed.%", "其他处理": "requests.other.total"}

    def total(c: dict, key: str) -> float:
        if key.endswith("%"):
            prefix = key[:-1]
            return sum(v or 0 for k, v in c.items() if k.startswith(prefix) and k.endswith(".total")
                       and k.count(".") == 3)
        return c.get(key) or 0

    return json.dumps({
        "years": years,
        "received": [c.get("requests.new.total") for c in cells],
        "carried": [c.get("requests.carried_over.total") for c in cells],
        "outcomes": [{"name": n, "data": [total(c, k) for c in cells]} for n, k in outcomes.items()],
        "review": [{"name": label, "data": [c.get(f"{g}.total") for c in cells]} for g, label in REVIEW_GROUPS],
    }, ensure_ascii=False)


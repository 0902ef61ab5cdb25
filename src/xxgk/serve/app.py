"""The web app and REST API over a store.

Reads are open; writes (upload, review, delete) need the token given at start (XXGK_TOKEN): the
API takes it as `Authorization: Bearer …`, the browser after /login as an HttpOnly cookie, and
every form also carries a CSRF token (double submit). Report text and file names are only ever
rendered escaped; uploads are size-limited and told apart by content.

Uploads are parsed in boxed worker processes (`xxgk.sandbox`: time, memory and CPU limits, the
whole process group killed when one overruns), never in the server's own process: at most
`workers` at a time, `queue` more waiting, and past that a 503 with Retry-After. Every number in
a path or query is checked (ids within 64 bits, years 2000–2100): a 404 or 422 in Chinese, never
a 500. Every response carries a Content-Security-Policy (scripts only from this server),
X-Frame-Options and nosniff.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import hmac
import json
import os
import re
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from .. import __version__
from ..audit.rules import fmt_num
from ..compose.layout import active_groups, format_of, label_path, request_rows
from ..errors import ReportError
from ..evaluate import evaluate, stored_facts
from ..evaluate.output import chart_data, to_json
from ..evaluate.output import write as write_evaluation
from ..evaluate.score import LEVEL_ORDER
from ..formats.national import OUTCOMES, REVIEW_GROUPS
from ..parse import parse_upload, text_of
from ..result import ParseResult
from ..sandbox import Limits, call_boxed
from ..store import Store
from ..store.export import FORMATS_OUT, export
from ..store.models import Report
from .pages import page_png, page_widths

HERE = Path(__file__).parent
MAX_UPLOAD = 30 * 1024 * 1024
PAGE = 100  # reports per page of the list
CSRF_COOKIE, TOKEN_COOKIE = "xxgk_csrf", "xxgk_token"
MAX_ID = 2**63 - 1  # ids are 64-bit in the database
MAX_PAGE = 10**9
YEAR = Query(ge=2000, le=2100)
WORKERS, QUEUE = 2, 32  # uploads parsed at once, and waiting (XXGK_WORKERS, XXGK_QUEUE)
RETRY_AFTER = 30  # seconds, when the queue is full
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https:; "
            "frame-ancestors 'none'")  # FastAPI's own /docs and /redoc pages
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL = re.compile("[\x00-\x1f\x7f]")


_TEXTS: dict[str, str] = {}  # file digest → the text it was read as (a few dozen, newest last)


def _remember(digest: str, text: str) -> None:
    if len(_TEXTS) >= 64:
        _TEXTS.pop(next(iter(_TEXTS)))
    _TEXTS[digest] = text


def source_text(digest: str, name: str, data: bytes, limits: Limits | None = None) -> str:
    """The text a report was read from, shown beside its tables; kept per file, as reading it again
    may mean LibreOffice or OCR (seconds) on every view. Read in a boxed worker, as uploads are."""
    if digest not in _TEXTS:
        try:
            _remember(digest, call_boxed(text_of, data, name, limits=limits))
        except (ReportError, RuntimeError):
            _remember(digest, "")
    return _TEXTS[digest]


def name_as_typed(raw: str | None) -> str:
    """A file name as the user typed it (not cut at a "/": it is only ever shown, escaped), with
    control characters dropped and bidi controls (which show a name reversed) made visible as �."""
    name = _CONTROL.sub("", _BIDI.sub("\ufffd", raw or "")).strip()
    return name or "upload"


def same_site(back: str) -> str:
    """`back` when it is a path on this site, else "/" (never `//evil.example` or `https://…`)."""
    if "\\" in back or _CONTROL.search(back):
        return "/"
    parts = urlsplit(back)
    if parts.scheme or parts.netloc or not back.startswith("/") or back.startswith("//"):
        return "/"
    return back


def _trim_memory() -> None:
    """Give freed memory back to the system (glibc keeps it otherwise): the server's RSS stays flat."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _few_arenas(arenas: int = 2) -> None:
    """glibc gives each thread that contends an arena of its own, which keeps what it freed: the
    thread pool's 40 threads would hold tens of MB after a burst of uploads (M_ARENA_MAX = -8)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").mallopt(-8, arenas)


class Gate:
    """At most `workers` uploads parsed at once, at most `queue` more waiting; past that, 503."""

    def __init__(self, workers: int, queue: int) -> None:
        self.workers, self.queue = workers, queue
        self.active = self.waiting = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._free: asyncio.Semaphore | None = None

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._free is None or self._loop is not loop:  # a new event loop (tests start one per client)
            self._loop, self._free = loop, asyncio.Semaphore(self.workers)
        return self._free

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        free = self._semaphore()
        if free.locked() and self.waiting >= self.queue:
            raise HTTPException(503, f"服务器正忙：{self.active} 个文件正在解析，{self.waiting} 个在排队，"
                                     f"请 {RETRY_AFTER} 秒后再试", headers={"Retry-After": str(RETRY_AFTER)})
        self.waiting += 1
        try:
            await free.acquire()
        finally:
            self.waiting -= 1
        self.active += 1
        try:
            yield
        finally:
            self.active -= 1
            free.release()


def create_app(store: Store, token: str | None, workers: int | None = None, queue: int | None = None,
               limits: Limits | None = None) -> FastAPI:
    """`workers` uploads parsed at once (default $XXGK_WORKERS or 2), `queue` more waiting (default
    $XXGK_QUEUE or 32), each in a worker process with `limits` (default `Limits.from_env()`)."""
    app = FastAPI(title="xxgk", version=__version__, description="政府信息公开工作年度报告: data, findings, exports",
                  docs_url=None, redoc_url=None)  # served below from vendored files: no CDN
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    pages = Jinja2Templates(directory=HERE / "templates")
    pages.env.globals.update(num=fmt_num, version=__version__)
    pages.env.filters["path_part"] = lambda s: quote(str(s), safe="")  # "/" too: an agency name may hold one
    limits = limits or Limits.from_env()
    _few_arenas()
    gate = app.state.gate = Gate(workers or int(os.environ.get("XXGK_WORKERS", WORKERS)),
                                 queue if queue is not None else int(os.environ.get("XXGK_QUEUE", QUEUE)))

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        docs = request.url.path in ("/docs", "/redoc", "/docs/oauth2-redirect")
        response.headers.setdefault("Content-Security-Policy", DOCS_CSP if docs else CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

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
        report = store.report(report_id) if 1 <= report_id <= MAX_ID else None
        if report is None:
            raise HTTPException(404, "没有这份报告")
        return report

    def too_large(name: str, size: int) -> HTTPException:
        return HTTPException(413, f"{name}: the file is larger than {MAX_UPLOAD // (1024 * 1024)} MB "
                                  f"（文件超过 {MAX_UPLOAD // (1024 * 1024)} MB，未保存）")

    async def read_upload(file: UploadFile) -> tuple[str, bytes]:
        name = name_as_typed(file.filename)
        data = await file.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            raise too_large(name, len(data))
        return name, data

    async def ingest(name: str, data: bytes) -> int:
        """Parse in a boxed worker process (the server's own memory stays flat), one of at most
        `workers` at a time; the event loop stays free meanwhile."""
        async with gate.slot():
            try:
                parsed, text = await run_in_threadpool(call_boxed, parse_upload, data, name, limits=limits)
            except ReportError as e:
                raise HTTPException(422, f"{name}: {e}") from e
            except RuntimeError as e:  # a bug in the reader: this file only
                raise HTTPException(422, f"{name}: internal error reading this file ({e})") from e
        result = ParseResult.model_validate_json(parsed)
        report_id = await run_in_threadpool(store.add, result, data, name)
        if text:
            _remember(store.report(report_id).digest, text)
        del parsed, text, result, data
        _trim_memory()
        return report_id

    def finding_review(finding_id: int, status: str) -> None:
        if not 1 <= finding_id <= MAX_ID:
            raise HTTPException(404, "没有这条审核发现")
        try:
            store.review(finding_id, status)
        except KeyError as e:
            raise HTTPException(404, "没有这条审核发现") from e
        except ValueError as e:
            raise HTTPException(422, "审核状态只能是 confirmed（确认）、dismissed（驳回）或 open（待审）") from e

    # ------------------------------------------------------------ pages
    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def api_docs(request: Request) -> HTMLResponse:
        return pages.TemplateResponse(request, "docs.html", {})

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> RedirectResponse:
        return RedirectResponse("/docs", status_code=308)

    @app.get("/", response_class=HTMLResponse)
    def overview(request: Request) -> HTMLResponse:
        return page(request, "overview.html", **store.overview())

    @app.get("/reports", response_class=HTMLResponse)
    def report_list(request: Request, q: str = "", year_text: Annotated[str, Query(alias="year")] = "",
                    errors: bool = False,
                    page_no: Annotated[int, Query(alias="page", ge=1, le=MAX_PAGE)] = 1) -> HTMLResponse:
        year = _year_or_none(year_text)  # the form's 全部年度 sends year= empty
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
            text = source_text(report.digest, source[0], source[1], limits)
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
        if not 1 <= number <= MAX_PAGE:
            raise HTTPException(404, "没有这一页")
        source = store.source(report.digest)
        if not source or source[1][:5] != b"%PDF-":
            raise HTTPException(404, "not a PDF")
        png = page_png(source[1], number)
        if png is None:
            raise HTTPException(404, "no such page")
        return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=86400"})

    @app.get("/agencies/{name:path}", response_class=HTMLResponse)
    def agency_page(request: Request, name: str) -> HTMLResponse:
        reports = sorted(store.reports(agency=name, cells=True), key=lambda r: r.year or 0)
        reports = [r for r in reports if r.agency and r.agency.name == name]
        if not reports:
            raise HTTPException(404, "no such agency")
        shown = [r for r in reports if r.current]  # one per agency-year; the others linked beside it
        others = {r.id: [o for o in reports if o.year == r.year and o.id != r.id] for r in shown}
        return page(request, "agency.html", name=name, reports=shown, others=others, charts=_charts(shown))

    @app.get("/evaluate", response_class=HTMLResponse)
    def evaluation_page(request: Request, year: str = "", level: str = "", region: str = "") -> HTMLResponse:
        chosen = _year_or_none(year)
        ev = evaluate(stored_facts(store, chosen))
        shown = [r for r in ev.reports
                 if (not level or r.facts.level == level) and (not region or r.facts.region == region)]
        regions = sorted({r.facts.region for r in ev.reports} - {""})
        return page(request, "evaluate.html", shown=shown, rates=ev.rates, year=chosen, level=level, region=region,
                    years=store.years(), levels=LEVEL_ORDER, regions=regions,
                    notes={i.id: i.note for i in ev.indicators},
                    charts=json.dumps(chart_data(ev), ensure_ascii=False).replace("</", "<\\/"))

    @app.get("/api/evaluate")
    def api_evaluate(format: str = "json", year: str = "") -> Response:
        if format not in ("json", "csv", "xlsx", "html"):
            raise HTTPException(422, "format 须为 json、csv、xlsx 或 html")
        ev = evaluate(stored_facts(store, _year_or_none(year)))
        if format == "json":
            return JSONResponse(to_json(ev))
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp, f"evaluation.{format}")
            write_evaluation(ev, path, format)
            data = path.read_bytes()
        media = {"csv": "text/csv; charset=utf-8", "html": "text/html; charset=utf-8",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}[format]
        return Response(data, media_type=media,
                        headers={"Content-Disposition": f'attachment; filename="{path.name}"'})

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
        for file in files:  # every size checked before any file is stored
            if file.size is not None and file.size > MAX_UPLOAD:
                raise too_large(name_as_typed(file.filename), file.size)
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
        finding_review(finding_id, status)
        return RedirectResponse(same_site(back), status_code=303)

    # ------------------------------------------------------------ API
    @app.get("/api/reports")
    def api_reports(year: Annotated[int | None, YEAR] = None, agency: str | None = None) -> list[dict]:
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
        finding_review(finding_id, status)
        return {"id": finding_id, "review": status}

    @app.get("/api/agencies")
    def api_agencies() -> list[dict]:
        return [{"name": a, "years": ys} for a, ys in store.agencies()]

    @app.get("/api/export")
    def api_export(format: Annotated[str, Query()] = "csv", year: Annotated[int | None, YEAR] = None,
                   agency: str | None = None,
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
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        return pages.TemplateResponse(request, "error.html", {"status": exc.status_code, "detail": exc.detail,
                                                              "can_write": bool(token)},
                                      status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        why = "；".join(_invalid(e) for e in exc.errors())
        return await errors(request, HTTPException(422, f"请求参数无效：{why}"))

    return app


def _year_or_none(text: str) -> int | None:
    """A year from a form field: empty means every year; anything else must be a year."""
    if not text.strip():
        return None
    if not text.strip().isdigit() or not 2000 <= int(text) <= 2100:
        raise HTTPException(422, f"年度须为 2000–2100 之间的数字，而不是「{text[:20]}」")
    return int(text)


_FIELDS = {"year": "年度", "page": "页码", "report_id": "报告编号", "finding_id": "审核发现编号", "number": "页码",
           "status": "审核状态", "format": "格式", "file": "文件", "files": "文件", "token": "令牌"}


def _invalid(error: dict) -> str:
    """One validation error in Chinese: which field, and what it must be."""
    field = str(error.get("loc", ["", "?"])[-1])
    ctx = error.get("ctx") or {}
    kind = error.get("type", "")
    name = _FIELDS.get(field, field)
    if field == "year":
        return f"{name}须是 2000 至 2100 之间的整数"
    if "ge" in ctx or "le" in ctx:
        low, high = ctx.get("ge", "…"), ctx.get("le", "…")
        return f"{name}须是 {low} 至 {high} 之间的整数"
    if kind == "missing":
        return f"缺少{name}"
    if kind.startswith("int"):
        return f"{name}须是整数"
    return f"{name}无效"


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


"""The web app and REST API over a store: `create_app` puts together the routers (`ui` pages,
`api`, `auth`), which share one `web.Web` (store, token, templates, upload gate, checks).

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

import os
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..audit import rule_summaries
from ..audit.rules import fmt_num
from ..sandbox import Limits
from ..store import Store
from . import api, auth, ui
from .web import CSRF_COOKIE, HERE, MAX_UPLOAD, Gate, Refused, Web, few_arenas, settle_heap  # noqa: F401  (MAX_UPLOAD: tests import it here)

WORKERS, QUEUE = 2, 32  # uploads parsed at once, and waiting (XXGK_WORKERS, XXGK_QUEUE)
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https:; "
            "frame-ancestors 'none'")  # FastAPI's own /docs and /redoc pages


def create_app(store: Store, token: str | None, workers: int | None = None, queue: int | None = None,
               limits: Limits | None = None) -> FastAPI:
    """`workers` uploads parsed at once (default $XXGK_WORKERS or 2), `queue` more waiting (default
    $XXGK_QUEUE or 32), each in a worker process with `limits` (default `Limits.from_env()`)."""
    app = FastAPI(title="xxgk", version=__version__, description="政府信息公开工作年度报告: data, findings, exports",
                  docs_url=None, redoc_url=None)  # served by `ui` from vendored files: no CDN
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.globals.update(num=fmt_num, version=__version__, rule_names=rule_summaries())
    templates.env.filters["path_part"] = lambda s: quote(str(s), safe="")  # "/" too: an agency name may hold one
    few_arenas()
    gate = app.state.gate = Gate(workers or int(os.environ.get("XXGK_WORKERS", WORKERS)),
                                 queue if queue is not None else int(os.environ.get("XXGK_QUEUE", QUEUE)))
    web = app.state.web = Web(store, token, templates, gate, limits or Limits.from_env())
    for module in (ui, api, auth):
        app.include_router(module.router(web))
    settle_heap()

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        docs = request.url.path in ("/docs", "/redoc", "/docs/oauth2-redirect")
        response.headers.setdefault("Content-Security-Policy", DOCS_CSP if docs else CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @app.exception_handler(StarletteHTTPException)
    async def errors(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail
        if exc.status_code == 404 and detail == "Not Found":
            detail = "没有这个页面"
        elif exc.status_code == 405 and detail == "Method Not Allowed":
            detail = "不支持这种请求方式"
        if request.url.path.startswith("/api/"):
            reason = {"reason": exc.reason} if isinstance(exc, Refused) else {}
            return JSONResponse({"detail": detail, **reason}, status_code=exc.status_code, headers=exc.headers)
        return templates.TemplateResponse(request, "error.html",
                                          {"status": exc.status_code, "detail": detail, "can_write": bool(token),
                                           "signed_in": web.signed_in(request),
                                           "csrf": request.cookies.get(CSRF_COOKIE, "")},
                                          status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        why = "；".join(_invalid(e) for e in exc.errors())
        return await errors(request, HTTPException(422, f"请求参数无效：{why}"))

    return app


_FIELDS = {"year": "年度", "years": "年度", "page": "页码", "report_id": "报告编号",
           "finding_id": "审核发现编号", "number": "页码",
           "status": "审核状态", "format": "格式", "file": "文件", "files": "文件", "token": "令牌",
           "offset": "起始位置", "limit": "每页条数", "value": "值", "note": "说明", "who": "审核人", "key": "单元格",
           "body": "请求内容"}


def _invalid(error: dict) -> str:
    """One validation error in Chinese: which field, and what it must be."""
    loc = [p for p in error.get("loc", ["", "?"]) if not isinstance(p, int)]  # an item of a list: the list
    field = str(loc[-1] if loc else "?")
    ctx = error.get("ctx") or {}
    kind = error.get("type", "")
    name = _FIELDS.get(field, field)
    if kind == "json_invalid":
        return "请求内容不是有效的 JSON"
    if field in ("year", "years"):
        return f"{name}须是 2000 至 2100 之间的整数"
    if "ge" in ctx and "le" in ctx:
        return f"{name}须是 {ctx['ge']} 至 {ctx['le']} 之间的整数"
    if "ge" in ctx or "le" in ctx:
        return f"{name}须不小于 {ctx['ge']}" if "ge" in ctx else f"{name}须不大于 {ctx['le']}"
    if kind == "string_too_long":
        return f"{name}过长（最多 {ctx.get('max_length', '…')} 个字）"
    if kind.startswith("float"):
        return f"{name}须是数字（空白为 null）"
    if kind == "missing":
        return f"缺少{name}"
    if kind.startswith("int"):
        return f"{name}须是整数"
    return f"{name}无效"

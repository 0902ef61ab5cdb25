"""What every route of the app shares: the store, the token, the templates, the upload gate, and
the checks (token, CSRF, ids) — one `Web` built by `create_app` and handed to each router."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import hashlib
import hmac
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

from fastapi import HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from .. import PARSER_VERSION
from ..errors import ReportError
from ..ingest import sniff
from ..parse import parse_upload
from ..result import ParseResult
from ..sandbox import Limits, call_boxed
from ..store import Store
from ..store.models import Report
from ..store.reviews import STATUS_CODES, InvalidCorrection
from .messages import in_chinese
from .sources import TABLED, keep

HERE = Path(__file__).parent
MAX_UPLOAD = 30 * 1024 * 1024
CSRF_COOKIE, TOKEN_COOKIE = "xxgk_csrf", "xxgk_token"
MAX_ID = 2**63 - 1  # ids are 64-bit in the database
MAX_PAGE = 10**9
RETRY_AFTER = 30  # seconds, when the queue is full
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL = re.compile("[\x00-\x1f\x7f]")


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


def year_or_none(text: str) -> int | None:
    """A year from a form field: empty means every year; anything else must be a year."""
    if not text.strip():
        return None
    if not text.strip().isdigit() or not 2000 <= int(text) <= 2100:
        raise HTTPException(422, f"年度须为 2000–2100 之间的数字，而不是「{text[:20]}」")
    return int(text)


def trim_memory() -> None:
    """Give freed memory back to the system (glibc keeps it otherwise): the server's RSS stays flat."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def few_arenas(arenas: int = 2) -> None:
    """glibc gives each thread that contends an arena of its own, which keeps what it freed: the
    thread pool's 40 threads would hold tens of MB after a burst of uploads (M_ARENA_MAX = -8)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").mallopt(-8, arenas)


_SETTLED: list[bool] = []


def settle_heap() -> None:
    """What a process made before serving (the parser's tables, the format data, the routes) lives
    as long as it does: kept out of the garbage collector's full passes, which would walk it every
    few dozen requests (0.2–0.4 s each on this machine). Once a process, after a collection (so no
    garbage is kept with it)."""
    if not _SETTLED:
        gc.collect()
        gc.freeze()
        _SETTLED.append(True)


class Refused(HTTPException):
    """A file the reader refused: people read why in Chinese (`detail`); the API also gives the
    reader's own words (`reason`, as the command line says it) for programs that tell reasons apart."""

    def __init__(self, detail: str, reason: str) -> None:
        super().__init__(422, detail)
        self.reason = reason


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


@dataclass
class Web:
    store: Store
    token: str | None
    templates: Jinja2Templates
    gate: Gate
    limits: Limits

    # ------------------------------------------------------------ access (used as dependencies)
    def signed_in(self, request: Request) -> bool:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip() \
            or request.cookies.get(TOKEN_COOKIE, "")
        return bool(self.token) and hmac.compare_digest(given.encode(), (self.token or "").encode())

    def write_allowed(self, request: Request) -> None:
        if not self.token:
            raise HTTPException(403, "本服务为只读：启动 xxgk serve 时设置 XXGK_TOKEN 才能上传或审核")
        if not self.signed_in(request):
            raise HTTPException(401, "需要有效的令牌才能修改数据，请先登录")

    async def csrf_checked(self, request: Request) -> None:
        if request.headers.get("authorization"):
            return  # API clients send the token in a header, which a foreign page cannot
        form = await request.form()
        cookie = request.cookies.get(CSRF_COOKIE, "")
        if not cookie or not hmac.compare_digest(cookie, str(form.get("csrf", ""))):
            raise HTTPException(403, "表单已过期，请刷新页面后重试")

    # ------------------------------------------------------------ pages
    def page(self, request: Request, template: str, **context: object) -> HTMLResponse:
        csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        response = self.templates.TemplateResponse(
            request, template, {"csrf": csrf, "can_write": bool(self.token),
                                "signed_in": self.signed_in(request), **context})
        response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="strict")
        return response

    def report_or_404(self, report_id: int) -> Report:
        report = self.store.report(report_id) if 1 <= report_id <= MAX_ID else None
        if report is None:
            raise HTTPException(404, "没有这份报告")
        return report

    # ------------------------------------------------------------ writes
    @staticmethod
    def too_large(name: str, size: int) -> HTTPException:
        return HTTPException(413, f"{name}：文件超过 {MAX_UPLOAD // (1024 * 1024)} MB，未保存")

    async def read_upload(self, file: UploadFile) -> tuple[str, bytes]:
        name = name_as_typed(file.filename)
        data = await file.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            raise self.too_large(name, len(data))
        return name, data

    async def ingest(self, name: str, data: bytes) -> int:
        """Parse in a boxed worker process (the server's own memory stays flat), one of at most
        `workers` at a time; the event loop stays free meanwhile."""
        async with self.gate.slot():
            try:
                parsed, text = await run_in_threadpool(call_boxed, parse_upload, data, name, limits=self.limits)
            except ReportError as e:
                raise Refused(f"{name}：{in_chinese(str(e))}", str(e)) from e
            except RuntimeError as e:  # a bug in the reader: this file only
                raise HTTPException(422, f"{name}：读取此文件时内部出错（{e}）") from e
        result = ParseResult.model_validate_json(parsed)
        report_id = await run_in_threadpool(self.store.add, result, data, name)
        if text and sniff(data) not in TABLED:  # a page or Word file is viewed with its tables: read then
            keep(self.store.report(report_id).digest, {"text": text, "tables": []})
        del parsed, text, result, data
        trim_memory()
        return report_id

    def finding_review(self, finding_id: int, status: str) -> None:
        if not 1 <= finding_id <= MAX_ID:
            raise HTTPException(404, "没有这条审核发现")
        try:
            self.store.review(finding_id, status)
        except KeyError as e:
            raise HTTPException(404, "没有这条审核发现") from e
        except ValueError as e:
            raise HTTPException(422, "审核状态只能是 confirmed（确认）、dismissed（驳回）或 open（待审）") from e

    # ------------------------------------------------------------ reviewers' work (corrections, status, files)
    def already(self, data: bytes) -> int | None:
        """The report of this very file by this parser, when it was stored before (a re-upload)."""
        digest = hashlib.sha256(data).hexdigest()
        return max((r.id for r in self.store.reports_of_digest(digest) if r.parser_version == PARSER_VERSION),
                   default=None)

    def correct_cell(self, report_id: int, key: str, value: float | None, note: str, who: str) -> None:
        report = self.report_or_404(report_id)
        if not key:
            raise HTTPException(422, "请选择要更正的单元格")
        try:
            self.store.correct(report.id, key, value, note.strip()[:2000], who.strip())
        except InvalidCorrection as e:
            raise HTTPException(422, str(e)) from e

    def withdraw_cell(self, report_id: int, key: str) -> None:
        if not self.store.withdraw(self.report_or_404(report_id).id, key):
            raise HTTPException(404, f"「{key[:80]}」没有更正")

    def set_status(self, report_id: int, status: str, note: str, who: str) -> None:
        if status not in STATUS_CODES:
            raise HTTPException(422, "审核状态只能是 待审（pending）、已审（reviewed）或 退回（returned）")
        self.store.set_report_status(self.report_or_404(report_id).digest, status, note.strip()[:2000], who.strip())


def number_or_blank(text: str) -> float | None:
    """A corrected value as typed in the form: empty is a blank; else a number (full-width digits too)."""
    text = text.strip().translate(str.maketrans("０１２３４５６７８９．－", "0123456789.-")).replace(",", "")
    if not text:
        return None
    try:
        return float(text)
    except ValueError as e:
        raise HTTPException(422, f"「{text[:20]}」不是数字（留空表示该格空白）") from e


def download_name(name: str) -> str:
    """A Content-Disposition value for a stored file's name: an ASCII fallback and the name itself
    percent-encoded (RFC 6266/5987), so quotes, line breaks or Chinese cannot break the header."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1] or "report"
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", base) or "report"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(base, safe='')}"

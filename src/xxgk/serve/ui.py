"""The HTML pages: overview, report list, a report beside its source, an agency's years, the
evaluation, upload and review forms."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import Field

from ..compose.layout import format_of
from ..evaluate import evaluate, stored_facts
from ..evaluate.output import chart_data
from ..evaluate.score import LEVEL_ORDER
from ..formats import FORMATS
from ..ingest import sniff
from ..result import ParseResult
from ..store import Store, browse
from ..store.models import Correction, Report
from ..store.reviews import STATUS_CODES, STATUSES, corrected
from . import compare, views
from .pages import page_png, page_widths
from .sources import TABLED, segments, source_view
from .web import (
    MAX_PAGE,
    MAX_UPLOAD,
    Web,
    download_name,
    name_as_typed,
    number_or_blank,
    same_site,
    year_or_none,
)

PAGE = 100  # reports per page of the list
MISSING_PAGE = 50  # agencies per page of 缺少年度报告的机关


def router(web: Web) -> APIRouter:
    r = APIRouter(include_in_schema=False)
    store = web.store

    @r.get("/docs", response_class=HTMLResponse)
    def api_docs(request: Request) -> HTMLResponse:
        return web.templates.TemplateResponse(request, "docs.html", {})

    @r.get("/redoc")
    def redoc() -> RedirectResponse:
        return RedirectResponse("/docs", status_code=308)

    @r.get("/", response_class=HTMLResponse)
    def overview(request: Request,
                 missing_page: Annotated[int, Query(alias="missing", ge=1, le=MAX_PAGE)] = 1) -> HTMLResponse:
        missing = browse.kept(store, "missing", lambda: browse.missing_years(store))  # each agency's own years
        pages = max(1, -(-len(missing) // MISSING_PAGE))
        shown = missing[(missing_page - 1) * MISSING_PAGE:missing_page * MISSING_PAGE]
        summary = browse.kept(store, "overview", store.overview)  # computed again when the store changes
        return web.page(request, "overview.html", status_names=STATUSES, **{**summary, "missing": shown},
                        missing_total=len(missing), missing_page=missing_page, missing_pages=pages)

    @r.get("/reports", response_class=HTMLResponse)
    def report_list(request: Request, q: str = "", year_text: Annotated[str, Query(alias="year")] = "",
                    errors: bool = False, status: str = "",
                    page_no: Annotated[int, Query(alias="page", ge=1, le=MAX_PAGE)] = 1) -> HTMLResponse:
        year = year_or_none(year_text)  # the form's 全部年度 sends year= empty
        if status and status not in STATUS_CODES:
            raise HTTPException(422, "审核状态只能是 待审、已审 或 退回")
        status = STATUS_CODES.get(status, "")
        total = store.count(year=year, search=q or None, errors=errors, status=status or None)
        reports = store.reports(year=year, search=q or None, errors=errors, offset=(page_no - 1) * PAGE, limit=PAGE,
                                status=status or None)
        return web.page(request, "reports.html", reports=reports, q=q, year=year, errors=errors,
                        years=store.years(), total=total, page_no=page_no, pages=max(1, -(-total // PAGE)),
                        counts=store.open_counts([x.id for x in reports]), status=status, statuses=STATUSES,
                        reviews=store.report_statuses(x.digest for x in reports))

    @r.get("/reports/{report_id}", response_class=HTMLResponse)
    def report_page(request: Request, report_id: int, again: bool = False) -> HTMLResponse:
        report = web.report_or_404(report_id)
        fixes = store.corrections(report.digest)  # shown in place of the values read, marked
        result = corrected(report.result, {k: c.value for k, c in fixes.items()}) if fixes \
            else ParseResult.model_validate(report.result)
        source = store.source(report.digest)
        text = None
        shown: list[dict] = []  # an HTML page's or Word file's text with its tables drawn in place
        widths: list[float] = []  # of each PDF page in points: the unit of the bounding boxes
        if source and source[1][:5] == b"%PDF-":
            widths = page_widths(source[1])
        elif source and sniff(source[1]) in TABLED:
            shown = segments(source_view(report.digest, source[0], source[1], web.limits))
        elif source and source[1]:  # (an empty file has no text to read: no worker started for it)
            text = source_view(report.digest, source[0], source[1], web.limits)["text"]
        flagged: dict[str, str] = {}
        statuses = list(store.status_of(report))
        for f, status in statuses:
            if status != "dismissed" and f.severity != "info":
                for k in f.cells:
                    flagged.setdefault(k, f.severity)
        return web.page(request, "report.html", report=report, result=result, fmt=format_of(result), text=text,
                        shown=shown,
                        widths=widths, tables=views.tables(result), flagged=flagged, findings=statuses,
                        provenance=result.provenance,
                        **review_context(store, report, fixes, again))

    @r.get("/reports/{report_id}/page/{number}.png")
    def page_image(report_id: int, number: int) -> Response:
        report = web.report_or_404(report_id)
        if not 1 <= number <= MAX_PAGE:
            raise HTTPException(404, "没有这一页")
        source = store.source(report.digest)
        if not source or source[1][:5] != b"%PDF-":
            raise HTTPException(404, "这份报告的原文不是 PDF")
        png = page_png(source[1], number)
        if png is None:
            raise HTTPException(404, "没有这一页")
        return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=86400"})

    # ------------------------------------------------------------ an agency's years compared (before /agencies/…)
    @r.get("/agencies/{name:path}/compare", response_class=HTMLResponse)
    def compare_page(request: Request, name: str,
                     years: Annotated[list[Annotated[int, Field(ge=2000, le=2100)]], Query()] = []  # noqa: B006
                     ) -> HTMLResponse:
        chain = browse.carried_cells(store, name)
        if not chain:
            raise HTTPException(404, "没有这个机关")
        reports = browse.agency_years(store, name, sorted(set(years)) or None)
        if not reports:
            raise HTTPException(404, f"{name} 没有 {'、'.join(map(str, sorted(set(years))))} 年度的报告")
        return web.page(request, "compare.html", name=name, c=compare.compare(reports),
                        all_years=[y for y, _, _ in chain], absent=sorted(set(years) - {r.year for r in reports}),
                        chain=json.dumps(compare.chain(chain), ensure_ascii=False).replace("</", "<\\/"))

    @r.get("/agencies/{name:path}", response_class=HTMLResponse)
    def agency_page(request: Request, name: str) -> HTMLResponse:
        reports = browse.agency_reports(store, name)  # cells, not the deferred parse results
        if not reports:
            raise HTTPException(404, "没有这个机关")
        shown = [r for r in reports if r.current]  # one per agency-year; the others linked beside it
        others = {r.id: [o for o in reports if o.year == r.year and o.id != r.id] for r in shown}
        cells = {r.id: {c.key: c.value for c in r.cells} for r in shown}
        computed = {r.id: views.computed_totals(cells[r.id], FORMATS[r.template or "2021"]) for r in shown}
        years = sorted({r.year for r in shown if r.year is not None})
        return web.page(request, "agency.html", name=name, reports=shown, others=others, cells=cells, computed=computed,
                        years=years, charts=views.charts(shown))

    # ------------------------------------------------------------ agencies by region and level
    @r.get("/regions", response_class=HTMLResponse)
    def regions_page(request: Request, region: str = "", level: str = "") -> HTMLResponse:
        groups = browse.kept(store, "regions", lambda: browse.region_groups(store))
        shown = [g for g in groups if (not region or g.region == region) and (not level or g.level == level)]
        return web.page(request, "regions.html", groups=shown, region=region, level=level,
                        regions=list(dict.fromkeys(g.region for g in groups)), levels=LEVEL_ORDER)

    @r.get("/evaluate", response_class=HTMLResponse)
    def evaluation_page(request: Request, year: str = "", level: str = "", region: str = "") -> HTMLResponse:
        chosen = year_or_none(year)
        ev = evaluate(stored_facts(store, chosen))
        shown = [r for r in ev.reports
                 if (not level or r.facts.level == level) and (not region or r.facts.region == region)]
        regions = sorted({r.facts.region for r in ev.reports} - {""})
        return web.page(request, "evaluate.html", shown=shown, rates=ev.rates, year=chosen, level=level,
                        region=region, years=store.years(), levels=LEVEL_ORDER, regions=regions,
                        notes={i.id: i.note for i in ev.indicators},
                        charts=json.dumps(chart_data(ev), ensure_ascii=False).replace("</", "<\\/"))

    @r.post("/upload")
    async def upload_form(request: Request, files: Annotated[list[UploadFile], File()],
                          _w: None = Depends(web.write_allowed), _c: None = Depends(web.csrf_checked)) -> Response:
        for file in files:  # every size checked before any file is stored
            if file.size is not None and file.size > MAX_UPLOAD:
                raise web.too_large(name_as_typed(file.filename), file.size)
        done, errors, again = [], [], set()
        for file in files:
            name, data = await web.read_upload(file)
            try:
                if (known := web.already(data)) is not None:  # this very file was uploaded before: say so
                    again.add(known)
                    done.append(known)
                    continue
                done.append(await web.ingest(name, data))
            except HTTPException as e:
                errors.append(str(e.detail))
        if len(done) == 1 and not errors:
            return RedirectResponse(f"/reports/{done[0]}" + ("?again=true" if again else ""), status_code=303)
        return web.page(request, "uploaded.html", done=[web.report_or_404(i) for i in done], errors=errors,
                        again=again)

    @r.post("/findings/{finding_id}/review")
    async def review_form(finding_id: int, status: Annotated[str, Form()], back: Annotated[str, Form()] = "/",
                          _w: None = Depends(web.write_allowed), _c: None = Depends(web.csrf_checked)) -> Response:
        web.finding_review(finding_id, status)
        return RedirectResponse(same_site(back), status_code=303)

    # ------------------------------------------------------------ reviewers' work: corrections, status, files
    @r.post("/reports/{report_id}/cells")
    async def correct_form(report_id: int, key: Annotated[str, Form()], value: Annotated[str, Form()] = "",
                           note: Annotated[str, Form()] = "", who: Annotated[str, Form()] = "",
                           _w: None = Depends(web.write_allowed), _c: None = Depends(web.csrf_checked)) -> Response:
        web.correct_cell(report_id, key, number_or_blank(value), note, who)
        return RedirectResponse(f"/reports/{report_id}#corrections", status_code=303)

    @r.post("/reports/{report_id}/cells/{key}/withdraw")
    async def withdraw_form(report_id: int, key: str, _w: None = Depends(web.write_allowed),
                            _c: None = Depends(web.csrf_checked)) -> Response:
        web.withdraw_cell(report_id, key)
        return RedirectResponse(f"/reports/{report_id}#corrections", status_code=303)

    @r.post("/reports/{report_id}/status")
    async def status_form(report_id: int, status: Annotated[str, Form()], note: Annotated[str, Form()] = "",
                          who: Annotated[str, Form()] = "", _w: None = Depends(web.write_allowed),
                          _c: None = Depends(web.csrf_checked)) -> Response:
        web.set_status(report_id, status, note, who)
        return RedirectResponse(f"/reports/{report_id}#review", status_code=303)

    @r.post("/reports/{report_id}/delete")
    async def delete_form(report_id: int, _w: None = Depends(web.write_allowed),
                          _c: None = Depends(web.csrf_checked)) -> Response:
        store.delete(web.report_or_404(report_id).id)
        return RedirectResponse("/reports?deleted=true", status_code=303)

    @r.get("/reports/{report_id}/source")
    def source_file(report_id: int) -> Response:
        report = web.report_or_404(report_id)
        source = store.source(report.digest)
        if source is None:
            raise HTTPException(404, "这份报告的原文件已不在")
        return Response(source[1], media_type="application/octet-stream",
                        headers={"Content-Disposition": download_name(source[0])})

    return r


def review_context(store: Store, report: Report, fixes: dict[str, Correction], again: bool) -> dict:
    """What the report page shows of reviewers' work: corrections (by cell, with the value read),
    the report's status and note, the cells a correction may name (with their labels)."""
    from ..formats import cell_specs

    fmt = report.template or "2021"
    return {"corrections": fixes, "statuses": STATUSES, "again": again,
            "review": store.report_statuses([report.digest]).get(report.digest),
            "cell_choices": [(k, spec.label) for k, spec in cell_specs()[fmt].items()],
            "cell_labels": {k: spec.label for k, spec in cell_specs()[fmt].items()}}

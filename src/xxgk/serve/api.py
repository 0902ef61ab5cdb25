"""The REST API under /api: reports, their cells and findings, reviews, agencies, exports,
the evaluation. Reads are open; writes take the token as `Authorization: Bearer …`."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, UploadFile
from fastapi.responses import JSONResponse, Response

from ..evaluate import evaluate, stored_facts
from ..evaluate.output import to_json
from ..evaluate.output import write as write_evaluation
from ..store.export import FORMATS_OUT, export
from ..store.reviews import STATUS_CODES, corrected
from .schemas import (
    MAX_LIMIT,
    AgencyOut,
    Cells,
    CorrectionIn,
    CorrectionOut,
    FindingOut,
    ReportSummary,
    StatusIn,
    StatusOut,
    correction_of,
    finding_of,
    status_of,
    summary_of,
)
from .web import MAX_ID, Web, year_or_none

YEAR = Query(ge=2000, le=2100)


def router(web: Web) -> APIRouter:
    r = APIRouter(prefix="/api")
    store = web.store

    def summaries(reports: list) -> list[ReportSummary]:
        counts = store.open_counts([x.id for x in reports])
        reviews = store.report_statuses(x.digest for x in reports)
        return [summary_of(x, counts[x.id], reviews.get(x.digest)) for x in reports]

    @r.get("/reports")
    def api_reports(response: Response, year: Annotated[int | None, YEAR] = None, agency: str | None = None,
                    status: str | None = None, offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
                    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100) -> list[ReportSummary]:
        """Reports by agency and year, `limit` (at most 1000) from `offset`; the header
        X-Total-Count says how many there are in all."""
        if status is not None and status not in STATUS_CODES:
            raise HTTPException(422, "审核状态只能是 pending（待审）、reviewed（已审）或 returned（退回）")
        code = STATUS_CODES.get(status or "")
        response.headers["X-Total-Count"] = str(store.count(year=year, agency=agency, status=code))
        return summaries(store.reports(year=year, agency=agency, status=code, offset=offset, limit=limit))

    @r.post("/reports", status_code=201)
    async def api_upload(response: Response, file: Annotated[UploadFile, File()],
                         _w: None = Depends(web.write_allowed)) -> ReportSummary:
        name, data = await web.read_upload(file)
        known = web.already(data)
        if known is not None:  # this very file was stored before: nothing stored now
            response.status_code = 200
        (summary,) = summaries([web.report_or_404(known if known is not None else await web.ingest(name, data))])
        return summary.model_copy(update={"already": known is not None})

    @r.get("/reports/{report_id}")
    def api_report(report_id: int) -> dict:
        """The whole parse result (the contract's JSON), as read."""
        return web.report_or_404(report_id).result

    @r.delete("/reports/{report_id}", status_code=204)
    def api_delete(report_id: int, _w: None = Depends(web.write_allowed)) -> Response:
        store.delete(web.report_or_404(report_id).id)
        return Response(status_code=204)

    @r.get("/reports/{report_id}/cells")
    def api_cells(report_id: int) -> Cells:
        """Every cell's value in force: as read, or as a reviewer corrected it (see …/corrections)."""
        report = web.report_or_404(report_id)
        fixes = store.corrections(report.digest)
        if not fixes:
            return report.result["cells"]
        return corrected(report.result, {k: c.value for k, c in fixes.items()}).cells

    @r.get("/reports/{report_id}/findings")
    def api_findings(report_id: int) -> list[FindingOut]:
        return [finding_of(f, status) for f, status in store.status_of(web.report_or_404(report_id))]

    @r.post("/findings/{finding_id}/review")
    def api_review(finding_id: int, status: Annotated[str, Form()], _w: None = Depends(web.write_allowed)) -> dict:
        web.finding_review(finding_id, status)
        return {"id": finding_id, "review": status}

    @r.get("/agencies")
    def api_agencies() -> list[AgencyOut]:
        return [AgencyOut(name=a, years=ys) for a, ys in store.agencies()]

    @r.get("/export")
    def api_export(format: Annotated[str, Query()] = "csv", year: Annotated[int | None, YEAR] = None,
                   agency: str | None = None, chinese: bool = False, findings: bool = False) -> Response:
        if format not in FORMATS_OUT:
            raise HTTPException(422, f"格式须为 {'、'.join(FORMATS_OUT)} 之一")
        with tempfile.TemporaryDirectory() as tmp:
            paths = export(store, format, Path(tmp, f"reports.{format}"), year, agency, chinese)
            path = paths[1] if findings and len(paths) > 1 else paths[0]
            data = path.read_bytes()
        media = {"csv": "text/csv", "json": "application/json", "parquet": "application/octet-stream",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}[format]
        return Response(data, media_type=media,
                        headers={"Content-Disposition": f'attachment; filename="{path.name}"'})

    @r.get("/evaluate")
    def api_evaluate(format: str = "json", year: str = "") -> Response:
        if format not in ("json", "csv", "xlsx", "html"):
            raise HTTPException(422, "格式须为 json、csv、xlsx 或 html 之一")
        ev = evaluate(stored_facts(store, year_or_none(year)))
        if format == "json":
            return JSONResponse(to_json(ev))
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp, f"evaluation.{format}")
            write_evaluation(ev, path, format)
            data = path.read_bytes()
        media = {"csv": "text/csv; charset=utf-8", "html": "text/html; charset=utf-8",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}[format]
        return Response(data, media_type=media,
                        headers={"Content-Disposition": f'attachment; filename="{path.name}"'})

    # ------------------------------------------------------------ reviewers' work: corrections, status
    @r.get("/reports/{report_id}/corrections")
    def api_corrections(report_id: int) -> list[CorrectionOut]:
        return [correction_of(c) for c in store.corrections(web.report_or_404(report_id).digest).values()]

    @r.put("/reports/{report_id}/cells/{key}")
    def api_correct(report_id: int, key: str, body: CorrectionIn,
                    _w: None = Depends(web.write_allowed)) -> CorrectionOut:
        """Correct a cell (the value read is kept beside it); the report's findings are audited again."""
        web.correct_cell(report_id, key, body.value, body.note, body.who)
        return correction_of(store.corrections(web.report_or_404(report_id).digest)[key])

    @r.delete("/reports/{report_id}/cells/{key}", status_code=204)
    def api_withdraw(report_id: int, key: str, _w: None = Depends(web.write_allowed)) -> Response:
        """Withdraw a correction: the value read is in force again."""
        web.withdraw_cell(report_id, key)
        return Response(status_code=204)

    @r.get("/reports/{report_id}/status")
    def api_status(report_id: int) -> StatusOut:
        digest = web.report_or_404(report_id).digest
        return status_of(store.report_statuses([digest]).get(digest))

    @r.put("/reports/{report_id}/status")
    def api_set_status(report_id: int, body: StatusIn, _w: None = Depends(web.write_allowed)) -> StatusOut:
        web.set_status(report_id, body.status, body.note, body.who)
        return api_status(report_id)

    return r

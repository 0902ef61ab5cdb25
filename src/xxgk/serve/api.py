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
from . import views
from .web import Web, year_or_none

YEAR = Query(ge=2000, le=2100)


def router(web: Web) -> APIRouter:
    r = APIRouter(prefix="/api")
    store = web.store

    @r.get("/reports")
    def api_reports(year: Annotated[int | None, YEAR] = None, agency: str | None = None) -> list[dict]:
        return [views.summary(x) for x in store.reports(year=year, agency=agency)]

    @r.post("/reports", status_code=201)
    async def api_upload(file: Annotated[UploadFile, File()], _w: None = Depends(web.write_allowed)) -> dict:
        name, data = await web.read_upload(file)
        return views.summary(web.report_or_404(await web.ingest(name, data)))

    @r.get("/reports/{report_id}")
    def api_report(report_id: int) -> dict:
        return web.report_or_404(report_id).result

    @r.delete("/reports/{report_id}", status_code=204)
    def api_delete(report_id: int, _w: None = Depends(web.write_allowed)) -> Response:
        store.delete(web.report_or_404(report_id).id)
        return Response(status_code=204)

    @r.get("/reports/{report_id}/cells")
    def api_cells(report_id: int) -> dict:
        return web.report_or_404(report_id).result["cells"]

    @r.get("/reports/{report_id}/findings")
    def api_findings(report_id: int) -> list[dict]:
        return [{"id": f.id, "rule": f.rule, "severity": f.severity, "kind": f.kind, "cells": f.cells,
                 "message": f.message, "review": status}
                for f, status in store.status_of(web.report_or_404(report_id))]

    @r.post("/findings/{finding_id}/review")
    def api_review(finding_id: int, status: Annotated[str, Form()], _w: None = Depends(web.write_allowed)) -> dict:
        web.finding_review(finding_id, status)
        return {"id": finding_id, "review": status}

    @r.get("/agencies")
    def api_agencies() -> list[dict]:
        return [{"name": a, "years": ys} for a, ys in store.agencies()]

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

    return r

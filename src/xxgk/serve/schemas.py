"""What the API answers and takes, as pydantic models: typed in the OpenAPI document (/docs) and
checked on the way in. Counts leave out findings a reviewer dismissed."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ..store.models import Correction, Finding, Report, ReportReview

MAX_LIMIT = 1000  # reports per page of GET /api/reports


class FindingCounts(BaseModel):
    """Findings of a report by severity, those dismissed by a reviewer left out."""

    error: int = 0
    warning: int = 0
    info: int = 0


class ReportSummary(BaseModel):
    id: int
    source: str = Field(description="the file name it was uploaded as")
    agency: str | None = Field(description="the agency as the report names itself")
    year: int | None
    template: str | None = Field(description="the national format: 2019 or 2021")
    published: str | None
    posted: str | None
    current: bool = Field(description="the report of its agency and year that years are paired with")
    parser_version: str
    digest: str = Field(description="SHA-256 of the file")
    findings: FindingCounts
    status: str = Field("pending", description="review status: pending (待审), reviewed (已审), returned (退回)")
    already: bool = Field(False, description="on upload: this very file was stored before (nothing stored now)")


class FindingOut(BaseModel):
    id: int
    rule: str
    severity: str
    kind: str = Field(description="source (the report's own error) or extraction (a doubt of the reading)")
    cells: list[str]
    message: str
    review: str = Field(description="open, confirmed or dismissed")


class AgencyOut(BaseModel):
    name: str
    years: list[int]


class CorrectionIn(BaseModel):
    value: float | None = Field(description="the right value; null: the cell is blank")
    note: str = Field("", max_length=2000, description="why")
    who: str = Field("", max_length=100, description="who corrects it (default 审核人)")


class CorrectionOut(BaseModel):
    key: str
    value: float | None
    read: float | None = Field(description="the value as read, kept")
    note: str
    who: str
    at: datetime


class StatusIn(BaseModel):
    status: str = Field(description="pending, reviewed, returned (or 待审, 已审, 退回)")
    note: str = Field("", max_length=2000)
    who: str = Field("", max_length=100)


class StatusOut(BaseModel):
    status: str
    note: str = ""
    who: str | None = None
    at: datetime | None = None


Cells = dict[str, int | float | None]


def summary_of(r: Report, counts: dict[str, int], review: ReportReview | None = None,
               already: bool = False) -> ReportSummary:
    return ReportSummary(id=r.id, source=r.source_name, agency=r.agency_name, year=r.year, template=r.template,
                         published=r.published, posted=r.posted, current=r.current, parser_version=r.parser_version,
                         digest=r.digest, findings=FindingCounts(**counts),
                         status=review.status if review else "pending", already=already)


def finding_of(f: Finding, review: str) -> FindingOut:
    return FindingOut(id=f.id, rule=f.rule, severity=f.severity, kind=f.kind, cells=list(f.cells), message=f.message,
                      review=review)


def correction_of(c: Correction) -> CorrectionOut:
    return CorrectionOut(key=c.key, value=c.value, read=c.read, note=c.note, who=c.who, at=c.at)


def status_of(review: ReportReview | None) -> StatusOut:
    if review is None:
        return StatusOut(status="pending")
    return StatusOut(status=review.status, note=review.note, who=review.who, at=review.at)

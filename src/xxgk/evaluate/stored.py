"""A store's reports → ReportFacts, by three queries streamed in id order: no parse result is loaded,
so a store of a year's 100k reports evaluates in seconds. Findings a reviewer dismissed cost nothing."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import func, select

from ..store import Store
from ..store.models import Agency, Finding, Report, Review
from .score import Fact, ReportFacts, level_of, printed_cells, region_of


def stored_facts(store: Store, year: int | None = None) -> Iterator[ReportFacts]:
    latest = select(func.max(Report.id)).where(Report.current.is_(True)).group_by(Report.digest)
    reports = (select(Report.id, Report.source_name, Report.agency_name, Report.year, Report.published,
                      Report.posted, Report.template, Report.digest, Agency.kind)
               .outerjoin(Agency, Report.agency_id == Agency.id).where(Report.id.in_(latest)))
    findings = (select(Finding.report_id, Finding.rule, Finding.kind, Finding.severity, Finding.cells,
                       Finding.message).where(Finding.report_id.in_(latest)))
    if year is not None:
        reports = reports.where(Report.year == year)
        findings = findings.where(Finding.report_id.in_(select(Report.id).where(Report.year == year)))
    with store.session() as s:
        dismissed = {(d, r, c) for d, r, c in s.execute(
            select(Review.digest, Review.rule, Review.cells).where(Review.status == "dismissed"))}
        found = s.execute(findings.order_by(Finding.report_id, Finding.id)).yield_per(5000)
        pending = next(found, None)
        for rid, source, agency, yr, published, posted, template, digest, kind in s.execute(
                reports.order_by(Report.id)).yield_per(2000):
            facts: list[Fact] = []
            while pending is not None and pending[0] <= rid:
                if pending[0] == rid:
                    _, rule, fkind, severity, cells, message = pending
                    if (digest, rule, ",".join(cells)) not in dismissed:
                        facts.append(Fact(rule, fkind, severity, tuple(cells), message))
                pending = next(found, None)
            yield ReportFacts(source=source, agency=agency, year=yr, level=level_of(kind or ""),
                              region=region_of(agency), dated=published is not None or posted is not None,
                              printed=printed_cells(template), findings=facts, id=rid)

"""The store's API: add a parsed report with its source file, query, review, export.

Each report goes in with one transaction: it is there whole, or not at all. Adding a file whose
content was already parsed by this parser version changes nothing; a newer parser adds a new
report beside the old one.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, selectinload, sessionmaker

from .. import PARSER_VERSION
from ..audit import same_agency
from ..audit.agency import agency_kind
from ..batch import Outcome
from ..ingest import sniff
from ..result import ParseResult
from .migrate import upgrade
from .models import Agency, Cell, Failure, Finding, Report, Review, Source

DEFAULT_URL = "sqlite:///xxgk.db"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Store:
    def __init__(self, url: str | None = None) -> None:
        self.url = url or os.environ.get("XXGK_DB") or DEFAULT_URL
        self.engine: Engine = create_engine(self.url)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        upgrade(self.engine)
        self.session = sessionmaker(self.engine, expire_on_commit=False)

    # ------------------------------------------------------------ writing
    def has(self, digest: str, version: str = PARSER_VERSION) -> bool:
        with self.session() as s:
            return s.scalar(select(Report.id).where(Report.digest == digest, Report.parser_version == version)) \
                is not None

    def add(self, result: ParseResult, data: bytes, name: str | None = None) -> int:
        """Store a report and its source; the report's id (the existing one when already stored)."""
        digest = hashlib.sha256(data).hexdigest()
        with self.session.begin() as s:
            existing = s.scalar(select(Report.id).where(Report.digest == digest,
                                                        Report.parser_version == result.parser_version))
            if existing is not None:
                return existing
            if s.get(Source, digest) is None:
                s.add(Source(digest=digest, name=name or result.source, kind=sniff(data), size=len(data),
                             content=data, added=_now()))
            agency = self._agency(s, result) if result.agency else None
            report = Report(digest=digest, parser_version=result.parser_version, agency=agency,
                            source_name=name or result.source, agency_name=result.agency, year=result.year,
                            template=result.template, published=result.published,
                            result=result.model_dump(mode="json"), parsed=_now())
            report.cells = [Cell(key=k, value=v, blank=k in result.blank, inferred=result.inferred.get(k),
                                 provenance=result.provenance[k].model_dump(mode="json")
                                 if k in result.provenance else None)
                            for k, v in result.cells.items()]
            report.findings = [Finding(rule=f.rule, severity=f.severity, kind=f.kind, cells=f.cells,
                                       message=f.message) for f in result.findings]
            s.add(report)
            s.flush()
            return report.id

    @staticmethod
    def _agency(s: Session, result: ParseResult) -> Agency:
        """The agency, also when a report names it shorter or longer ("洪泽区人民政府", "淮安市洪泽区人民政府")."""
        name = result.agency or ""
        agency = s.scalar(select(Agency).where(Agency.name == name))
        if agency is None and len(name) >= 6:
            agency = next((a for a in s.scalars(select(Agency)) if same_agency(a.name, name)), None)
            if agency is not None and len(name) > len(agency.name):
                agency.name = name  # keep the fullest form of the name
        if agency is None:
            agency = Agency(name=name, kind=agency_kind(name, result.sections.get("一", "")))
            s.add(agency)
        return agency

    def add_failure(self, digest: str, name: str, error: str) -> None:
        with self.session.begin() as s:
            s.merge(Failure(digest=digest, parser_version=PARSER_VERSION, name=name, error=error))

    def failures(self) -> list[tuple[str, str]]:
        with self.session() as s:
            rows = s.execute(select(Failure.name, Failure.error).where(Failure.parser_version == PARSER_VERSION))
            return [(n, e) for n, e in rows]

    def failed(self, digest: str) -> bool:
        with self.session() as s:
            return s.get(Failure, (digest, PARSER_VERSION)) is not None

    def review(self, finding_id: int, status: str, note: str | None = None) -> None:
        """Mark a finding confirmed or dismissed; the mark stays with the file through re-parsing."""
        if status not in ("confirmed", "dismissed", "open"):
            raise ValueError("status is confirmed, dismissed or open")
        with self.session.begin() as s:
            f = s.get(Finding, finding_id)
            if f is None:
                raise KeyError(finding_id)
            key = (f.report.digest, f.rule, ",".join(f.cells))
            review = s.get(Review, key)
            if status == "open":
                if review is not None:
                    s.delete(review)
                return
            s.merge(Review(digest=key[0], rule=key[1], cells=key[2], status=status, note=note, at=_now()))

    def delete(self, report_id: int) -> None:
        """A report goes with its cells and findings; its source file stays while another report uses it."""
        with self.session.begin() as s:
            report = s.get(Report, report_id)
            if report is None:
                raise KeyError(report_id)
            digest = report.digest
            s.delete(report)
            s.flush()
            if s.scalar(select(Report.id).where(Report.digest == digest)) is None:
                source = s.get(Source, digest)
                if source is not None:
                    s.delete(source)

    # ------------------------------------------------------------ reading
    def reports(self, year: int | None = None, agency: str | None = None, latest: bool = True) -> list[Report]:
        """Reports (newest parser version of each file unless `latest` is False), with cells and findings."""
        with self.session() as s:
            q = select(Report).options(selectinload(Report.cells), selectinload(Report.findings),
                                       selectinload(Report.agency))
            if year is not None:
                q = q.where(Report.year == year)
            if agency:
                q = q.where(Report.agency.has(Agency.name.contains(agency)) | Report.agency_name.contains(agency))
            rows = list(s.scalars(q.order_by(Report.agency_name, Report.year, Report.id)))
        if latest:
            newest: dict[str, Report] = {}
            for r in rows:
                if r.digest not in newest or _version(r.parser_version) > _version(newest[r.digest].parser_version):
                    newest[r.digest] = r
            rows = [r for r in rows if newest[r.digest] is r]
        return rows

    def report(self, report_id: int) -> Report | None:
        with self.session() as s:
            return s.scalar(select(Report).where(Report.id == report_id).options(
                selectinload(Report.cells), selectinload(Report.findings), selectinload(Report.agency)))

    def status_of(self, report: Report) -> Iterator[tuple[Finding, str]]:
        """Each finding of a report with the reviewer's status ("open" when none)."""
        with self.session() as s:
            reviews = s.scalars(select(Review).where(Review.digest == report.digest))
            decided = {(r.rule, r.cells): r.status for r in reviews}
        for f in report.findings:
            yield f, decided.get((f.rule, ",".join(f.cells)), "open")

    def source(self, digest: str) -> tuple[str, bytes] | None:
        with self.session() as s:
            src = s.get(Source, digest)
            return None if src is None else (src.name, src.content)


def _version(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split(".") if x.isdigit())


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.close()


class StoreLedger:
    """The batch ledger of an ingest is the database itself (see xxgk.batch.Ledger)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def has(self, digest: str, retry_failed: bool = False) -> bool:
        return self.store.has(digest) or (not retry_failed and self.store.failed(digest))

    def record(self, outcome: Outcome) -> None:
        if outcome.error:
            self.store.add_failure(outcome.digest, Path(outcome.path).name, outcome.error)

    def failures(self) -> list[tuple[str, str]]:
        return self.store.failures()

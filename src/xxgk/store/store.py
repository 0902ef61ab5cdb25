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

from sqlalchemy import ColumnElement, Select, create_engine, event, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, selectinload, sessionmaker, undefer

from .. import PARSER_VERSION, pairing
from ..audit import audit
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
    def __init__(self, url: str | None = None, aliases: pairing.Aliases | None = None) -> None:
        self.url = url or os.environ.get("XXGK_DB") or DEFAULT_URL
        self.aliases = aliases
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
            agency = self._agency(s, result, self.aliases) if result.agency else None
            current = True
            if agency is not None and result.year is not None:
                current = self._take_current(s, result, agency, digest)
                result = self._pair_years(s, result, agency, current)
            report = Report(digest=digest, parser_version=result.parser_version, agency=agency,
                            source_name=name or result.source, agency_name=result.agency, year=result.year,
                            template=result.template, published=result.published, posted=result.posted,
                            current=current, result=result.model_dump(mode="json"), parsed=_now())
            report.cells = [Cell(key=k, value=v, blank=k in result.blank, inferred=result.inferred.get(k),
                                 provenance=result.provenance[k].model_dump(mode="json")
                                 if k in result.provenance else None)
                            for k, v in result.cells.items()]
            report.findings = _findings(result)
            s.add(report)
            s.flush()
            return report.id

    # ------------------------------------------------------------ identity: agency keys, pairing, duplicates
    @staticmethod
    def _take_current(s: Session, result: ParseResult, agency: Agency, digest: str) -> bool:
        """Whether the new report is its agency-year's current one: it is the first, or it reads more
        cells than the current one (which then stops being current), or it is a newer parse of the
        current one's file. The store keeps both either way."""
        if agency.id is None:
            return True
        rival = s.scalar(select(Report).options(undefer(Report.result)).where(
            Report.agency_id == agency.id, Report.year == result.year, Report.current.is_(True)).limit(1))
        if rival is None:
            return True
        better = pairing.unread(ParseResult.model_validate(rival.result)) <= pairing.unread(result)
        if rival.digest != digest and better:
            return False
        rival.current = False
        return True

    @staticmethod
    def _promote(s: Session, agency_id: int, year: int) -> None:
        """The current report of an agency-year deleted: the best read of those left takes its place."""
        left = list(s.scalars(select(Report).options(undefer(Report.result)).where(
            Report.agency_id == agency_id, Report.year == year)))
        if left:
            best = min(left, key=lambda r: (pairing.unread(ParseResult.model_validate(r.result)), -r.id))
            best.current = True

    @staticmethod
    def _pair_years(s: Session, result: ParseResult, agency: Agency, current: bool = True) -> ParseResult:
        """Audit the new report against its agency's year before, and (when it is the current one)
        the year after against it."""
        def stored(year: int) -> Report | None:
            return s.scalar(select(Report).options(undefer(Report.result)).where(
                Report.agency_id == agency.id, Report.year == year, Report.current.is_(True))
                .order_by(Report.id.desc()).limit(1)) if agency.id is not None else None

        before = stored(result.year - 1)  # type: ignore[operator]
        if before is not None:
            result = result.model_copy(update={"findings": audit(result, ParseResult.model_validate(before.result))})
        after = stored(result.year + 1) if current else None  # type: ignore[operator]
        if after is not None:
            later = ParseResult.model_validate(after.result)
            later.findings = audit(later, result)
            after.result = later.model_dump(mode="json")
            after.findings = _findings(later)
        return result

    @staticmethod
    def _agency(s: Session, result: ParseResult, aliases: pairing.Aliases | None = None) -> Agency:
        """The agency by pairing's key: the same key, or the one stored key related to it (a name
        printed shorter or longer: 「港湾街道」, 「佳木斯市前进区港湾街道办事处」); two related keys
        (两个「城关镇」): a new agency, they cannot be told apart."""
        name = result.agency or ""
        key = pairing.agency_key(name, aliases) or name
        agency = s.scalar(select(Agency).where(Agency.key == key).limit(1)) or s.scalar(
            select(Agency).where(Agency.name == name, Agency.key.is_(None)))
        if agency is None:
            endings = [key[i:] for i in range(1, len(key) - pairing.MIN_SUFFIX + 1)]
            near = list(s.scalars(select(Agency).where(
                Agency.key.in_(endings) | Agency.key.endswith(key, autoescape=True)).limit(3)))
            chosen = pairing.resolve(key, [a.key for a in near if a.key])
            agency = next((a for a in near if a.key == chosen), None)
            if agency is not None and len(key) > len(agency.key or ""):
                agency.key = key  # keep the fullest key and name
        if agency is None:
            agency = s.scalar(select(Agency).where(Agency.name == name))  # a name stored under another key
        if agency is None:
            agency = Agency(name=name, key=key, kind=agency_kind(name, result.sections.get("一", "")))
            s.add(agency)
        else:
            agency.key = agency.key or key
            if len(name) > len(agency.name) and s.scalar(select(Agency.id).where(Agency.name == name)) is None:
                agency.name = name
        return agency

    def agency_keys(self) -> list[tuple[str, list[int], list[str]]]:
        """Each agency key with its report years and the names its reports print."""
        with self.session() as s:
            rows = s.execute(select(Agency.key, Agency.name, Report.year, Report.agency_name)
                             .join(Report, Report.agency_id == Agency.id)).all()
        out: dict[str, tuple[set[int], dict[str, None]]] = {}
        for key, name, year, printed in rows:
            years, names = out.setdefault(key or name, (set(), {}))
            if year is not None:
                years.add(year)
            names.setdefault(printed or name)
        return [(k, sorted(ys), list(ns)) for k, (ys, ns) in sorted(out.items())]

    def pairs(self) -> dict[str, str | None]:
        """{file name: the file its report was checked against (its agency's current report for the
        year before), or None} for the newest parse of every file: what `check` says as `previous`."""
        with self.session() as s:
            latest = select(func.max(Report.id)).group_by(Report.digest)
            rows = s.execute(select(Report.source_name, Report.agency_id, Report.year, Report.current)
                             .where(Report.id.in_(latest))).all()
        current = {(a, y): n for n, a, y, c in rows if c and a is not None and y is not None}
        return {n: current.get((a, y - 1)) if a is not None and y is not None else None for n, a, y, _ in rows}

    def duplicates_of(self, report_id: int) -> list[str]:
        """The files of the other reports of this report's agency and year (none: no duplicate)."""
        with self.session() as s:
            row = s.execute(select(Report.agency_id, Report.year, Report.digest).where(Report.id == report_id)).first()
            if row is None or row.agency_id is None or row.year is None:
                return []
            return list(s.scalars(select(Report.source_name).where(
                Report.agency_id == row.agency_id, Report.year == row.year, Report.digest != row.digest)
                .order_by(Report.id)))

    def others_of(self, report: Report) -> list[Report]:
        """The other reports of a report's agency and year (duplicates), current first."""
        if report.agency_id is None or report.year is None:
            return []
        with self.session() as s:
            return list(s.scalars(select(Report).where(
                Report.agency_id == report.agency_id, Report.year == report.year, Report.id != report.id)
                .order_by(Report.current.desc(), Report.id)))

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
            digest, was_current, agency_id, year = report.digest, report.current, report.agency_id, report.year
            s.delete(report)
            s.flush()
            if was_current and agency_id is not None and year is not None:
                self._promote(s, agency_id, year)
            if s.scalar(select(Report.id).where(Report.digest == digest)) is None:
                source = s.get(Source, digest)
                if source is not None:
                    s.delete(source)

    # ------------------------------------------------------------ reading
    @staticmethod
    def _filtered(q: Select, year: int | None, agency: str | None, errors: bool, search: str | None,
                  latest: bool = True) -> Select:
        """The filters `reports` and `count` share. `latest`: the newest parse of each file (the one
        stored last: a file is parsed again only by a newer parser); `search`: words of the agency's
        name or of the file name."""
        if latest:
            q = q.where(Report.id.in_(select(func.max(Report.id)).group_by(Report.digest)))
        if year is not None:
            q = q.where(Report.year == year)
        if agency:
            q = q.where(_named(agency))
        if search:
            q = q.where(_named(search) | Report.source_name.contains(search, autoescape=True))
        if errors:
            q = q.where(Report.findings.any(Finding.severity == "error"))
        return q

    def reports(self, year: int | None = None, agency: str | None = None, latest: bool = True,
                cells: bool = False, errors: bool = False, search: str | None = None, offset: int = 0,
                limit: int | None = None) -> list[Report]:
        """Reports with their findings, ordered by agency and year (`cells`: with cells and results);
        `errors` keeps those with an error finding."""
        with self.session() as s:
            q = select(Report).options(selectinload(Report.findings), selectinload(Report.agency))
            if cells:
                q = q.options(selectinload(Report.cells), undefer(Report.result))
            q = self._filtered(q, year, agency, errors, search, latest)
            q = q.order_by(Report.agency_name, Report.year, Report.id).offset(offset).limit(limit)
            return list(s.scalars(q))

    def count(self, year: int | None = None, agency: str | None = None, errors: bool = False,
              search: str | None = None) -> int:
        with self.session() as s:
            return s.scalar(self._filtered(select(func.count(Report.id)), year, agency, errors, search)) or 0

    def overview(self) -> dict:
        """What the front page shows, computed by the database (a store may hold 100k reports)."""
        with self.session() as s:
            latest = select(func.max(Report.id)).group_by(Report.digest)
            reports = s.scalar(select(func.count(Report.id)).where(Report.id.in_(latest))) or 0
            errors = s.scalar(select(func.count(func.distinct(Finding.report_id))).where(
                Finding.report_id.in_(latest), Finding.severity == "error")) or 0
            rules = s.execute(select(Finding.rule, func.count(func.distinct(Finding.report_id)).label("n"))
                              .where(Finding.report_id.in_(latest), Finding.severity != "info")
                              .group_by(Finding.rule).order_by(text("n DESC"), Finding.rule).limit(10)).all()
            pairs = s.execute(select(Agency.name, Report.year).join(Report.agency)
                              .where(Report.id.in_(latest), Report.year.is_not(None)).distinct()).all()
        years = sorted({y for _, y in pairs})
        by_agency: dict[str, set[int]] = {}
        for name, year in pairs:
            by_agency.setdefault(name, set()).add(year)
        missing = [(a, [y for y in years if y not in ys]) for a, ys in sorted(by_agency.items())
                   if any(y not in ys for y in years)]
        return {"reports": reports, "errors": errors, "rules": [(r, n) for r, n in rules], "years": years,
                "agencies": len(by_agency), "missing": missing}

    def years(self) -> list[int]:
        with self.session() as s:
            return sorted(y for y in s.scalars(select(Report.year).where(Report.year.is_not(None)).distinct()))

    def agencies(self) -> list[tuple[str, list[int]]]:
        """Each agency with the years it has reports for."""
        with self.session() as s:
            rows = s.execute(select(Agency.name, Report.year).join(Report.agency).distinct()).all()
        out: dict[str, list[int]] = {}
        for name, year in rows:
            out.setdefault(name, []).append(year or 0)
        return [(a, sorted(ys)) for a, ys in sorted(out.items())]

    def report(self, report_id: int) -> Report | None:
        with self.session() as s:
            return s.scalar(select(Report).where(Report.id == report_id).options(
                selectinload(Report.cells), selectinload(Report.findings), selectinload(Report.agency),
                undefer(Report.result)))

    def cell_values(self, report_ids: list[int]) -> dict[int, dict[str, float | None]]:
        """{report id: {cell key: value}}, straight from the cells table."""
        out: dict[int, dict[str, float | None]] = {}
        with self.session() as s:
            for rid, key, value in s.execute(select(Cell.report_id, Cell.key, Cell.value)
                                             .where(Cell.report_id.in_(report_ids))):
                out.setdefault(rid, {})[key] = value
        return out

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


def _named(words: str) -> ColumnElement[bool]:
    """Reports whose agency's name (as stored, or as the report prints it) contains `words`."""
    return Report.agency.has(Agency.name.contains(words, autoescape=True)) | Report.agency_name.contains(
        words, autoescape=True)


def _findings(result: ParseResult) -> list[Finding]:
    return [Finding(rule=f.rule, severity=f.severity, kind=f.kind, cells=f.cells, message=f.message)
            for f in result.findings]


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

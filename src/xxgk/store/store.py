"""The store's API: add parsed reports with their source files, query, review, export.

Reports go in by batches (`add_many`, `Writer`), a batch in one transaction: each report is
there whole, or not at all. Inserts are idempotent (`ON CONFLICT DO NOTHING` on the content hash
and unique keys), so two ingests into one database at once each finish, with right counts.
Adding a file whose content was already parsed by this parser version changes nothing; a newer
parser adds a new report beside the old one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pydantic_core
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    create_engine,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, selectinload, sessionmaker, undefer

from .. import PARSER_VERSION, pairing
from ..audit import audit
from ..audit.agency import agency_kind
from ..batch import Outcome
from ..ingest import sniff
from ..result import ParseResult
from .migrate import upgrade
from .models import Agency, Cell, Failure, Finding, Report, Review, Source
from .reviews import Reviews, apply_corrections, dismissed_ids, status_filter

DEFAULT_URL = "sqlite:///xxgk.db"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Stored:
    """What became of one report given to `add_many`."""

    digest: str
    report_id: int
    already: str | None = None  # the file name it was already stored under; None: stored now
    twins: tuple[str, ...] = ()  # files of the same agency and year stored before it (duplicates)


RETRIES = 5  # a batch that lost a race with another writer (a unique key, a deadlock) is done again


class Store(Reviews):
    def __init__(self, url: str | None = None, aliases: pairing.Aliases | None = None) -> None:
        self.url = url or os.environ.get("XXGK_DB") or DEFAULT_URL
        self.aliases = aliases
        sqlite = self.url.startswith("sqlite")
        self.engine: Engine = create_engine(self.url, connect_args={"timeout": 60} if sqlite else {},
                                            json_serializer=_json)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        upgrade(self.engine)
        self.session = sessionmaker(self.engine, expire_on_commit=False)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[Session]:
        """A session whose transaction writes: on SQLite it takes the write lock when it begins
        (BEGIN IMMEDIATE), so two writers queue instead of failing half-way."""
        with self.engine.connect() as c, Session(bind=c.execution_options(xxgk_write=True),
                                                 expire_on_commit=False) as s, s.begin():
            yield s

    # ------------------------------------------------------------ writing
    def has(self, digest: str, version: str = PARSER_VERSION) -> bool:
        with self.session() as s:
            return s.scalar(select(Report.id).where(Report.digest == digest, Report.parser_version == version)) \
                is not None

    def stored_name(self, digest: str) -> str | None:
        """The file name a content was stored under, if it was."""
        with self.session() as s:
            return s.scalar(select(Source.name).where(Source.digest == digest))

    def add(self, result: ParseResult, data: bytes, name: str | None = None) -> int:
        """Store a report and its source; the report's id (the existing one when already stored)."""
        return self.add_many([(result, data, name or result.source)])[0].report_id

    def writer(self, size: int = 200, seconds: float = 2.0) -> Writer:
        return Writer(self, size, seconds)

    def add_many(self, items: list[tuple[ParseResult | str, bytes, str]]) -> list[Stored]:
        """Store reports (a result, or its JSON) with their source files in one transaction; what
        became of each, in order.

        A report already there (this content, this parser version) is left as it is, also when
        another writer stored it a moment ago: the batch is then done again, at most RETRIES times."""
        incoming = [Incoming(result, data, name) for result, data, name in items]
        for attempt in range(RETRIES):
            for i in incoming:  # as first seen, also when the batch is done again
                i.current, i.twins = True, []
            try:
                with self._writing() as s:
                    return self._add_many(s, incoming)
            except RACES as e:  # a race with another writer, a deadlock
                if attempt == RETRIES - 1 or not _lost_race(e):
                    raise
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")

    def _add_many(self, s: Session, incoming: list[Incoming]) -> list[Stored]:
        digests = sorted({i.digest for i in incoming})
        there = {(d, v): (rid, n) for rid, d, v, n in s.execute(
            select(Report.id, Report.digest, Report.parser_version, Report.source_name)
            .where(Report.digest.in_(digests)))}
        new: dict[tuple[str, str], Incoming] = {}
        for i in incoming:
            if i.key not in there:
                new.setdefault(i.key, i)
        fresh: dict[tuple[str, str], int] = {}
        if new:
            sources = {i.digest: i for i in new.values()}
            _write_sources(s, [(d, i.name, sniff(i.data), len(i.data), i.data, _now())
                               for d, i in sorted(sources.items())])
            agencies = agencies_of_batch(s, [i.raw for i in new.values()], self.aliases)
            s.flush()
            ids_of = [a.id if a is not None else None for a in agencies]
            take_current(s, list(zip(new.values(), ids_of, strict=True)))
            pair_years_of_batch(s, list(zip(new.values(), ids_of, strict=True)))
            fresh = _write_reports(s, [(i.digest, i.version, a, i.name, i.raw.get("agency"), i.raw.get("year"),
                                        i.raw.get("template"), i.raw.get("published"), i.raw.get("posted"),
                                        i.current, i, _now()) for i, a in zip(new.values(), ids_of, strict=True)])
            _write_cells(s, [(fresh[k], i.raw) for k, i in new.items() if k in fresh])
            _write_findings(s, [(fresh[k], i.raw) for k, i in new.items() if k in fresh])
            _mark_latest(s, {d for d, _ in fresh})
            apply_corrections(s, fresh.values())  # a file reviewers corrected, parsed again
            for k in new:
                if k not in fresh:  # stored by another writer between our look and our insert
                    there[k] = s.execute(select(Report.id, Report.source_name).where(
                        Report.digest == k[0], Report.parser_version == k[1])).one()._tuple()
        out, given = [], set()
        for i in incoming:
            if i.key in fresh and i.key not in given:
                out.append(Stored(i.digest, fresh[i.key], twins=tuple(i.twins)))
                given.add(i.key)
            else:
                rid, stored_as = there[i.key] if i.key in there else (fresh[i.key], new[i.key].name)
                out.append(Stored(i.digest, rid, already=stored_as))
        return out

    @staticmethod
    def _promote(s: Session, agency_id: int, year: int) -> None:
        """The current report of an agency-year deleted: the best read of those left takes its place."""
        left = list(s.scalars(select(Report).options(undefer(Report.result)).where(
            Report.agency_id == agency_id, Report.year == year)))
        if left:
            best = min(left, key=lambda r: (pairing.unread(ParseResult.model_validate(r.result)), -r.id))
            best.current = True

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
        row = {"digest": digest, "parser_version": PARSER_VERSION, "name": name, "error": error}
        with self._writing() as s:
            s.execute(_insert(s, Failure.__table__).on_conflict_do_update(index_elements=["digest", "parser_version"],
                                                                 set_={"name": name, "error": error}), [row])

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
        with self._writing() as s:
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
        with self._writing() as s:
            report = s.get(Report, report_id)
            if report is None:
                raise KeyError(report_id)
            digest, was_current, agency_id, year = report.digest, report.current, report.agency_id, report.year
            s.delete(report)
            s.flush()
            if was_current and agency_id is not None and year is not None:
                self._promote(s, agency_id, year)
            _mark_latest(s, {digest})
            if s.scalar(select(Report.id).where(Report.digest == digest)) is None:
                source = s.get(Source, digest)
                if source is not None:
                    s.delete(source)

    # ------------------------------------------------------------ reading
    @staticmethod
    def _filtered(q: Select, year: int | None, agency: str | None, errors: bool, search: str | None,
                  latest: bool = True, dismissed: set[int] | None = None, status: str | None = None) -> Select:
        """The filters `reports` and `count` share. `latest`: the newest parse of each file (the one
        stored last: a file is parsed again only by a newer parser); `search`: words of the agency's
        name or of the file name; `errors`: an error finding not `dismissed` (their ids); `status`:
        the report's review status."""
        if latest:
            q = q.where(Report.latest.is_(True))
        if year is not None:
            q = q.where(Report.year == year)
        if agency:
            q = q.where(_named(agency))
        for word in (search or "").split():  # 「番禺 石壁」: each word, in the name or the file name
            q = q.where(_named(word) | Report.source_name.contains(word, autoescape=True))
        if errors:
            error = Finding.severity == "error"
            q = q.where(Report.findings.any(error & Finding.id.not_in(dismissed) if dismissed else error))
        if status:
            q = q.where(status_filter(status))
        return q

    def reports(self, year: int | None = None, agency: str | None = None, latest: bool = True,
                cells: bool = False, errors: bool = False, search: str | None = None, offset: int = 0,
                limit: int | None = None, status: str | None = None) -> list[Report]:
        """Reports with their findings, ordered by agency and year (`cells`: with cells and results);
        `errors` keeps those with an error finding a reviewer did not dismiss; `status`: those
        with this review status."""
        with self.session() as s:
            q = select(Report).options(selectinload(Report.findings), selectinload(Report.agency))
            if cells:
                q = q.options(selectinload(Report.cells), undefer(Report.result))
            q = self._filtered(q, year, agency, errors, search, latest, dismissed_ids(s) if errors else None, status)
            q = q.order_by(Report.agency_name, Report.year, Report.id).offset(offset).limit(limit)
            return list(s.scalars(q))

    def count(self, year: int | None = None, agency: str | None = None, errors: bool = False,
              search: str | None = None, status: str | None = None) -> int:
        with self.session() as s:
            return s.scalar(self._filtered(select(func.count(Report.id)), year, agency, errors, search, True,
                                           dismissed_ids(s) if errors else None, status)) or 0

    def overview(self) -> dict:
        """What the front page shows, computed by the database (a store may hold 100k reports)."""
        with self.session() as s:
            latest = select(Report.id).where(Report.latest.is_(True))
            reports = s.scalar(select(func.count(Report.id)).where(Report.latest.is_(True))) or 0
            dismissed = dismissed_ids(s)  # a dismissed finding no longer counts
            kept = [Finding.id.not_in(dismissed)] if dismissed else []
            errors = s.scalar(select(func.count(func.distinct(Finding.report_id))).where(
                Finding.report_id.in_(latest), Finding.severity == "error", *kept)) or 0
            rules = s.execute(select(Finding.rule, func.count(func.distinct(Finding.report_id)).label("n"))
                              .where(Finding.report_id.in_(latest), Finding.severity != "info", *kept)
                              .group_by(Finding.rule).order_by(text("n DESC"), Finding.rule).limit(10)).all()
            dated = and_(Report.latest.is_(True), Report.year.is_not(None))
            years = sorted(s.scalars(select(Report.year).where(dated).distinct()))
            agencies = s.scalar(select(func.count(func.distinct(Report.agency_id))).where(dated)) or 0
        # which agencies lack a year: store.browse.missing_years (each against its own years)
        return {"reports": reports, "errors": errors, "rules": [(r, n) for r, n in rules], "years": years,
                "agencies": agencies, "statuses": self.status_counts(reports)}

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


class Incoming:
    """A report on its way in: its JSON as the parse gave it (quick to read), and the validated
    result only when something needs it (year pairing audits it)."""

    def __init__(self, result: ParseResult | str, data: bytes, name: str) -> None:
        self.data, self.name = data, name
        self.digest = hashlib.sha256(data).hexdigest()
        self._result = result if isinstance(result, ParseResult) else None
        self.raw: dict = pydantic_core.from_json(result) if isinstance(result, str) \
            else result.model_dump(mode="json")
        self._json = result if isinstance(result, str) else None  # the JSON as given, while `raw` is it
        self.version: str = self.raw.get("parser_version", PARSER_VERSION)
        self.key = (self.digest, self.version)
        self.current = True  # its agency-year's current report (see take_current)
        self.twins: list[str] = []  # files of the same agency and year already there

    @property
    def result(self) -> ParseResult:
        if self._result is None:
            self._result = ParseResult.model_validate(self.raw)
        return self._result

    def audited(self, previous: ParseResult) -> None:
        """Its findings, now with its agency's previous year's report."""
        findings = audit(self.result, previous)
        self._result = self.result.model_copy(update={"findings": findings})
        self.raw = {**self.raw, "findings": [f.model_dump(mode="json") for f in findings]}  # only they change
        self._json = None

    @property
    def json(self) -> str:
        """The result as JSON text: as given when it came as JSON (no need to write it again)."""
        if self._json is None:
            self._json = _json(self.raw)
        return self._json


def _json(value: object) -> str:
    """JSON text, by pydantic-core (Rust): the store writes a JSON value per cell."""
    return pydantic_core.to_json(value).decode()


def _finding_rows(raw: dict) -> list[dict]:
    return [{"rule": f["rule"], "severity": f["severity"], "kind": f.get("kind", "source"),
             "cells": f.get("cells", []), "message": f["message"]} for f in raw.get("findings", [])]


def _insert(s: Session, table: type):  # type: ignore[no-untyped-def]
    """INSERT with the dialect's ON CONFLICT clauses (SQLite and PostgreSQL both have them)."""
    return (pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert)(table)


# psycopg's own errors too: the bulk rows go by psycopg itself on PostgreSQL (_psycopg)
RACES = (IntegrityError, OperationalError, psycopg.IntegrityError, psycopg.OperationalError)


def _lost_race(e: Exception) -> bool:
    """A unique key another writer took first, a deadlock, a busy SQLite: worth doing the batch again."""
    text_ = str(e.orig if hasattr(e, "orig") else e).lower()
    return isinstance(e, IntegrityError | psycopg.IntegrityError) or "deadlock" in text_ or "locked" in text_ \
        or "busy" in text_ or "could not serialize" in text_


# Bulk rows. On PostgreSQL they go by psycopg itself: COPY for the rows that are new by construction
# (a new report's cells and findings), pipelined prepared INSERTs where a unique key may already be
# taken (sources, reports: ON CONFLICT DO NOTHING); the SQL of SQLAlchemy's multi-row INSERTs,
# made and parsed again for every batch, cost more than the rows. On SQLite, one executemany each.
SOURCE_COLUMNS = ("digest", "name", "kind", "size", "content", "added")
REPORT_COLUMNS = ("digest", "parser_version", "agency_id", "source_name", "agency_name", "year", "template",
                  "published", "posted", "current", "result", "parsed")
CELL_COLUMNS = ("report_id", "key", "value", "blank", "inferred", "provenance")
FINDING_COLUMNS = ("report_id", "rule", "severity", "kind", "cells", "message")


def _psycopg(s: Session):  # type: ignore[no-untyped-def]
    """The session's psycopg connection on PostgreSQL (in the session's transaction), else None."""
    connection = s.connection()
    return connection.connection.dbapi_connection if connection.dialect.name == "postgresql" else None


def _write_sources(s: Session, rows: list[tuple]) -> None:
    """Source files, each once: one that another writer stored meanwhile is left as it is."""
    raw = _psycopg(s)
    if raw is None:
        s.execute(sqlite_insert(Source.__table__).on_conflict_do_nothing(index_elements=["digest"]),
                  [dict(zip(SOURCE_COLUMNS, r, strict=True)) for r in rows])
        return
    with raw.cursor() as cur:
        cur.executemany(f"INSERT INTO sources ({', '.join(SOURCE_COLUMNS)}) VALUES ({', '.join(['%s'] * 6)}) "
                        "ON CONFLICT (digest) DO NOTHING", rows)


def _write_reports(s: Session, rows: list[tuple]) -> dict[tuple[str, str], int]:
    """Reports (the result given as its `Incoming`, last but one); {(digest, parser version): id} of
    those inserted now: one another writer stored meanwhile is not."""
    raw = _psycopg(s)
    if raw is None:
        values = [dict(zip(REPORT_COLUMNS, (*r[:10], r[10].raw, r[11]), strict=True)) for r in rows]
        inserted = s.execute(sqlite_insert(Report.__table__).on_conflict_do_nothing(
            index_elements=["digest", "parser_version"]).returning(Report.id, Report.digest, Report.parser_version),
            values).all()
        return {(d, v): rid for rid, d, v in inserted}
    out: dict[tuple[str, str], int] = {}
    with raw.cursor() as cur:
        cur.executemany(f"INSERT INTO reports ({', '.join(REPORT_COLUMNS)}) VALUES ({', '.join(['%s'] * 12)}) "
                        "ON CONFLICT (digest, parser_version) DO NOTHING RETURNING id, digest, parser_version",
                        [(*r[:10], r[10].json, r[11]) for r in rows], returning=True)
        while True:
            for rid, d, v in cur.fetchall():
                out[(d, v)] = rid
            if not cur.nextset():
                break
    return out


def _cell_rows(report_id: int, raw: dict) -> Iterator[tuple]:
    blank, inferred, provenance = set(raw.get("blank", ())), raw.get("inferred", {}), raw.get("provenance", {})
    for k, v in raw.get("cells", {}).items():
        prov = provenance.get(k)
        yield (report_id, k, v, k in blank, inferred.get(k), None if prov is None else _json(prov))


def _write_cells(s: Session, reports: list[tuple[int, dict]]) -> None:
    """Every cell of the new reports: COPY on PostgreSQL, one executemany on SQLite."""
    _copy(s, "cells", CELL_COLUMNS, [row for rid, result in reports for row in _cell_rows(rid, result)])


def _write_findings(s: Session, reports: list[tuple[int, dict]]) -> None:
    rows = [(rid, f["rule"], f["severity"], f.get("kind", "source"), _json(f.get("cells", [])), f["message"])
            for rid, raw in reports for f in raw.get("findings", [])]
    _copy(s, "findings", FINDING_COLUMNS, rows)


def _copy(s: Session, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Rows into a table where none of them can be there yet (JSON columns given as JSON text)."""
    if not rows:
        return
    raw = _psycopg(s)
    if raw is None:
        s.connection().exec_driver_sql(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['?'] * len(columns))})", rows)
        return
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def agencies_of_batch(s: Session, raws: list[dict], aliases: pairing.Aliases | None = None) -> list[Agency | None]:
    """Each report's agency (None: it names none) by pairing's key: the same key, or the one stored
    key related to it (a name printed shorter or longer: 「港湾街道」, 「佳木斯市前进区港湾街道办事处」);
    two related keys (两个「城关镇」): a new agency, they cannot be told apart. The agencies any
    report of the batch could match are read by one query; a report sees the ones made or renamed
    by the reports before it, as if they were added one by one."""
    named = [(r["agency"], pairing.agency_key(r["agency"], aliases) or r["agency"]) if r.get("agency") else None
             for r in raws]
    keys = {k for n in named if n for k in (n[1], *_endings(n[1]))}
    names = {n[0] for n in named if n}
    pool: list[Agency] = []
    if names:
        # a key ending with a shorter key of the batch: too few characters to stand for one agency are not looked for
        longer = sorted({n[1] for n in named if n and len(n[1]) >= pairing.MIN_SUFFIX})
        found: dict[int, Agency] = {}
        for lo in range(0, max(len(longer), 1), 100):  # SQLite's parser nests each OR: a bounded number per query
            ending = [Agency.key.endswith(k, autoescape=True) for k in longer[lo:lo + 100]]
            for a in s.scalars(select(Agency).where(or_(Agency.key.in_(keys), Agency.name.in_(names), *ending))):
                found[a.id] = a
        pool = [found[i] for i in sorted(found)]
    out: list[Agency | None] = []
    for raw, n in zip(raws, named, strict=True):
        if n is None:
            out.append(None)
            continue
        name, key = n
        agency = next((a for a in pool if a.key == key), None) or next(
            (a for a in pool if a.name == name and a.key is None), None)
        if agency is None:
            endings = set(_endings(key))
            near = [a.key for a in pool if a.key and (a.key in endings or a.key.endswith(key))]
            chosen = pairing.resolve(key, near)
            agency = next((a for a in pool if a.key == chosen), None)
            if agency is not None and len(key) > len(agency.key or ""):
                agency.key = key  # keep the fullest key and name
        if agency is None:
            agency = next((a for a in pool if a.name == name), None)  # a name stored under another key
        if agency is None:
            agency = Agency(name=name, key=key, kind=agency_kind(name, (raw.get("sections") or {}).get("一", "")))
            s.add(agency)
            pool.append(agency)
        else:
            agency.key = agency.key or key
            if len(name) > len(agency.name) and not any(a.name == name for a in pool):
                agency.name = name
        out.append(agency)
    return out


def _endings(key: str) -> list[str]:
    """A key's shorter endings long enough to name one agency."""
    return [key[i:] for i in range(1, len(key) - pairing.MIN_SUFFIX + 1)]


@dataclass
class _Held:
    """A stored report of an agency-year the batch adds to."""

    id: int
    digest: str
    source_name: str
    current: bool


def _mark_latest(s: Session, digests: set[str]) -> None:
    """Of each file's reports, only the newest parse (the highest id) is `latest`."""
    if not digests:
        return
    newest = select(func.max(Report.id)).where(Report.digest.in_(digests)).group_by(Report.digest)
    s.execute(update(Report).where(Report.digest.in_(digests)).values(latest=Report.id.in_(newest)))


def take_current(s: Session, reports: list[tuple[Incoming, int | None]]) -> None:
    """Which new report is its agency-year's current one (the one years are paired with): the first,
    or one that reads more cells than the current one (which then stops being current), or a newer
    parse of the current one's file. Both are kept either way; each new one learns its twins.
    Stored reports are read by two queries (how many cells the current ones did not read is
    counted in the cells table); those that stop being current are updated by one."""
    years = {(a, i.raw["year"]) for i, a in reports if a is not None and i.raw.get("year") is not None}
    there: dict[tuple[int, int], list[_Held]] = {}
    if years:
        for rid, a, y, digest, name, current in s.execute(
                select(Report.id, Report.agency_id, Report.year, Report.digest, Report.source_name, Report.current)
                .where(Report.agency_id.in_({a for a, _ in years}), Report.year.in_({y for _, y in years}))
                .order_by(Report.id)):
            if (a, y) in years:
                there.setdefault((a, y), []).append(_Held(rid, digest, name, current))
    held_now = {key: next((r for r in stored if r.current), None) for key, stored in there.items()}
    unread_of = _unread_stored([r.id for r in held_now.values() if r is not None], s)
    best: dict[tuple[int, int], tuple[int, _Held | Incoming]] = {
        key: (unread_of.get(r.id, 0), r) for key, r in held_now.items() if r is not None}
    names_there = {key: (list(dict.fromkeys(r.source_name for r in stored)), {r.digest for r in stored})
                   for key, stored in there.items()}
    seen: dict[tuple[int, int], list[Incoming]] = {}
    for new, agency in reports:
        year = new.raw.get("year")
        if agency is None or year is None:
            continue
        key = (agency, year)
        names, digests = names_there.get(key, ([], set()))
        before = names if new.digest not in digests else \
            list(dict.fromkeys(r.source_name for r in there[key] if r.digest != new.digest))
        new.twins = list(dict.fromkeys(before + [n.name for n in seen.get(key, []) if n.digest != new.digest]))
        seen.setdefault(key, []).append(new)
        unread = _unread(new.raw)
        held = best.get(key)
        if held is not None and held[1].digest != new.digest and held[0] <= unread:
            new.current = False
            continue
        if held is not None:
            held[1].current = False
        best[key] = (unread, new)
    superseded = [r.id for r in held_now.values() if r is not None and not r.current]
    if superseded:
        s.execute(Report.__table__.update().where(Report.id.in_(superseded)).values(current=False))


def _unread(raw: dict) -> int:
    """`pairing.unread` of a result's JSON (no need to validate it)."""
    blank = set(raw.get("blank", ()))
    return sum(1 for k, v in raw.get("cells", {}).items() if v is None and k not in blank)


def _unread_stored(report_ids: list[int], s: Session) -> dict[int, int]:
    """`pairing.unread` of stored reports, from their cells (a report reading every cell is not in it)."""
    if not report_ids:
        return {}
    return dict(s.execute(select(Cell.report_id, func.count()).where(  # type: ignore[arg-type]
        Cell.report_id.in_(report_ids), Cell.value.is_(None), Cell.blank.is_(False)).group_by(Cell.report_id)).all())


def pair_years_of_batch(s: Session, reports: list[tuple[Incoming, int | None]]) -> None:
    """Each new report (with its agency's id) audited against its agency's year before, and the
    stored year after against it — stored reports found by one query for the whole batch, reports
    of the batch seen by the ones after them, as if added one by one. Stored reports whose
    findings change are rewritten here; new ones get their findings in place (`Incoming.audited`)."""
    wanted = {(a, i.raw["year"] + d) for i, a in reports if a is not None and i.raw.get("year") is not None
              for d in (-1, 1)}
    stored: dict[tuple[int, int], int] = {}
    if wanted:
        for rid, a, y in s.execute(select(Report.id, Report.agency_id, Report.year).where(
                Report.agency_id.in_({a for a, _ in wanted}), Report.year.in_({y for _, y in wanted}),
                Report.current.is_(True))):
            if (a, y) in wanted and rid > stored.get((a, y), 0):
                stored[(a, y)] = rid  # the newest report of that agency and year
    loaded: dict[int, ParseResult] = {}
    if stored:
        for rid, data in s.execute(select(Report.id, Report.result).where(Report.id.in_(stored.values()))):
            loaded[rid] = ParseResult.model_validate(data)
    changed: set[int] = set()
    in_batch: dict[tuple[int, int], Incoming] = {}  # (agency, year) → the newest such report so far

    for new, agency in reports:
        year = new.raw.get("year")
        if agency is None or year is None:
            continue
        before = in_batch.get((agency, year - 1))
        if before is not None or (agency, year - 1) in stored:
            new.audited(before.result if before is not None else loaded[stored[(agency, year - 1)]])
        if not new.current:
            continue  # a duplicate is checked against the year before; the year after keeps the current one
        after = in_batch.get((agency, year + 1))
        if after is not None:
            after.audited(new.result)
        elif (agency, year + 1) in stored:
            rid = stored[(agency, year + 1)]
            later = loaded[rid]
            loaded[rid] = later.model_copy(update={"findings": audit(later, new.result)})
            changed.add(rid)
        in_batch[(agency, year)] = new
    for rid in sorted(changed):
        raw = loaded[rid].model_dump(mode="json")
        s.execute(Report.__table__.update().where(Report.id == rid).values(result=raw))
        s.execute(delete(Finding).where(Finding.report_id == rid))
        if raw["findings"]:
            s.execute(insert(Finding.__table__), [{"report_id": rid, **f} for f in _finding_rows(raw)])


class Writer:
    """Reports stored by batches: `size` reports, or what came in `seconds`, per transaction."""

    def __init__(self, store: Store, size: int = 200, seconds: float = 2.0, max_bytes: int = 64 << 20) -> None:
        self.store, self.size, self.seconds, self.max_bytes = store, size, seconds, max_bytes
        self.pending: list[tuple[ParseResult | str, bytes, str]] = []
        self.bytes = 0
        self.since = time.monotonic()
        self.stored = 0  # reports stored by this writer
        self.already: list[tuple[str, str]] = []  # (file name, the name it was already stored under)
        self.twins: list[tuple[str, tuple[str, ...]]] = []  # (file name, its agency-year's other files)

    def add(self, result: ParseResult | str, data: bytes, name: str) -> None:
        """A report (a result, or its JSON) with its file's bytes and name."""
        if not self.pending:
            self.since = time.monotonic()
        self.pending.append((result, data, name))
        self.bytes += len(data)
        if len(self.pending) >= self.size or self.bytes >= self.max_bytes or \
                time.monotonic() - self.since >= self.seconds:
            self.flush()

    def flush(self) -> list[Stored]:
        if not self.pending:
            return []
        done = self.store.add_many(self.pending)
        for (_, _, name), stored in zip(self.pending, done, strict=True):
            if stored.already is None:
                self.stored += 1
                if stored.twins:
                    self.twins.append((name, stored.twins))
            else:
                self.already.append((name, stored.already))
        self.pending, self.bytes = [], 0
        return done


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    dbapi_connection.isolation_level = None  # transactions begin where SQLAlchemy begins them (_sqlite_begin)
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")  # WAL: a power cut may lose the last batches, never half of one
    cur.close()


def _sqlite_begin(connection: Connection) -> None:
    """Python's sqlite3 starts no transaction before DDL (so a schema was made table by table,
    each committed): here every transaction begins explicitly, DDL included; a writer's takes the
    write lock first."""
    write = connection.get_execution_options().get("xxgk_write")
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


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

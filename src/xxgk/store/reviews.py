"""A reviewer's work on the store: corrected cells, a status per report, and which findings were
dismissed (so that they stop counting). All of it is keyed by the source file's digest, never by
a report id, so it outlives re-parsing; `apply_corrections` puts corrections on a new parse.

A correction never overwrites what was read: the report's `result` keeps the cells as read, the
`cells` table holds the values in force (the corrected ones: what exports, charts and the
evaluation read), and the `corrections` table says which, by whom, when and why. After a
correction the report is audited again over the corrected cells (with its agency's year before,
and the year after against it), and its findings are replaced.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import Select, delete, func, insert, select, update
from sqlalchemy.orm import Session

from ..audit import audit
from ..formats import FORMATS
from ..result import ParseResult
from .models import Cell, Correction, Finding, Report, ReportReview, Review

STATUSES = {"pending": "待审", "reviewed": "已审", "returned": "退回"}  # a report's review status
STATUS_CODES = {**{k: k for k in STATUSES}, **{v: k for k, v in STATUSES.items()}}  # either name → code
DEFAULT_WHO = "审核人"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class InvalidCorrection(ValueError):
    """A correction that cannot be stored; the message (Chinese) says why."""


def checked_value(template: str | None, key: str, value: float | None) -> float | int | None:
    """`value` for cell `key` of the report's format: a count is a whole number ≥ 0, an amount a
    number ≥ 0, a signed cell a whole number; None is a blank."""
    fmt = FORMATS[template or "2021"]
    if key not in fmt.cell_keys:
        raise InvalidCorrection(f"「{key}」不是{fmt.name}的单元格")
    if value is None:
        return None
    kind = fmt.cell_type(key)
    if value != value or value in (float("inf"), float("-inf")) or abs(value) > 1e12:
        raise InvalidCorrection("数值无效")
    if kind != "amount" and float(value) != int(value):
        raise InvalidCorrection(f"「{key}」须是整数")
    if kind != "signed" and value < 0:
        raise InvalidCorrection(f"「{key}」不能为负数")
    return float(value) if kind == "amount" else int(value)


def corrected(result: dict, fixes: dict[str, float | None]) -> ParseResult:
    """A report's result with reviewers' values in place of the ones read: a corrected cell is no
    longer inferred or signed; one corrected to None is blank."""
    raw = dict(result)
    keys = set(FORMATS[raw.get("template") or "2021"].cell_keys)
    fixes = {k: v for k, v in fixes.items() if k in keys}  # a newer parse may read another format
    cells, blank = dict(raw.get("cells", {})), [k for k in raw.get("blank", []) if k not in fixes]
    for key, value in fixes.items():
        cells[key] = checked_value(raw.get("template"), key, value)
        if value is None:
            blank.append(key)
    raw.update(cells=cells, blank=blank,
               inferred={k: v for k, v in raw.get("inferred", {}).items() if k not in fixes},
               signs={k: v for k, v in raw.get("signs", {}).items() if k not in fixes})
    return ParseResult.model_validate(raw)


def _fixes(s: Session, digest: str) -> dict[str, float | None]:
    return {c.key: c.value for c in s.scalars(select(Correction).where(Correction.digest == digest))}


def _in_force(s: Session, report: Report) -> ParseResult:
    fixes = _fixes(s, report.digest)
    return corrected(report.result, fixes) if fixes else ParseResult.model_validate(report.result)


def _current(s: Session, agency_id: int | None, year: int | None) -> Report | None:
    if agency_id is None or year is None:
        return None
    return s.scalar(select(Report).where(Report.agency_id == agency_id, Report.year == year,
                                         Report.current.is_(True)).order_by(Report.id.desc()).limit(1))


def _refind(s: Session, report: Report, result: ParseResult, previous: ParseResult | None) -> None:
    """The report's findings, audited again over `result` (the cells in force)."""
    findings = [f.model_dump(mode="json") for f in audit(result, previous)]
    s.execute(delete(Finding).where(Finding.report_id == report.id))
    if findings:
        s.execute(insert(Finding.__table__), [{"report_id": report.id, "rule": f["rule"], "severity": f["severity"],
                                              "kind": f.get("kind", "source"), "cells": f.get("cells", []),
                                              "message": f["message"]} for f in findings])
    s.execute(update(Report).where(Report.id == report.id).values(result={**report.result, "findings": findings}))


def reaudit(s: Session, report: Report) -> None:
    """A report's cells in force and findings, after its corrections changed; and the year after
    (its roll-over checks read this one) when this one is its agency's current report."""
    fixes = _fixes(s, report.digest)
    now = corrected(report.result, fixes) if fixes else ParseResult.model_validate(report.result)
    blank = set(now.blank)
    cells = s.execute(select(Cell.key, Cell.value, Cell.blank).where(Cell.report_id == report.id)).all()
    for key, value, was_blank in cells:
        wanted = now.cells.get(key)
        if value != wanted or bool(was_blank) != (key in blank):
            s.execute(update(Cell).where(Cell.report_id == report.id, Cell.key == key)
                      .values(value=wanted, blank=key in blank))
    before = _current(s, report.agency_id, None if report.year is None else report.year - 1)
    _refind(s, report, now, _in_force(s, before) if before is not None else None)
    after = _current(s, report.agency_id, None if report.year is None else report.year + 1) if report.current else None
    if after is not None:
        _refind(s, after, _in_force(s, after), now)


def apply_corrections(s: Session, report_ids: Iterable[int]) -> None:
    """After new reports are stored: those of files reviewers corrected get the corrections (cells
    and findings), and so do their neighbours in time — a new report audited against a corrected
    year before, and a corrected year after, which storing the new one audited again as read."""
    ids = list(report_ids)
    if not ids or s.scalar(select(Correction.digest).limit(1)) is None:
        return
    fixed = set(s.scalars(select(Correction.digest).distinct()))  # made by people: few
    fresh = list(s.scalars(select(Report).where(Report.id.in_(ids))))
    years = {(r.agency_id, r.year) for r in fresh if r.agency_id is not None and r.year is not None}
    neighbours = {(r.agency_id, r.year): r for r in s.scalars(select(Report).where(
        Report.agency_id.in_({a for a, _ in years}), Report.current.is_(True), Report.digest.in_(fixed))
        .order_by(Report.id))} if years else {}
    again: dict[int, Report] = {}
    for r in fresh:
        if r.digest in fixed or (r.year is not None and (r.agency_id, r.year - 1) in neighbours):
            again.setdefault(r.id, r)
        after = neighbours.get((r.agency_id, r.year + 1)) if r.current and r.year is not None else None
        if after is not None:
            again.setdefault(after.id, after)
    for report in sorted(again.values(), key=lambda r: (r.year or 0, r.id)):
        reaudit(s, report)


def dismissed_ids(s: Session, report_ids: Select | None = None) -> set[int]:
    """The ids of findings a reviewer dismissed (among `report_ids`' findings): found from the
    dismissals (few, as people make them), not by scanning the findings of a large store."""
    dismissed = {(d, r, c) for d, r, c in s.execute(select(Review.digest, Review.rule, Review.cells)
                                                     .where(Review.status == "dismissed"))}
    if not dismissed:
        return set()
    digest_of = dict(s.execute(select(Report.id, Report.digest).where(
        Report.digest.in_({d for d, _, _ in dismissed}))).all())  # by the digest index
    q = select(Finding.id, Finding.report_id, Finding.rule, Finding.cells).where(Finding.report_id.in_(digest_of))
    if report_ids is not None:
        q = q.where(Finding.report_id.in_(report_ids))
    return {fid for fid, rid, rule, cells in s.execute(q)
            if (digest_of[rid], rule, ",".join(cells or [])) in dismissed}


def status_filter(status: str) -> object:
    """Reports whose review status is `status` (a code or its Chinese name); no row is pending."""
    code = STATUS_CODES[status]
    decided = select(ReportReview.digest).where(ReportReview.status != "pending")
    if code == "pending":
        return Report.digest.not_in(decided)
    return Report.digest.in_(select(ReportReview.digest).where(ReportReview.status == code))


class Reviews:
    """The `Store` methods for reviewers' work (mixed into `Store`: `session` and `_writing` are its)."""

    session: object
    _writing: object

    # ------------------------------------------------------------ corrections
    def correct(self, report_id: int, key: str, value: float | None, note: str = "", who: str = "") -> None:
        """Store a reviewer's value for a cell of this report's file; findings re-run over it."""
        with self._writing() as s:  # type: ignore[operator]
            report = s.get(Report, report_id)
            if report is None:
                raise KeyError(report_id)
            checked_value(report.template, key, value)
            read = report.result.get("cells", {}).get(key)
            s.merge(Correction(digest=report.digest, key=key, value=value, read=read, who=(who or DEFAULT_WHO)[:100],
                               note=note or "", at=_now()))
            s.flush()
            for same in s.scalars(select(Report).where(Report.digest == report.digest)).all():
                reaudit(s, same)

    def withdraw(self, report_id: int, key: str) -> bool:
        """Withdraw a correction (the value as read is in force again); False when there was none."""
        with self._writing() as s:  # type: ignore[operator]
            report = s.get(Report, report_id)
            if report is None:
                raise KeyError(report_id)
            gone = s.execute(delete(Correction).where(Correction.digest == report.digest, Correction.key == key))
            if not gone.rowcount:
                return False
            for same in s.scalars(select(Report).where(Report.digest == report.digest)).all():
                reaudit(s, same)
            return True

    def corrections(self, digest: str) -> dict[str, Correction]:
        with self.session() as s:  # type: ignore[operator]
            return {c.key: c for c in s.scalars(select(Correction).where(Correction.digest == digest)
                                                .order_by(Correction.at))}

    def corrected_keys(self, digests: Iterable[str]) -> dict[str, list[str]]:
        """{digest: the keys of its corrected cells}, for the exports."""
        out: dict[str, list[str]] = {}
        with self.session() as s:  # type: ignore[operator]
            for digest, key in s.execute(select(Correction.digest, Correction.key)
                                         .where(Correction.digest.in_(set(digests))).order_by(Correction.key)):
                out.setdefault(digest, []).append(key)
        return out

    # ------------------------------------------------------------ a report's status
    def set_report_status(self, digest: str, status: str, note: str = "", who: str = "") -> None:
        """A report's review status (code or Chinese name) and note, kept for its file."""
        if status not in STATUS_CODES:
            raise ValueError(status)
        with self._writing() as s:  # type: ignore[operator]
            s.merge(ReportReview(digest=digest, status=STATUS_CODES[status], note=note or "",
                                 who=(who or DEFAULT_WHO)[:100], at=_now()))

    def report_statuses(self, digests: Iterable[str]) -> dict[str, ReportReview]:
        """{digest: its status row}; a digest with none is pending."""
        with self.session() as s:  # type: ignore[operator]
            return {r.digest: r for r in s.scalars(select(ReportReview).where(ReportReview.digest.in_(set(digests))))}

    def status_counts(self, total: int | None = None) -> dict[str, int]:
        """How many reports (the newest parse of each file; `total` of them, when known) are
        pending, reviewed, returned."""
        with self.session() as s:  # type: ignore[operator]
            if total is None:
                total = s.scalar(select(func.count(Report.id)).where(Report.latest.is_(True))) or 0
            # a file's status counts once (its newest parse is the report listed): from the statuses
            # set (few), not from every report of the store
            stored = select(Report.id).where(Report.digest == ReportReview.digest).exists()
            rows = dict(s.execute(select(ReportReview.status, func.count(ReportReview.digest))
                                  .where(stored).group_by(ReportReview.status)).all())
        counts = {code: rows.get(code, 0) for code in STATUSES if code != "pending"}
        return {"pending": total - sum(counts.values()), **counts}

    # ------------------------------------------------------------ what counts
    def open_counts(self, report_ids: list[int]) -> dict[int, dict[str, int]]:
        """{report id: {severity: findings not dismissed}} (what the list and the API count)."""
        out = {rid: {"error": 0, "warning": 0, "info": 0} for rid in report_ids}
        if not report_ids:
            return out
        with self.session() as s:  # type: ignore[operator]
            dismissed = dismissed_ids(s, select(Report.id).where(Report.id.in_(report_ids)))
            for fid, rid, severity in s.execute(select(Finding.id, Finding.report_id, Finding.severity)
                                                .where(Finding.report_id.in_(report_ids))):
                if fid not in dismissed:
                    out[rid][severity] = out[rid].get(severity, 0) + 1
        return out


    def reports_of_digest(self, digest: str) -> list[Report]:
        """Every parse of one file."""
        with self.session() as s:  # type: ignore[operator]
            return list(s.scalars(select(Report).where(Report.digest == digest).order_by(Report.id)))

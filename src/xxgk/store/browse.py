"""What the browsing pages ask of a store, computed by the database (a store may hold 100k reports):
agencies missing a year, an agency's years side by side, agencies grouped by region and level."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import and_, func, select

from ..evaluate.score import LEVEL_ORDER, level_of, region_of
from .models import Agency, Cell, Finding, Report
from .store import Store


def gaps(years: Iterable[int], latest: int) -> list[int]:
    """The years an agency should have a report for and has none: from its first report up to the
    store's latest year (a year only other agencies cover before this one began is not missing)."""
    have = set(years)
    if not have:
        return []
    return [y for y in range(min(have), latest + 1) if y not in have]


def missing_years(store: Store) -> list[tuple[str, tuple[int, ...]]]:
    """[(agency, the years it lacks)] for every agency that lacks one, by name (tuples: a kept
    answer of 50k agencies then holds no objects the garbage collector has to walk)."""
    with store.session() as s:
        pairs = s.execute(select(Agency.name, Report.year).join(Report, Report.agency_id == Agency.id)
                          .where(Report.year.is_not(None)).distinct()).all()
    by_agency: dict[str, set[int]] = {}
    for name, year in pairs:
        by_agency.setdefault(name, set()).add(year)
    latest = max((y for ys in by_agency.values() for y in ys), default=0)
    out = [(a, tuple(gaps(ys, latest))) for a, ys in sorted(by_agency.items())]
    return [(a, g) for a, g in out if g]


def agency_reports(store: Store, name: str) -> list[Report]:
    """An agency's reports (every file, every year), with cells and findings, without their
    deferred parse results: the agency page's rows and charts read cells only."""
    from sqlalchemy.orm import selectinload

    with store.session() as s:
        agency_id = s.scalar(select(Agency.id).where(Agency.name == name))
        if agency_id is None:
            return []
        return list(s.scalars(select(Report).where(Report.agency_id == agency_id, Report.latest.is_(True))
                              .options(selectinload(Report.cells), selectinload(Report.findings))
                              .order_by(Report.year, Report.id)))


@dataclass
class Group:
    """Agencies of one region and level, with their totals."""

    region: str
    level: str
    agencies: list[tuple[str, int, float, int]] = field(default_factory=list)  # name, reports, received, findings

    @property
    def reports(self) -> int:
        return sum(a[1] for a in self.agencies)

    @property
    def received(self) -> float:
        return sum(a[2] for a in self.agencies)

    @property
    def findings(self) -> int:
        return sum(a[3] for a in self.agencies)


RECEIVED = "requests.new.total"


def region_groups(store: Store) -> list[Group]:
    """Agencies by region (the city their name places them in, or 未知地区) and level (政府, 部门,
    街道乡镇, 其他), each with its reports, the requests they received and their findings (errors
    and warnings), counting each agency-year's current report once."""
    with store.session() as s:
        current = and_(Report.current.is_(True), Report.agency_id.is_not(None))
        reports = dict(s.execute(select(Report.agency_id, func.count(Report.id)).where(current)
                                 .group_by(Report.agency_id)).all())
        received = dict(s.execute(select(Report.agency_id, func.sum(Cell.value))
                                  .join(Cell, and_(Cell.report_id == Report.id, Cell.key == RECEIVED))
                                  .where(current).group_by(Report.agency_id)).all())
        findings = dict(s.execute(select(Report.agency_id, func.count(Finding.id))
                                  .join(Finding, Finding.report_id == Report.id)
                                  .where(current, Finding.severity != "info").group_by(Report.agency_id)).all())
        agencies = s.execute(select(Agency.id, Agency.name, Agency.kind)).all()
    groups: dict[tuple[str, str], Group] = {}
    for aid, name, kind in agencies:
        if aid not in reports:
            continue
        key = (region_of(name) or "未知地区", level_of(kind or ""))
        group = groups.setdefault(key, Group(*key))
        group.agencies.append((name, reports[aid], received.get(aid) or 0, findings.get(aid, 0)))
    order = {lv: i for i, lv in enumerate(LEVEL_ORDER)}
    return sorted(groups.values(), key=lambda g: (g.region == "未知地区", g.region, order.get(g.level, 9)))


def agency_years(store: Store, name: str, years: Iterable[int] | None = None) -> list[Report]:
    """The current report of each of an agency's years (of `years`, or all), oldest first, with
    cells and parse results (a comparison reads variants and runs the year rules)."""
    from sqlalchemy.orm import selectinload, undefer

    with store.session() as s:
        agency_id = s.scalar(select(Agency.id).where(Agency.name == name))
        if agency_id is None:
            return []
        q = select(Report).where(Report.agency_id == agency_id, Report.current.is_(True),
                                 Report.year.is_not(None))
        if years is not None:
            q = q.where(Report.year.in_(list(years)))
        q = q.options(selectinload(Report.cells), undefer(Report.result)).order_by(Report.year, Report.id.desc())
        out: dict[int, Report] = {}
        for r in s.scalars(q):
            out.setdefault(r.year, r)  # type: ignore[arg-type]
        return [out[y] for y in sorted(out)]


def carried_cells(store: Store, name: str) -> list[tuple[int, str | None, dict[str, float | None]]]:
    """[(year, template, its 上年结转 and 结转下年度 cells)] of an agency's current reports, oldest
    first: cells only (no parse results), so every year of the chain can be drawn."""
    with store.session() as s:
        agency_id = s.scalar(select(Agency.id).where(Agency.name == name))
        if agency_id is None:
            return []
        rows = s.execute(select(Report.id, Report.year, Report.template, Cell.key, Cell.value)
                         .join(Cell, and_(Cell.report_id == Report.id,
                                          Cell.key.like("requests.carried_%")), isouter=True)
                         .where(Report.agency_id == agency_id, Report.current.is_(True), Report.year.is_not(None))
                         .order_by(Report.year, Report.id.desc())).all()
    by_year: dict[int, tuple[int, str | None, dict[str, float | None]]] = {}
    for rid, year, template, key, value in rows:
        kept = by_year.setdefault(year, (rid, template, {}))
        if rid == kept[0] and key is not None:
            kept[2][key] = value
    return [(y, t, c) for y, (_, t, c) in sorted(by_year.items())]


# ------------------------------------------------------------ what sums up a whole store, kept until it changes
T = TypeVar("T")
_KEPT: dict[tuple, tuple[tuple, object]] = {}  # (database, what, arguments) → (the store's state, the answer)


def state(store: Store) -> tuple:
    """What changes whenever anything a summary counts changes: reports added or deleted (their
    newest id and number), findings written again (findings' newest id and number), reviews of
    findings, corrected cells and reports' statuses made or withdrawn. Each is read from an index
    or a small table, in milliseconds also with 100k reports."""
    from .models import Correction, ReportReview, Review

    with store.session() as s:  # one aggregate a query: SQLite answers a bare count(*) or max(id) at once
        return tuple(s.scalar(q) for q in (
            select(func.max(Report.id)), select(func.count()).select_from(Report),
            select(func.max(Finding.id)), select(func.count()).select_from(Finding),
            select(func.count()).select_from(Review), select(func.max(Review.at)),
            select(func.count()).select_from(Correction), select(func.max(Correction.at)),
            select(func.count()).select_from(ReportReview), select(func.max(ReportReview.at))))


def kept(store: Store, what: str, compute: Callable[[], T], *args: object) -> T:
    """`compute()`, computed again only when the store's `state` changed since it was last asked:
    a summary of 100k reports takes seconds; the pages that show one are asked far more often
    than the store changes."""
    key = (store.url, what, args)
    now = state(store)
    held = _KEPT.get(key)
    if held is not None and held[0] == now:
        return held[1]  # type: ignore[return-value]
    value = compute()
    if len(_KEPT) >= 64:
        _KEPT.pop(next(iter(_KEPT)))
    _KEPT[key] = (now, value)
    return value

"""Reports' findings → scores per indicator with the evidence behind each lost point → ranks and rates.

Works on `ReportFacts`, the little an evaluation needs of a report (its findings, its kind, whether
it is dated), so the same scoring serves parse results and a store of 100k reports alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache

from ..audit.agency import agency_kind
from ..extract import regions
from ..formats import FORMATS
from ..pairing import agency_key, fold, unread
from ..result import ParseResult, Printed
from .indicators import DEFAULT_INDICATORS, Indicator

LEVELS = {"county_gov": "政府", "city_gov": "政府", "province_gov": "政府", "department": "部门",
          "state_council_dept": "部门", "street": "街道乡镇", "township": "街道乡镇"}
LEVEL_ORDER = ("政府", "部门", "街道乡镇", "其他")


@dataclass(frozen=True)
class Fact:
    """One finding as the evaluation reads it."""

    rule: str
    kind: str  # source (原文) or extraction (读取)
    severity: str
    cells: tuple[str, ...]
    message: str
    places: tuple[str, ...] = ()  # where its cells were printed ("第 47 行", "第 3 页")


def place(where: Printed | None) -> str:
    if where is None:
        return ""
    if "page" in where:
        return f"第 {where['page']} 页「{where.get('text', '')}」"
    return f"第 {where['line']} 行「{where.get('text', '')}」" if "line" in where else ""


@dataclass
class ReportFacts:
    source: str
    agency: str | None
    year: int | None
    level: str  # 政府 / 部门 / 街道乡镇 / 其他
    region: str  # the city (or county) it belongs to, "" when the name does not say
    dated: bool  # a signed (or posted) date is known: the deadline can be judged
    printed: int  # statutory cells its tables print
    findings: list[Fact]
    id: int | None = None  # in a store


@dataclass
class IndicatorResult:
    id: str
    name: str
    weight: float
    points: float
    status: str  # pass, fail, partial, verify (not scored: the reading is in doubt or a fact is missing)
    lost: list[Fact] = field(default_factory=list)  # the findings behind the lost points
    verify: list[Fact] = field(default_factory=list)  # reading doubts to check by eye; they cost nothing


@dataclass
class Scored:
    facts: ReportFacts
    score: float  # 0–100
    indicators: list[IndicatorResult]
    rank: int = 0  # among the reports of its year
    level_rank: int = 0  # among its level's reports of its year
    region_rank: int = 0  # among its region's reports of its year


@dataclass
class Evaluation:
    indicators: tuple[Indicator, ...]
    reports: list[Scored]
    rates: list[dict]  # per indicator: reports failing it, and the share
    rule_rates: list[dict]  # per audit rule: reports it fired on (原文), and the share


def level_of(kind: str) -> str:
    return LEVELS.get(kind, "其他")


def region_of(name: str | None, province: str | None = None, city: str | None = None,
              county: str | None = None) -> str:
    """What an evaluation groups by: the city a body belongs to (广州市海珠区新港街道办事处 → 广州市;
    in the four municipalities the municipality), from the region read with the report or, for a
    stored report, from its name by the division dataset; "" when neither tells."""
    if not (province or city or county) and name:
        found = _region_of_name(name)
        if found is not None:
            province, city, county = found.province, found.city, found.county
    return city or province or county or ""


@cache
def _region_of_name(name: str) -> regions.Region | None:
    return regions.region_of(fold(name))


def printed_cells(template: str | None, variants: dict[str, str] | None = None) -> int:
    return _printed(template or "", tuple(sorted((variants or {}).items())))


@cache
def _printed(template: str, variants: tuple[tuple[str, str], ...]) -> int:
    fmt = FORMATS.get(template)
    if fmt is None:
        return 0
    chosen = dict(variants)
    return sum(len(t.cells(chosen.get(t.id, t.variants[0]))) for t in fmt.tables)


def facts_of(result: ParseResult, region: str | None = None) -> ReportFacts:
    kind = agency_kind(result.agency, result.sections.get("一", ""))
    return ReportFacts(
        source=result.source, agency=result.agency, year=result.year, level=level_of(kind),
        region=region if region is not None else region_of(result.agency, *(
            (result.region.province, result.region.city, result.region.county) if result.region else ())),
        dated=bool(result.published or result.posted), printed=printed_cells(result.template, result.variants),
        findings=[Fact(f.rule, f.kind, f.severity, tuple(f.cells), f.message,
                       tuple(p for c in f.cells if (p := place(result.provenance.get(c))))) for f in result.findings])


def once_per_agency_year(results: Iterable[tuple[ParseResult, list[str]]]) -> Iterator[ReportFacts]:
    """Results with the files of their duplicates (`audit.Checked`) → facts, an agency-year that came
    twice (a page and its crawl, a re-publication) once: its better read, as year pairing takes it."""
    best: dict[tuple[str | None, int | None], tuple[int, ParseResult]] = {}
    for result, duplicates in results:
        if not duplicates:
            yield facts_of(result)
            continue
        key = (agency_key(result.agency), result.year)
        if key not in best or unread(result) < best[key][0]:
            best[key] = (unread(result), result)
    for _, result in best.values():
        yield facts_of(result)


def score_report(facts: ReportFacts, indicators: tuple[Indicator, ...] = DEFAULT_INDICATORS) -> Scored:
    results = []
    for ind in indicators:
        read = [f for f in facts.findings if ind.reads(f.rule)]
        lost = [f for f in read if f.kind == "source" and f.severity in ind.severities]
        verify = [f for f in read if f.kind != "source"]
        if ind.needs_date and not facts.dated:
            undated = Fact("evaluate.no_date", "extraction", "info", (), "报告未署日期（或未能读出），无法判断是否按期")
            results.append(IndicatorResult(ind.id, ind.name, ind.weight, ind.weight, "verify", [], [undated]))
            continue
        share = 1.0 if lost else 0.0
        if lost and ind.scoring == "share":
            cells = {c for f in lost for c in f.cells}
            share = min(1.0, len(cells) / facts.printed) if facts.printed and cells else 1.0
        status = "pass" if not lost else ("fail" if share >= 1 else "partial")
        if status == "pass" and verify:
            status = "verify"
        results.append(IndicatorResult(ind.id, ind.name, ind.weight, round(ind.weight * (1 - share), 2), status,
                                       lost, verify))
    total = sum(i.weight for i in indicators) or 1
    return Scored(facts, round(100 * sum(r.points for r in results) / total, 1), results)


def competition_ranks(scores: list[float]) -> list[int]:
    """1, 2, 2, 4: tied scores share a rank, the next rank skips as many."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    ranks = [0] * len(scores)
    for pos, i in enumerate(order):
        ranks[i] = ranks[order[pos - 1]] if pos and scores[i] == scores[order[pos - 1]] else pos + 1
    return ranks


def _rank(reports: list[Scored], group: str, attr: str) -> None:
    groups: dict[tuple, list[Scored]] = {}
    for r in reports:
        groups.setdefault((r.facts.year, getattr(r.facts, group) if group else ""), []).append(r)
    for members in groups.values():
        for r, n in zip(members, competition_ranks([m.score for m in members]), strict=True):
            setattr(r, attr, n)


def evaluate(facts: Iterable[ReportFacts], indicators: tuple[Indicator, ...] = DEFAULT_INDICATORS) -> Evaluation:
    reports = [score_report(f, indicators) for f in facts]
    _rank(reports, "", "rank")
    _rank(reports, "level", "level_rank")
    _rank(reports, "region", "region_rank")
    reports.sort(key=lambda r: (-(r.facts.year or 0), r.rank, r.facts.agency or "", r.facts.source))
    n = len(reports) or 1
    failed, verify = [0] * len(indicators), [0] * len(indicators)
    fired: dict[str, int] = {}
    for r in reports:
        for k, i in enumerate(r.indicators):
            failed[k] += i.status in ("fail", "partial")
            verify[k] += i.status == "verify"
        for rule in {f.rule for f in r.facts.findings if f.kind == "source" and f.severity != "info"}:
            fired[rule] = fired.get(rule, 0) + 1
    rates = [{"id": ind.id, "name": ind.name, "weight": ind.weight, "failed": failed[k],
              "share": round(failed[k] / n, 4), "verify": verify[k]} for k, ind in enumerate(indicators)]
    rule_rates = [{"rule": rule, "reports": c, "share": round(c / n, 4)}
                  for rule, c in sorted(fired.items(), key=lambda rc: (-rc[1], rc[0]))]
    return Evaluation(indicators, reports, rates, rule_rates)

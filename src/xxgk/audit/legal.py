"""Legal rules: publication date and deadline (条例第四十九条), who may issue 规章, fees."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from functools import cache

from ..formats import FORMATS
from ..textnorm import squeeze
from .agency import KIND_NAMES, agency_kind, may_issue_regulations, regulations_kind
from .rules import Context, Hit, rule


def _published(ctx: Context, posted: bool = False) -> date | None:
    """The signed date; with `posted`, a web page's posting time when the report is not signed with one."""
    p = ctx.result.published or (ctx.result.posted if posted else None)
    if not p:
        return None
    parts = [int(x) for x in p.split("-")]
    try:
        return date(parts[0], parts[1], parts[2] if len(parts) > 2 else 1)
    except ValueError:
        return None


def kind_of(ctx: Context) -> str:
    return agency_kind(ctx.result.agency, ctx.result.sections.get("一", ""))


@rule("legal.published_after_year", "error", "报告应在所报告年度结束之后发布")
def published_after_year(ctx: Context) -> Iterable[Hit]:
    d, year = _published(ctx), ctx.result.year
    if d is None or year is None:
        return
    month_only = len(ctx.result.published or "") == 7
    if d.year < year + 1 and not (month_only and d.year == year and d.month == 12):
        yield Hit([], f"报告落款日期 {ctx.result.published} 早于所报告的 {year} 年度结束（{year}-12-31）")


@rule("legal.deadline", "warning", "条例第四十九条：部门报告 1 月 31 日前、本级政府报告 3 月 31 日前公布")
def deadline(ctx: Context) -> Iterable[Hit]:
    d, year = _published(ctx, posted=True), ctx.result.year
    shown = ctx.result.published or ctx.result.posted
    if d is None or year is None or d.year < year + 1:
        return
    kind = kind_of(ctx)
    if kind in ("department", "state_council_dept"):
        limit, who = date(year + 1, 1, 31), "政府部门"
    elif kind in ("county_gov", "city_gov", "province_gov"):
        limit, who = date(year + 1, 3, 31), "本级人民政府"
    else:
        return  # 乡镇、街道: no statutory date
    month_only = len(shown or "") == 7
    if d > limit and not (month_only and (d.year, d.month) == (limit.year, limit.month)):
        when = f"落款日期为 {shown}" if ctx.result.published else f"报告未署日期，网页发布时间为 {shown}"
        yield Hit([], f"{who}的年度报告应于 {limit.isoformat()} 前公布，{when}")


@rule("legal.regulations_issuer", "warning", "只有国务院部门和省、设区的市、自治州人民政府可以制定规章")
def regulations_issuer(ctx: Context) -> Iterable[Hit]:
    nonzero = [k for k in _regulations(ctx.format.id) if k in ctx.printed and (ctx.values.get(k) or 0) > 0]
    if not nonzero:
        return
    kind = regulations_kind(ctx.result.agency, ctx.result.sections.get("一", ""))
    if may_issue_regulations(kind) is False:
        shown = "，".join(f"{_short(k)} {ctx.values[k]}" for k in nonzero)
        yield Hit(nonzero, f"{ctx.result.agency or '本机关'}（{KIND_NAMES[kind]}）无权制定规章，"
                           f"但「规章」一行填有数字：{shown}")


_NO_NOTICE = re.compile(r"(?:未|没有|无|不曾)(?:发出|出具|发放|送达|下发)?(?:过)?(?:任何)?收费通知")


@rule("legal.fees", "warning", "第三部分（六）2 与第六部分的信息处理费说法一致")
def fees(ctx: Context) -> Iterable[Hit]:
    if ctx.format.id != "2021":
        return
    six = squeeze(ctx.result.sections.get("六", ""))
    if "信息处理费" not in six and "收费" not in six:
        yield Hit([], "2021 格式要求在第六部分报告信息处理费的收取情况，未见相关表述", severity="info")
        return
    unpaid = ctx.values.get("requests.other.unpaid_fee.total")
    if unpaid and unpaid > 0 and _NO_NOTICE.search(six):
        yield Hit(["requests.other.unpaid_fee.total"],
                  f"第三部分（六）2「逾期未按收费通知要求缴纳费用」为 {unpaid} 件，即发出过收费通知，"
                  f"而第六部分称未发出收费通知")


@cache
def _regulations(format_id: str) -> tuple[str, ...]:
    """The format's cells of 规章 (every report's rule reads them)."""
    return tuple(k for k in FORMATS[format_id].cell_keys if k.startswith("active.regulations."))


def _short(key: str) -> str:
    return {"made": "本年新制作", "published": "本年新公开", "total": "对外公开总数", "issued": "本年制发",
            "repealed": "本年废止", "in_force": "现行有效"}.get(key.rsplit(".", 1)[-1], key)

"""Across years: this report against the same agency's report for the year before."""

from __future__ import annotations

from collections.abc import Iterable

from ..formats.national import APPLICANTS
from .rules import Context, Hit, rule

_ITEMS = ("licensing", "other_services", "penalty", "coercion", "fees")
# The cells of the previous year's report these rules read (all a batch keeps of it).
PREVIOUS_CELLS = (
    *(f"requests.carried_forward.{c.key}" for c in APPLICANTS),
    "active.regulations.in_force", "active.normative.in_force",
    *(f"active.{kind}.{col}" for kind in _ITEMS for col in ("previous", "change")),
)


@rule("years.carried_over", "warning", "本年「上年结转」等于上年报告的「结转下年度继续办理」")
def carried_over(ctx: Context) -> Iterable[Hit]:
    prev = ctx.previous
    if prev is None:
        return
    for col in APPLICANTS:
        now = ctx.values.get(f"requests.carried_over.{col.key}")
        before = prev.cells.get(f"requests.carried_forward.{col.key}")
        if now is not None and before is not None and now != before:
            yield Hit([f"requests.carried_over.{col.key}"],
                      f"「{col.label}」列：本年上年结转 {now} 件，而 {prev.year} 年报告结转下年度 {before} 件")


@rule("years.in_force", "warning", "2021 格式：上年现行有效件数 + 本年制发 − 本年废止 = 本年现行有效件数")
def in_force(ctx: Context) -> Iterable[Hit]:
    prev = ctx.previous
    if prev is None or ctx.format.id != "2021" or prev.template != "2021":
        return
    for kind, label in (("regulations", "规章"), ("normative", "行政规范性文件")):
        k = f"active.{kind}."
        vals = [prev.cells.get(k + "in_force"), ctx.values.get(k + "issued"), ctx.values.get(k + "repealed"),
                ctx.values.get(k + "in_force")]
        if any(v is None for v in vals):
            continue
        before, issued, repealed, now = vals
        if before + issued - repealed != now:  # type: ignore[operator]
            yield Hit([k + "in_force", k + "issued", k + "repealed"],
                      f"「{label}」：上年现行有效 {before} + 本年制发 {issued} − 本年废止 {repealed} = "
                      f"{before + issued - repealed}，本年现行有效为 {now}")  # type: ignore[operator]


@rule("years.items_roll", "warning", "2019 格式：本年「上一年项目数量」等于上年的项目数量加增减")
def items_roll(ctx: Context) -> Iterable[Hit]:
    prev = ctx.previous
    if prev is None or ctx.format.id != "2019" or prev.template != "2019":
        return
    for kind, label in (("licensing", "行政许可"), ("other_services", "其他对外管理服务事项"),
                        ("penalty", "行政处罚"), ("coercion", "行政强制"), ("fees", "行政事业性收费")):
        k = f"active.{kind}."
        before, change, now = prev.cells.get(k + "previous"), prev.cells.get(k + "change"), ctx.values.get(
            k + "previous")
        if before is None or change is None or now is None:
            continue
        if before + change != now:
            yield Hit([k + "previous"], f"「{label}」：上年报告 {before}{change:+d} = {before + change}，"
                                        f"本年「上一年项目数量」为 {now}")

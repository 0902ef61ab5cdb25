"""Prose against tables, conservatively: only phrases that can mean one cell and nothing else.

A false alarm here costs more trust than a miss, so anything hedged ("余", "约", "代表…") is
passed over.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..textnorm import squeeze
from .rules import Context, Hit, fmt_num, rule

_HEDGE_BEFORE = re.compile(r"(?:代表|其中|以及|和|及|含)$")
# (cells summed, pattern; group 1 is the number)
STATEMENTS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("requests.new.total",), "本年新收的政府信息公开申请数",
     r"(?:本年度?|全年|年内|共|累计|新收)(?:共|累计)?(?:新收到?|收到|受理)(?:各类|依申请公开)?(?:政府信息公开|信息公开)申请(?:共|总数|数量)?为?"
     r"(\d+)(?:件|个|条)(?!余)"),
    (("requests.carried_over.total",), "上年结转的申请数",
     r"上年度?结转(?:的)?(?:政府信息公开)?申请(?:共)?(\d+)件(?!余)"),
    (("review.total",), "政府信息公开行政复议案件数",
     r"(?:政府信息公开|信息公开类?)(?:方面的)?行政复议(?:案件|申请)?(?:共)?(\d+)(?:件|起|宗)(?!余)"),
    (("litigation_direct.total", "litigation_after_review.total"), "政府信息公开行政诉讼案件数",
     r"(?:政府信息公开|信息公开类?)(?:方面的)?行政诉讼(?:案件)?(?:共)?(\d+)(?:件|起|宗)(?!余)"),
)

_STATEMENTS = tuple((cells, what, re.compile(pattern)) for cells, what, pattern in STATEMENTS)


@rule("prose.table", "warning", "总体情况中明确的数字与统计表一致")
def prose_vs_table(ctx: Context) -> Iterable[Hit]:
    text = squeeze(ctx.result.sections.get("一", ""))
    for cells, what, pattern in _STATEMENTS:
        values = [ctx.values.get(k) for k in cells]
        if any(v is None for v in values) or not set(cells) <= ctx.printed:
            continue
        table = sum(values)  # type: ignore[arg-type]
        for m in pattern.finditer(text):
            if _HEDGE_BEFORE.search(text[max(0, m.start() - 4):m.start()]):
                continue
            stated = int(m.group(1))
            if stated != table:
                quote = text[max(0, m.start() - 6):m.end()]
                yield Hit(list(cells), f"总体情况称「…{quote}」（{what} {stated}），统计表为 {fmt_num(table)}")
            break


_HEAD = re.compile(r"(\d+)(条|件|个|项|篇|期)[,，:：。]?其中[,，:：]?")
_ITEM = re.compile(r"(\d+)(条|件|个|项|篇|期)")


# Punctuation by strength: a list's items are separated by one of these; a stronger one ends it.
_STRENGTH = {"、": 1, "，": 2, ",": 2, "；": 3, ";": 3, "。": 4}


def _one_list(body: str) -> str:
    """The list that starts a clause, up to the first mark stronger than the one between its items:
    「42件、5件；行政复议2件」 lists 42 and 5, 「1…3条；2…52条。」 lists both."""
    first = _ITEM.search(body)
    if first is None:
        return body
    marks = [(i, _STRENGTH[c]) for i, c in enumerate(body) if c in _STRENGTH and i >= first.end()]
    if not marks:
        return body
    between = marks[0][1]
    return body[:next((i for i, s in marks if s > between), len(body))]


def _breakdowns(parts: list[int], total: int) -> bool:
    """The parts are several breakdowns of the same total, one after another: by applicant 741+8,
    then by outcome 718+31 (each run adds up to the total, and together they cover every part)."""
    run = 0
    for p in parts:
        run += p
        if run == total:
            run = 0
        elif run > total:
            return False
    return run == 0


@rule("prose.enumeration", "warning", "总体情况中“共 N，其中 a、b、c”的分项之和等于总数")
def enumeration(ctx: Context) -> Iterable[Hit]:
    text = squeeze(ctx.result.sections.get("一", ""))
    for head in _HEAD.finditer(text):
        if re.search(r"(余|多|约|近|超过)$", text[max(0, head.start() - 2):head.start()]) or text[
                head.end(2):head.end(2) + 1] in ("余", "多"):
            continue
        total, unit = int(head.group(1)), head.group(2)
        end = text.find("。", head.end())
        body = text[head.end(): end if end >= 0 else len(text)]
        nxt = _HEAD.search(body)
        if nxt:
            body = body[:nxt.start()]
        body = _one_list(body)
        items = list(_ITEM.finditer(body))
        if len(items) < 2 or any(i.group(2) != unit for i in items):
            continue
        parts = [int(i.group(1)) for i in items]
        if sum(parts) == total or _breakdowns(parts, total):
            continue
        quote = text[head.start():head.end() + len(body)][:80]
        shown = "+".join(map(str, parts))
        if sum(parts) > total:
            yield Hit([], f"总体情况「{quote}…」：分项之和 {shown}={sum(parts)}{unit}，多于所称总数 {total}{unit}")
        else:
            yield Hit([], f"总体情况「{quote}…」：分项之和 {shown}={sum(parts)}{unit}，少于所称总数 {total}{unit}"
                          f"（可能只列举了部分）", severity="info")

"""Every arithmetic relation the format declares, one rule per family of relations."""

from __future__ import annotations

from collections.abc import Iterable

from ..formats import Relation
from .rules import Context, Hit, Severity, fmt_num, rule

# family → (severity, summary). The relations themselves live in formats/national.py.
FAMILIES: dict[str, tuple[Severity, str]] = {
    "requests.row_total": ("error", "第三部分每行的总计等于六类申请人之和"),
    "requests.balance": ("error", "第三部分每列：第一项加第二项之和等于第三项加第四项之和"),
    "requests.results_sum": ("error", "第三部分每列：（七）总计等于各项办理结果之和"),
    "review.total": ("error", "第四部分每组：总计等于维持、纠正、其他、尚未审结之和"),
    "active.total_ge_published": ("warning", "2019 格式：对外公开总数量不小于本年新公开数量"),
    "active.in_force_roll": ("warning", "2021 格式：现行有效件数不小于本年制发件数减本年废止件数"),
}


def _sum(values: dict[str, int | float | None], keys: tuple[str, ...]) -> float:
    return sum(values[k] or 0 for k in keys)


def check_relation(ctx: Context, rel: Relation, holds: bool | None) -> Hit | None:
    """A relation the report's layout is checked by (`Context.relations`), and whether it holds on
    the report's values (`Relation.holds`)."""
    if holds is None:
        nulls = [k for k in rel.cells if ctx.values.get(k) is None]
        unread = [k for k in nulls if k not in ctx.result.blank]
        return Hit(list(rel.cells), f"无法核对（{len(nulls)} 个单元格为空）：" + rel.text.format(left="?", right="?")
                   .replace("不等于", "应等于").replace("小于", "应不小于"), severity="info",
                   kind="extraction" if unread else "source")
    if holds:
        return None
    # the kind (原文 or 读取) follows from the evidence of its cells: Rule.finding. A sum the format
    # defines (2021's （六）其他处理 of three printed rows) is named with the printed cells it adds.
    cells = [*rel.cells, *(p for k in rel.cells for p in ctx.derived.get(k, ()))]
    return Hit(cells, rel.text.format(left=fmt_num(_sum(ctx.values, rel.left)),
                                      right=fmt_num(_sum(ctx.values, rel.right))))


def _family(family: str) -> None:
    severity, summary = FAMILIES[family]

    @rule(family, severity, summary)
    def check(ctx: Context) -> Iterable[Hit]:
        values = ctx.values
        for rel in ctx.relations.get(family, ()):
            holds = rel.holds(values)
            if holds is not True:  # most do: only a broken or uncheckable one has more to say
                hit = check_relation(ctx, rel, holds)
                if hit is not None:
                    yield hit


for _name in FAMILIES:
    _family(_name)

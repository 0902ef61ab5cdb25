"""Values and form: types, signs, blanks, sections, the format for the year, rows, labels."""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz.distance import Levenshtein

from ..formats import SECTIONS
from ..textnorm import label_core
from .rules import Context, Hit, rule


@rule("values.negative", "error", "数量不能为负数")
def negative(ctx: Context) -> Iterable[Hit]:
    for key, v in ctx.values.items():
        if v is not None and v < 0 and ctx.format.cell_type(key) != "signed":
            yield Hit([key], f"{_label(ctx, key)} 为负数（{v}）")


@rule("values.sign", "warning", "只有 2019 格式的「本年增/减」列可以带正负号")
def sign(ctx: Context) -> Iterable[Hit]:
    for key, s in ctx.result.signs.items():
        if ctx.format.cell_type(key) != "signed":
            yield Hit([key], f"{_label(ctx, key)} 印为带符号的数「{s}{ctx.values.get(key)}」，该列应为数量")


@rule("values.blank", "warning", "统计表的单元格不应留空")
def blank(ctx: Context) -> Iterable[Hit]:
    cells = [k for k in ctx.result.blank if k in ctx.printed]
    by_table: dict[str, list[str]] = {}
    for k in cells:
        by_table.setdefault(_table_title(ctx, k), []).append(k)
    for title, keys in by_table.items():
        yield Hit(keys, f"「{title}」有 {len(keys)} 个单元格留空（应填 0 或数字）：" + "、".join(
            _label(ctx, k) for k in keys[:6]) + ("等" if len(keys) > 6 else ""))


@rule("extraction.unread", "warning", "未能读取的单元格", kind="extraction")
def unread(ctx: Context) -> Iterable[Hit]:
    keys = [k for k, v in ctx.values.items()
            if v is None and k in ctx.printed and k not in ctx.result.blank and k not in ctx.result.inferred]
    if keys:
        yield Hit(keys, f"{len(keys)} 个单元格未能读取：" + "；".join(ctx.result.doubts[:5]))


@rule("extraction.inferred", "info", "推断所得的数值（拆分粘连数字、由合计推出、重排）", kind="extraction")
def inferred(ctx: Context) -> Iterable[Hit]:
    reasons: dict[str, list[str]] = {}
    for key, why in ctx.result.inferred.items():
        if key in ctx.printed and not why.startswith("（六）"):
            reasons.setdefault(why, []).append(key)
    for why, keys in reasons.items():
        yield Hit(keys, f"{len(keys)} 个单元格的数值是推断的：{why}")


@rule("form.sections", "warning", "六个部分齐全且按顺序")
def sections(ctx: Context) -> Iterable[Hit]:
    missing = [f"{n}、{title}" for n, title, _ in SECTIONS if n not in ctx.result.found_sections]
    if missing:
        yield Hit([], "缺少（或未按顺序出现）：" + "；".join(missing))


@rule("form.template_year", "warning", "报告格式与年度相符（2019、2020 年度用 2019 格式，2021 年度起用 2021 格式）")
def template_year(ctx: Context) -> Iterable[Hit]:
    year, fmt = ctx.result.year, ctx.format
    if year is not None and not fmt.years[0] <= year <= fmt.years[1]:
        expected = "2021" if year >= 2021 else "2019"
        yield Hit([], f"{year} 年度报告使用了 {fmt.id} 格式（{fmt.name}），应使用 {expected} 格式")


@rule("form.extra_values", "info", "统计表中不属于任何法定单元格的数值（地方增设的行、注释）")
def extra_values(ctx: Context) -> Iterable[Hit]:
    if ctx.result.extras:
        yield Hit([], "表中另有数值未归入法定单元格：" + "；".join(ctx.result.extras[:8]))


@rule("form.label_typo", "info", "行标签与规范表述一致")
def label_typo(ctx: Context) -> Iterable[Hit]:
    for table in ctx.format.tables:
        for row in table.rows:
            printed = ctx.result.labels.get(row.key)
            if not printed or not row.match or "|" in printed:
                continue  # a label printed in pieces is not compared
            got, want = label_core(printed), label_core(row.label)
            if got == want or want.startswith(got) or want.endswith(got):
                continue  # the same, or one piece of a label split over lines
            if Levenshtein.distance(got, want) <= max(2, len(want) // 4):
                if any(ctx.by_ocr(c) for c in row.cells):
                    yield Hit(list(row.cells[:1]), f"行标签读作「{printed}」，与规范表述「{row.label}」不一致"
                              "（该行由 OCR 从图片识别，可能是识别有误）", kind="extraction")
                else:
                    yield Hit(list(row.cells[:1]), f"行标签「{printed}」与规范表述「{row.label}」不一致")


def _label(ctx: Context, key: str) -> str:
    from ..formats import cell_specs

    spec = cell_specs()[ctx.format.id].get(key)
    return f"「{spec.label}」" if spec else key


def _table_title(ctx: Context, key: str) -> str:
    return next((t.title for t in ctx.format.tables if key in t.cells()), key)

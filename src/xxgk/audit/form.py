"""Values and form: types, signs, blanks, sections, the format for the year, rows, labels."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache, lru_cache

from rapidfuzz.distance import Levenshtein

from ..formats import FORMATS, SECTIONS
from ..textnorm import label_core
from .rules import Context, Hit, fmt_num, rule, tables_of


@rule("values.negative", "error", "数量不能为负数")
def negative(ctx: Context) -> Iterable[Hit]:
    if min(filter(None, ctx.values.values()), default=0) >= 0:
        return  # none is (one pass in C over the values that are neither null nor 0)
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
    """Once per table, every cell left blank: printed blank, or a total the report did not print
    (the reader derived it from its parts: the message says what they add to)."""
    unprinted = unprinted_totals(ctx)
    cells = [k for k in ctx.result.blank if k in ctx.printed] + [k for k in unprinted if k not in ctx.result.blank]
    by_table: dict[str, list[str]] = {}
    for k in cells:
        by_table.setdefault(_table_title(ctx, k), []).append(k)
    for title, keys in by_table.items():
        rows: dict[str, list[str]] = {}
        for k in keys:
            row, col = _row_and_column(ctx, k)
            parts = unprinted.get(k, _printed_sum(ctx, k))
            rows.setdefault(row, []).append(col + ("" if parts is None else f"（各项之和为 {fmt_num(parts)}）"))
        listed = "；".join(f"{row}：{'、'.join(cols)}" for row, cols in rows.items())
        # a blank is the report's if it and, for a derived total, its printed parts were placed surely
        basis = [k for k in keys if k not in unprinted] + [p for k in keys if k in unprinted for p in _parts(ctx, k)]
        why = ctx.doubtful(basis)
        message = f"「{title}」有 {len(keys)} 个单元格留空（应填 0 或数字）：{listed}"
        yield Hit(keys, message + (f"（{why}，可能是读取有误）" if why else ""),
                  kind="extraction" if why else "source")


def unprinted_totals(ctx: Context) -> dict[str, float]:
    """Cells the report left empty and the reader derived from the others ({cell: its value}), as
    opposed to a value it recovered from glued digits or the 2021 （六） row defined as a sum."""
    out: dict[str, float] = {}
    for key, why in ctx.result.inferred.items():
        evidence = ctx.result.evidence.get(key)
        derived = evidence == "derived" if ctx.result.evidence else why.startswith("原文缺此数值")
        value = ctx.values.get(key)
        if (derived and key in ctx.printed and not why.startswith("（六）") and key not in ctx.result.provenance
                and value is not None):
            out[key] = value
    return out


def _printed_sum(ctx: Context, key: str) -> float | None:
    """What a blank total's parts add to, when every part is printed (None otherwise)."""
    parts = _parts(ctx, key)
    values = [ctx.values.get(p) for p in parts]
    return sum(v for v in values if v is not None) if parts and None not in values else None


def _parts(ctx: Context, key: str) -> tuple[str, ...]:
    """The cells a total is the sum of (its row's applicants, its group's outcomes)."""
    return _totals(ctx.format.id).get(key, ())


@cache
def _totals(format_id: str) -> dict[str, tuple[str, ...]]:
    """{total: the cells it is the sum of} by the format's row and group totals (the first that says)."""
    out: dict[str, tuple[str, ...]] = {}
    for r in FORMATS[format_id].relations:
        if len(r.left) == 1 and r.rule in ("requests.row_total", "review.total"):
            out.setdefault(r.left[0], r.right)
    return out


def _row_and_column(ctx: Context, key: str) -> tuple[str, str]:
    from ..formats import cell_specs

    spec = cell_specs()[ctx.format.id].get(key)
    if spec is None:
        return key, ""
    row, _, col = spec.label.rpartition(" × ") if " × " in spec.label else spec.label.rpartition("/")
    return row.removeprefix("三/").split("/", 1)[-1] if row.startswith("第二十条") else row.removeprefix("三/"), col


@rule("extraction.unread", "warning", "未能读取的单元格", kind="extraction")
def unread(ctx: Context) -> Iterable[Hit]:
    if None not in ctx.values.values():
        return
    blank = set(ctx.result.blank)
    keys = [k for k, v in ctx.values.items()
            if v is None and k in ctx.printed and k not in blank and k not in ctx.result.inferred]
    if keys:
        yield Hit(keys, f"{len(keys)} 个单元格未能读取：" + "；".join(ctx.result.doubts[:5]))


@rule("extraction.inferred", "info", "推断所得的数值（拆分粘连数字、由合计推出、重排）", kind="extraction")
def inferred(ctx: Context) -> Iterable[Hit]:
    reasons: dict[str, list[str]] = {}
    blanks = unprinted_totals(ctx)  # reported by values.blank
    for key, why in ctx.result.inferred.items():
        if key in ctx.printed and not why.startswith("（六）") and key not in blanks:
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
    extras = ctx.result.extras
    if not extras:
        return
    shown = "；".join(extras[:8]) + ("等" if len(extras) > 8 else "")
    unplaced = [e for e in extras if not e.startswith("第二部分")]
    if unplaced:  # only section 二 has local rows (其他主动公开文件): elsewhere, values the reader could not place
        yield Hit([], f"表中有 {len(extras)} 个数值未归入法定单元格，其中 {len(unplaced)} 个在第三、四部分、"
                      f"无处可归（可能是读取有误）：{shown}", kind="extraction")
    else:
        yield Hit([], f"表中另有数值未归入法定单元格（地方增设的行或注释）：{shown}")


@rule("form.label_typo", "info", "行标签与规范表述一致")
def label_typo(ctx: Context) -> Iterable[Hit]:
    for table in ctx.format.tables:
        for row in table.rows:
            printed = ctx.result.labels.get(row.key)
            if not printed or not row.match or "|" in printed:
                continue  # a label printed in pieces is not compared
            if _mistyped(printed, row.label):
                if any(ctx.by_ocr(c) for c in row.cells):
                    yield Hit(list(row.cells[:1]), f"行标签读作「{printed}」，与规范表述「{row.label}」不一致"
                              "（该行由 OCR 从图片识别，可能是识别有误）", kind="extraction")
                else:
                    yield Hit(list(row.cells[:1]), f"行标签「{printed}」与规范表述「{row.label}」不一致")


@lru_cache(maxsize=20_000)  # a template's labels recur in every report of it: each pair is compared once
def _mistyped(printed: str, label: str) -> bool:
    """Whether a label as printed is near the format's but not it (nor a piece of it, nor it with the
    text of the cell before glued on)."""
    want = label_core(label)
    if any(got == want or want.startswith(got) or want.endswith(got) for got in _readings(printed)):
        return False  # the same, one piece of a label split over lines, or glued to the cell before
    return Levenshtein.distance(label_core(printed), want) <= max(2, len(want) // 4)


# A crawler may glue a label to the text of the cell before it: 「其他一、本年新收…」, 「总计（七）总计」.
_GLUED = re.compile(r"^.{1,8}?(?=[一二三四五六七八九十]+[、.．]|[(（][一二三四五六七八九十]+[)）]|\d+[、.．])")


def _readings(printed: str) -> list[str]:
    """The label as printed, and without what a crawler may have glued before its ordinal."""
    squeezed = re.sub(r"\s+", "", printed)
    m = _GLUED.match(squeezed)
    return [label_core(printed)] + ([label_core(squeezed[m.end():])] if m else [])


def _label(ctx: Context, key: str) -> str:
    from ..formats import cell_specs

    spec = cell_specs()[ctx.format.id].get(key)
    return f"「{spec.label}」" if spec else key


def _table_title(ctx: Context, key: str) -> str:
    table = tables_of(ctx.format.id).get(key)
    return key if table is None else table.title

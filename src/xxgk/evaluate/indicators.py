"""What an evaluation scores, as data: each indicator names the audit findings it reads.

An indicator loses its points when a finding of the report itself (kind 原文) of one of its rules
is there; a reading doubt (kind 读取) never costs points — it is listed "to verify", so a
misreading cannot lower an agency's rank. A province's own scheme is a TOML file of the same
fields (`load_indicators`), replacing weights or the whole set.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields, replace
from functools import cache
from pathlib import Path
from typing import Literal

Scoring = Literal["pass_fail", "share"]


@dataclass(frozen=True)
class Indicator:
    id: str
    name: str
    weight: float
    rules: tuple[str, ...]  # audit rule ids; an id ending in "." is a family (every rule under it)
    scoring: Scoring = "pass_fail"  # "share": points lost in proportion to the cells its findings name
    severities: tuple[str, ...] = ("error", "warning")  # findings of these severities cost points
    needs_date: bool = False  # without a signed or posted date it cannot be scored: to verify
    note: str = ""  # what it asks, in full

    def reads(self, rule: str) -> bool:
        return _reads(self.rules, rule)


@cache
def _reads(rules: tuple[str, ...], rule: str) -> bool:
    return any(rule == r or (r.endswith(".") and rule.startswith(r)) for r in rules)


DEFAULT_INDICATORS: tuple[Indicator, ...] = (
    Indicator("on_time", "按期公开", 15, ("legal.deadline", "legal.published_after_year"), needs_date=True,
              note="部门 1 月 31 日前、本级政府 3 月 31 日前公布，且不早于年度结束（条例第四十九、五十条）"),
    Indicator("sections", "结构完整", 10, ("form.sections",), note="六个部分齐全且按顺序"),
    Indicator("complete", "表格完整", 15, ("values.blank", "extraction.unread"), scoring="share",
              note="三张统计表无空白的法定单元格，按空白单元格所占比例扣分"),
    Indicator("arithmetic", "勾稽关系", 20, ("requests.", "review.", "active.", "values.negative"),
              note="统计表各行、各列的合计关系成立，无负数"),
    Indicator("prose", "正文一致", 10, ("prose.",), note="总体情况中的数字与统计表一致"),
    Indicator("rollover", "年度衔接", 10, ("years.",), note="上年结转、现行有效件数与上年报告衔接"),
    Indicator("fees", "信息处理费", 5, ("legal.fees",), severities=("error", "warning", "info"),
              note="第六部分说明信息处理费的收取情况，且与第三部分一致"),
    Indicator("format", "格式相符", 10, ("form.template_year",), note="2019、2020 年度用 2019 格式，此后用 2021 格式"),
    Indicator("regulations", "规章主体", 5, ("legal.regulations_issuer",), note="无权制定规章的机关未填报规章"),
)


def load_indicators(path: str | Path, base: tuple[Indicator, ...] = DEFAULT_INDICATORS) -> tuple[Indicator, ...]:
    """A TOML file: `replace = true` starts from nothing, else from `base`; each `[[indicator]]`
    with an `id` of `base` changes its fields (e.g. only `weight`), a new id adds one.

    ```toml
    [[indicator]]
    id = "on_time"
    weight = 30
    ```
    """
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    out = {} if data.get("replace") else {i.id: i for i in base}
    known = {f.name for f in fields(Indicator)}
    for n, item in enumerate(data.get("indicator", []), 1):
        unknown = set(item) - known
        if unknown or "id" not in item:
            raise ValueError(f"{path}: indicator {n}: " + (f"unknown fields {sorted(unknown)}" if unknown
                                                           else "has no id"))
        item = {k: tuple(v) if isinstance(v, list) else v for k, v in item.items()}
        if item["id"] in out:
            out[item["id"]] = replace(out[item["id"]], **item)
        else:
            missing = {"name", "weight", "rules"} - set(item)
            if missing:
                raise ValueError(f"{path}: new indicator {item['id']} needs {sorted(missing)}")
            out[item["id"]] = Indicator(**item)
    if not out:
        raise ValueError(f"{path}: no indicator")
    return tuple(out.values())

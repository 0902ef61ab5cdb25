"""What kind of body an agency is, from its name or how the report refers to itself.

The kind decides which legal rules apply: who may issue 规章, and the publication deadline
of 条例第四十九条.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

from ..textnorm import squeeze

AgencyKind = Literal["street", "township", "county_gov", "city_gov", "province_gov", "state_council_dept",
                     "department", "unknown"]

_PROVINCE = r"(?:[\u4e00-\u9fff]{2,8}?(?:省|自治区)|北京市|天津市|上海市|重庆市)"
KIND_NAMES = {
    "street": "街道办事处", "township": "乡镇", "county_gov": "县级人民政府", "city_gov": "市级人民政府",
    "province_gov": "省级人民政府", "state_council_dept": "国务院部门", "department": "政府部门",
    "unknown": "未知",
}


def _compiled(pairs: tuple[tuple[str, AgencyKind], ...]) -> tuple[tuple[re.Pattern[str], AgencyKind], ...]:
    return tuple((re.compile(pattern), kind) for pattern, kind in pairs)


# (pattern, kind) by the name without white space, the first that is found deciding
_BY_NAME = _compiled((
    (r"(街道办事处|街道|街办)$|街道(党工委|办事处)", "street"),
    (r"(镇|乡)(人民政府|政府)?$", "township"),
    (r"^" + _PROVINCE + r"(?:人民政府|政府)$", "province_gov"),
    (r"(县|区|旗|县级市)(人民政府|政府)$", "county_gov"),
    (r"(市|州|盟)(人民政府|政府)$", "city_gov"),
    (r"^(国家|中华人民共和国|国务院|中国)|^[^省市县区]{1,8}部$", "state_council_dept"),
    (r"(局|委|委员会|办公室|办|厅|中心|署|院|所|站|队|部|管委会)$", "department"),
))
# … and by how the report refers to itself (the start of its prose), when the name does not tell
_BY_PROSE = _compiled((
    (r"[我本](街道|街)", "street"), (r"[我本](镇|乡)", "township"), (r"[我本](局|委|办|厅|中心|单位)", "department"),
))


def agency_kind(name: str | None, prose: str = "") -> AgencyKind:
    kind = kind_by_name(name) if name else None
    if kind is not None:
        return kind
    head = squeeze(prose)[:600]
    return next((k for pattern, k in _BY_PROSE if pattern.search(head)), "unknown")


@lru_cache(maxsize=4096)  # asked by several rules of every report; names recur across reports
def kind_by_name(name: str) -> AgencyKind | None:
    """What its name says the body is (None: it does not say)."""
    n = squeeze(name)
    return next((k for pattern, k in _BY_NAME if pattern.search(n)), None)


_OFFICE = re.compile(r"(.+(?:人民政府|政府))(?:办公厅|办公室)")


def regulations_kind(name: str | None, prose: str = "") -> AgencyKind:
    """The kind of body whose 规章 a report may list: a government's 办公厅 or 办公室 (上海市人民政府
    办公厅) reports the government's own; anyone else, its own."""
    m = _OFFICE.fullmatch(squeeze(name or ""))
    return agency_kind(m.group(1)) if m else agency_kind(name, prose)


def may_issue_regulations(kind: AgencyKind) -> bool | None:
    """立法法: 规章 come from 国务院部门 and 省、设区的市、自治州 governments. None: can't tell."""
    if kind in ("street", "township", "county_gov", "department"):
        return False
    if kind in ("state_council_dept", "province_gov"):
        return True
    return None  # a 市 government may or may not be 设区的市

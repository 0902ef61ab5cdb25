"""Agency, year reported on and publication date, as the report prints them."""

from __future__ import annotations

import re

from ..textnorm import squeeze

_CN_DIGITS = {"〇": "0", "零": "0", "○": "0", "O": "0", "一": "1", "二": "2", "三": "3", "四": "4",
              "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"}
_YEAR = r"(20\d\d|二[〇零○O][一二三四五六七八九〇零○O]{2})"
_NAME = r"(?:政府信息公开|政务公开|信息公开)\S{0,12}?(?:年度)?(?:工作)?(?:年度)?(?:报告|年报)"
_TITLE = re.compile(_YEAR + r"年度?(?:的)?" + _NAME)  # XX局2020年政府信息公开工作年度报告
_YEAR_FIRST = re.compile(_YEAR + r"年度?(?P<agency>[\u4e00-\u9fff（）()]{2,40}?)" + _NAME)  # 2020年XX局政府信息…
_YEAR_AFTER = re.compile(_NAME + r"[(（]" + _YEAR + r"年度?[)）]")  # XX局政府信息公开工作年度报告（2020年度）
# XX局政府信息公开工作2020年度报告
_YEAR_INSIDE = re.compile(r"(?:政府信息公开|政务公开)(?:工作)?" + _YEAR + r"年度?(?:工作)?(?:报告|年报)")
_AGENCY_SUFFIX = (r"(?:街道办事处|办事处|街道|人民政府|政府|管理委员会|委员会|管委会|局|委|办公室|办|厅|部|院|中心|"
                  r"镇|乡|署|所|队|馆|会|公司|集团|社)")
_AGENCY = re.compile(r"([\u4e00-\u9fff（）()]{2,40}?" + _AGENCY_SUFFIX + r")")
_NOT_NAME = re.compile(r"^(?:我|本|全|各|该|市|区|县|街|镇|乡|局)")
_DATE = re.compile(_YEAR + r"(?:年([0-9一二三四五六七八九十]{1,3})月(?:([0-9一二三四五六七八九十]{1,3})日)?"
                   r"|[-./](\d{1,2})[-./](\d{1,2})(?!\d))")  # 2021年1月20日, 2021-01-20, 2021.1.20
_POSTED = re.compile(r"(?:发布|成文|印发)(?:日期|时间)[:：]?(?=" + _YEAR + ")")  # a web page's 发布日期：2021-01-20


def _cn_number(s: str) -> int:
    if s.isdigit():
        return int(s)
    if all(c in _CN_DIGITS for c in s):
        return int("".join(_CN_DIGITS[c] for c in s))
    # 十, 十一, 二十, 二十一, 三十一
    tens, _, ones = s.partition("十")
    return int(_CN_DIGITS.get(tens, "1") if tens else 1) * 10 + (int(_CN_DIGITS[ones]) if ones else 0)


def _year(s: str) -> int:
    return _cn_number(s)


def _lines(text: str) -> list[str]:
    return [squeeze(x) for x in text.split("\n") if x.strip()]


_STAMP = re.compile(r"^(?:\d{4}[/.-]\d{1,2}[/.-]\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}),?(?:上午|下午)?"
                    r"(?:\d{1,2}:\d\d(?::\d\d)?)?(?:[AP]M)?")


def _clean_name(name: str) -> str | None:
    name = _STAMP.sub("", name)  # a browser's running header: "2024/5/6 下午3:21" before the title
    name = re.sub(r"^[#*>\-\s《「“【]+|[#*\s》」”】]+$", "", name)
    name = re.sub(r"^(?:标题|名称|文件名称|信息名称|主题)[:：]", "", name)  # a web page's field label
    name = re.sub(r"(关于|的)$", "", name)
    if len(name) < 2 or (_NOT_NAME.match(name) and len(name) <= 4):
        return None
    return name


def find_title(head: str) -> tuple[str | None, int | None]:
    """(agency, year) from the title: "XX街道办事处2020年政府信息公开工作年度报告", maybe on two lines,
    the year first ("2020年XX局政府信息公开…") or after ("…年度报告（2020年度）")."""
    lines = _lines(head)[:20]
    for i, line in enumerate(lines):
        if len(line) > 80:
            continue  # a sentence that mentions the report, not its title
        found = _title_in(line, lines[i + 1] if i + 1 < len(lines) else "")
        if found is None:
            continue
        before, year = found
        before = _clean_name(before)
        if before is None and i > 0 and _AGENCY.fullmatch(lines[i - 1]):
            before = _clean_name(lines[i - 1])
        elif before and i > 0 and lines[i - 1].endswith(before) and _AGENCY.fullmatch(lines[i - 1]):
            before = lines[i - 1]  # "广州市番禺区人民政府石壁街道办事处" / "石壁街道办事处关于…"
        return before, year
    return None, None


def _title_in(line: str, following: str) -> tuple[str, int] | None:
    """(what the line prints before the title's words: the agency, the year) if it is the title."""
    joined = line + following  # a long title wrapped onto a second line
    for text in (line, joined) if len(line) > 8 or _YEAR_AFTER.search(joined) else (line,):
        m = _TITLE.search(text)
        if m and m.start() < len(line):
            return line[:m.start()], _year(m.group(1))
        m = _YEAR_FIRST.match(text)
        if m:
            agency = m.group("agency")
            if agency.endswith("政府") and _AGENCY.fullmatch(agency[:-2]) and not agency.endswith("人民政府"):
                agency = agency[:-2]  # "XX局政府信息公开": the 政府 is the report's name
            elif agency.endswith("人民"):
                agency += "政府"  # "XX县人民政府信息公开": one 政府 for both
            return agency, _year(m.group(1))
        for pattern in (_YEAR_AFTER, _YEAR_INSIDE):
            m = pattern.search(text)
            if m and m.start() < len(line):
                return line[:m.start()], _year(m.group(1))
    return None


def agency_from_prose(body: str) -> str | None:
    """The subject of the first sentence of 总体情况, when it names a body ("2020年佳木斯市…街道严格…")."""
    first = squeeze(body)[:120]
    first = re.sub(r"^(?:一[、.]?)?总体情况", "", first)
    first = re.sub(r"^" + _YEAR + r"年度?[,，]?", "", first)
    m = _AGENCY.match(first)
    if not m:
        return None
    return _clean_name(m.group(1))


def agency_from_signature(tail: str) -> str | None:
    """The body that signs the report: the line above its closing date, or before it on its line
    ("XX局 2021年1月20日"), when that line is a name and nothing else."""
    lines = _lines(tail)
    for i in range(len(lines) - 1, max(-1, len(lines) - 6), -1):
        m = _DATE.search(lines[i])
        if m is None or "。" in lines[i][m.end():]:
            continue
        before = lines[i][:m.start()] or (lines[i - 1] if i > 0 else "")
        if _AGENCY.fullmatch(before):
            return _clean_name(before)
        return None
    return None


def year_from_prose(body: str) -> int | None:
    m = re.search(_YEAR + r"年", squeeze(body)[:400])
    return _year(m.group(1)) if m else None


def _date(m: re.Match[str]) -> str:
    y = _year(m.group(1))
    month, day = (m.group(2), m.group(3)) if m.group(2) else (m.group(4), m.group(5))
    if day:
        return f"{y:04d}-{_cn_number(month):02d}-{_cn_number(day):02d}"
    return f"{y:04d}-{_cn_number(month):02d}"


def find_published(head: str, tail: str) -> str | None:
    """The date the report is signed with: at its end (not inside a sentence), else under its title
    or in the web page's 发布日期 field above it."""
    squeezed_tail = squeeze(tail)
    for m in reversed(list(_DATE.finditer(squeezed_tail))):
        after = squeezed_tail[m.end():]
        before = squeezed_tail[max(0, m.start() - 2):m.start()]
        if "。" not in after and "至" not in before and not re.match(r"[至到起前]", after):
            return _date(m)
    for line in _lines(head)[:20]:
        if re.fullmatch(r"\(?(?:" + _DATE.pattern + r")\)?", line):
            return _date(_DATE.search(line))  # type: ignore[arg-type]
        posted = _POSTED.search(line)
        date = _DATE.match(line, posted.start(1)) if posted else None
        if date:
            return _date(date)
    return None


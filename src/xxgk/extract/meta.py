"""Who wrote the report, for which year, on what date: as the report prints it, or nothing.

The agency is taken from every place a report names itself — its title (in the text, a web page's
<title> or headline, a PDF's or Word file's title property), the opening 「本报告由XX根据…编制」,
the subject of the first sentence of 总体情况, the signature above the closing date, a web page's
breadcrumb or 发布机构 field — each checked against the shape of an organization's name. The
candidates that agree (one name ends the other) add up; the longest of the strongest group wins.
A name cut short (「县发展和改革局」) is completed by its region where the report prints it. What
is not an organization's name is never returned: nothing is, with a doubt.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..textnorm import normalize, squeeze
from . import regions

_YEAR = r"(20\d\d|二[〇零○O][一二三四五六七八九〇零○O]{2})"
_NAME = r"(?:政府信息公开|政务公开|信息公开)\S{0,12}?(?:年度)?(?:工作)?(?:年度)?(?:报告|年报)"
_TITLE = re.compile(_YEAR + r"年度?(?:的)?" + _NAME)  # XX局2020年政府信息公开工作年度报告
_YEAR_FIRST = re.compile(_YEAR + r"年度?(?P<agency>[\u4e00-\u9fff（）()]{2,40}?)" + _NAME)  # 2020年XX局政府信息…
_YEAR_AFTER = re.compile(_NAME + r"[(（]" + _YEAR + r"年度?[)）]")  # XX局政府信息公开工作年度报告（2020年度）
# XX局政府信息公开工作2020年度报告
_YEAR_INSIDE = re.compile(r"(?:政府信息公开|政务公开)(?:工作)?" + _YEAR + r"年度?(?:工作)?(?:报告|年报)")

# How an organization's name ends (longest first where one ends another).
_ORG_END = re.compile(r"(?:人民政府|政府|街道办事处|办事处|街道|管理委员会|委员会|管委会|工委|局|"
                      r"办公室|办公厅|办|中心|片区|厅|委|署|院|镇|乡|苏木|部|所|队|馆|站|会|社|公司|集团|处|室|园|场)$")
# What never stands inside a name: verbs and adverbs of the first sentence, pronouns, dates, punctuation.
_NOT_IN_NAME = re.compile(r"坚持|习近平|贯彻|落实|认真|严格|全面|深入|推进|围绕|紧扣|持续|进一步|"
                          r"根据|按照|依据|依照|结合|"
                          r"编制|报告|关于|印发|通知|公开(?!办)|年度|高度|重视|始终|切实|不断|积极|紧紧|领导|指导|统一|部署|要求|工作(?!委)|"
                          r"[我本该此其这在对以将把各的了是为]|\d|[一二三四五六七八九〇零○]{2,}年|"
                          r"[，。、；：:;,.!！?？\"'“”‘’《》<>〈〉\s/|_\-—…·]")
_BAD_START = re.compile(r"^(?:[和与及之由经从于据向至并或而]|关于)")
_LEVEL_START = re.compile(r"^[省市县区州旗盟镇乡]")  # a name whose region was cut off: 「县发展和改革局」
_HAS_PLACE = re.compile(r"^[\u4e00-\u9fff]{2,}?(?:省|市|县|区|旗|州|盟|镇|乡|街道|苏木)")
_NATIONAL = re.compile(r"^(?:国家|国务院|中华人民共和国|中国|中共中央|全国|中央)")
_ZONE = re.compile(r"[\u4e00-\u9fff]{2,8}?"
                   r"(?:综合实验区|经济技术开发区|高新技术产业开发区|经济开发区|开发区|高新区|新区)")
_REGION_ONLY = re.compile(r"^[\u4e00-\u9fff]{1,12}(?:省|市|县|区|旗|自治州|盟)$")
_PARTY = re.compile(r"(?:区委|县委|市委|省委|州委|党委|党组|党工委)$")
_STAMP = re.compile(r"^(?:\d{4}[/.-]\d{1,2}[/.-]\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}),?(?:上午|下午)?"
                    r"(?:\d{1,2}:\d\d(?::\d\d)?)?(?:[AP]M)?")

# The places a report names itself, and how much each is worth.
WEIGHTS = {"title": 4, "page_title": 4, "headline": 4, "file_title": 3, "opening": 4, "signature": 3,
           "subject": 2, "breadcrumb": 1, "publisher": 1}
PLACES = {"title": "标题", "page_title": "网页标题", "headline": "网页大标题", "file_title": "文件属性中的标题",
          "opening": "开头「本报告由…编制」", "signature": "落款", "subject": "总体情况首句", "breadcrumb": "网页导航",
          "publisher": "网页「发布机构」"}


def org_name(text: str) -> str | None:
    """`text` if it has the shape of an organization's name (「沭阳县发展和改革局」), else None."""
    name = _clean(text)
    if not (3 <= len(name) <= 40) or not _ORG_END.search(name) or _NOT_IN_NAME.search(name):
        return None
    if _BAD_START.match(name) or not all("\u4e00" <= c <= "\u9fff" or c in "（）()" for c in name):
        return None
    return name


def government_of(text: str) -> str | None:
    """「测试市」 alone, as a title prints a government's report: 测试市人民政府."""
    name = _clean(text)
    if _REGION_ONLY.match(name) and not _NOT_IN_NAME.search(name) and not _ZONE.fullmatch(name) \
            and not _BAD_START.match(name) and not _LEVEL_START.match(name):
        return name + "人民政府"
    return None


_MARKS = re.compile(r"^[#*>\-\s《「“【]+|[#*\s》」”】]+$")
_FIELD_LABEL = re.compile(r"^(?:标题|名称|文件名称|信息名称|主题)[:：]")  # a web page's field label
_SEAL = re.compile(r"[（(](?:盖章|印章|公章|签章|章)[)）]$")  # 「XX局（盖章）」 above the date
_ISSUING = re.compile(r"(?:关于印发|关于|印发|的)$")


def _clean(text: str) -> str:
    name = _STAMP.sub("", squeeze(text))  # a browser's running header: "2024/5/6 下午3:21" before the title
    return _ISSUING.sub("", _SEAL.sub("", _FIELD_LABEL.sub("", _MARKS.sub("", name))))


def is_fragment(name: str) -> bool:
    return bool(_LEVEL_START.match(name))


def longest_name_prefix(text: str) -> str | None:
    """The longest start of `text` that is an organization's name (the subject of a sentence)."""
    text = squeeze(text)[:40]
    for end in range(len(text), 2, -1):
        name = org_name(text[:end])
        if name:
            return name
    return None


# ------------------------------------------------------------------ the title
def _lines(text: str) -> list[str]:
    return [squeeze(x) for x in text.split("\n") if x.strip()]


_LINK = re.compile(r"(?:上一篇|下一篇|相关|推荐|热点|往期)")


def find_title(head: str) -> tuple[str | None, int | None]:
    """(what the title prints before its words, year) from the title: "XX街道办事处2020年政府信息公开
    工作年度报告", maybe on two lines, the year first ("2020年XX局政府信息公开…") or after
    ("…年度报告（2020年度）"). The words before are the agency's name when `org_name` says so."""
    lines = _lines(head)[:20]
    for i, line in enumerate(lines):
        if len(line) > 80 or _LINK.match(line):
            continue  # a sentence that mentions the report, or a link to another one: not its title
        found = _title_in(line, lines[i + 1] if i + 1 < len(lines) else "")
        if found is None:
            continue
        before, year = found
        name = _title_name(before)
        if name is None and i > 0 and org_name(lines[i - 1]):
            name = org_name(lines[i - 1])
        elif name and i > 0 and (above := org_name(lines[i - 1])) and above.endswith(name):
            name = above  # "广州市番禺区人民政府石壁街道办事处" / "石壁街道办事处关于…"
        return name, year
    return None, None


_ISSUED = re.compile(r"关于(?:印发|公布|发布)(.+)$")


def _title_name(before: str) -> str | None:
    issued = _ISSUED.search(squeeze(before))
    if issued:  # 「XX人民政府办公室关于印发XX县2023年…报告的通知」: the report is the one issued
        return _title_name(issued.group(1))
    cleaned = _clean(before)
    return org_name(cleaned) or government_of(cleaned) or (cleaned if is_fragment(cleaned) and org_name(
        cleaned[1:]) else None)


def _title_in(line: str, following: str) -> tuple[str, int] | None:
    """(what the line prints before the title's words, the year) if it is the title."""
    joined = line + following  # a long title wrapped onto a second line
    for text in (line, joined) if len(line) > 8 or _YEAR_AFTER.search(joined) else (line,):
        m = _TITLE.search(text)
        if m and m.start() < len(line):
            return line[:m.start()], year_of(m.group(1))
        m = _YEAR_FIRST.match(text)
        if m:
            agency = m.group("agency")
            if agency.endswith("政府") and org_name(agency[:-2]) and not agency.endswith("人民政府"):
                agency = agency[:-2]  # "XX局政府信息公开": the 政府 is the report's name
            elif agency.endswith("人民"):
                agency += "政府"  # "XX县人民政府信息公开": one 政府 for both
            return agency, year_of(m.group(1))
        for pattern in (_YEAR_AFTER, _YEAR_INSIDE):
            m = pattern.search(text)
            if m and m.start() < len(line):
                return line[:m.start()], year_of(m.group(1))
    return None


# ------------------------------------------------------------------ the opening and the first sentence
_SENTENCE = re.compile(r"[^。；;\n]+")
_BY = re.compile(r"由(?P<a>[\u4e00-\u9fff（）()]{2,40}?)"
                 r"(?:根据|依据|按照|结合|参照|负责|牵头|汇总|编制|制作|编写|起草)")
_BOOK_TITLE = re.compile(r"《[^》]*》")
_BEFORE_MAKING = re.compile(r"(?:^|[，,])(?P<a>[\u4e00-\u9fff（）()]{3,40}?)(?:特|负责|组织)?(?:编制|编写|制作)")


def agency_from_opening(text: str) -> str | None:
    """The body the opening sentence says compiled the report: 「本报告由XX根据…编制」, 「…要求，唐村镇
    政府编制」, 「结合…杭州市滨江区长河街道各科室的…情况编制本报告」."""
    for m in _SENTENCE.finditer(normalize(text)[:1500]):
        sentence = squeeze(m.group())
        if "编制" not in sentence and "编写" not in sentence:
            continue
        sentence = _BOOK_TITLE.sub("", sentence)
        by = _BY.search(sentence) or _BEFORE_MAKING.search(sentence)
        name = org_name(by.group("a")) if by else None
        if name is None:
            named = [n for n in _region_names(sentence) if not _NATIONAL.match(n)]
            name = max(named, key=len, default=None)
        if name:
            return name
    return None


_GOVERNMENT_OFFICE = re.compile(r"(?<=政府)办公室$")


def compiler_to_agency(name: str | None, titles: list[str | None]) -> str | None:
    """「XX人民政府办公室」 compiling a report names its government's report, unless a title names the
    office itself (the office's own report as a department)."""
    if name and name not in titles:
        return _GOVERNMENT_OFFICE.sub("", name)
    return name


def _region_names(text: str) -> list[str]:
    """Names in a sentence that start with a region the dataset knows (or a zone such as 「平潭综合实验区」)."""
    starts = [at for at, _ in regions.mentions(text)] + [m.start() for m in _ZONE.finditer(text)]
    found = []
    for at in sorted(set(starts)):
        name = longest_name_prefix(text[at:])
        if name and not _PARTY.search(name):
            found.append(name)
    return found


_SECTION_HEADING = re.compile(r"^(?:一[、.]?)?总体情况")
_SUB_HEADING = re.compile(r"^[(（]一[)）][\u4e00-\u9fff]{0,20}?(?:情况|工作)")
_YEAR_START = re.compile(r"^" + _YEAR + r"年度?(?:以来)?[,，]?")
_CLAUSE_END = re.compile(r"[，,。；;]")


def agency_from_prose(body: str) -> str | None:
    """The subject of the first sentence of 总体情况, when it names a body: 「2021年，保山市卫生健康委员会
    以习近平…」, 「2020年佳木斯市…街道严格…」; not 「我区…」, 「在区委…」, 「沙依巴克区坚持以…」."""
    first = squeeze(body)[:200]
    first = _SECTION_HEADING.sub("", first)
    first = _SUB_HEADING.sub("", first)
    first = _YEAR_START.sub("", first)
    name = longest_name_prefix(_CLAUSE_END.split(first, maxsplit=1)[0])
    return None if name is None or _PARTY.search(name) else name


# ------------------------------------------------------------------ dates and the signature
_CN_DIGIT = "〇零○O一二三四五六七八九十"
# 2021年1月20日, 二〇二一年一月二十日, 2021-01-20, 2021.1.20
_DATE = re.compile(_YEAR + r"(?:年([0-9" + _CN_DIGIT + r"]{1,3})月(?:([0-9" + _CN_DIGIT + r"]{1,3})日)?"
                   r"|[-./](\d{1,2})[-./](\d{1,2})(?!\d))")
_POSTED = re.compile(r"(?:发布|成文|印发|更新|发表)?(?:日期|时间)[:：]?\s*(?=" + _YEAR + ")")  # 发布日期：2021-01-20


def number_of(s: str) -> int:
    """Digits or Chinese numerals (二〇二一, 十二, 二十一) as a number; ValueError if neither."""
    if s.isdigit():
        return int(s)
    import cn2an  # loads in half a second: only for a date printed in Chinese numerals

    s = re.sub("[○O〇]", "零", s)
    try:
        if "十" not in s and len(s) > 1:
            return int(cn2an.cn2an(s, "direct"))  # 二零二一: digit by digit
        return int(cn2an.cn2an(s, "smart"))
    except (KeyError, IndexError, TypeError) as e:  # what cn2an raises besides ValueError on a mixed string
        raise ValueError(s) from e


def year_of(s: str) -> int:
    return number_of(s)


_A_YEAR = re.compile(_YEAR + r"年")


def year_from_prose(body: str) -> int | None:
    m = _A_YEAR.search(squeeze(body)[:400])
    return year_of(m.group(1)) if m else None


def _date(m: re.Match[str]) -> str | None:
    y = year_of(m.group(1))
    month, day = (m.group(2), m.group(3)) if m.group(2) else (m.group(4), m.group(5))
    try:
        mm, dd = number_of(month), (number_of(day) if day else None)
    except ValueError:
        return None
    if not 1 <= mm <= 12 or (dd is not None and not 1 <= dd <= 31):
        return None
    return f"{y:04d}-{mm:02d}-{dd:02d}" if dd else f"{y:04d}-{mm:02d}"


_YEAR_END = re.compile(_YEAR + r"年$")
_MONTH_START = re.compile(r"[0-9" + _CN_DIGIT + r"]{1,2}月")


def _signed_lines(tail: str) -> list[str]:
    """The tail's lines, squeezed, with a date split over two lines ("2026年" / "1月14日") joined."""
    lines = _lines(tail)
    out: list[str] = []
    for line in lines:
        if out and _YEAR_END.search(out[-1]) and _MONTH_START.match(line):
            out[-1] += line
        else:
            out.append(line)
    return out


_PERIOD_AFTER = re.compile(r"[至到起前止以]")
_WORDS = re.compile(r"[\u4e00-\u9fff]{2,}")
_FIELD_NAME_END = re.compile(r"(?:日期|时间)[:：]?$")


def signature(tail: str) -> tuple[str | None, str | None]:
    """(the body that signs the report, the date it signs with): the last date at the report's end
    that stands alone (not inside a sentence, not a period 「…至2024年12月31日」), and the name
    before it on its line or on the line above."""
    lines = _signed_lines(tail)
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i]
        for m in reversed(list(_DATE.finditer(line))):
            after, before = line[m.end():], line[max(0, m.start() - 2):m.start()]
            if "。" in after or "至" in before or _PERIOD_AFTER.match(after) or _WORDS.search(after.strip("()（）")):
                continue
            date = _date(m)
            if date is None or _FIELD_NAME_END.search(line[:m.start()]):
                continue  # a page's 发布时间 field under the body: its posting time, not a signature
            name_text = line[:m.start()] or (lines[i - 1] if i > 0 else "")
            return org_name(name_text), date
    return None, None


def agency_from_signature(tail: str) -> str | None:
    """The body that signs the report: the line above its closing date, or before it on its line."""
    return signature(tail)[0]


_DATE_ALONE = re.compile(r"\(?(?:" + _DATE.pattern + r")\)?")


def find_published(head: str, tail: str) -> str | None:
    """The date the report is signed with: at its end, else printed alone under its title (a date
    above the title is the site's, not the report's)."""
    signed = signature(tail)[1]
    if signed:
        return signed
    lines = _lines(head)[:20]
    title = next((i for i, line in enumerate(lines) if _title_in(line, "")), None)
    for line in lines[title + 1:] if title is not None else lines:
        if _DATE_ALONE.fullmatch(line):
            return _date(_DATE.search(line))  # type: ignore[arg-type]
    return None


def find_posted(head: str, page_posted: str = "") -> str | None:
    """When a web page says it posted the report: its meta tags, or a 发布日期/时间 field above it."""
    m = _DATE.search(normalize(page_posted))
    if m and _date(m):
        return _date(m)
    for line in [normalize(x).strip() for x in head.split("\n") if x.strip()][:30]:  # spaces kept: "2024-03-02 10:11"
        for posted in _POSTED.finditer(line):
            m = _DATE.match(line, posted.end())
            if m and _date(m):
                return _date(m)
    return None


# ------------------------------------------------------------------ the breadcrumb and the page's fields
_FIELD = re.compile(r"(?:发布机构|信息来源|来源|发布单位|发文机关|发文单位)[:：]\s*(?P<a>[\u4e00-\u9fff（）()]{3,40})")


def agency_from_breadcrumb(trail: str) -> str | None:
    """The last organization in a 当前位置 trail (「首页 > 部门信息公开 > 沭阳县发展和改革局 > 年报」)."""
    items = [org_name(x) for x in re.split(r"[>»›→/＞]|\s{2,}", normalize(trail))]
    named = [x for x in items if x]
    return named[-1] if named else None


def agency_from_fields(head: str) -> str | None:
    """A web page's 发布机构/来源 field: chrome, which may name the site's owner, not the report's."""
    m = _FIELD.search(normalize(head))
    return org_name(m.group("a")) if m else None


# ------------------------------------------------------------------ putting it together
@dataclass
class Identity:
    agency: str | None = None
    year: int | None = None
    published: str | None = None  # the date the report is signed with
    posted: str | None = None  # when a web page says it posted it
    region: regions.Region | None = None
    named_in: list[str] = field(default_factory=list)  # the places that agree on the agency
    doubts: list[str] = field(default_factory=list)


_CJK_RUN_END = re.compile(r"[\u4e00-\u9fff]{0,20}$")


def complete(name: str, near: str) -> str:
    """A department's name without its region completed where the report speaks of itself (`near`:
    its head, first sentences and signature; not its prose, which names other bodies): by the region
    printed with the name there (「展和改革局」, 「县发展和改革局」 → 沭阳县发展和改革局), else by the
    one region named most there (「财政金融局」 → 平潭综合实验区财政金融局). Unchanged otherwise."""
    if regions.leading(name) or _NATIONAL.match(name) or _ZONE.match(name):
        return name
    longer: Counter[str] = Counter()
    for m in re.finditer(re.escape(name), near):
        run = _CJK_RUN_END.search(near[max(0, m.start() - 20):m.start()])
        before = run.group() if run else ""
        for k in range(len(before)):
            piece = before[k:]
            if regions.leading(piece) or _ZONE.match(piece):
                full = org_name(piece + name)
                if full:
                    longer[full] += 1
                break
    if longer:
        return max(longer, key=lambda n: (longer[n], len(n)))
    if is_fragment(name) or not _HAS_PLACE.match(name):
        places = Counter(n for _, n in regions.mentions(near)) + Counter(m.group() for m in _ZONE.finditer(near))
        if is_fragment(name):
            places = Counter({p: c for p, c in places.items() if p.endswith(name[0])})
        if places:
            top = places.most_common(2)
            if len(top) == 1 or top[0][1] > top[1][1]:
                place = top[0][0]
                full = org_name(place + (name[1:] if is_fragment(name) else name))
                if full:
                    return full
    return name


def _consistent(a: str, b: str) -> bool:
    fa, fb = _core(a), _core(b)
    return fa.endswith(fb) or fb.endswith(fa)


_GOVERNMENT_END = re.compile(r"(?:街道办事处|办事处|街道|人民政府|政府)$")


def _core(name: str) -> str:
    return _GOVERNMENT_END.sub("", name) or name


def choose_agency(candidates: Iterable[tuple[str, str]]) -> tuple[str | None, list[str], list[str]]:
    """(the agency, the places that name it, doubts) from (place, name) candidates: the group of
    names that agree (one ends the other) with the most weight; its longest name."""
    found = [(place, name) for place, name in candidates if name and not is_fragment(name)]
    if not found:
        return None, [], ["未能从标题、开头、落款等处识别出报告机关的名称"]

    def weight(name: str) -> int:
        return sum(WEIGHTS[p] for p, n in found if _consistent(n, name))

    best = max((n for _, n in found), key=lambda n: (weight(n), len(n)))
    group = [(p, n) for p, n in found if _consistent(n, best)]
    agency = max((n for _, n in group), key=len)
    places = list(dict.fromkeys(p for p, _ in group))
    doubts = []
    others = {n for p, n in found if not _consistent(n, best) and WEIGHTS[p] >= 3}
    if others:
        doubts.append(f"报告机关名称各处不一：取「{agency}」（见于{'、'.join(PLACES[p] for p in places)}），"
                      f"另见「{'」「'.join(sorted(others))}」")
    elif all(WEIGHTS[p] <= 2 for p in places):
        doubts.append(f"报告机关名称仅见于{'、'.join(PLACES[p] for p in places)}：「{agency}」")
    return agency, places, doubts


_FIRST_SENTENCE = re.compile(r"[^。]{0,200}")


def identify(head: str, body_one: str, tail: str, text: str, page: dict[str, str] | None = None,
             kind: str = "text") -> Identity:
    """The report's identity from its head (above 一), the prose of 一, its tail (六 on), its whole
    text (normalized) and what its file (of `kind`) says about itself (`Source.meta`)."""
    page = page or {}
    candidates: list[tuple[str, str | None]] = []
    agency, year = find_title(head)
    candidates.append(("title", agency))
    for key, place in (("title", "page_title"), ("headline", "headline")):
        if page.get(key):
            name, y = find_title(normalize(page[key]))
            candidates.append(("file_title" if key == "title" and kind != "html" else place, name))
            year = year or y
    titles = [n for p, n in candidates]
    candidates.append(("opening", compiler_to_agency(agency_from_opening(head + "\n" + body_one[:600]), titles)))
    candidates.append(("subject", agency_from_prose(body_one)))
    signer, signed = signature(tail)
    candidates.append(("signature", signer))
    if page.get("breadcrumb"):
        candidates.append(("breadcrumb", agency_from_breadcrumb(page["breadcrumb"])))
    candidates.append(("publisher", agency_from_fields(head)))
    first = _FIRST_SENTENCE.match(squeeze(body_one))
    near = squeeze(head) + (first.group() if first else "") + squeeze(tail[-300:])
    completed = [(p, complete(n, near)) for p, n in candidates if n]
    name, places, doubts = choose_agency(completed)
    if year is None:
        year = year_from_prose(body_one or text[:2000])
    published = signed or find_published(head, "")
    posted = find_posted(head, page.get("posted", "")) or find_posted("\n".join(tail.rstrip().split("\n")[-8:]))
    region = regions.region_of(name) if name else None
    return Identity(name, year, published, posted, region, places, doubts)

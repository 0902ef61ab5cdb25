"""Who wrote a report, for which year, on what date: the agency is a name or nothing.

Cases are shaped after real report pages (titles, site chrome, openings, signatures as crawled,
converted or saved); the end-to-end ones run a real seed report's body through the readers.
"""

from __future__ import annotations

import io
import re

import pytest

from xxgk.extract import meta
from xxgk.extract.regions import region_of
from xxgk.textnorm import normalize

from .conftest import SEEDS

SPIRIT = "以习近平新时代中国特色社会主义思想为指导，认真贯彻落实《中华人民共和国政府信息公开条例》。"


def who(head: str = "", body: str = "", tail: str = "", page: dict | None = None, kind: str = "text") -> meta.Identity:
    text = normalize(f"{head}\n一、总体情况\n{body}\n六、其他需要报告的事项\n{tail}")
    return meta.identify(normalize(head), normalize("一、总体情况\n" + body), normalize(tail), text, page, kind)


CHROME = "首页 > 政府信息公开 > 法定主动公开内容 > 政府信息公开年报\n索引号：11321322MB1234567X/2024-00001  " \
         "发布机构：沭阳县人民政府  发布日期：2024-01-25\n"

# (what, head, body, tail, page, kind, agency)
CASES = [
    # site pages, crawled with their chrome: the report's own words win over the site's 发布机构
    ("site page, parent government as publisher",
     CHROME + "沭阳县发展和改革局2023年政府信息公开工作年度报告\n",
     "2023年，我局坚持" + SPIRIT,
     "",
     None, "text", "沭阳县发展和改革局"),
    ("site page, only its 发布机构 names a body",
     CHROME + "打印本页 关闭窗口\n",
     "2023年，我县坚持" + SPIRIT,
     "",
     None, "text", "沭阳县人民政府"),
    ("site page, 来源 chrome and the title",
     "来源：淮安市人民政府  时间：2025-01-20\n淮安市洪泽区人民政府2024年政府信息公开工作年度报告\n",
     "2024年，洪泽区坚持" + SPIRIT,
     "",
     None, "text", "淮安市洪泽区人民政府"),
    ("a link to last year's report above the title",
     "上一篇：沭阳县财政局2022年政府信息公开工作年度报告\n沭阳县审计局2023年政府信息公开工作年度报告\n",
     "2023年，我局坚持" + SPIRIT,
     "",
     None, "text", "沭阳县审计局"),
    ("web page <title> with the site's name after it",
     "",
     "2023年，我局坚持" + SPIRIT,
     "",
     {"title": "沭阳县交通运输局2023年政府信息公开工作年度报告_沭阳县人民政府"}, "html", "沭阳县交通运输局"),
    ("web page headline when <title> is the site's",
     "",
     "2023年，我局坚持" + SPIRIT,
     "",
     {"title": "沭阳县人民政府", "headline": "沭阳县交通运输局2023年政府信息公开工作年度报告"}, "html",
     "沭阳县交通运输局"),
    ("body title cut, <title> whole",
     "县发展和改革局2023年政府信息公开工作年度报告\n",
     "2023年，我局坚持" + SPIRIT,
     "",
     {"title": "沭阳县发展和改革局2023年政府信息公开工作年度报告"}, "html", "沭阳县发展和改革局"),
    ("breadcrumb alone names it",
     "",
     "2023年，我局坚持" + SPIRIT,
     "",
     {"breadcrumb": "当前位置：首页 > 部门信息公开 > 沭阳县财政局 > 政府信息公开年报"}, "html", "沭阳县财政局"),
    ("breadcrumb of sections only",
     "",
     "2023年，我局坚持" + SPIRIT,
     "",
     {"breadcrumb": "当前位置：首页 > 政府信息公开 > 年度报告"}, "html", None),
    # department pages signed at the end of the body
    ("department signed at the end, right-aligned",
     "",
     "2025年，平潭综合实验区坚持" + SPIRIT,
     "无。\n                              平潭综合实验区财政金融局\n"
     "                              2026年1月14日\n",
     None, "text", "平潭综合实验区财政金融局"),
    ("signature on one line with the date",
     "",
     "2020年，我街道认真贯彻落实。",
     "无。\n石壁街道办事处 2020年1月20日\n",
     None, "text", "石壁街道办事处"),
    ("signature above a contact line",
     "",
     "2023年，我局坚持" + SPIRIT,
     "无。\n宿迁市自然资源和规划局\n2024年1月22日\n（联系人：王某，电话：0527-84368888）\n",
     None, "text", "宿迁市自然资源和规划局"),
    ("signature marked for the seal",
     "",
     "2023年，我局坚持" + SPIRIT,
     "无。\n沭阳县财政局（盖章）\n2024年1月18日\n",
     None, "text", "沭阳县财政局"),
    ("signature with the date in Chinese numerals",
     "",
     "2023年，我局坚持" + SPIRIT,
     "无。\n沭阳县审计局\n二〇二四年一月十八日\n",
     None, "text", "沭阳县审计局"),
    # converted Word files and PDFs
    ("Word file's title property, no title in the text",
     "",
     "2023年，我局坚持" + SPIRIT,
     "",
     {"title": "沭阳县财政局2023年政府信息公开工作年度报告"}, "docx", "沭阳县财政局"),
    ("Word file's title property is the template's",
     "沭阳县财政局2023年政府信息公开工作年度报告\n",
     "2023年，我局坚持" + SPIRIT,
     "",
     {"title": "Microsoft Word - 附件1"}, "docx", "沭阳县财政局"),
    ("PDF title property cut, text title whole",
     "沭阳县发展和改革局\n2023年政府信息公开工作年度报告\n",
     "2023年，我局坚持" + SPIRIT,
     "",
     {"title": "展和改革局2023年政府信息公开工作年度报告"}, "pdf", "沭阳县发展和改革局"),
    ("title cut in the text, named whole in the first sentence",
     "展和改革局2023年政府信息公开工作年度报告\n",
     "2023年，沭阳县发展和改革局坚持" + SPIRIT,
     "",
     None, "text", "沭阳县发展和改革局"),
    ("title cut to its level, the county named elsewhere",
     "县发展和改革局2023年政府信息公开工作年度报告\n",
     "2023年，沭阳县发展改革系统坚持以习近平新时代中国特色社会主义思想为指导，"
     "认真贯彻落实《中华人民共和国政府信息公开条例》。沭阳县各项工作稳步推进。",
     "",
     None, "text", "沭阳县发展和改革局"),
    ("title without region: the county that speaks, not the city named in the prose",
     "财政局2023年政府信息公开工作年度报告\n",
     "2023年，沭阳县坚持" + SPIRIT + "\n" + "二是落实宿迁市委、宿迁市政府和宿迁市财政局的部署。" * 3,
     "",
     None, "text", "沭阳县财政局"),
    ("department without region, the zone named elsewhere",
     "财政金融局2025年政府信息公开工作年度报告\n",
     "2025年，平潭综合实验区坚持" + SPIRIT,
     "",
     None, "text", "平潭综合实验区财政金融局"),
    # titles in their many shapes
    ("a government's title names only the region",
     "测试市2025年政府信息公开工作年度报告\n",
     "2025年，测试市坚持" + SPIRIT,
     "",
     None, "text", "测试市人民政府"),
    ("title over two lines",
     "            淮安市人民政府\n     2024 年政府信息公开工作年度报告\n",
     "2024年，淮安市坚持" + SPIRIT,
     "",
     None, "text", "淮安市人民政府"),
    ("year first",
     "2021年度宿迁市财政局政府信息公开工作年度报告\n",
     "2021年，我局坚持" + SPIRIT,
     "",
     None, "text", "宿迁市财政局"),
    ("year after in brackets",
     "宿迁市交通运输局政府信息公开工作年度报告（2022年）\n",
     "2022年，我局坚持" + SPIRIT,
     "",
     None, "text", "宿迁市交通运输局"),
    ("the office issues the government's report",
     "沭阳县人民政府办公室关于印发沭阳县2023年政府信息公开工作年度报告的通知\n",
     "2023年，沭阳县坚持" + SPIRIT,
     "",
     None, "text", "沭阳县人民政府"),
    ("traditional characters",
     "瀋陽市和平區人民政府2023年政府信息公開工作年度報告\n",
     "2023年，和平區堅持" + SPIRIT,
     "",
     None, "text", "沈阳市和平区人民政府"),
    ("full name above, short name in the title",
     "广州市番禺区人民政府石壁街道办事处\n\n石壁街道办事处关于 2020 年政府信息公开 工作年度报告\n",
     "2020年度，我街道认真贯彻落实。",
     "无。\n石壁街道办事处 2020年1月20日\n",
     None, "text", "广州市番禺区人民政府石壁街道办事处"),
    ("browser print header before the title",
     "2026/11/22 下午7:03    淮安市洪泽区人民政府2024年政府信息公开工作年度报告\n",
     "2024年，洪泽区坚持" + SPIRIT,
     "",
     None, "text", "淮安市洪泽区人民政府"),
    ("title names the street short, the first sentence in full",
     "港湾街道2020年政府信息公开工作年度报告\n",
     "2020年佳木斯市前进区港湾街道严格贯彻落实《条例》。",
     "",
     None, "text", "佳木斯市前进区港湾街道"),
    ("title and signature disagree: the title wins",
     "沭阳县财政局2023年政府信息公开工作年度报告\n",
     "2023年，我局坚持" + SPIRIT,
     "无。\n沭阳县审计局\n2024年1月18日\n",
     None, "text", "沭阳县财政局"),
    # openings: 本报告由…编制 and its relatives
    ("本报告由 the government's office 编制",
     "本报告由沭阳县人民政府办公室根据《中华人民共和国政府信息公开条例》编制。\n",
     "2023年，我县坚持" + SPIRIT,
     "",
     None, "text", "沭阳县人民政府"),
    ("the government's office's own report",
     "沭阳县人民政府办公室2023年政府信息公开工作年度报告\n本报告由沭阳县人民政府办公室编制。\n",
     "2023年，我办坚持" + SPIRIT,
     "",
     None, "text", "沭阳县人民政府办公室"),
    ("本报告由 a department 编制",
     "本报告由宿迁市生态环境局根据《条例》要求编制。\n",
     "2023年，我局坚持" + SPIRIT,
     "",
     None, "text", "宿迁市生态环境局"),
    ("…要求，唐村镇政府编制",
     "根据《中华人民共和国政府信息公开条例》（以下简称《条例》）规定和要求，"
     "唐村镇政府编制2023年度政府信息公开工作年度报告。\n",
     "2023年，在镇党委的领导下，我镇坚持" + SPIRIT,
     "",
     None, "text", "唐村镇政府"),
    ("结合…街道各科室…编制本报告",
     "本报告根据《条例》要求，"
     "结合2023年杭州市滨江区长河街道各科室的信息公开工作实际情况编制本报告。\n",
     "2023年，在区委、区政府的正确领导下，我街道坚持" + SPIRIT,
     "",
     None, "text", "杭州市滨江区长河街道"),
    ("opening cites the State Council's office only",
     "本报告根据《条例》和国务院办公厅政府信息与政务公开办公室有关要求编制。\n",
     "2023年，我局坚持" + SPIRIT,
     "",
     None, "text", None),
    # the subject of the first sentence
    ("subject of the first sentence",
     "",
     "2021年，保山市卫生健康委员会" + SPIRIT,
     "",
     None, "text", "保山市卫生健康委员会"),
    ("subject after 以来",
     "",
     "2023年以来，宿迁市自然资源和规划局认真贯彻落实《条例》。",
     "",
     None, "text", "宿迁市自然资源和规划局"),
    ("subject without a comma",
     "",
     "2020年佳木斯市前进区港湾街道严格贯彻落实《条例》。",
     "",
     None, "text", "佳木斯市前进区港湾街道"),
    # what is no name: nothing, never a fragment
    ("我区以…",
     "",
     "2021年，我区" + SPIRIT,
     "",
     None, "text", None),
    ("a zone alone, 坚持以…",
     "",
     "2021年，平潭综合实验区坚持" + SPIRIT,
     "",
     None, "text", None),
    ("我局坚持以…",
     "",
     "2021年，我局坚持" + SPIRIT,
     "",
     None, "text", None),
    ("在省政府…",
     "",
     "2021年，在省政府办公厅的指导下，我厅认真贯彻落实《条例》。",
     "",
     None, "text", None),
    ("在区委、区政府…",
     "",
     "2022年，在区委、区政府的坚强领导下，我办" + SPIRIT,
     "",
     None, "text", None),
    ("a district alone, 坚持以…",
     "",
     "2022年，沙依巴克区坚持" + SPIRIT,
     "",
     None, "text", None),
    ("the party committee leads",
     "",
     "2023年，在中共沭阳县委、县政府的领导下，全县" + SPIRIT,
     "",
     None, "text", None),
    ("a date inside a sentence is no signature",
     "",
     "2023年，我局坚持" + SPIRIT,
     "无。\n本局将于2024年3月1日前完成整改。\n",
     None, "text", None),
]


@pytest.mark.parametrize(("what", "head", "body", "tail", "page", "kind", "agency"), CASES, ids=[c[0] for c in CASES])
def test_the_agency_is_a_name_or_nothing(what: str, head: str, body: str, tail: str, page: dict | None, kind: str,
                                          agency: str | None) -> None:
    found = who(head, body, tail, page, kind)
    assert found.agency == agency
    if agency is None:
        assert any("机关" in d for d in found.doubts)
    else:
        assert found.named_in


def test_no_name_returned_is_ever_a_fragment_of_a_sentence() -> None:
    for *_, agency in CASES:
        assert agency is None or meta.org_name(agency) == agency
    fragments = ("我区以习近平新时代中国特色社", "平潭综合实验区坚持以习近平新时代中国特色社",
                 "我局坚持以习近平新时代中国特色社", "在省政府", "在区委", "沙依巴克区坚持以习近平",
                 "根据条例唐村镇政府编制")
    for text in fragments:
        assert meta.org_name(text) is None


def test_agreement_between_places_is_recorded_and_a_lone_weak_place_is_doubted() -> None:
    found = who("沭阳县财政局2023年政府信息公开工作年度报告\n", "2023年，沭阳县财政局坚持" + SPIRIT,
                "无。\n沭阳县财政局\n2024年1月18日\n")
    assert found.agency == "沭阳县财政局" and set(found.named_in) == {"title", "subject", "signature"}
    assert found.doubts == []
    weak = who("", "2023年，我局坚持" + SPIRIT, "", {"breadcrumb": "首页 > 沭阳县财政局 > 年报"}, "html")
    assert weak.agency == "沭阳县财政局" and any("仅见于" in d for d in weak.doubts)
    split = who("沭阳县财政局2023年政府信息公开工作年度报告\n", "2023年，我局坚持" + SPIRIT,
                "无。\n沭阳县审计局\n2024年1月18日\n")
    assert any("沭阳县审计局" in d for d in split.doubts)


# ------------------------------------------------------------------ regions
@pytest.mark.parametrize(("name", "region"), [
    ("沭阳县发展和改革局", ("江苏省", "宿迁市", "沭阳县")),
    ("淮安市洪泽区人民政府", ("江苏省", "淮安市", "洪泽区")),
    ("洪泽区人民政府", ("江苏省", "淮安市", "洪泽区")),
    ("北京市朝阳区人民政府", ("北京市", "北京市", "朝阳区")),
    ("朝阳区人民政府", (None, None, "朝阳区")),  # two 朝阳区: which one is not said
    ("保山市卫生健康委员会", ("云南省", "保山市", None)),
    ("江苏省交通运输厅", ("江苏省", None, None)),
])
def test_the_region_of_an_agency_from_the_division_dataset(name: str, region: tuple) -> None:
    r = region_of(name)
    assert r is not None and (r.province, r.city, r.county) == region


def test_no_region_for_a_name_without_a_known_place() -> None:
    assert region_of("测试市人民政府") is None and region_of("国家统计局") is None


# ------------------------------------------------------------------ dates
@pytest.mark.parametrize(("tail", "date"), [
    ("无。\n某某县财政局\n2024年1月18日\n", "2024-01-18"),
    ("无。\n　　　　某某县财政局\n　　　　２０２４年１月１８日\n", "2024-01-18"),  # full-width, right-aligned
    ("无。\n某某县财政局\n二〇二四年一月十八日\n", "2024-01-18"),
    ("无。\n某某县财政局\n二○二四年一月十八日\n", "2024-01-18"),
    ("无。\n某某县财政局\n二零二四年十二月三十一日\n", "2024-12-31"),
    ("无。\n某某县财政局\n2024 年\n1 月 18 日\n", "2024-01-18"),  # split over two lines
    ("无。\n某某县财政局\n2024-01-18\n", "2024-01-18"),
    ("无。\n某某县财政局 2024.1.8", "2024-01-08"),
    ("无。\n某某县财政局\n2024年1月\n", "2024-01"),
    ("无。\n统计期限自2024年1月1日至2024年12月31日止", None),
    ("无。\n本局将于2024年3月1日前完成。\n", None),
    ("无。\n联系电话：0517-87222589\n", None),
    ("无。\n某某县财政局\n2024年1月18日\n打印本页 关闭窗口\n发布时间：2024-03-02\n", "2024-01-18"),
    ("无。\n【打印本页】\n发布日期：2024-03-02 10:11\n", None),  # the page's footer: posted, not signed
])
def test_the_signed_date_in_all_its_forms(tail: str, date: str | None) -> None:
    assert who(tail=normalize(tail)).published == date


def test_a_posting_time_printed_under_the_body_is_posted_not_signed() -> None:
    found = who(body="2023年，我局坚持" + SPIRIT, tail="无。\n【打印本页】\n发布日期：2024-03-02 10:11\n")
    assert (found.published, found.posted) == (None, "2024-03-02")


def test_a_stale_site_date_above_the_title_is_not_the_reports_date() -> None:
    found = who("2019-03-05\n淮安市洪泽区人民政府2024年政府信息公开工作年度报告\n", "2024年，洪泽区坚持" + SPIRIT)
    assert found.published is None
    assert who("淮安市洪泽区人民政府2024年政府信息公开工作年度报告\n2025年1月\n", "2024年").published == "2025-01"


def _seed_body() -> str:
    """A real report's sections 一 to 六 (seed 001 has no title and no signature)."""
    return next(SEEDS.glob("001_*.txt")).read_text(encoding="utf-8")


def _html(head: str, body: str, tail: str, title: str = "") -> bytes:
    paragraphs = "".join(f"<p>{line}</p>" for line in body.split("\n"))
    return (f"<html><head><meta charset='utf-8'><title>{title}</title>"
            f"<meta name='PubDate' content='2021-03-09 10:20'></head><body>"
            f"<div class='crumb'>当前位置：首页 &gt; 政府信息公开 &gt; 年报</div>{head}"
            f"<div class='content'>{paragraphs}{tail}</div></body></html>").encode()


def test_a_site_page_end_to_end_title_signature_split_over_spans_and_posting_time() -> None:
    from xxgk.parse import parse_bytes

    tail = ("<p style='text-align:right'>&nbsp;&nbsp;广州市海珠区南华西街道办事处</p>"
            "<p style='text-align:right'><span>2021</span><span>年</span><span>1</span>月"
            "<span>2</span><span>0</span>日</p>")
    page = _html("<div class='info'>发布机构：广州市海珠区人民政府</div>", _seed_body(), tail,
                 "广州市海珠区南华西街道办事处2020年政府信息公开工作年度报告_海珠区人民政府")
    result = parse_bytes(page, "page.html")
    assert (result.agency, result.year, result.published, result.posted) == (
        "广州市海珠区南华西街道办事处", 2020, "2021-01-20", "2021-03-09")
    assert result.region is not None and result.region.county == "海珠区"
    assert {"page_title", "signature"} <= set(result.agency_named_in)


def test_a_pages_headline_is_the_element_naming_the_report_not_the_sites_banner() -> None:
    from xxgk.ingest.html import read_html

    page = ("<html><head><title>沭阳县人民政府</title></head><body><h1>沭阳县人民政府门户网站</h1>"
            "<div class='article-title'>沭阳县交通运输局2023年政府信息公开工作年度报告</div><p>正文</p></body></html>")
    assert read_html(page.encode()).meta == {"title": "沭阳县人民政府",
                                              "headline": "沭阳县交通运输局2023年政府信息公开工作年度报告"}


def test_an_unsigned_page_is_late_by_its_posting_time_and_the_finding_says_so() -> None:
    from xxgk.parse import parse_bytes

    page = _html("", _seed_body(), "", "广州市海珠区南华西街道办事处2020年政府信息公开工作年度报告")
    result = parse_bytes(page.replace(b"2021-03-09", b"2021-01-09"), "page.html")
    assert result.published is None and result.posted == "2021-01-09"
    # a street office has no statutory date; a department page posted late is reported with its posting time
    dept = parse_bytes(page.replace("南华西街道办事处".encode(), "政务服务数据管理局".encode()), "dept.html")
    assert dept.agency == "广州市海珠区政务服务数据管理局" and dept.posted == "2021-03-09"
    (late,) = [f for f in dept.findings if f.rule == "legal.deadline"]
    assert "未署日期" in late.message and "2021-03-09" in late.message
    assert not [f for f in dept.findings if f.rule == "legal.published_after_year"]  # posted is no signed date


def test_a_report_signed_before_its_year_ended_is_reported() -> None:
    from xxgk.parse import parse_bytes

    text = "沭阳县财政局2021年政府信息公开工作年度报告\n" + _seed_body().replace("2020年", "2021年")
    result = parse_bytes((text + "\n沭阳县财政局\n2021年1月25日\n").encode(), "copied.txt")
    assert result.published == "2021-01-25"
    assert [f for f in result.findings if f.rule == "legal.published_after_year"]


def test_a_word_files_title_property_names_the_agency() -> None:
    import docx

    from xxgk.parse import parse_bytes

    document = docx.Document()
    document.core_properties.title = "广州市海珠区南华西街道办事处2020年政府信息公开工作年度报告"
    for line in _seed_body().split("\n"):
        document.add_paragraph(line)
    data = io.BytesIO()
    document.save(data)
    result = parse_bytes(data.getvalue(), "converted.docx")
    assert result.agency == "广州市海珠区南华西街道办事处" and "file_title" in result.agency_named_in


def test_a_pdfs_title_property_is_handed_over() -> None:
    import pikepdf

    from xxgk.ingest.pdf import read_pdf

    from .conftest import REAL

    pdf = pikepdf.open(REAL / "huaian-2024.pdf")
    with pdf.open_metadata(set_pikepdf_as_editor=False) as xmp:
        xmp["dc:title"] = "淮安市人民政府2024年政府信息公开工作年度报告"
    pdf.docinfo["/Title"] = "淮安市人民政府2024年政府信息公开工作年度报告"
    out = io.BytesIO()
    pdf.save(out)
    assert read_pdf(out.getvalue()).meta["title"] == "淮安市人民政府2024年政府信息公开工作年度报告"


def test_the_seed_without_a_title_stays_unnamed_with_a_doubt() -> None:
    from xxgk.extract.report import parse_text

    result = parse_text(_seed_body(), "001.txt")
    assert result.agency is None and any("机关" in d for d in result.doubts)
    assert not re.search(r"我街道", str(result.agency))

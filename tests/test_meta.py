"""Agency, year and publication date as reports print them."""

from __future__ import annotations

from xxgk.extract import meta


def test_title_on_one_line_and_on_two() -> None:
    assert meta.find_title("广州市海珠区新港街道办事处 2020 年政府信息公开工作年度报告\n") == (
        "广州市海珠区新港街道办事处", 2020)
    two_lines = "            淮安市人民政府\n     2024 年政府信息公开工作年度报告\n"
    assert meta.find_title(two_lines) == ("淮安市人民政府", 2024)
    assert meta.find_title("XX县人民政府办公室关于印发\n二〇二一年度政府信息公开工作年度报告\n")[1] == 2021


def test_title_with_the_year_first_or_after_and_a_short_name() -> None:
    assert meta.find_title("2020年某某县人民政府政府信息公开工作年度报告") == ("某某县人民政府", 2020)
    assert meta.find_title("2020年某某县人民政府信息公开工作年度报告") == ("某某县人民政府", 2020)
    assert meta.find_title("2021年度某某县财政局政府信息公开工作年度报告") == ("某某县财政局", 2021)
    assert meta.find_title("某某县交通运输局政府信息公开工作年度报告（2022年）") == ("某某县交通运输局", 2022)
    assert meta.find_title("某某县人民政府\n政府信息公开工作年度报告\n（2020年度）") == ("某某县人民政府", 2020)
    assert meta.find_title("某某县财政局2020年度政府信息公开年报") == ("某某县财政局", 2020)


def test_title_under_a_browsers_date_and_time() -> None:
    title = "淮安市洪泽区人民政府2024年政府信息公开工作年度报告"
    for stamp in ("11/22/26, 7:02 PM", "2026/11/22 19:03", "2026/11/22 下午7:03", "2026-11-22"):
        assert meta.find_title(f"{stamp}    {title}\n{title}\n") == ("淮安市洪泽区人民政府", 2024)


def test_title_with_a_short_name_under_the_full_one() -> None:
    head = "广州市番禺区人民政府石壁街道办事处\n\n石壁街道办事处关于 2020 年政府信息公开 工作年度报告\n"
    assert meta.find_title(head) == ("广州市番禺区人民政府石壁街道办事处", 2020)


def test_agency_from_the_first_sentence_only_when_it_is_named() -> None:
    assert meta.agency_from_prose("2020年佳木斯市前进区港湾街道严格贯彻落实《条例》") == "佳木斯市前进区港湾街道"
    assert meta.agency_from_prose("2020年，我街道认真贯彻落实《条例》") is None


def test_published_date_signed_at_the_end_not_one_inside_a_sentence() -> None:
    tail = "六、其他需要报告的事项\n无。\n石壁街道办事处 2020年1月20日\n(联系人: 何翠婷)\n"
    assert meta.find_published("", tail) == "2020-01-20"
    tail = "六、其他需要报告的事项\n2024年3月1日起施行的办法要求……。\n"
    assert meta.find_published("", tail) is None
    assert meta.find_published("", "统计期限自2024年1月1日至2024年12月31日止") is None
    assert meta.find_published("", "XX局\n二〇二一年一月十五日") == "2021-01-15"


def test_published_month_under_the_title() -> None:
    assert meta.find_published("海珠区政务服务数据管理局\n\n2020年1月\n", "") == "2020-01"
    assert meta.find_published("(2020 年 1 月)\n", "") == "2020-01"


def test_published_in_numeric_forms() -> None:
    assert meta.find_published("", "XX局\n2021-01-20\n") == "2021-01-20"
    assert meta.find_published("", "XX局 2021.1.8") == "2021-01-08"
    assert meta.find_published("", "联系电话：0517-87222589") is None


def test_title_with_the_year_inside_its_name_in_book_marks_or_after_a_field_label() -> None:
    assert meta.find_title("某某县交通运输局政府信息公开工作2022年度报告") == ("某某县交通运输局", 2022)
    assert meta.find_title("《某某县交通运输局2022年政府信息公开工作年度报告》") == ("某某县交通运输局", 2022)
    assert meta.find_title("标题：某某县交通运输局2022年政府信息公开工作年度报告") == ("某某县交通运输局", 2022)


def test_a_web_pages_date_field_is_the_posting_time_not_the_signed_date() -> None:
    head = "索引号：014123456/2024-00012  发布机构：某某县交通运输局  发布日期：2024-01-20\n标题\n"
    assert meta.find_published(head, "无。\n某某县交通运输局\n") is None
    assert meta.find_posted(head) == "2024-01-20"
    assert meta.find_posted("发布时间：2024年01月20日 10:12\n") == "2024-01-20"
    assert meta.find_posted("来源：某某县交通运输局    时间：2024-01-22\n") == "2024-01-22"
    assert meta.find_posted("", "2024-01-23 09:00:00") == "2024-01-23"  # a <meta name="PubDate">
    assert meta.find_published(head, "无。\n某某县交通运输局\n2024年1月18日\n") == "2024-01-18"  # signed: that date
    assert meta.find_posted("发布日期：2024年\n") is None


def test_agency_from_the_signature_when_no_title_or_first_sentence_names_it() -> None:
    from xxgk.extract.report import parse_text

    from .conftest import SEEDS

    text = next(SEEDS.glob("001_*.txt")).read_text(encoding="utf-8")  # no title; "我街道…"
    assert parse_text(text, "001.txt").agency is None
    signed = parse_text(text + "\n广州市海珠区南华西街道办事处\n2021年1月20日\n", "001.txt")
    assert (signed.agency, signed.published) == ("广州市海珠区南华西街道办事处", "2021-01-20")
    assert meta.agency_from_signature("无。\n本局将于2024年1月20日前完成。") is None
    assert meta.agency_from_signature("无。\n石壁街道办事处 2020年1月20日\n打印本页\n") == "石壁街道办事处"

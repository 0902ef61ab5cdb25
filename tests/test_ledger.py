"""From an agency's request ledger, as staff keep it, to a report an office can publish."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from pathlib import Path

import docx
import openpyxl
import pytest
from docx.enum.text import WD_COLOR_INDEX
from docx.oxml.ns import qn
from typer.testing import CliRunner

from xxgk.audit import audit
from xxgk.cli import app
from xxgk.compose.inputs import compose_files, figure_keys, figures_template, read_figures
from xxgk.compose.layout import OFFICIAL
from xxgk.compose.ledger import RESULT_ROWS, compose, read_ledger, section_three
from xxgk.compose.render import to_docx, to_html, to_pdf
from xxgk.compose.synth import from_gold
from xxgk.errors import ReportError
from xxgk.formats.model import cell_specs
from xxgk.parse import parse_bytes

from .conftest import REAL

YEAR = 2025
AGENCY = "某市某区市场监督管理局"
HEADER = ["序号", "申请编号", "申请人姓名/名称", "申请人类型", "收到申请日期", "申请内容", "办理结果", "答复日期"]
# What staff write, and what it means: declared here, apart from the package's vocabulary, so the
# test checks the package's reading against an independent statement of the statutory rows.
RESULTS = (
    ("同意公开", "granted"), ("予以公开", "granted"), ("部分公开", "partial"), ("本机关不掌握", "unavailable.not_held"),
    ("信息不存在", "unavailable.not_held"), ("信访举报投诉类", "not_processed.complaint"),
    ("补正后仍不明确", "unavailable.unclear"), ("不予公开（国家秘密）", "denied.state_secret"),
    ("不予公开-过程性信息", "denied.process_info"), ("需另行制作", "unavailable.needs_creation"),
    ("申请人逾期未补正", "other.no_correction"), ("逾期未缴纳信息处理费", "other.unpaid_fee"),
    ("重复申请", "not_processed.repeated"), ("属于行政查询事项", "denied.query_matter"),
    ("保护第三方合法权益", "denied.third_party"), ("申请人撤回申请", "other.other"),
)
PENDING = ("办理中", "未办结", "")
APPLICANTS = (
    ("自然人", "natural"), ("个人", "natural"), ("某某贸易有限公司", "commercial"), ("个人独资企业", "commercial"),
    ("某某合伙企业", "commercial"), ("民办非企业单位", "social"), ("某某慈善基金会", "social"),
    ("某某法学研究会", "social"), ("某某公益律师事务所", "legal"), ("律师事务所", "legal"),
    ("某某研究院", "research"), ("高校", "research"), ("其他组织", "other_org"),
)
Truth = tuple[str, dt.date, "dt.date | None", "str | None"]


def _ledger(n: int, seed: int, xlsx: bool = False) -> tuple[list[list[object]], list[Truth]]:
    """A district bureau's ledger: a title row, then rows as staff fill them (mixed words, forms
    of dates, carried-over and pending rows), and what each row is."""
    rng = random.Random(seed)
    rows: list[list[object]] = [[f"{AGENCY}{YEAR}年政府信息公开申请登记台账"], HEADER]
    truth: list[Truth] = []
    for i in range(n):
        word, applicant = rng.choice(APPLICANTS)
        received = dt.date(YEAR - 1, 9, 1) + dt.timedelta(days=rng.randint(0, 500))
        pending = rng.random() < 0.12
        answered = None if pending else received + dt.timedelta(days=rng.randint(0, 40))
        said, row = (rng.choice(PENDING), None) if pending else rng.choice(RESULTS)
        rows.append([i + 1, f"YSQ{YEAR}-{i:04d}", f"申请人{i}", word, _printed(received, rng, xlsx), "……", said,
                     _printed(answered, rng, xlsx) if answered else ""])
        truth.append((applicant, received, answered, f"requests.{row}" if row else None))
    return rows, truth


def _printed(day: dt.date, rng: random.Random, xlsx: bool) -> object:
    forms: list[object] = [day.isoformat(), f"{day.year}年{day.month}月{day.day}日", day.strftime("%Y.%m.%d"),
                           day.strftime("%Y/%m/%d")]
    if xlsx:  # a date cell, and a serial day number left unformatted
        forms += [dt.datetime(day.year, day.month, day.day), (day - dt.date(1899, 12, 30)).days]
    return rng.choice(forms)


def _expected(truth: list[Truth], year: int) -> dict[str, int]:
    """Section 三 by the plain rule: received by the year's end and not answered before it; new if
    received in it; its result row if answered in it, else carried forward."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    out: dict[str, int] = {}

    def add(row: str, applicant: str) -> None:
        for col in (applicant, "total"):
            out[f"{row}.{col}"] = out.get(f"{row}.{col}", 0) + 1

    for applicant, received, answered, result in truth:
        if received > end or (answered and answered < start):
            continue
        add("requests.new" if received >= start else "requests.carried_over", applicant)
        if answered and answered <= end:
            add(result, applicant)
            add("requests.total", applicant)
            if result.startswith("requests.other."):
                add("requests.other", applicant)
        else:
            add("requests.carried_forward", applicant)
    return out


def _csv(rows: list[list[object]], encoding: str = "utf-8-sig") -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode(encoding)


def _xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


runner = CliRunner()
INSTRUCTIONS = [["填表说明"], ["1. 每件申请填一行；申请人类型填自然人、企业名称等"], ["2. 日期填 年-月-日"]]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_realistic_ledger_counts_exactly(kind: str) -> None:
    rows, truth = _ledger(120, seed=11, xlsx=kind == "xlsx")
    data = _xlsx({"填表说明": INSTRUCTIONS, "2025年台账": rows}) if kind == "xlsx" else _csv(rows, "gb18030")
    ledger = read_ledger(data, f"台账.{kind}")
    cells = section_three(ledger.applications, YEAR)
    assert {k: v for k, v in cells.items() if v} == _expected(truth, YEAR)
    assert any("第1行（标题）" in n for n in ledger.notes)
    if kind == "xlsx":
        assert ledger.sheet == "2025年台账" and any("跳过工作表「填表说明」" in n for n in ledger.notes)
    # the mix is what the test means it to be: carried over, pending at the year's end, words of every kind
    assert cells["requests.carried_over.total"] and cells["requests.carried_forward.total"]
    assert {r for *_, r in truth if r} >= {f"requests.{k}" for _, k in RESULTS}
    result = compose(ledger.applications, YEAR, AGENCY)
    assert not [f for f in audit(result) if f.rule.startswith("requests.")], "section 三 adds up by construction"


def _error(data: bytes, **kw: object) -> str:
    with pytest.raises(ReportError) as e:
        read_ledger(data, "台账.csv", **kw)  # type: ignore[arg-type]
    return str(e.value)


def test_every_row_that_cannot_be_counted_is_listed_by_word_with_a_suggestion() -> None:
    rows, _ = _ledger(40, seed=2)
    for i in range(2, 42, 3):  # 14 rows of one unknown word: all named, not the first ten
        rows[i][6] = "已处理完毕"
    rows[4][3], rows[10][3] = "外星访客", "外星访客"
    rows[7][6] = "不予公开"  # a group, not a row: which reason?
    rows[6][4] = "去年"
    message = _error(_csv(rows))
    lines = {line.strip().split("（")[0]: line for line in message.splitlines()[1:]}
    assert f"（第{'、'.join(str(i + 1) for i in range(2, 42, 3))}行，共 14 行）" in lines["办理结果「已处理完毕」"]
    assert "最接近的是" in lines["办理结果「已处理完毕」"]
    assert "第5、11行" in lines["申请人类型「外星访客」"]
    group = lines["办理结果「不予公开」"]
    assert "（三）不予公开下的某一项" in group and "属于国家秘密" in group
    assert "第7行：日期「去年」无法识别" in message


@pytest.mark.parametrize(("change", "says"), [
    ("duplicate", "申请编号「YSQ2025-0002」重复：第5、8行"),
    ("header_only", "只有列名（第2行），没有一件申请"),
    ("no_column", "缺少列：办理结果"),
    ("answered_pending", "第4行：有答复日期但办理结果为「办理中」"),
])
def test_a_bad_ledger_says_precisely_what_is_wrong(change: str, says: str, tmp_path: Path) -> None:
    rows, _ = _ledger(10, seed=4)
    if change == "duplicate":
        rows[7][1] = rows[4][1]
    elif change == "header_only":
        rows = rows[:2]
    elif change == "no_column":
        rows = [[c for j, c in enumerate(r) if j != 6] for r in rows]
    else:
        rows[3][6], rows[3][7] = "办理中", "2025-03-01"
    (tmp_path / "台账.csv").write_bytes(_csv(rows))
    code, out = _cli("compose", tmp_path / "台账.csv", "--year", YEAR, "--agency", AGENCY, "--out", tmp_path / "r")
    assert code == 1 and says in out and not (tmp_path / "r").exists()


def test_identical_rows_are_noted_and_several_ledger_sheets_need_sheet() -> None:
    rows, _ = _ledger(10, seed=5)
    rows.append(["11", *rows[5][1:]])  # line 13: line 6 again, under a new serial number
    assert f"申请编号「{rows[5][1]}」重复：第6、13行" in _error(_csv(rows))
    rows[5][1] = rows[12][1] = ""
    assert "第6、13行除序号外完全相同：各计为一件申请，若是重复录入请删去" in read_ledger(_csv(rows)).notes
    twice = dict.fromkeys(("一月", "二月"), rows)
    assert "几个工作表都像台账：「一月」、「二月」；请用 --sheet 指定一个" in _error(_xlsx(twice))
    assert read_ledger(_xlsx(twice), sheet="二月").sheet == "二月"
    assert "没有名为「三月」的工作表（有：一月、二月）" in _error(_xlsx(twice), sheet="三月")


def _cli(*args: object) -> tuple[int, str]:
    done = runner.invoke(app, [str(a) for a in args])
    return done.exit_code, done.output


def _filled_figures(tmp: Path, seed: int) -> tuple[Path, dict[str, int | float]]:
    """The figures sheet the office fills, written by --template and filled like a person would."""
    code, _ = _cli("compose", "--template", tmp / "figures.csv")
    assert code == 0
    rng = random.Random(seed)
    rows = list(csv.reader(io.StringIO((tmp / "figures.csv").read_text(encoding="utf-8-sig"))))
    values: dict[str, int | float] = {}
    for row in rows[1:]:
        values[row[0]] = round(rng.uniform(0, 500), 2) if row[0] == "active.fees.amount" else rng.randint(0, 30)
    for k in ("issued", "repealed", "in_force"):
        values[f"active.regulations.{k}"] = 0  # a bureau makes no 规章 (the audit says so otherwise)
    values["active.normative.in_force"] = values["active.normative.issued"] + rng.randint(0, 40)
    review = [k for k in values if not k.startswith("active.")]
    for group in ("review", "litigation_direct", "litigation_after_review"):
        values[f"{group}.total"] = sum(values[k] for k in review if k.startswith(f"{group}.") and k != f"{group}.total")
    for row in rows[1:]:
        row[3] = str(values[row[0]])
    (tmp / "figures.csv").write_bytes(_csv(rows))
    return tmp / "figures.csv", values


DRAFT = """一、总体情况
（一）主动公开。全年主动公开政府信息一批，政策解读及时。
（二）依申请公开。依法答复每一件申请。
（三）政府信息管理。完善发布审查。
（四）平台建设。政府网站运行平稳。
（五）监督保障。开展培训。
五、存在的主要问题及改进情况
政策解读形式较为单一，下一步丰富解读形式。
六、其他需要报告的事项
本机关本年度未收取信息处理费。
{agency}
{year}年1月20日
"""


def test_composed_report_reads_back_the_same_in_docx_and_pdf(tmp_path: Path) -> None:
    """Complete inputs → the official DOCX and PDF → `xxgk parse`: the same cells, no finding."""
    rows, _ = _ledger(60, seed=8)
    (tmp_path / "台账.csv").write_bytes(_csv(rows))
    figures, values = _filled_figures(tmp_path, seed=1)
    (tmp_path / "draft.txt").write_text(DRAFT.format(agency=AGENCY, year=YEAR + 1), encoding="utf-8")
    made = compose_files(tmp_path / "台账.csv", YEAR, AGENCY, figures=figures, draft=tmp_path / "draft.txt",
                         date=dt.date(YEAR + 1, 1, 20))
    assert made.missing == []
    expected = {k: v for k, v in made.result.cells.items() if v is not None}
    assert {k: expected[k] for k in values} == values
    for writer, name in ((to_docx, "r.docx"), (to_pdf, "r.pdf")):
        back = parse_bytes(writer(made.result, OFFICIAL), name)
        assert {k: v for k, v in back.cells.items() if v is not None} == expected, name
        assert (back.agency, back.year, back.published) == (AGENCY, YEAR, f"{YEAR + 1}-01-20"), name
        assert [f.message for f in back.findings if f.severity != "info"] == [], name
        assert "本机关本年度未收取信息处理费" in back.sections["六"]
        assert "全年主动公开政府信息一批" in back.sections["一"] and "（五）监督保障。开展培训。" in back.sections["一"]


def test_what_is_missing_is_marked_listed_and_strict_fails(tmp_path: Path) -> None:
    rows, truth = _ledger(30, seed=9)
    (tmp_path / "台账.csv").write_bytes(_csv(rows))
    code, out = _cli("compose", tmp_path / "台账.csv", "--year", YEAR, "--agency", AGENCY, "--to", "docx",
                     "--out", tmp_path / "r.docx", "--date", "2026-01-20", "--strict")
    assert code == 1 and "--strict: 5 parts still to fill" in out
    assert "to fill: 一、总体情况" in out and "四、政府信息公开行政复议、行政诉讼情况：15 个数未填" in out
    back = parse_bytes((tmp_path / "r.docx").read_bytes(), "r.docx")
    assert "【待填写：" in back.sections["一"] and "无。" not in back.sections["一"]
    word = docx.Document(str(tmp_path / "r.docx"))
    marked = [r.text for p in word.paragraphs for r in p.runs if r.font.highlight_color == WD_COLOR_INDEX.YELLOW]
    assert len([t for t in marked if t.startswith("【待填写：")]) == 3  # 一, 五, 六, highlighted
    fonts = {name: word.styles[name].element.rPr.rFonts.get(qn("w:eastAsia"))
             for name in ("Title", "Normal", "Heading 1", "Heading 2")}
    assert fonts == {"Title": "方正小标宋简体", "Normal": "仿宋_GB2312", "Heading 1": "黑体",
                     "Heading 2": "楷体_GB2312"}
    assert round(word.sections[0].top_margin.mm) == 37 and round(word.sections[0].left_margin.mm) == 28
    three = word.tables[1]  # its three header rows repeat on every page
    assert [bool(r._tr.trPr.find(qn("w:tblHeader")) is not None) for r in three.rows[:4]] == [True] * 3 + [False]
    made = compose_files(tmp_path / "台账.csv", YEAR, AGENCY)
    assert to_html(made.result, OFFICIAL).count("<mark>【待填写：") == 3
    assert back.cells["requests.new.total"] == _expected(truth, YEAR)["requests.new.total"]
    assert all(back.cells[k] is None for k in figure_keys())  # a placeholder, never a number nobody gave
    assert all(made.placeholders_own(f) for f in back.findings if f.severity != "info")


def test_no_application_in_the_year_is_an_error(tmp_path: Path) -> None:
    rows, _ = _ledger(20, seed=3)
    (tmp_path / "台账.csv").write_bytes(_csv(rows))
    code, out = _cli("compose", tmp_path / "台账.csv", "--year", 2023, "--agency", AGENCY, "--out", tmp_path / "x")
    assert code == 1 and "没有 2023 年办理的申请（20 件申请的收到日期在 2024-" in out
    assert not (tmp_path / "x").exists()
    code, out = _cli("compose", tmp_path / "台账.csv", "--year", 2020, "--agency", AGENCY, "--out", tmp_path / "x")
    assert code == 1 and "2020 年度的报告用 2019 年格式" in out


def test_base_of_last_year_carries_only_what_carries(tmp_path: Path) -> None:
    """Last year's report, composed and published as DOCX, then this year's on top of it."""
    rows, _ = _ledger(80, seed=12)
    (tmp_path / "台账.csv").write_bytes(_csv(rows))
    figures, _ = _filled_figures(tmp_path, seed=2)
    (tmp_path / "draft.txt").write_text(DRAFT.format(agency=AGENCY, year=YEAR), encoding="utf-8")
    last = compose_files(tmp_path / "台账.csv", YEAR - 1, AGENCY, figures=figures, draft=tmp_path / "draft.txt",
                         date=dt.date(YEAR, 1, 20))
    last.result.cells["requests.carried_forward.natural"] += 1  # last year's report said one more than the ledger
    last.result.cells["requests.carried_forward.total"] += 1
    (tmp_path / "2024.docx").write_bytes(to_docx(last.result, OFFICIAL))
    (tmp_path / "f2.csv").write_bytes(_csv([["代码", "数值"], ["active.normative.issued", 3],
                                            ["active.normative.repealed", 1]]))
    made = compose_files(tmp_path / "台账.csv", YEAR, AGENCY, figures=tmp_path / "f2.csv", base=tmp_path / "2024.docx")
    cells, was = made.result.cells, last.result.cells
    assert any(f"上年结转（自然人）：台账为 {cells['requests.carried_over.natural']}，上年报告「结转下年度继续办理」为 "
               f"{was['requests.carried_forward.natural']}，不一致" in n for n in made.notes)
    assert cells["active.normative.in_force"] == was["active.normative.in_force"] + 3 - 1
    for key in figure_keys():  # never last year's figures
        if key not in ("active.normative.issued", "active.normative.repealed", "active.normative.in_force"):
            assert cells[key] is None, key
    one = made.result.sections["一"]
    assert one.startswith("【待改写") and "主动公开" in one
    six = made.result.sections["六"]
    assert "年1月20日" not in six and AGENCY not in six and not any(ch.isdigit() for ch in six)
    assert "一、总体情况：有待填写或待改写的文字" in made.missing


def test_base_of_another_agency_or_year_is_refused(tmp_path: Path) -> None:
    rows, _ = _ledger(20, seed=6)
    (tmp_path / "台账.csv").write_bytes(_csv(rows))
    city = from_gold(REAL / "huaian-2024.gold.json")  # a city government's 2024 report
    (tmp_path / "city.json").write_text(city.model_dump_json(), encoding="utf-8")
    args = ("compose", tmp_path / "台账.csv", "--year", YEAR, "--agency", AGENCY, "--base", tmp_path / "city.json",
            "--out", tmp_path / "r.json", "--to", "json")
    code, out = _cli(*args)
    assert code == 1 and f"上年报告是「{city.agency}」的，不是「{AGENCY}」的" in out
    assert not (tmp_path / "r.json").exists()
    mine = city.model_copy(update={"agency": AGENCY, "year": YEAR - 2})
    (tmp_path / "old.json").write_text(mine.model_dump_json(), encoding="utf-8")
    code, out = _cli(*args[:-5], tmp_path / "old.json", *args[-4:])
    assert code == 1 and f"上年报告是 {YEAR - 2} 年度的，不是 {YEAR - 1} 年度的" in out
    code, out = _cli(*args, "--force")
    assert code == 0 and "--force：上年报告是「" in out
    forced = compose_files(tmp_path / "台账.csv", YEAR, AGENCY, base=tmp_path / "city.json", force=True)
    assert forced.result.cells["active.licensing.decisions"] is None  # even forced: no figure of the base


def test_figures_sheet_round_trips_and_bad_values_are_named() -> None:
    rows = list(csv.reader(io.StringIO(figures_template().decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == figure_keys()
    assert {r[2] for r in rows[1:]} == {cell_specs()["2021"][k].label for k in figure_keys()}
    rows[1][3], rows[10][3] = "4", "12.5"
    assert read_figures(_csv(rows)) == {rows[1][0]: 4, rows[10][0]: 12.5}
    saved_by_excel = [[r[0], r[1], r[2], float(r[3]) if r[3] else None] for r in rows[1:]]
    assert read_figures(_xlsx({"Sheet1": [rows[0], *saved_by_excel]})) == {rows[1][0]: 4, rows[10][0]: 12.5}
    rows[2][3], rows[3][3] = "两件", "-1"
    bad = r"有 2 处无法使用：\n  第3行（.*）：「两件」不是数\n  第4行.*「-1」应是不小于 0 的整数"
    with pytest.raises(ReportError, match=bad):
        read_figures(_csv(rows))


def test_result_rows_each_have_words() -> None:
    """Every row of 三 a ledger can name has a word staff can write for it (its label at least)."""
    from xxgk.compose.ledger import Unmatched, match_result, vocabulary

    vocab = vocabulary()
    assert all(match_result(row.label, vocab) == row for row in RESULT_ROWS)
    extra = vocabulary(b'[results]\n"\\u5df2\\u529e\\u7ed3\\u516c\\u5f00" = "granted"\n')  # 已办结公开
    assert match_result("已办结公开", extra).key == "requests.granted"
    with pytest.raises(Unmatched):  # a negation is never read as the word it negates
        match_result("不同意公开", vocab)
    with pytest.raises(ReportError, match="not a row of table 三"):
        vocabulary(b'[results]\n"x" = "granted.nope"\n')

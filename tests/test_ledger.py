"""From an agency's request ledger to section 三 and a whole report in the standard layout."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from xxgk.audit import audit
from xxgk.compose.ledger import APPLICANT_WORDS, RESULT_ROWS, compose, read_ledger, section_three
from xxgk.compose.render import to_docx
from xxgk.compose.synth import from_gold
from xxgk.errors import ReportError
from xxgk.formats.national import APPLICANTS
from xxgk.parse import parse_bytes

from .conftest import REAL

HEADER = ["序号", "申请人姓名/名称", "申请人类型", "收到申请日期", "申请内容", "办理结果", "答复日期"]
NAMES = {key: label for key, label in ((c.key, c.label) for c in APPLICANTS) if key != "total"}


def _ledger(n: int, seed: int) -> tuple[list[list[object]], list[tuple[str, dt.date, dt.date | None, str | None]]]:
    """Rows as an agency keeps them, and what each one is (applicant key, received, answered, result key)."""
    rng = random.Random(seed)
    rows, truth = [HEADER], []
    for i in range(n):
        applicant = rng.choice(list(NAMES))
        received = dt.date(2023, 10, 1) + dt.timedelta(days=rng.randint(0, 500))
        answered = received + dt.timedelta(days=rng.randint(0, 40)) if rng.random() < 0.9 else None
        row = rng.choice(RESULT_ROWS) if answered else None
        phrase = next((p for p in row.match if not p.startswith("^")), row.label) if row else ""
        result = (row.label if rng.random() < 0.5 else phrase) if row else ""
        printed = rng.choice([received.isoformat(), f"{received.year}年{received.month}月{received.day}日",
                              received.strftime("%Y/%m/%d")])
        rows.append([i + 1, f"申请人{i}", NAMES[applicant], printed, "……", result,
                     answered.isoformat() if answered else ""])
        truth.append((applicant, received, answered, row.key if row else None))
    return rows, truth


def _expected(truth: list, year: int) -> dict[str, int]:
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
        else:
            add("requests.carried_forward", applicant)
    return out


def _one_row(key: str) -> bool:
    return key.startswith("requests.other.") and key.count(".") == 2


def _csv(rows: list[list[object]], encoding: str = "utf-8-sig") -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode(encoding)


def _xlsx(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append([dt.datetime.fromisoformat(v) if isinstance(v, str) and len(v) == 10 and v[4] == "-"
                            else v for v in row])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize("kind", ["csv", "gb18030", "xlsx"])
def test_section_three_counts_every_application_once(kind: str) -> None:
    rows, truth = _ledger(400, seed=7)
    data = _xlsx(rows) if kind == "xlsx" else _csv(rows, "gb18030" if kind == "gb18030" else "utf-8-sig")
    apps = read_ledger(data, f"ledger.{kind}")
    cells = section_three(apps, 2024)
    expected = _expected(truth, 2024)
    split = {k: v for k, v in cells.items() if v and not k.startswith("requests.other.")}
    one_row = {k: v for k, v in cells.items() if v and k.startswith("requests.other.")}
    assert {k: v for k, v in cells.items() if v and not _one_row(k)} == expected
    for col in NAMES:  # the one-row （六）其他处理 is the sum of its three split rows
        assert cells[f"requests.other.{col}"] == sum(cells[f"requests.other.{s}.{col}"]
                                                    for s in ("no_correction", "unpaid_fee", "other"))
    assert split and one_row
    result = compose(apps, 2024, "某市某局")
    assert not [f for f in audit(result) if f.rule.startswith("requests.")], "section 三 adds up by construction"


def test_the_composed_report_reads_back_through_the_parser() -> None:
    """The report written from a ledger, with last year's other sections, parses to the same cells."""
    rows, _ = _ledger(250, seed=3)
    base = from_gold(REAL / "huaian-2024.gold.json")
    result = compose(read_ledger(_csv(rows)), 2024, "淮安市人民政府", base)
    back = parse_bytes(to_docx(result), "composed.docx")
    assert {k: v for k, v in back.cells.items() if v is not None} == {
        k: v for k, v in result.cells.items() if v is not None}
    assert result.cells["active.licensing.decisions"] == base.cells["active.licensing.decisions"]
    assert (back.agency, back.year) == ("淮安市人民政府", 2024)


def test_a_ledger_that_cannot_be_counted_says_which_rows() -> None:
    rows, _ = _ledger(20, seed=1)
    rows[3][5] = "不予公开"  # a group, not a row: which reason?
    rows[5][2] = "外星人"
    rows[7][3] = "去年"
    with pytest.raises(ReportError) as e:
        read_ledger(_csv(rows))
    assert "第4行" in str(e.value) and "第6行" in str(e.value) and "第8行" in str(e.value)
    with pytest.raises(ReportError, match="缺少列：申请人类型"):
        read_ledger(_csv([["序号", "收到日期", "办理结果"], [1, "2024-01-02", "予以公开"]]))


def test_applicant_words_cover_every_column() -> None:
    assert {key for _, key in APPLICANT_WORDS} == set(NAMES)


def test_compose_command_writes_a_report(tmp_path: Path) -> None:
    rows, truth = _ledger(60, seed=5)
    (tmp_path / "台账.csv").write_bytes(_csv(rows))
    done = subprocess.run([sys.executable, "-m", "xxgk.cli", "compose", str(tmp_path / "台账.csv"), "--year", "2024",
                           "--agency", "某区政务服务管理办公室", "--to", "docx", "--out", str(tmp_path / "r.docx")],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "60 applications" in done.stderr
    back = parse_bytes((tmp_path / "r.docx").read_bytes(), "r.docx")
    expected = _expected(truth, 2024)
    assert back.cells["requests.new.total"] == expected["requests.new.total"]
    assert back.cells["requests.carried_forward.total"] == expected.get("requests.carried_forward.total", 0)

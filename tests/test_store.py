"""The store on a real SQLite file and a real PostgreSQL server (started here), the same tests for both."""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from xxgk.parse import parse_file
from xxgk.store import Store
from xxgk.store.export import export
from xxgk.store.models import Cell, Report, Source

from .conftest import REAL, REPO, SEEDS

CORPUS = sorted(SEEDS.glob("*.txt")) + sorted(REAL.glob("*.pdf"))
XXGK = str(REPO / ".venv" / "bin" / "xxgk")


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """A PostgreSQL server of our own on a unix socket in a temporary folder (Debian's postgresql)."""
    bindir = _pg_bin()
    if bindir is None:
        pytest.fail("PostgreSQL is not installed (make setup installs Debian's postgresql)")
    root = Path(tempfile.mkdtemp(prefix="xxgk-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_postgres, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                    "--no-sync"], check=True, capture_output=True)
    subprocess.run([*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l", str(root / "log"), "-o",
                    f"-k {sock} -c listen_addresses='' -p 54329 -c fsync=off", "start"], check=True,
                   capture_output=True)
    try:
        subprocess.run([str(bindir / "createdb"), "-h", str(sock), "-p", "54329", "-U", "postgres", "xxgk"],
                       check=True, capture_output=True)
        yield f"postgresql+psycopg://postgres@/xxgk?host={sock}&port=54329"
    finally:
        subprocess.run([*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'xxgk.db'}"
        return
    base = request.getfixturevalue("postgres")
    store = Store(base)  # a clean schema for each test
    with store.engine.begin() as c:
        for table in ("findings", "cells", "reports", "sources", "agencies", "reviews", "failures", "corrections",
                      "report_reviews"):
            c.exec_driver_sql(f"DELETE FROM {table}")
    store.engine.dispose()
    yield base


@pytest.fixture(scope="module")
def parsed() -> dict[Path, object]:
    return {p: parse_file(p) for p in CORPUS}


def count(store: Store, what: type) -> int:
    with store.session() as s:
        return s.scalar(select(func.count()).select_from(what)) or 0


def test_ingest_the_corpus_once_and_again_is_a_no_op(url: str, parsed: dict) -> None:
    store = Store(url)
    ids = [store.add(r, p.read_bytes(), p.name) for p, r in parsed.items()]
    assert len(set(ids)) == len(CORPUS) == count(store, Report) == count(store, Source)
    again = [store.add(r, p.read_bytes(), p.name) for p, r in parsed.items()]
    assert again == ids and count(store, Report) == len(CORPUS)
    assert count(store, Cell) == sum(len(r.cells) for r in parsed.values())
    name, content = store.source(store.reports(agency="淮安市人民政府")[0].digest)  # the file itself is kept
    assert name == "huaian-2024.pdf" and content == (REAL / "huaian-2024.pdf").read_bytes()


def test_a_newer_parser_keeps_the_old_version(url: str, parsed: dict) -> None:
    store = Store(url)
    path = REAL / "hongze-2023.pdf"
    old = parsed[path]
    store.add(old, path.read_bytes(), path.name)
    newer = old.model_copy(update={"parser_version": "9.0.0"})
    store.add(newer, path.read_bytes(), path.name)
    assert count(store, Report) == 2 and count(store, Source) == 1
    assert [r.parser_version for r in store.reports()] == ["9.0.0"]
    assert sorted(r.parser_version for r in store.reports(latest=False)) == [old.parser_version, "9.0.0"]


def test_a_report_is_stored_whole_or_not_at_all(url: str, parsed: dict) -> None:
    store = Store(url)
    path = SEEDS / "000_d5b9bd303c21ba6d.txt"
    broken = parsed[path].model_copy(deep=True)
    broken.findings[-1].cells.append(object())  # cannot be written: fails after the cells went in
    with pytest.raises(Exception):  # noqa: B017 - whichever error the database gives
        store.add(broken, path.read_bytes(), path.name)
    assert (count(store, Report), count(store, Cell), count(store, Source)) == (0, 0, 0)
    store.add(parsed[path], path.read_bytes(), path.name)
    assert count(store, Report) == 1


def test_a_review_survives_reparsing(url: str, parsed: dict) -> None:
    store = Store(url)
    path = SEEDS / "002_64090608850f335c.txt"
    store.add(parsed[path], path.read_bytes(), path.name)
    (report,) = store.reports()
    finding = next(f for f in report.findings if f.rule == "legal.published_after_year")
    store.review(finding.id, "dismissed", note="the date is a typo for 2021")
    store.add(parsed[path].model_copy(update={"parser_version": "9.0.0"}), path.read_bytes(), path.name)
    (newer,) = store.reports()
    assert newer.parser_version == "9.0.0"
    status = {f.rule: s for f, s in store.status_of(newer)}
    assert status["legal.published_after_year"] == "dismissed"


def test_export_round_trip_parquet_and_xlsx(url: str, parsed: dict, tmp_path: Path) -> None:
    store = Store(url)
    for p, r in parsed.items():
        store.add(r, p.read_bytes(), p.name)
    export(store, "parquet", tmp_path / "r.parquet")
    export(store, "xlsx", tmp_path / "r.xlsx")
    from_parquet = pd.read_parquet(tmp_path / "r.parquet")
    from_xlsx = pd.read_excel(tmp_path / "r.xlsx", sheet_name=None)
    assert set(from_xlsx) == {"reports", "findings"}
    for frame in (from_parquet, from_xlsx["reports"]):
        assert len(frame) == len(CORPUS)
        rows = {row["source"]: row for _, row in frame.iterrows()}
        for path, result in parsed.items():
            row = rows[path.name]
            assert row["agency"] == result.agency or (pd.isna(row["agency"]) and result.agency is None)
            for key, value in result.cells.items():
                got = row[key]
                assert (pd.isna(got) and value is None) or got == pytest.approx(value), (path.name, key)
    findings = pd.read_parquet(tmp_path / "r-findings.parquet")
    assert len(findings) == sum(len(r.findings) for r in parsed.values())


def test_ingest_and_export_from_the_command_line(url: str, tmp_path: Path) -> None:
    bad = tmp_path / "empty.txt"
    bad.write_bytes(b"")
    proc = subprocess.run([XXGK, "ingest", str(SEEDS), str(bad), "--db", url, "--jobs", "2"],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "5 stored" in proc.stderr and "empty file" in proc.stderr
    proc = subprocess.run([XXGK, "ingest", str(SEEDS), "--db", url], capture_output=True, text=True)
    assert proc.returncode == 0 and "5 already stored" in proc.stderr
    out = tmp_path / "r.json"
    subprocess.run([XXGK, "export", "--format", "json", "--year", "2019", "--out", str(out), "--db", url],
                   check=True, capture_output=True)
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert [r["source"] for r in exported["reports"]] == ["003_ca5209cc26856f4b.txt"]
    csv_out = tmp_path / "r.csv"
    subprocess.run([XXGK, "export", "--format", "csv", "--chinese", "--out", str(csv_out), "--db", url],
                   check=True, capture_output=True)
    header = csv_out.read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.startswith("文件,机关,年度") and "三/（七）总计 × 总计" in header


def test_one_agency_under_its_short_and_full_names(url: str, parsed: dict) -> None:
    store = Store(url)
    for path in (REAL / "hongze-2023.pdf", REAL / "hongze-2024.pdf", REAL / "huaian-2024.pdf"):
        store.add(parsed[path], path.read_bytes(), path.name)
    names = {r.source_name: r.agency.name for r in store.reports()}
    # 2023 prints its name as 洪泽区人民政府, 2024 as 淮安市洪泽区人民政府
    assert names["hongze-2023.pdf"] == names["hongze-2024.pdf"] == "淮安市洪泽区人民政府"
    assert names["huaian-2024.pdf"] == "淮安市人民政府"


def test_a_short_name_two_agencies_end_with_stays_apart(url: str, parsed: dict) -> None:
    store = Store(url)
    path = REAL / "hongze-2023.pdf"  # names itself 洪泽区人民政府
    base = parsed[path]
    for i, name in enumerate(("甲市洪泽区人民政府", "乙市洪泽区人民政府")):
        store.add(base.model_copy(update={"agency": name}), path.read_bytes() + b"%" * (i + 1), f"{i}.pdf")
    store.add(base, path.read_bytes(), path.name)
    names = {r.source_name: r.agency.name for r in store.reports()}
    assert names == {"0.pdf": "甲市洪泽区人民政府", "1.pdf": "乙市洪泽区人民政府", "hongze-2023.pdf": "洪泽区人民政府"}


def test_lists_page_and_the_overview_counts_in_the_database(url: str, parsed: dict) -> None:
    store = Store(url)
    for p, r in parsed.items():
        store.add(r, p.read_bytes(), p.name)
    everything = store.reports()
    first, rest = store.reports(limit=3), store.reports(offset=3)
    assert [r.id for r in first + rest] == [r.id for r in everything] and len(first) == 3
    with_errors = [r for r in everything if any(f.severity == "error" for f in r.findings)]
    assert [r.id for r in store.reports(errors=True)] == [r.id for r in with_errors]
    assert store.count(errors=True) == len(with_errors) and store.count() == len(CORPUS)
    overview = store.overview()
    assert overview["reports"] == len(CORPUS) and overview["errors"] == len(with_errors)
    top_rule, n = overview["rules"][0]
    assert n == sum(1 for r in everything if any(f.rule == top_rule for f in r.findings))
    assert overview["years"] == sorted({r.year for r in everything if r.year})


@pytest.mark.parametrize("later_first", [True, False])
def test_an_agencys_years_are_checked_against_each_other_in_either_order(url: str, parsed: dict,
                                                                         later_first: bool) -> None:
    store = Store(url)
    old, new = REAL / "hongze-2023.pdf", REAL / "hongze-2024.pdf"
    # 2024 says it carried over 5 requests from 2023, whose report carried forward 0
    changed = parsed[new].model_copy(deep=True)
    changed.cells["requests.carried_over.natural"] = 5
    order = [(changed, new), (parsed[old], old)]
    for result, path in order if later_first else order[::-1]:
        store.add(result, path.read_bytes(), path.name)
    later = next(r for r in store.reports() if r.source_name == new.name)
    (finding,) = [f for f in later.findings if f.rule == "years.carried_over"]
    assert finding.cells == ["requests.carried_over.natural"] and "5" in finding.message
    assert any(f["rule"] == "years.carried_over" for f in store.report(later.id).result["findings"])
    earlier = next(r for r in store.reports() if r.source_name == old.name)
    assert not [f for f in earlier.findings if f.rule.startswith("years.")]


def test_the_database_password_is_never_printed(postgres: str, tmp_path: Path) -> None:
    secret = "tiger-Pa55word"
    with_password = postgres.replace("postgres@", f"postgres:{secret}@")  # trust: the server ignores it
    cli = [sys.executable, "-m", "xxgk.cli", "ingest", str(SEEDS / "000_d5b9bd303c21ba6d.txt"), "--db"]
    env = {**os.environ, "COLUMNS": "200", "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.run([*cli, with_password], capture_output=True, text=True, env=env)
    assert proc.returncode == 0 and "stored" in proc.stderr and "postgres:***@" in proc.stderr
    refused = with_password.replace("port=54329", "port=1")
    proc2 = subprocess.run([*cli, refused], capture_output=True, text=True, env=env)
    assert proc2.returncode == 2 and "cannot open the database" in proc2.stderr
    assert secret not in proc.stdout + proc.stderr + proc2.stdout + proc2.stderr


def test_exports_keep_every_text_cell_from_running_as_a_formula(tmp_path: Path) -> None:
    """OWASP's CSV injection: text starting with = + - @ tab or CR gets a ' in CSV and XLSX."""
    import openpyxl

    from xxgk.store.export import FORMULA_START, frames

    store = Store(f"sqlite:///{tmp_path / 'x.db'}")
    result = parse_file(SEEDS / "002_64090608850f335c.txt")
    attacks = iter(['=HYPERLINK("http://evil.example","x")', "+1+2", "-2+3", "@SUM(A1)", "\t=1", "\r=2"])
    result = result.model_copy(update={"agency": next(attacks), "published": next(attacks),
                                       "template": result.template})
    for f in result.findings:
        f.message = "=" + f.message  # the findings' text columns too
        f.rule = "@" + f.rule
    store.add(result, b"x", "=1+2.txt")
    store.add(parse_file(SEEDS / "000_d5b9bd303c21ba6d.txt"), b"y", next(attacks) + ".txt")
    reports, findings = frames(store)
    text_columns = {name: [c for c in df.columns if df[c].dtype == object or pd.api.types.is_string_dtype(df[c])]
                    for name, df in (("reports", reports), ("findings", findings))}
    dangerous = {name: [c for c in cols if any(str(v).startswith(FORMULA_START) for v in df[c].dropna())]
                 for (name, cols), df in zip(text_columns.items(), (reports, findings), strict=True)}
    assert {"source", "agency", "published"} <= set(dangerous["reports"]) and dangerous["findings"]

    written = export(store, "csv", tmp_path / "r.csv")
    for path, cols in zip(written, text_columns.values(), strict=True):  # every text column
        df = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
        for column in cols:
            assert not any(v.startswith(FORMULA_START) for v in df[column]), (path.name, column)
    assert "'=1+2.txt" in set(pd.read_csv(written[0], encoding="utf-8-sig", dtype=str)["source"])

    (xlsx,) = export(store, "xlsx", tmp_path / "r.xlsx")
    book = openpyxl.load_workbook(xlsx)
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert not [c.value for c in cells if isinstance(c.value, str) and c.value.startswith(FORMULA_START)]
    assert "'=1+2.txt" in [c.value for c in cells]
    for sheet, cols in zip(("reports", "findings"), text_columns.values(), strict=True):  # every text column
        header = [c.value for c in book[sheet][1]]
        for column in cols:
            values = [row[header.index(column)].value for row in book[sheet].iter_rows(min_row=2)]
            assert all(not (isinstance(v, str) and v.startswith(FORMULA_START)) for v in values), (sheet, column)


def _stored_rows(store: Store) -> dict[str, list[tuple]]:
    """Every row of every table by natural keys (ids differ between databases), sorted."""
    from xxgk.store.models import Agency, Finding

    with store.session() as s:
        digest_of = dict(s.execute(select(Report.id, Report.digest)).all())
        agency_of = dict(s.execute(select(Agency.id, Agency.name)).all())
        rows = {
            "sources": s.execute(select(Source.digest, Source.name, Source.kind, Source.size, Source.content)).all(),
            "agencies": s.execute(select(Agency.name, Agency.key, Agency.kind)).all(),
            "reports": [(r.digest, r.parser_version, agency_of.get(r.agency_id), r.source_name, r.agency_name, r.year,
                         r.template, r.published, r.posted, r.current, json.dumps(r.result, sort_keys=True))
                        for r in s.execute(select(Report.digest, Report.parser_version, Report.agency_id,
                                                  Report.source_name, Report.agency_name, Report.year, Report.template,
                                                  Report.published, Report.posted, Report.current, Report.result))],
            "cells": [(digest_of[c.report_id], c.key, c.value, c.blank, c.inferred,
                       json.dumps(c.provenance, sort_keys=True))
                      for c in s.execute(select(Cell.report_id, Cell.key, Cell.value, Cell.blank, Cell.inferred,
                                                Cell.provenance))],
            "findings": [(digest_of[f.report_id], f.rule, f.severity, f.kind, tuple(f.cells), f.message)
                         for f in s.execute(select(Finding.report_id, Finding.rule, Finding.severity, Finding.kind,
                                                   Finding.cells, Finding.message))],
        }
    return {table: sorted(tuple(r) for r in found) for table, found in rows.items()}


def test_postgresql_bulk_rows_are_the_rows_sqlite_stores(postgres: str, parsed: dict, tmp_path: Path) -> None:
    """PostgreSQL writes by COPY and pipelined INSERTs, SQLite by executemany: the same files, given
    as ingest gives them (JSON) in batches, leave the same rows and the same export in both."""
    store_pg = Store(postgres)
    with store_pg.engine.begin() as c:
        for table in ("findings", "cells", "reports", "sources", "agencies", "reviews", "failures"):
            c.exec_driver_sql(f"DELETE FROM {table}")
    old, new = REAL / "hongze-2023.pdf", REAL / "hongze-2024.pdf"
    changed = parsed[new].model_copy(deep=True)
    changed.cells["requests.carried_over.natural"] = 5  # found against 2023 when 2023 comes in a later batch
    twin = SEEDS / "000_d5b9bd303c21ba6d.txt"  # the same report again as another file: a duplicate of its year
    items = [(r.model_dump_json(), p.read_bytes(), p.name) for p, r in parsed.items() if p != old]
    items = [(changed.model_dump_json(), new.read_bytes(), new.name) if name == new.name else (r, data, name)
             for r, data, name in items]
    batches = [items, [(parsed[old].model_dump_json(), old.read_bytes(), old.name),  # rewrites the stored 2024
                       (parsed[twin].model_dump_json(), twin.read_bytes() + b"\n", "twin.txt"), items[0]],
               [(changed.model_dump_json(), new.read_bytes() + b"\n", "copy.pdf")]]  # audited as it comes
    exported, stored = [], []
    for store in (Store(f"sqlite:///{tmp_path / 'x.db'}"), store_pg):
        done = [store.add_many(batch) for batch in batches]
        assert [s.already for s in done[1]] == [None, None, items[0][2]] and done[1][1].twins
        export(store, "json", tmp_path / "out.json")
        out = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
        # (in sorted order: the databases order reports without an agency name first or last)
        exported.append([sorted(json.dumps(r, sort_keys=True) for r in out[part]) for part in ("reports", "findings")])
        stored.append(_stored_rows(store))
    assert stored[0] == stored[1]
    rows = stored[1]
    assert len(rows["reports"]) == len(parsed) + 2
    again = len(parsed[twin].cells) + len(changed.cells)  # the two files with another copy
    assert len(rows["cells"]) == sum(len(r.cells) for r in parsed.values()) + again
    for data in (new.read_bytes(), new.read_bytes() + b"\n"):
        digest = hashlib.sha256(data).hexdigest()
        assert ("years.carried_over", ("requests.carried_over.natural",)) in [
            (f[1], f[4]) for f in rows["findings"] if f[0] == digest]
        (result,) = [json.loads(r[-1]) for r in rows["reports"] if r[0] == digest]
        assert "years.carried_over" in [f["rule"] for f in result["findings"]]
    assert exported[0] == exported[1] and len(exported[0][0]) == len(parsed) + 2
    # and the bulk rows are each report's result as given: its findings, its cells with blanks and provenance
    results = {r[0]: json.loads(r[-1]) for r in rows["reports"]}
    assert rows["findings"] == sorted((d, f["rule"], f["severity"], f["kind"], tuple(f["cells"]), f["message"])
                                      for d, result in results.items() for f in result["findings"])
    assert rows["cells"] == sorted((d, k, v, k in result["blank"], result["inferred"].get(k),
                                    json.dumps(result["provenance"].get(k), sort_keys=True))
                                   for d, result in results.items() for k, v in result["cells"].items())


def test_a_writer_stores_every_batch_by_flush_and_raises_a_failed_ones_error(url: str, parsed: dict) -> None:
    """Batches of a writer are all stored when `flush` returns, in order (a copy in a later batch is
    known as already stored); a batch that cannot be written raises its error, leaving nothing of
    it and the batches before it stored."""
    store = Store(url)
    writer = store.writer(size=2)
    for path, result in parsed.items():
        writer.add(result.model_dump_json(), path.read_bytes(), path.name)
    first = next(iter(parsed))
    writer.add(parsed[first].model_dump_json(), first.read_bytes(), "again.txt")
    writer.flush()
    assert writer.stored == len(parsed) == count(store, Report) and writer.already == [("again.txt", first.name)]
    writer.add('{"source": "bad.txt", "findings": [{"message": "a finding without its rule"}]}', b"bad", "bad.txt")
    with pytest.raises(KeyError):
        writer.flush()
    assert count(store, Report) == count(store, Source) == len(parsed) and writer.stored == len(parsed)

"""One place pairs an agency's years: `check` and `ingest` pair the same files the same way."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from xxgk.pairing import Aliases, YearIndex, agency_key, related, resolve
from xxgk.parse import parse_bytes
from xxgk.store import Store

from .conftest import REPO, SEEDS

XXGK = str(REPO / ".venv" / "bin" / "xxgk")


@pytest.mark.parametrize(("a", "b"), [
    ("洪泽区人民政府", "淮安市洪泽区人民政府"),  # the region written out from the dataset
    ("江苏省淮安市洪泽区人民政府", "淮安市 洪泽区 人民政府"),
    ("广州市番禺区人民政府石壁街道办事处", "广州市番禺区石壁街道"),
    ("佳木斯市前进区港湾街道办事处", "佳木斯市前进区港湾街道"),
    ("瀋陽市和平區人民政府", "沈阳市和平区人民政府"),
    ("某某镇人民政府", "某某镇政府"),
    ("某某县管理委员会", "某某县管委会"),
    ("北京市朝阳区财政局", "朝阳区财政局（北京市）"[:0] + "北京市朝阳区财政局"),
])
def test_one_agency_one_key(a: str, b: str) -> None:
    assert agency_key(a) == agency_key(b)


@pytest.mark.parametrize(("a", "b"), [
    ("沭阳县财政局", "沭阳县审计局"),
    ("吉林省长春市朝阳区人民政府", "北京市朝阳区人民政府"),
    ("沭阳县人民政府", "沭阳县人民政府办公室"),
])
def test_different_agencies_different_keys(a: str, b: str) -> None:
    assert agency_key(a) != agency_key(b)


def test_a_short_name_joins_the_one_longer_name_it_ends_and_not_one_of_two() -> None:
    short, full = agency_key("港湾街道"), agency_key("佳木斯市前进区港湾街道办事处")
    assert related(short, full) and resolve(short, [full]) == full  # type: ignore[arg-type]
    two = [agency_key("甲市城关镇人民政府"), agency_key("乙县城关镇人民政府")]
    assert resolve(agency_key("城关镇人民政府"), two) == agency_key("城关镇人民政府")  # type: ignore[arg-type]
    assert not related(agency_key("财政局"), agency_key("沭阳县财政局"))  # too short to stand for one  # type: ignore[arg-type]


def _body(year: int) -> str:
    """A real report's sections 一 to 六 (seed 001: no title, no signature), for `year`."""
    text = next(SEEDS.glob("001_*.txt")).read_text(encoding="utf-8")
    return text.replace("2020年", f"{year}年").replace("2019年", f"{year - 1}年")


def _report(title: str | None, year: int, opening: str = "") -> bytes:
    body = _body(year)
    if opening:
        body = body.replace(f"{year}年，我街道", opening, 1)
    return ((f"{title}{year}年政府信息公开工作年度报告\n" if title else "") + body).encode()


def _unread(data: bytes) -> bytes:
    """The same report with its section 四 lost (a crawl that stopped early): fewer cells read."""
    text = data.decode()
    return (text[:text.index("四、政府信息公开行政复议")] + text[text.index("五、存在的主要问题"):]).encode()


def _write(folder: Path, files: dict[str, bytes]) -> list[Path]:
    folder.mkdir(exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return [folder / n for n in files]


def _check(paths: list[Path], *options: str) -> dict[str, dict]:
    proc = subprocess.run([XXGK, "check", *map(str, paths), "--format", "json", "--jobs", "1", *options],
                          capture_output=True, text=True)
    assert proc.stdout, proc.stderr
    return {r["source"]: r for r in json.loads(proc.stdout)}


def _ingest(paths: list[Path], db: Path, *options: str) -> Store:
    subprocess.run([XXGK, "ingest", *map(str, paths), "--db", f"sqlite:///{db}", "--jobs", "1", *options],
                   check=True, capture_output=True)
    return Store(f"sqlite:///{db}")


def test_two_bureaus_of_one_region_with_the_same_opening_words_are_never_paired(tmp_path: Path) -> None:
    opening = "2023年，沭阳县坚持以习近平新时代中国特色社会主义思想为指导，我局"
    files = {"caizheng-2022.txt": _report("沭阳县财政局", 2022, opening.replace("2023", "2022")),
             "shenji-2023.txt": _report("沭阳县审计局", 2023, opening),
             "untitled-2022.txt": _report(None, 2022, opening.replace("2023", "2022")),
             "untitled-2023.txt": _report(None, 2023, opening)}
    paths = _write(tmp_path / "in", files)
    checked = _check(paths)
    assert checked["untitled-2023.txt"]["agency"] is None  # 「沭阳县坚持以…」 is no name
    assert {s: r["previous"] for s, r in checked.items()} == dict.fromkeys(files)
    assert _ingest(paths, tmp_path / "x.db").pairs() == dict.fromkeys(files)


def test_a_renamed_agency_is_paired_through_the_alias_file(tmp_path: Path) -> None:
    files = {"old-2018.txt": _report("沭阳县环境保护局", 2018), "new-2019.txt": _report("沭阳县生态环境局", 2019)}
    paths = _write(tmp_path / "in", files)
    aliases = tmp_path / "aliases.csv"
    aliases.write_text("alias,canonical\n沭阳县环境保护局,沭阳县生态环境局\n", encoding="utf-8")
    assert _check(paths)["new-2019.txt"]["previous"] is None
    assert _check(paths, "--aliases", str(aliases))["new-2019.txt"]["previous"] == "old-2018.txt"
    store = _ingest(paths, tmp_path / "x.db", "--aliases", str(aliases))
    assert store.pairs()["new-2019.txt"] == "old-2018.txt"


def test_check_and_ingest_pair_the_same_files_the_same_way_and_say_duplicates(tmp_path: Path) -> None:
    files = {
        "hz-2022.txt": _report("淮安市洪泽区人民政府", 2022),
        "hz-2023.txt": _report("洪泽区人民政府", 2023),  # the short name: one key
        "hz-2023-crawl.txt": _unread(_report("淮安市洪泽区人民政府", 2023)),  # the same year again, read less
        "hz-2024.txt": _report("淮安市洪泽区人民政府", 2024),
        "gw-2021.txt": _report("港湾街道", 2021),
        "gw-2022.txt": _report("佳木斯市前进区港湾街道办事处", 2022),
        "cz-2023.txt": _report("沭阳县财政局", 2023),
        "sj-2024.txt": _report("沭阳县审计局", 2024),
    }
    paths = _write(tmp_path / "in", files)
    checked = _check(paths)
    pairs = {s: r["previous"] for s, r in checked.items()}
    assert pairs == {"hz-2022.txt": None, "hz-2023.txt": "hz-2022.txt", "hz-2023-crawl.txt": "hz-2022.txt",
                     "hz-2024.txt": "hz-2023.txt",  # the better read of the two 2023 reports
                     "gw-2021.txt": None, "gw-2022.txt": "gw-2021.txt", "cz-2023.txt": None, "sj-2024.txt": None}
    assert checked["hz-2023.txt"]["duplicates"] == ["hz-2023-crawl.txt"]
    assert checked["hz-2024.txt"]["region"] == {"province": "江苏省", "city": "淮安市", "county": "洪泽区"}
    # ingest, in an order where the worse read arrives first
    order = [tmp_path / "in" / n for n in ("hz-2024.txt", "hz-2023-crawl.txt", "gw-2022.txt", "hz-2022.txt",
                                           "hz-2023.txt", "gw-2021.txt", "cz-2023.txt", "sj-2024.txt")]
    store = Store(f"sqlite:///{tmp_path / 'x.db'}")
    for path in order:
        result = parse_bytes(path.read_bytes(), path.name)
        store.add(result, path.read_bytes(), path.name)
    assert store.pairs() == pairs
    current = {r.source_name: r.current for r in store.reports()}
    assert current["hz-2023.txt"] and not current["hz-2023-crawl.txt"]  # both kept, one current
    crawl = next(r for r in store.reports() if r.source_name == "hz-2023-crawl.txt")
    assert [r.source_name for r in store.others_of(crawl)] == ["hz-2023.txt"]
    assert store.duplicates_of(crawl.id) == ["hz-2023.txt"]
    db = f"sqlite:///{tmp_path / 'y.db'}"
    said = subprocess.run([XXGK, "ingest", str(tmp_path / "in"), "--db", db, "--jobs", "1"], capture_output=True,
                          text=True, check=True).stderr
    assert "同一机关同一年度另有报告" in said and "hz-2023" in said
    listed = subprocess.run([XXGK, "agencies", "--db", f"sqlite:///{tmp_path / 'x.db'}"], capture_output=True,
                            text=True, check=True).stdout
    line = next(x for x in listed.splitlines() if x.startswith(agency_key("洪泽区人民政府") or "?"))
    _, years, names = line.split("\t")
    assert years == "2022,2023,2024" and set(names.split(" / ")) == {"洪泽区人民政府", "淮安市洪泽区人民政府"}
    store.delete(next(r.id for r in store.reports() if r.source_name == "hz-2023.txt"))
    assert store.report(crawl.id).current  # the one left of its agency-year is current again


def test_the_year_index_pairs_with_the_better_read_of_duplicates() -> None:
    a = parse_bytes(_report("沭阳县财政局", 2022), "a.txt")
    worse = parse_bytes(_unread(_report("沭阳县财政局", 2023)), "worse.txt")
    better = parse_bytes(_report("沭阳县财政局", 2023), "better.txt")
    later = parse_bytes(_report("沭阳县财政局", 2024), "later.txt")
    index = YearIndex()
    for i, r in enumerate((a, worse, better, later)):
        index.add(i, r)
    assert index.same_year(1) == [1, 2] and index.previous_key(3) == 2 and index.previous_key(1) == 0


def test_an_alias_file_with_a_header_and_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("\ufeff别名,规范名称\n沭阳县环境保护局 , 沭阳县生态环境局\n", encoding="utf-8")
    aliases = Aliases.load(path)
    assert agency_key("沭阳县环境保护局", aliases) == agency_key("沭阳县生态环境局")


def test_an_old_store_is_upgraded_and_its_agencies_keep_their_reports(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import create_engine, text

    from xxgk.store.migrate import config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    cfg = config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0001")
        connection.execute(text("INSERT INTO agencies (name, kind) VALUES ('沭阳县财政局', 'department')"))
    store = Store(url)  # upgrades to the head
    result = parse_bytes(_report("沭阳县财政局", 2023), "cz.txt")
    store.add(result, _report("沭阳县财政局", 2023), "cz.txt")
    (report,) = store.reports()
    assert report.agency.name == "沭阳县财政局" and report.agency.key == agency_key("沭阳县财政局")
    assert report.current


def test_the_agency_page_shows_one_report_a_year_and_links_the_others(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from xxgk.serve.app import create_app

    store = Store(f"sqlite:///{tmp_path / 'web.db'}")
    full = _report("沭阳县财政局", 2023)
    for name, data in (("full.txt", full), ("crawl.txt", _unread(full)), ("2022.txt", _report("沭阳县财政局", 2022))):
        store.add(parse_bytes(data, name), data, name)
    page = TestClient(create_app(store, None)).get("/agencies/沭阳县财政局").text
    rows = page.split("<tr>")[2:]
    assert len(rows) == 2  # 2022, 2023
    (row_2023,) = [r for r in rows if "<td>2023</td>" in r]
    crawl = next(r for r in store.reports() if r.source_name == "crawl.txt")
    assert "full.txt" in row_2023 and f'href="/reports/{crawl.id}"' in row_2023 and "同年另有" in row_2023

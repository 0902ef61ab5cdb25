"""One place for telling which reports are one agency's, year after year.

`check` (in memory, `YearIndex`) and the store (`ingest`, the web app) both key agencies here and
pair year N with N−1 by the same rules, so they pair the same files the same way:

- the key: the agency's name with its region written out in full from the division dataset
  (「洪泽区人民政府」 and 「淮安市洪泽区人民政府」 are both 江苏省淮安市洪泽区政府), folded over
  punctuation, white space, traditional/simplified characters and known equivalences
  (街道办事处 = 街道, 人民政府 = 政府, 管理委员会 = 管委会), after the user's alias file;
- two keys are one agency when equal, or when one ends the other (four characters or more) and
  no other known key does so too (两个「城关镇」 stay apart);
- the same agency and year twice: a duplicate; the better read (fewer unread cells) is the one
  the next year is checked against.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .extract import regions
from .result import ParseResult
from .textnorm import squeeze

MIN_SUFFIX = 4  # a shorter name ("财政局") is too common to stand for one agency
ALIASES_ENV = "XXGK_ALIASES"


def fold(name: str) -> str:
    """The name without white space or punctuation, simplified, with equivalent words made one."""
    s = re.sub(r"[^\u4e00-\u9fff0-9A-Za-z]", "", squeeze(name))
    s = s.replace("人民政府", "政府").replace("管理委员会", "管委会").replace("街道办事处", "街道")
    s = re.sub(r"(?<=[镇乡县市区省旗州盟])$", "政府", s)  # 「某某镇」 as a title names it: its government
    return re.sub(r"(?<=[市区县旗])政府(?=.+(?:街道|镇|乡))", "", s)  # 番禺区人民政府石壁街道办事处


def agency_key(name: str | None, aliases: Aliases | None = None) -> str | None:
    """The key reports of one agency share; None for no name."""
    if not name:
        return None
    folded = fold(name)
    if not folded:
        return None
    lead = regions.leading(folded)
    region = regions.region_of(folded) if lead else None
    if region is not None and region.province:
        path = "".join(dict.fromkeys(p for p in (region.province, region.city, region.county) if p))
        key = path + folded[len(lead):]
    else:
        key = folded
    return aliases.key(key) if aliases else key


def related(a: str, b: str) -> bool:
    """One key ends the other, the shorter long enough to name one agency."""
    short, long_ = sorted((a, b), key=len)
    return short == long_ or (len(short) >= MIN_SUFFIX and long_.endswith(short))


def resolve(key: str, known: Iterable[str]) -> str:
    """The agency `key` belongs to among `known` keys: itself if known; else the one key related to
    it (the longer of the two names it); else itself (several: which is meant cannot be told)."""
    others = {k for k in known if k != key and related(k, key)}
    if len(others) == 1:
        other = others.pop()
        return max(key, other, key=len)
    return key


class Aliases:
    """The user's alias file: CSV rows `alias,canonical` (a header row is allowed) for agencies
    renamed in 机构改革 or printed in ways the rules do not fold."""

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self.keys: dict[str, str] = {}
        for alias, canonical in pairs:
            a, c = agency_key(alias), agency_key(canonical)
            if a and c and a != c:
                self.keys[a] = c

    @classmethod
    def load(cls, path: str | Path | None = None) -> Aliases:
        """From `path`, else $XXGK_ALIASES; none when neither is given."""
        path = path or os.environ.get(ALIASES_ENV)
        if not path:
            return cls()
        with open(path, encoding="utf-8-sig", newline="") as f:
            rows = [r for r in csv.reader(f) if len(r) >= 2 and r[0].strip() and r[1].strip()]
        if rows and rows[0][0].strip().lower() in ("alias", "别名"):
            rows = rows[1:]
        return cls((r[0], r[1]) for r in rows)

    def key(self, key: str) -> str:
        return self.keys.get(key, key)


def unread(result: ParseResult) -> int:
    """Cells not read (null and not printed blank): fewer is the better read of a report."""
    blank = set(result.blank)
    return sum(1 for k, v in result.cells.items() if v is None and k not in blank)


@dataclass(frozen=True)
class Entry:
    source: str
    name: str
    key: str
    year: int
    template: str | None
    unread: int
    cells: tuple  # the cells a year rule reads of a previous report (YearIndex.keep)


class YearIndex:
    """Reports by agency key and year, to pair each with its agency's report for the year before.

    Holds no reports: per report its file, name, key, year, format, unread count and the few cells
    `keep` names (what the year rules read of a previous report), so 100k reports pair in memory.
    """

    def __init__(self, keep: tuple[str, ...] = (), aliases: Aliases | None = None) -> None:
        self.keep = keep
        self.aliases = aliases
        self.entries: dict[int, Entry] = {}
        self.by_key: dict[str, dict[int, list[int]]] = {}  # key → {year: positions}
        self.suffixes: dict[str, set[str]] = {}  # a key's endings of MIN_SUFFIX characters or more → keys
        self._groups: dict[str, str] | None = None

    def add(self, at: int, result: ParseResult) -> None:
        key = agency_key(result.agency, self.aliases)
        if key is None or result.year is None:
            return
        cells = tuple(result.cells.get(k) for k in self.keep)
        self.entries[at] = Entry(result.source, result.agency or "", key, result.year, result.template,
                                 unread(result), cells)
        self.by_key.setdefault(key, {}).setdefault(result.year, []).append(at)
        for i in range(len(key) - MIN_SUFFIX + 1):
            self.suffixes.setdefault(key[i:], set()).add(key)
        self._groups = None

    def group(self, key: str) -> str:
        """The agency a key belongs to (see `resolve`), among the keys indexed."""
        if self._groups is None:
            self._groups = {}
        if key not in self._groups:
            near = self.suffixes.get(key, set()) | {key[i:] for i in range(len(key)) if key[i:] in self.by_key}
            self._groups[key] = resolve(key, near)
        return self._groups[key]

    def _members(self, key: str, year: int) -> list[int]:
        g = self.group(key)
        keys = [k for k in {g, *self.suffixes.get(g, set()), *(g[i:] for i in range(len(g)))}
                if k in self.by_key and self.group(k) == g]
        return sorted(at for k in keys for at in self.by_key[k].get(year, []))

    def same_year(self, at: int) -> list[int]:
        """Every report of this one's agency and year, itself included (more than one: duplicates)."""
        e = self.entries.get(at)
        return self._members(e.key, e.year) if e else []

    def best(self, positions: list[int]) -> int | None:
        """The better read among duplicates: fewer unread cells, then the first given."""
        return min(positions, key=lambda at: (self.entries[at].unread, at), default=None)

    def previous_key(self, at: int) -> int | None:
        """The position of the same agency's report for the year before (the better read of several)."""
        e = self.entries.get(at)
        return self.best(self._members(e.key, e.year - 1)) if e else None

    def previous(self, at: int) -> ParseResult | None:
        """That report as far as the year rules read it."""
        before = self.previous_key(at)
        if before is None:
            return None
        e = self.entries[before]
        return ParseResult(source=e.source, agency=e.name, year=e.year, template=e.template,  # type: ignore[arg-type]
                           cells={k: v for k, v in zip(self.keep, e.cells, strict=True) if v is not None})

"""Administrative regions (province, city, county) from cpca's dataset of the national division codes.

The data ships in cpca's wheel (its adcodes table), so this works offline. Only full names are
recognized ("沭阳县", not "沭阳"): a report prints its region's full name before its own, and short
forms are ordinary words too often ("城区", "郊区" are left out for that reason).
"""

from __future__ import annotations

import csv
import importlib.util
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import ahocorasick

_PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


@dataclass(frozen=True)
class Place:
    name: str
    adcode: str  # six digits: province, city, county two each
    rank: int  # 0 province, 1 city, 2 county


@cache
def _table() -> list[tuple[str, str]]:
    """(six-digit code, name) of every division, read from cpca's data file. Importing cpca itself
    would load pkg_resources (a second and more of start-up in every worker) for this one table."""
    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("cpca (the division dataset) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "resources" / "adcodes.csv"
    with open(path, encoding="utf-8", newline="") as f:
        return [(rec["adcode"][:6], rec["name"]) for rec in csv.DictReader(f)]


def _rank(code: str) -> int:
    return 0 if code.endswith("0000") else 1 if code.endswith("00") else 2


@cache
def _places() -> dict[str, tuple[Place, ...]]:
    """Full name → the places of that name (several counties share a name: 朝阳区, 和平区)."""
    out: dict[str, list[Place]] = {}
    for code, name in _table():
        if name in _PLACEHOLDERS or (len(name) < 3 and not name.endswith("县")):
            continue
        out.setdefault(name, []).append(Place(name, code, _rank(code)))
    return {k: tuple(v) for k, v in out.items()}


@cache
def _by_code() -> dict[str, str]:
    return dict(_table())


@cache
def _automaton() -> ahocorasick.Automaton:
    auto = ahocorasick.Automaton()
    for name in _places():
        auto.add_word(name, name)
    auto.make_automaton()
    return auto


def mentions(text: str) -> list[tuple[int, str]]:
    """(start, full name) of every region named in the text, longest at each start."""
    found: dict[int, str] = {}
    for end, name in _automaton().iter(text):
        start = end - len(name) + 1
        if len(name) > len(found.get(start, "")):
            found[start] = name
    return sorted(found.items())


@lru_cache(maxsize=8192)  # names recur: every candidate of every report is asked
def leading(name: str) -> str:
    """The regions a name starts with, in a row ("广州市番禺区" of 广州市番禺区人民政府…), else ""."""
    at, last = 0, None
    while True:
        step = _place_at(name, at, last)
        if step is None:
            return name[:at]
        last = step
        at += len(step.name)


def _place_at(text: str, at: int, parent: Place | None) -> Place | None:
    places = _places()
    for size in range(min(12, len(text) - at), 1, -1):
        for place in places.get(text[at:at + size], ()):
            if parent is None or (place.rank > parent.rank and _within(place, parent)):
                return place
    return None


def _within(place: Place, parent: Place) -> bool:
    return place.adcode.startswith(parent.adcode[:2 * (parent.rank + 1)])


@dataclass(frozen=True)
class Region:
    province: str | None
    city: str | None
    county: str | None


@lru_cache(maxsize=8192)  # an agency reports every year
def region_of(name: str) -> Region | None:
    """The province, city and county a name starts with; a county whose name several counties share
    and that is printed without its city keeps only the county."""
    at, places, last = 0, [], None
    while (step := _place_at(name, at, last)) is not None:
        places.append(step)
        last = step
        at += len(step.name)
    if not places:
        return None
    low = places[-1]
    if len(places) == 1 and len(_places()[low.name]) > 1:
        return Region(None, None, low.name) if low.rank == 2 else None
    codes = _by_code()
    province = codes.get(low.adcode[:2] + "0000")
    city = codes.get(low.adcode[:4] + "00") if low.rank >= 1 else None
    if city in _PLACEHOLDERS or (city is None and low.rank >= 1):
        city = province  # a municipality's districts: 北京市 is province and city
    county = low.name if low.rank == 2 else None
    return Region(province, city, county)

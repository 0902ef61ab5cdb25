"""Where each of the six sections starts, found in the text with white space removed."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from ..formats import SECTIONS


@dataclass(frozen=True)
class Squeezed:
    """The normalised text without white space, and where its characters came from: each run of
    kept characters by its start here and there (a few hundred runs, not one entry a character)."""

    text: str
    starts: list[int]  # where each run of kept characters starts in `text`
    origins: list[int]  # … and in the original

    @classmethod
    def of(cls, norm: str) -> Squeezed:
        kept = norm.split()  # the runs between white space (str.isspace)
        starts, origins = [0], [0]
        at = here = 0
        for i, run in enumerate(kept):
            at = norm.find(run, at)  # only white space lies between the last run and this one
            if i:
                starts.append(here)
                origins.append(at)
            else:
                origins[0] = at
            at += len(run)
            here += len(run)
        return cls("".join(kept), starts, origins)

    def at(self, i: int) -> int:
        """The offset in the original of the character at `i` here."""
        run = bisect_right(self.starts, i) - 1
        return self.origins[run] + i - self.starts[run]

    def index(self, offset: int) -> int:
        """Where the first character kept at or after `offset` in the original is here."""
        run = bisect_right(self.origins, offset) - 1
        if run < 0:
            return 0
        length = (self.starts[run + 1] if run + 1 < len(self.starts) else len(self.text)) - self.starts[run]
        return self.starts[run] + min(offset - self.origins[run], length)

    def find_all(self, pattern: str) -> list[tuple[int, int]]:
        """(start, end) offsets in the original text of every match."""
        out = []
        for m in re.finditer(pattern, self.text):
            end = self.at(m.end() - 1) + 1 if m.end() > m.start() else self.at(m.start())
            out.append((self.at(m.start()), end))
        return out


# Table anchors that exist even where a heading is garbled or missing.
_ANCHORS = {
    "二": r"第二十条第[(（]?[一1][)）]?项",
    "三": r"本年新收政府信息公开申请数量|本列数据的勾稽关系",
    "四": r"结果维持结果纠正|未经复议直接起诉",
}

# Headings of a table's right part, where a text flow may have put it after the next sections.
SPILL_ANCHORS = {"四": r"未经复议直接起诉|复议后起诉"}


# compiled once: looked for in every report
_PATTERNS = tuple((numeral, re.compile(_ANCHORS[numeral]) if numeral in _ANCHORS else None,
                   tuple(re.compile(p) for p in patterns), re.compile(numeral + r"[、.．,，]?$"))
                  for numeral, _title, patterns in SECTIONS)


def find_sections(squeezed: Squeezed) -> dict[str, int]:
    """{"一": offset, ...} for each section found, in document order, each after the previous.

    A heading may also appear in the prose of 总体情况 ("（二）主动公开政府信息情况"), so for a
    section with a table the heading taken is the last one before the table's first anchor.
    """
    text = squeezed.text
    found: dict[str, int] = {}
    floor = 0
    for numeral, anchor, patterns, numbered in _PATTERNS:
        anchor_at = None
        if anchor is not None:
            m = anchor.search(text, floor)
            anchor_at = m.start() if m else None
        hit = None
        for pattern in patterns:
            starts = [m.start() for m in pattern.finditer(text) if m.start() >= floor]
            if anchor_at is not None:
                starts = [s for s in starts if s <= anchor_at][-1:]
            headed = [s for s in starts if numeral in text[max(0, s - 4):s]]
            if headed or starts:
                hit = (headed or starts)[0]
                break
        if hit is None:
            hit = anchor_at
        if hit is not None:
            m = numbered.search(text[max(0, hit - 2):hit])
            hit -= len(m.group()) if m else 0  # the section starts at its numeral
            found[numeral] = squeezed.at(hit)
            floor = hit + 1
    return found

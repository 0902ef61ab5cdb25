"""Character normalisation that keeps every offset, so provenance stays exact.

Each character is mapped to exactly one character: NFKC where that gives one character (full-width
digits and brackets), traditional → simplified, and the look-alikes OCR produces in labels.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Final

import opencc

_T2S = opencc.OpenCC("t2s")

# Look-alikes seen in OCR output and Japanese-variant fonts; only characters that are never
# meaningful in a report of this kind are mapped.
LOOKALIKES = {
    "増": "增",
    "減": "减",
    "﹢": "+",
    "－": "-",
    "−": "-",
    "–": "-",
    "―": "—",
    "─": "—",
    "“": '"',
    "”": '"',
    "‘": "'",
    "’": "'",
    "\u3000": " ",
    "\xa0": " ",
    "\u200b": " ",
    "\ufeff": " ",
}


@cache
def norm_char(ch: str) -> str:
    if ch in LOOKALIKES:
        return LOOKALIKES[ch]
    n = unicodedata.normalize("NFKC", ch)
    if len(n) != 1:
        return ch
    if "\u4e00" <= n <= "\u9fff":
        s = _T2S.convert(n)
        if len(s) == 1:
            n = s
    return n


class _Table(dict):
    """str.translate table filled on first sight of each character (C-speed lookups after)."""

    def __missing__(self, code: int) -> str:
        self[code] = norm_char(chr(code))
        return self[code]


_TABLE: Final = _Table()


_SAME: Final[set[str]] = set()  # characters seen that norm_char leaves alone
_CHANGED: Final[dict[str, str]] = {}  # … and those it changes
_LINES: Final[dict[str, str]] = {}  # lines normalised before


def normalize(text: str) -> str:
    """Same length as `text`; offsets in the result are offsets in the original.

    A report's lines recur (its labels, "0", a template's headings in every report of a year):
    each line is normalised once per process. A long line (a page crawled into one paragraph)
    changes few distinct characters: each is replaced throughout in one pass of C, where a
    translation looks every character up.
    """
    if "\n" not in text:
        return _normalize_line(text)
    return "\n".join([_normalize_line(line) for line in text.split("\n")])


def _normalize_line(line: str) -> str:
    """A word or a line: looked up, else each character looked up (quicker than the long way)."""
    if len(line) >= 400:
        return _normalize_long(line)
    found = _LINES.get(line)
    if found is None:
        if len(_LINES) > 50_000:
            _LINES.clear()
        found = _LINES[line] = line.translate(_TABLE)
    return found


def _normalize_long(text: str) -> str:
    chars = set(text)
    unseen = chars - _SAME
    unseen.difference_update(_CHANGED)
    for ch in unseen:
        n = norm_char(ch)
        if n == ch:
            _SAME.add(ch)
        else:
            _CHANGED[ch] = n
    changed = chars.intersection(_CHANGED)
    if any(_CHANGED[ch] in changed for ch in changed):
        return text.translate(_TABLE)  # one changed into another that changes: all at once
    for ch in changed:
        text = text.replace(ch, _CHANGED[ch])
    return text


_SPACE = re.compile(r"\s+")
# Characters dropped when comparing labels: spaces, punctuation, ordinals' brackets.
_LABEL_NOISE: Final = re.compile(r"[\s\"'()（）【】\[\]、,，.。:：;；·•*#|_/\\-]")


def compact(text: str) -> str:
    """A label reduced to what identifies it: normalised, without spaces or punctuation."""
    found = _COMPACT.get(text)
    if found is None:  # words recur in every report of a template: each is reduced once per process
        if len(_COMPACT) > 50_000:
            _COMPACT.clear()
        found = _COMPACT[text] = _LABEL_NOISE.sub("", normalize(text))
    return found


_COMPACT: Final[dict[str, str]] = {}


def squeeze(text: str) -> str:
    """Normalised text without white space (for matching headings split by spaces)."""
    if len(text) > 200:
        return _SPACE.sub("", normalize(text))
    found = _SQUEEZED.get(text)
    if found is None:  # a line or a name: the head's and tail's are asked for by several readers of a report
        if len(_SQUEEZED) > 20_000:
            _SQUEEZED.clear()
        found = _SQUEEZED[text] = _SPACE.sub("", normalize(text))
    return found


_SQUEEZED: dict[str, str] = {}


def is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


_ORDINAL = re.compile(r"^(?:[一二三四五六七八九十]+|\d)(?=\D)")


def label_core(text: str) -> str:
    """A label without its ordinal, compacted: "（三）不予公开" and "三、不予公开" are both "不予公开"."""
    return _ORDINAL.sub("", compact(text))

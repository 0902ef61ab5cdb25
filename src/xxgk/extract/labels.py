"""Which text tokens are which row labels: fuzzy phrases, then one monotonic alignment.

Labels arrive broken ("6. 属于四类过" … "程性信息"), garbled by OCR ("收政府信息公开 请数量"),
or repeated in page-break headers. Each token is scored against each row; the rows are then
aligned to the tokens in the format's order, so a weak match in the right place beats a
strong one in the wrong place.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Final

from rapidfuzz import fuzz

from ..formats import Row
from ..textnorm import compact, label_core
from .tokens import Token

MIN_RATIO = 0.8
MIN_SCORE = 0.34


@cache
def _phrases(row: Row) -> tuple[tuple[str, bool], ...]:
    return tuple((p, True) if p.startswith("^") else (compact(p), False) for p in row.match)


_SCORES: dict[tuple[str, int], float] = {}


def match_score(text: str, row: Row) -> float:
    """0 when `text` is not (part of) the row's label, up to 1 when it is all of it."""
    key = (text, id(row))  # rows are module constants; labels recur in every report: cache
    score = _SCORES.get(key)
    if score is None:
        if len(_SCORES) > 200_000:
            _SCORES.clear()
        score = _SCORES[key] = _match_score(text, row)
    return score


def _match_score(text: str, row: Row) -> float:
    ct = compact(text)
    if not ct:
        return 0.0
    best = 0.0
    for phrase, is_regex in _phrases(row):
        if is_regex:
            if re.search(phrase, ct):
                return 1.0
            continue
        core = label_core(ct)
        if core == phrase:
            return 1.0
        overlap = min(len(core), len(phrase))
        if overlap < 3:
            continue
        ratio = fuzz.partial_ratio(phrase, core) / 100
        if ratio < (1.0 if overlap <= 4 else 0.85 if overlap <= 8 else MIN_RATIO):
            continue  # a short fragment must match exactly: "予公开" is not "予以公开"
        best = max(best, ratio * overlap / len(phrase))
    return best if best >= MIN_SCORE else 0.0


def _nearest(text: str, rows: tuple[Row, ...], scores: list[float]) -> list[float]:
    """A word holding whole labels of several rows (a page crawled with no spaces: "…行政许可9487-2-
    …行政处罚") is the label of the last of them: the numbers after it are that row's."""
    full = [j for j, s in enumerate(scores) if s >= 1.0]
    if len(full) < 2:
        return scores
    ct = compact(text)
    where = {j: max((ct.rfind(p) for p, is_regex in _phrases(rows[j]) if not is_regex), default=-1) for j in full}
    last = max(full, key=lambda j: (where[j], j))
    return [s if j == last or j not in full else 0.0 for j, s in enumerate(scores)]


_ALIGNED: Final[dict[tuple[tuple[str, ...], tuple[int, ...]], dict[int, int]]] = {}


def align(tokens: list[Token], rows: tuple[Row, ...]) -> dict[int, int]:
    """{token index: row index} for the best order-preserving matching of labels to rows.

    A row may take several consecutive fragments of its label; rows never go backwards.
    """
    # Reports of one template print the same words around different numbers: in a batch most
    # tables' words have been aligned before.
    if not any(r.match for r in rows):
        return {}  # rows without label phrases (the 复议/诉讼 row) are placed by order, not here
    key = (tuple(t.text for t in tokens), tuple(map(id, rows)))  # rows are module constants
    found = _ALIGNED.get(key)
    if found is None:
        if len(_ALIGNED) > 5_000:
            _ALIGNED.clear()
        found = _ALIGNED[key] = _align([t.text for t in tokens], rows)
    return dict(found)


def _align(texts: list[str], rows: tuple[Row, ...]) -> dict[int, int]:
    scores = [_nearest(t, rows, [match_score(t, r) if r.match else 0.0 for r in rows]) for t in texts]
    m = len(rows)
    # best[j]: best total of a chain whose last token matched row j; prev links for backtracking
    best = [0.0] * m
    last: list[tuple[int, int] | None] = [None] * m  # (token, row) ending that chain
    links: dict[tuple[int, int], tuple[int, int] | None] = {}
    for i, row_scores in enumerate(scores):
        if not any(row_scores):
            continue
        # prefix maxima over rows ≤ j of the chains built from tokens before i
        pref_val, pref_at = 0.0, None
        prefix: list[tuple[float, tuple[int, int] | None]] = []
        for j in range(m):
            if last[j] is not None and best[j] > pref_val:
                pref_val, pref_at = best[j], last[j]
            prefix.append((pref_val, pref_at))
        for j, s in enumerate(row_scores):
            if s <= 0:
                continue
            total = s + prefix[j][0]
            if total > best[j] or last[j] is None:
                best[j], last[j] = total, (i, j)
                links[(i, j)] = prefix[j][1]
    end = max(((best[j], last[j]) for j in range(m) if last[j] is not None), default=(0.0, None))[1]
    out: dict[int, int] = {}
    while end is not None:
        out[end[0]] = end[1]
        end = links[end]
    return out

"""Ruling lines → ruled tables: pdfplumber's table chain, the same cells, on plain tuples.

pdfplumber finds a table's cells from its ruling lines in four pure functions (merge_edges,
edges_to_intersections, intersections_to_cells, cells_to_tables). They copy a dict for every
move of an edge and compare every point with every other; a report drawn cell by cell (≈ 400
rules a page) spent a quarter of its parse there. These are the same steps over tuples with
lookups by row and column; `tests/test_readers.py` checks that they find pdfplumber's cells.

    rules → snap_rules → join_rules → rules_to_intersections → intersections_to_cells
          → cells_to_tables
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from operator import itemgetter

from pdfplumber.table import TableSettings

Box = tuple[float, float, float, float]  # x0, top, x1, bottom; a rule is a box of no width or height
Point = tuple[float, float]


def find_tables(horizontal: list[Box], vertical: list[Box], settings: TableSettings) -> list[list[Box]]:
    """Each table's cells, tables from the top, as pdfplumber finds them with these settings."""
    s = settings
    horizontal = [r for r in horizontal if r[2] - r[0] >= s.edge_min_length_prefilter]
    vertical = [r for r in vertical if r[3] - r[1] >= s.edge_min_length_prefilter]
    horizontal = join_rules(snap_rules(horizontal, 1, s.snap_y_tolerance), 0, s.join_x_tolerance)
    vertical = join_rules(snap_rules(vertical, 0, s.snap_x_tolerance), 1, s.join_y_tolerance)
    horizontal = [r for r in horizontal if r[2] - r[0] >= s.edge_min_length]
    vertical = [r for r in vertical if r[3] - r[1] >= s.edge_min_length]
    points = rules_to_intersections(horizontal, vertical, s.intersection_x_tolerance, s.intersection_y_tolerance)
    return cells_to_tables(intersections_to_cells(points))


def snap_rules(rules: list[Box], axis: int, tolerance: float) -> list[Box]:
    """Rules along `axis` (0: x of vertical rules, 1: y of horizontal ones) within `tolerance` of
    each other, chained, move to their mean; same float arithmetic as pdfplumber's snap_objects."""
    if not rules:
        return []
    at = itemgetter(axis)
    clusters: dict[float, int] = {}
    values = sorted(set(map(at, rules)))
    k, last = 0, values[0]
    for v in values:
        if v > last + tolerance:
            k += 1
        clusters[v] = k
        last = v
    groups: list[list[Box]] = [[] for _ in range(k + 1)]  # each cluster's rules, as given
    for r in rules:
        groups[clusters[r[axis]]].append(r)
    out = []
    for group in groups:
        mean = sum(map(at, group)) / len(group)
        if axis == 0:
            out += [(r[0] + (d := mean - r[0]), r[1], r[2] + d, r[3]) for r in group]
        else:
            out += [(r[0], r[1] + (d := mean - r[1]), r[2], r[3] + d) for r in group]
    return out


def join_rules(rules: list[Box], axis: int, tolerance: float) -> list[Box]:
    """Rules on one line whose ends are within `tolerance` become one (axis: the direction they run)."""
    across, end = 1 - axis, axis + 2
    out: list[Box] = []
    last: Box | None = None
    # by line, then along it (one sort, stable: as sorting by line and each line along it)
    for r in sorted(rules, key=itemgetter(across, axis)):
        if last is not None and r[across] == last[across] and r[axis] <= last[end] + tolerance:
            if r[end] > last[end]:
                last = (last[0], last[1], r[2], last[3]) if axis == 0 else (last[0], last[1], last[2], r[3])
        else:
            if last is not None:
                out.append(last)
            last = r
    if last is not None:
        out.append(last)
    return out


# point → (vertical rules, horizontal rules) through it, each rule by a number (a tuple of floats
# would be hashed again at every set operation)
Intersections = dict[Point, tuple[set[int], set[int]]]


def rules_to_intersections(horizontal: list[Box], vertical: list[Box], x_tolerance: float,
                           y_tolerance: float) -> Intersections:
    hs = sorted(horizontal, key=itemgetter(1, 0))
    tops = [r[1] for r in hs]
    numbers: dict[Box, int] = {}  # a rule's number (rules alike, one number): horizontal ones from 0 up
    hn = [numbers.setdefault(h, len(numbers)) for h in hs]
    downs: dict[Box, int] = {}  # vertical ones from -1 down
    points: Intersections = {}
    for v in sorted(vertical, key=itemgetter(0, 1)):
        x, top, bottom, vn = v[0], v[1], v[3], downs.setdefault(v, -1 - len(downs))
        for i in range(bisect_left(tops, top - 2 * y_tolerance), bisect_right(tops, bottom + 2 * y_tolerance)):
            h = hs[i]
            y = h[1]
            if (top <= y + y_tolerance and bottom >= y - y_tolerance  # pdfplumber's arithmetic
                    and h[0] - x_tolerance <= x <= h[2] + x_tolerance):
                through = points.get((x, y))
                if through is None:
                    points[x, y] = ({vn}, {hn[i]})
                else:
                    through[0].add(vn)
                    through[1].add(hn[i])
    return points


def _after(p: Point, rules: set[int], on: dict[int, list[Point]], points: Intersections, side: int) -> list[Point]:
    """The points after `p` on its row or column (`side`: 0 the vertical rules through a point, its
    column; 1 the horizontal ones, its row) joined to it by one of its `rules`, in order."""
    if len(rules) == 1:  # most points: those after it on its one rule
        (rule,) = rules
        along = on[rule]
        return along[bisect_right(along, p):]
    # the points after it on its row or column: on any rule through it (each rule's are in order)
    after = sorted({q for rule in rules for q in on[rule] if q > p})
    return [q for q in after if not rules.isdisjoint(points[q][side])]


def intersections_to_cells(points: Intersections) -> list[Box]:
    """For each point, the smallest cell it is the top left of: the nearest point below and to the
    right joined to it by a rule, whose corner closes the rectangle."""
    on: dict[int, list[Point]] = {}  # the points on each rule, in order
    ordered = sorted(points)
    for p in ordered:
        down, across = points[p]
        for rule in down:
            on.setdefault(rule, []).append(p)
        for rule in across:
            on.setdefault(rule, []).append(p)
    cells = []
    for p in ordered:
        down, across = points[p]
        right = _after(p, across, on, points, 1)
        if not right:
            continue
        # the nearest first: most often the next point down and the next one right close the cell
        for b in _after(p, down, on, points, 0):
            y, joined_b = b[1], points[b][1]
            for r in right:
                corner = points.get((r[0], y))
                if corner and not corner[0].isdisjoint(points[r][0]) and not corner[1].isdisjoint(joined_b):
                    cells.append((p[0], p[1], r[0], y))
                    break
            else:
                continue
            break
    return cells


def cells_to_tables(cells: list[Box]) -> list[list[Box]]:
    """Cells sharing a corner, transitively, are one table; tables of one cell are no table."""
    parent = list(range(len(cells)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[Point, int] = {}
    for i, (x0, top, x1, bottom) in enumerate(cells):
        for corner in ((x0, top), (x0, bottom), (x1, top), (x1, bottom)):
            j = owner.setdefault(corner, i)
            if j != i and parent[j] != parent[i]:  # (roots compared only when their parents differ)
                a, b = root(i), root(j)
                if a != b:
                    parent[a] = b
    tables: dict[int, list[Box]] = {}
    for i, cell in enumerate(cells):
        tables.setdefault(root(i), []).append(cell)
    return sorted((t for t in tables.values() if len(t) > 1), key=lambda t: min((c[1], c[0]) for c in t))

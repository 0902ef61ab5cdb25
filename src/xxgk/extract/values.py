"""What readings hand over and repairs mend: a placed `Cell`, a table's `Reading`, the `Cuts` of
glued digits — and a printed cell → the value the data contract wants, by the cell's type."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from ..formats import Format, Relation, Table
from ..formats.model import cell_specs
from .tokens import UNREAD, Token

Number = int | float


@dataclass(init=False)  # its own __init__: mypyc compiles it (a generated one runs interpreted)
class Cell:
    """A statutory cell as a reading placed it (readings in tables.py, repairs in repair.py, grid.py)."""

    value: Number | None
    token: Token | None  # where it was printed; None when derived or not printed
    inferred: str  # why the value is not simply what was printed in its place
    blank: bool  # printed as a blank ("", "/", "—")
    evidence: str  # what placed it (ParseResult.evidence); "" = the reading's own strategy

    def __init__(self, value: Number | None, token: Token | None = None, inferred: str = "", blank: bool = False,
                 evidence: str = "") -> None:
        self.value = value
        self.token = token
        self.inferred = inferred
        self.blank = blank
        self.evidence = evidence


Cut = list[tuple[Number, Token]]  # a row's values, each with the token it was cut from


@dataclass
class Cuts:
    """The cuts of a row's glued digits: how many the writing of numbers allows, and those the
    row's own totals keep (all of them when the row has no totals, the one when it is the only one)."""

    possible: int
    kept: list[Cut]
    weighed: bool = True  # False: too many cuts to weigh by the sums

    @property
    def unique(self) -> bool:
        return self.possible == 1 and len(self.kept) == 1


@dataclass
class Reading:
    """One way of placing a table's values (tables.py, grid.py), mended by repair.py."""

    table: Table
    variant: str
    strategy: str
    cells: dict[str, Cell]
    anchors: int = 0
    doubts: list[str] = field(default_factory=list)
    extras: list[Token] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # row key → label as printed
    short: dict[str, list[Token]] = field(default_factory=dict)  # rows printed with too few values
    stacked: bool = False  # labels printed one after another, then values no label places
    # rows of glued digits cut several ways: (cells, the cuts the row's totals keep, cuts possible)
    cuts: dict[str, tuple[tuple[str, ...], list[Cut], int]] = field(default_factory=dict)
    glued: dict[str, Cuts] = field(default_factory=dict)  # rows of glued digits not read, and why

    def values(self) -> dict[str, Number | None]:
        return {k: c.value for k, c in self.cells.items()}

    def score(self, relations: tuple[Relation, ...]) -> tuple[int, int, int]:
        """Lower is better: broken relations, cells not read, labels not used."""
        vals = self.values()
        broken = sum(1 for r in relations if r.kind == "eq" and r.holds(vals) is False)
        unread = sum(1 for c in self.cells.values() if c.value is None and not c.blank)
        return broken, unread, -self.anchors


def cell_value(token: Token, cell_type: str) -> Number | None:
    """The value of `token` in a cell of `cell_type`; raises ValueError when it cannot be one.

    "/", "—", "无" are blanks (None); a number OCR could not read (`unread`) is None too.
    Counts and signed values are integers ("+14" is 14);
    a negative count is kept for the audit to
    report; amounts are in 万元 ("251000元" is 25.1, a bare number is taken as 万元).
    """
    if token.kind == "blank" or unread(token):
        return None
    if token.kind != "value" or token.number is None:
        raise ValueError(f"not a number: {token.text!r}")
    if not token.sign and _bare(token):  # most cells: no Decimal arithmetic
        return float(token.text) if cell_type == "amount" else int(token.text)
    n: Decimal = token.number
    if cell_type == "amount":
        if token.unit == "元":
            n = n / Decimal(10000)
        return float(n)
    if n != n.to_integral_value():
        raise ValueError(f"{token.text!r} is not a whole number")
    if token.unit in ("元", "万元"):
        raise ValueError(f"{token.text!r} is an amount, not a count")
    return int(n)


def fits(token: Token, cell_type: str) -> bool:
    """Whether `cell_value` takes it (asked for every value and cell tried: no exception raised)."""
    if token.kind == "blank" or unread(token):
        return True
    if token.kind != "value" or token.number is None:
        return False
    if cell_type == "amount" or _bare(token):  # a bare count fits any cell
        return True
    return token.number == token.number.to_integral_value() and token.unit not in ("元", "万元")


def _bare(token: Token) -> bool:
    """A value printed as ASCII digits alone: a count as written (its sign, if any, not printed)."""
    return token.text.isdigit() and token.text.isascii()


def unread(token: Token) -> bool:
    """A number OCR saw printed but could not read ("?", tokens.UNREAD): it takes a cell of any
    type, whose value is unknown — null, never a blank nor a guess."""
    return token.kind == "value" and token.text == UNREAD


def unread_doubt(fmt: Format, key: str) -> str:
    """The doubt naming a cell printed with a number OCR could not read."""
    return f"{key}（{cell_specs()[fmt.id][key].label}）印有数字，OCR 未能辨认，留空"


def leave_unread(fmt: Format, reading: Reading) -> None:
    """Cells a reading gave a number OCR could not read: null, neither a blank nor a value (no
    evidence: the audit's 读取 finding names them), each named by a doubt."""
    for key, cell in reading.cells.items():
        if cell.token is not None and unread(cell.token):
            reading.cells[key] = Cell(None)
            reading.doubts.append(unread_doubt(fmt, key))

"""A printed cell → the value the data contract wants, by the cell's type."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .tokens import Token

Number = int | float


@dataclass
class Cell:
    """A statutory cell as a reading placed it (readings in tables.py, repairs in repair.py, grid.py)."""

    value: Number | None
    token: Token | None = None  # where it was printed; None when derived or not printed
    inferred: str = ""  # why the value is not simply what was printed in its place
    blank: bool = False  # printed as a blank ("", "/", "—")
    evidence: str = ""  # what placed it (ParseResult.evidence); "" = the reading's own strategy


def cell_value(token: Token, cell_type: str) -> Number | None:
    """The value of `token` in a cell of `cell_type`; raises ValueError when it cannot be one.

    "/", "—", "无" are blanks (None). Counts and signed values are integers ("+14" is 14);
    a negative count is kept for the audit to
    report; amounts are in 万元 ("251000元" is 25.1, a bare number is taken as 万元).
    """
    if token.kind == "blank":
        return None
    if token.kind != "value" or token.number is None:
        raise ValueError(f"not a number: {token.text!r}")
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
    if token.kind == "blank":
        return True
    if token.kind != "value" or token.number is None:
        return False
    if cell_type == "amount":
        return True
    return token.number == token.number.to_integral_value() and token.unit not in ("元", "万元")

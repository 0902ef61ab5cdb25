"""The parse result: the JSON the data contract (shared/spec/README.md) describes, and more."""

from __future__ import annotations

from typing import Literal, cast

import orjson
from pydantic import BaseModel, Field
from typing_extensions import TypedDict  # pydantic needs typing_extensions' on Python < 3.12

from . import PARSER_VERSION

Number = int | float


class Provenance(BaseModel):
    """Where a piece of text came from in the original file: a page and box (PDF, scans), or a table,
    row and column (web pages, Word files). Readers make these (ingest); a result keeps `Printed`."""

    page: int | None = None
    bbox: tuple[float, float, float, float] | None = None
    table: int | None = None
    row: int | None = None
    column: int | None = None
    ocr: bool | None = None  # read by OCR from a picture: may be misread


class Printed(TypedDict, total=False):
    """Where a cell's value was printed, as plain data: only the fields that say something (none is
    None or ""), in this order — for text the line and character span (1-based line, 0-based
    columns), else the place in the original file (`Provenance`'s fields).

    A report has some 200: plain dicts need no validation once made, and pydantic writes them in
    one pass of its own (models each needed a Python call to drop their empty fields)."""

    line: int
    col: tuple[int, int]
    offset: tuple[int, int]  # character offsets in the decoded text
    text: str  # as printed
    page: int
    bbox: tuple[float, float, float, float]
    table: int
    row: int
    column: int
    ocr: bool  # read by OCR from a picture: may be misread


def printed(where: Provenance, text: str) -> Printed:
    """A place in the original file with the text printed there, as a result keeps it."""
    given = {k: v for k, v in where.__dict__.items() if v is not None}
    return cast(Printed, {"text": text, **given} if text else given)


class Finding(BaseModel):
    rule: str
    severity: Literal["error", "warning", "info"]
    kind: Literal["source", "extraction"] = "source"
    cells: list[str] = Field(default_factory=list)
    message: str


class Region(BaseModel):
    """The administrative region the agency belongs to, as far as its name tells."""

    province: str | None = None
    city: str | None = None
    county: str | None = None


class ParseResult(BaseModel):
    source: str
    agency: str | None = None
    year: int | None = None
    template: Literal["2019", "2021"] | None = None
    published: str | None = None
    cells: dict[str, Number | None] = Field(default_factory=dict)
    findings: list[Finding] = Field(default_factory=list)
    # beyond the contract
    posted: str | None = None  # when the web page says it posted the report (published: the date it is signed with)
    region: Region | None = None  # of the agency
    agency_named_in: list[str] = Field(default_factory=list)  # the places that name the agency (title, signature…)
    variants: dict[str, str] = Field(default_factory=dict)  # table id → row variant read
    readings: dict[str, str] = Field(default_factory=dict)  # table id → how values were placed (labels, order…)
    provenance: dict[str, Printed] = Field(default_factory=dict)
    inferred: dict[str, str] = Field(default_factory=dict)  # cell → why it is not simply as printed
    # cell → what placed its value (or its blank): "grid" (a structured table's cell), "label" (after
    # its row label in text), "cut" (glued digits with one possible cut), "cut_sums" (glued digits,
    # the cut chosen by sums among several), "columns" (under its column heading), "order" (print
    # order, vouched by sums), "derived" (from totals)
    evidence: dict[str, str] = Field(default_factory=dict)
    blank: list[str] = Field(default_factory=list)  # cells printed blank ("", "/", "—")
    signs: dict[str, str] = Field(default_factory=dict)  # cells printed with "+" or "-"
    doubts: list[str] = Field(default_factory=list)  # what could not be read, and why
    extras: list[str] = Field(default_factory=list)  # values found in a table but in no statutory cell
    sections: dict[str, str] = Field(default_factory=dict)  # prose of 一, 五, 六
    found_sections: list[str] = Field(default_factory=list)  # numerals of the sections found, in order
    labels: dict[str, str] = Field(default_factory=dict)  # row → its label as printed ("|" between pieces)
    parser_version: str = PARSER_VERSION

    def to_json(self) -> str:
        """`model_dump_json()`, byte for byte, in 40 % of its time (a tenth of a text report's parse):
        every field but the findings and the region is plain data already, which orjson writes
        without a schema. What orjson does not write (an integer beyond 64 bits) pydantic does."""
        data = {**self.__dict__, "findings": [f.__dict__ for f in self.findings],
                "region": self.region.__dict__ if self.region is not None else None}
        try:
            return orjson.dumps(data).decode()
        except TypeError:
            return self.model_dump_json()

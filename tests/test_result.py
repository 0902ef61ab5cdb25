"""A result's JSON: `to_json` (what a batch writes) is pydantic's `model_dump_json`, byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xxgk.parse import parse_file
from xxgk.result import Finding, ParseResult, Printed, Region

from .conftest import REAL, SEEDS

text = st.text(max_size=12)  # any character pydantic writes (lone surrogates included: both refuse them)
number = st.one_of(st.none(), st.integers(), st.floats(allow_nan=True, allow_infinity=True))
floats = st.floats(allow_nan=False, allow_infinity=False, width=64)
printed = st.fixed_dictionaries({}, optional={  # as the parser makes them: only the fields that say something
    "line": st.integers(1, 10**6), "col": st.tuples(st.integers(0, 999), st.integers(0, 999)),
    "offset": st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)), "text": text,
    "page": st.integers(1, 999), "bbox": st.tuples(floats, floats, floats, floats),
    "table": st.integers(0, 99), "row": st.integers(0, 99), "column": st.integers(0, 99), "ocr": st.booleans()})
findings = st.builds(Finding, rule=text, severity=st.sampled_from(["error", "warning", "info"]),
                     kind=st.sampled_from(["source", "extraction"]), cells=st.lists(text, max_size=3), message=text)
results = st.builds(
    ParseResult, source=text, agency=st.none() | text, year=st.none() | st.integers(),
    template=st.sampled_from([None, "2019", "2021"]), published=st.none() | text,
    cells=st.dictionaries(text, number, max_size=6), findings=st.lists(findings, max_size=3),
    posted=st.none() | text, region=st.none() | st.builds(Region, province=st.none() | text, city=st.none() | text),
    agency_named_in=st.lists(text, max_size=2), variants=st.dictionaries(text, text, max_size=2),
    provenance=st.dictionaries(text, printed, max_size=4), inferred=st.dictionaries(text, text, max_size=2),
    blank=st.lists(text, max_size=2), doubts=st.lists(text, max_size=2),
    sections=st.dictionaries(text, text, max_size=2))


def _json(result: ParseResult) -> str:
    try:
        return result.model_dump_json()
    except ValueError:  # pydantic refuses what cannot be written (a lone surrogate)
        return "refused"


@settings(max_examples=300, deadline=None)
@given(results, st.dictionaries(text, printed, max_size=3))
def test_a_results_json_is_pydantics_byte_for_byte(result: ParseResult, added: dict[str, Printed]) -> None:
    result.provenance.update(added)  # the parser fills a result after it is made, unvalidated
    result.cells["big"] = result.year  # an integer beyond 64 bits is pydantic's to write
    try:
        mine = result.to_json()
    except ValueError:
        mine = "refused"
    assert mine == _json(result)


@pytest.mark.parametrize("path", sorted(SEEDS.glob("*.txt")) + sorted(REAL.glob("*.pdf")), ids=lambda p: p.name)
def test_a_parsed_reports_json_is_pydantics_byte_for_byte(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = parse_file(path)
    expected = result.model_dump_json()
    assert '"provenance":{"' in expected

    def refuse(self: ParseResult) -> str:
        raise AssertionError("written by pydantic, not orjson")

    monkeypatch.setattr(ParseResult, "model_dump_json", refuse)
    assert result.to_json() == expected

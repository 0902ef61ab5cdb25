"""The format declarations agree with the data contract and are internally consistent."""

from __future__ import annotations

import csv

from xxgk.formats import FORMATS, cell_specs

from .conftest import SHARED


def test_bundled_cells_tsv_is_the_shared_contract() -> None:
    shared = (SHARED / "spec" / "cells.tsv").read_text(encoding="utf-8")
    ours = cell_specs()
    rows = list(csv.DictReader(shared.splitlines(), delimiter="\t"))
    for rec in rows:
        for template in ("2019", "2021") if rec["template"] == "both" else (rec["template"],):
            assert ours[template][rec["key"]].type == rec["type"]
    assert sum(len(v) for v in ours.values()) == sum(2 if r["template"] == "both" else 1 for r in rows)


def test_every_declared_table_cell_is_a_contract_key_and_every_key_is_declared() -> None:
    for fid, fmt in FORMATS.items():
        declared = [k for t in fmt.tables for k in t.cells()]
        assert len(declared) == len(set(declared)), fid
        assert set(declared) == set(cell_specs()[fid]), fid


def test_relations_read_declared_cells_and_have_unique_ids() -> None:
    for fmt in FORMATS.values():
        keys = set(fmt.cell_keys)
        ids = [r.id for r in fmt.relations]
        assert len(ids) == len(set(ids))
        for r in fmt.relations:
            assert set(r.cells) <= keys, r.id
            assert "{left}" in r.text and "{right}" in r.text


def test_the_requests_table_has_the_statutory_relations_per_column_and_row() -> None:
    for fmt in FORMATS.values():
        rules = [r.rule for r in fmt.relations]
        assert rules.count("requests.balance") == 7
        assert rules.count("requests.results_sum") == 7
        assert rules.count("review.total") == 3
        assert rules.count("requests.row_total") == len(fmt.table("requests").rows)


def test_2021_variants_print_either_one_other_row_or_three() -> None:
    table = FORMATS["2021"].table("requests")
    split = {r.key for r in table.rows_for("split")}
    one = {r.key for r in table.rows_for("one_row")}
    assert "requests.other" in one and "requests.other" not in split
    assert {"requests.other.no_correction", "requests.other.unpaid_fee", "requests.other.other"} <= split
    assert len(table.rows_for("split")) == 25 and len(table.rows_for("one_row")) == 23

"""The national report formats as data: tables, rows, labels, relations."""

from .model import CellSpec, Column, Derived, Format, Relation, Row, Table, cell_specs
from .national import FORMAT_2019, FORMAT_2021, FORMATS, SECTIONS

__all__ = [
           "FORMATS",
           "FORMAT_2019",
           "FORMAT_2021",
           "SECTIONS",
           "CellSpec",
           "Column",
           "Derived",
           "Format",
           "Relation",
           "Row",
           "Table",
           "cell_specs",
]

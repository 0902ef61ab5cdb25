"""The extraction's hot modules, compiled by mypyc where the build could (setup.py), or pure Python.

The same source either way. Pure Python is loaded instead of the compiled files when
`XXGK_PURE=1`, when a file was not compiled, or when a source is newer than its compiled file (an
edit `make setup` has not rebuilt yet): all of them or none, since compiled modules share their
classes (a compiled `tables` takes only a compiled `tokens.Token`).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from types import ModuleType

# what setup.py compiles: what the text path's profile shows (normalising, tokenizing, reading the
# tables, the sums, placing the values, finding the sections, the metadata, the audit's rules), and
# the PDF path's (reading a ruled table's grid)
HOT = ("xxgk.textnorm", "xxgk.extract.tokens", "xxgk.extract.values", "xxgk.extract.labels", "xxgk.extract.repair",
       "xxgk.extract.tables", "xxgk.formats.model", "xxgk.extract.report", "xxgk.extract.sections",
       "xxgk.extract.meta", "xxgk.extract.grid", "xxgk.audit.rules", "xxgk.audit.arithmetic", "xxgk.audit.form",
       "xxgk.audit.prose", "xxgk.audit.legal", "xxgk.audit.years", "xxgk.audit.agency")
_HERE = Path(__file__).resolve().parent


def _compiled_file(name: str) -> Path | None:
    folder = _HERE.joinpath(*name.split(".")[1:-1])
    stem = name.rsplit(".", 1)[1]
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        if (folder / f"{stem}{suffix}").exists():
            return folder / f"{stem}{suffix}"
    return None


def _source(name: str) -> Path:
    return _HERE.joinpath(*name.split(".")[1:]).with_suffix(".py")


@cache
def pure() -> bool:
    """Whether the hot modules are loaded from their source (see the module's doc)."""
    if os.environ.get("XXGK_PURE", "") not in ("", "0"):
        return True
    for name in HOT:
        built = _compiled_file(name)
        if built is None or _source(name).stat().st_mtime > built.stat().st_mtime:
            return True
    return False


class _SourceFirst(importlib.abc.MetaPathFinder):
    """Finds the hot modules' source files when `pure()`; leaves every other import alone."""

    def find_spec(self, name: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if name not in HOT or not pure():
            return None
        return importlib.util.spec_from_file_location(name, _source(name))


def install() -> None:
    if not any(isinstance(f, _SourceFirst) for f in sys.meta_path):
        sys.meta_path.insert(0, _SourceFirst())


def loaded() -> dict[str, bool]:
    """{hot module: whether it runs compiled}, importing them."""
    return {name: not str(importlib.import_module(name).__file__).endswith(".py") for name in HOT}

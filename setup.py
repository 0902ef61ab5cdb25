"""Builds xxgk with the extraction's hot modules (xxgk.compiled.HOT) compiled by mypyc where mypy
(pinned in pyproject.toml's build requirements), a C compiler and Python's headers are present;
pure Python otherwise, or when XXGK_PURE=1. The compiled and the pure build pass the same tests
(tests/test_compiled.py)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import sysconfig
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


def hot() -> list[str]:
    """The files of xxgk.compiled.HOT (declared there, read without importing xxgk)."""
    spec = importlib.util.spec_from_file_location("xxgk_hot", Path(__file__).parent / "src/xxgk/compiled.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return [f"src/{name.replace('.', '/')}.py" for name in module.HOT]


BULK = "xxgk.ingest._pdfbulk"


def compiled() -> list:
    """mypyc's extensions of HOT and the PDF reader's C loops, or none (and why, on stderr)."""
    if os.environ.get("XXGK_PURE", "") not in ("", "0"):
        return []
    compiler = os.environ.get("CC", "cc").split()[0]
    if not shutil.which(compiler) or not Path(sysconfig.get_paths()["include"], "Python.h").exists():
        print("xxgk: no C compiler or no Python headers: building pure Python", file=sys.stderr)
        return []
    # PDFium's per-character and per-object calls made from C (xxgk.ingest.pdf uses Python loops
    # without it); the same double arithmetic as Python's: no a*b+c contracted into one rounding
    bulk = [Extension(BULK, ["src/xxgk/ingest/_pdfbulk.c"], extra_compile_args=["-ffp-contract=off"])]
    try:
        from mypyc.build import mypycify

        return bulk + mypycify(["--ignore-missing-imports", "--follow-imports=silent", *hot()],
                               group_name="xxgk_compiled")
    except (Exception, SystemExit) as e:  # mypy missing, or it finds a type mypyc cannot compile
        print(f"xxgk: mypyc could not compile the hot modules ({e!r}): building pure Python", file=sys.stderr)
        return bulk


class OptionalBuild(build_ext):
    """A compile or link that fails (another gcc, -Werror) leaves the pure Python: every hot module
    or none, since they share one library."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as e:
            print(f"xxgk: compiling the hot modules failed ({e!r}): building pure Python", file=sys.stderr)
            for ext in self.extensions:
                for path in (self.get_ext_fullpath(ext.name), Path("src", self.get_ext_filename(ext.name))):
                    Path(path).unlink(missing_ok=True)
            self.extensions = []

    def build_extension(self, ext: Extension) -> None:
        """The PDF reader's C loops alone failing leave the mypyc modules built (and pdf.py its
        Python loops)."""
        if ext.name != BULK:
            return super().build_extension(ext)
        try:
            super().build_extension(ext)
        except Exception as e:
            print(f"xxgk: compiling {BULK} failed ({e!r}): the PDF reader runs its Python loops", file=sys.stderr)
            Path(self.get_ext_fullpath(ext.name)).unlink(missing_ok=True)

    def get_outputs(self) -> list[str]:
        return [p for p in super().get_outputs() if Path(p).exists()]


setup(ext_modules=compiled(), cmdclass={"build_ext": OptionalBuild})

"""DOC, WPS, RTF and ODT files through LibreOffice headless: one converter process for a whole batch.

LibreOffice runs in a box (`xxgk.sandbox`): its own process group, killed whole when it overruns
its time (the `soffice` wrapper's `soffice.bin` would outlive a kill of the wrapper alone), with
limits on its memory and CPU time.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from pathlib import Path

from ..errors import ReportError
from ..sandbox import Limits, run_boxed
from .docx import read_docx
from .source import Source

TIMEOUT = 600  # seconds for a whole run, whatever its number of files
START, PER_FILE = 30, 30  # seconds: LibreOffice's start, then each file of the run
MEMORY_MB = 2048


def soffice() -> str:
    for name in ("soffice", "libreoffice"):
        path = shutil.which(name)
        if path:
            return path
    raise ReportError("DOC/WPS files need LibreOffice (make setup installs it)")


def limits_for(files: int) -> Limits:
    seconds = min(TIMEOUT, START + PER_FILE * files)
    return Limits(seconds=seconds, memory_mb=MEMORY_MB, cpu_seconds=max(1, math.ceil(seconds)))


def convert_to_docx(files: list[Path], out_dir: Path, limits: Limits | None = None) -> dict[Path, Path]:
    """Convert many DOC/WPS files in one LibreOffice run; {original: converted} for those that converted.
    Raises `sandbox.Stopped` (a ReportError) when the run overran its limits and was killed."""
    if not files:
        return {}
    with tempfile.TemporaryDirectory(prefix="xxgk-lo-") as profile:
        cmd = [soffice(), f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
               "--convert-to", "docx:MS Word 2007 XML", "--outdir", str(out_dir), *map(str, files)]
        run_boxed(cmd, limits or limits_for(len(files)), "LibreOffice's conversion")
    done = {}
    for f in files:
        target = out_dir / f"{f.stem}.docx"
        if target.exists() and target.stat().st_size > 0:
            done[f] = target
    return done


def read_legacy_word(data: bytes, name: str = "report.doc", kind: str = "ole") -> Source:
    """One DOC/WPS, RTF or ODT file (a batch converts all of its files up front with `convert_to_docx`)."""
    with tempfile.TemporaryDirectory(prefix="xxgk-doc-") as tmp:
        suffix = Path(name).suffix.lower()
        suffix = {"rtf": ".rtf", "odt": ".odt"}.get(kind, suffix if suffix in (".doc", ".wps") else ".doc")
        src = Path(tmp) / f"report{suffix}"
        src.write_bytes(data)
        converted = convert_to_docx([src], Path(tmp))
        if src not in converted:
            what = {"rtf": "RTF", "odt": "ODT"}.get(kind, "DOC/WPS")
            raise ReportError(f"LibreOffice could not convert this {what} file (corrupt, encrypted or not a document)")
        source = read_docx(converted[src].read_bytes())
    source.kind = "doc"
    return source

"""DOC, WPS, RTF and ODT files through LibreOffice headless: one converter process for a whole batch."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import ReportError
from .docx import read_docx
from .source import Source

TIMEOUT = 600


def soffice() -> str:
    for name in ("soffice", "libreoffice"):
        path = shutil.which(name)
        if path:
            return path
    raise ReportError("DOC/WPS files need LibreOffice (make setup installs it)")


def convert_to_docx(files: list[Path], out_dir: Path) -> dict[Path, Path]:
    """Convert many DOC/WPS files in one LibreOffice run; {original: converted} for those that converted."""
    if not files:
        return {}
    with tempfile.TemporaryDirectory(prefix="xxgk-lo-") as profile:
        cmd = [soffice(), f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
               "--convert-to", "docx:MS Word 2007 XML", "--outdir", str(out_dir), *map(str, files)]
        try:
            subprocess.run(cmd, capture_output=True, timeout=TIMEOUT, check=False)
        except subprocess.TimeoutExpired as e:
            raise ReportError("LibreOffice did not finish converting in time") from e
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

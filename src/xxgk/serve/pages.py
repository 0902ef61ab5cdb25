"""PDF pages for the report page: their widths and images.

PDFium is not thread-safe and the app serves these from a thread pool (a browser asks for every
page image at once), so every call into it holds one lock. A report's source never changes, so browsers may cache the
images (see the route).
"""

from __future__ import annotations

import io

from ..ingest.pdf import pdfium_held


def page_widths(data: bytes) -> list[float]:
    """Each page's width in points: the unit of the bounding boxes in provenance."""
    import pypdfium2

    with pdfium_held():
        pdf = pypdfium2.PdfDocument(data)
        try:
            return [pdf[i].get_size()[0] for i in range(len(pdf))]
        finally:
            pdf.close()


def page_png(data: bytes, number: int) -> bytes | None:
    """Page `number` (from 1) as PNG, or None when there is no such page."""
    import pypdfium2

    with pdfium_held():
        pdf = pypdfium2.PdfDocument(data)
        try:
            if not 1 <= number <= len(pdf):
                return None
            image = pdf[number - 1].render(scale=1.5).to_pil()
        finally:
            pdf.close()
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()

"""French OCR for PDF pages that have no text layer (scans).

A page is sent to OCR when pypdf finds no text on it but it draws at least one image: a page of
vector shapes only is not a scan, and OCR on it would only find noise. The page is rendered with
pypdfium2 (BSD-3/Apache-2.0, PDFium wheels: no system library) and read by Debian's tesseract with
its French model through pytesseract (Apache-2.0). Both imports are lazy: `coopter --help` and
text-only corpora never load them.
"""

from __future__ import annotations

import functools
import logging
import shutil

log = logging.getLogger(__name__)

LANG = "fra"
DPI = 300  # tesseract's accuracy drops below ~200 dpi on body text
INSTALL_HINT = "installez l'OCR français : apt-get install tesseract-ocr tesseract-ocr-fra"


class OcrUnavailable(Exception):
    """Tesseract or its French model is missing; the message says what to install (French)."""


@functools.lru_cache(maxsize=1)
def _check() -> str:
    """'' when French OCR works here, else the French reason."""
    if shutil.which("tesseract") is None:
        return f"tesseract absent ({INSTALL_HINT})"
    try:
        import pypdfium2  # noqa: F401
        import pytesseract
    except ImportError as exc:
        return f"module Python « {exc.name} » absent (pip install pytesseract pypdfium2)"
    try:
        langs = pytesseract.get_languages(config="")
    except Exception as exc:  # a broken install answers with an error, not a list
        return f"tesseract inutilisable ({type(exc).__name__} ; {INSTALL_HINT})"
    if LANG not in langs:
        return f"modèle français de tesseract absent ({INSTALL_HINT})"
    return ""


def available() -> bool:
    """True when pages can be OCR'd here (tesseract, its French model and the Python modules)."""
    return not _check()


def unavailable_reason() -> str:
    return _check()


def ocr_pages(pdf_path, page_numbers: list[int], dpi: int = DPI) -> dict[int, str]:
    """Text of the given 0-based pages, read by tesseract in French. Raises OcrUnavailable."""
    reason = _check()
    if reason:
        raise OcrUnavailable(reason)
    import pypdfium2 as pdfium
    import pytesseract

    out: dict[int, str] = {}
    pdf = pdfium.PdfDocument(str(pdf_path))
    try:
        for n in page_numbers:
            page = pdf[n]
            image = page.render(scale=dpi / 72, grayscale=True).to_pil()
            # --psm 3: automatic page segmentation, tesseract's default, fine for prose pages.
            out[n] = pytesseract.image_to_string(image, lang=LANG, config="--psm 3")
            page.close()
    finally:
        pdf.close()
    return out

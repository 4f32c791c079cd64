"""Read corpus files into `LoadedDoc`s: Markdown, plain text, HTML, PDF, DOCX, ODT.

Every problem a user can meet is a `CorpusError` naming the file and the reason, so the
pipeline can skip that file and carry on with the others.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from assistant.errors import CorpusError

from .metadata import SIDECAR_SUFFIX, DocMeta, read_sidecar, sidecar_path, split_front_matter

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".md", ".markdown", ".txt"}
HTML_SUFFIXES = {".html", ".htm"}
PDF_SUFFIXES = {".pdf"}
OFFICE_SUFFIXES = {".docx", ".odt", ".pptx"}  # read by ingest/office.py
SUPPORTED = TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES | OFFICE_SUFFIXES
SCAN_TEXT_CHARS = 40  # less text than this on a page with an image: a scan, read by OCR
WESTERN_ENCODINGS = ["cp1252", "latin_1", "iso8859_15", "mac_roman", "cp850"]


@dataclass
class LoadedDoc:
    doc_id: str
    path: Path
    meta: DocMeta
    content_hash: str
    text: str = ""  # Markdown-like text (headings as #) for md/txt/html/docx/odt
    pages: list[str] = field(default_factory=list)  # one string per page, for PDF
    ocr_pages: set[int] = field(default_factory=set)  # 1-based pages whose text came from OCR
    notes: list[str] = field(default_factory=list)  # things worth telling the user


def discover(corpus_dir: Path) -> list[Path]:
    """Corpus files, sorted; sidecars and hidden files are not documents."""
    files = []
    for p in sorted(corpus_dir.rglob("*")):
        rel = p.relative_to(corpus_dir)
        if not p.is_file() or any(part.startswith((".", "_")) for part in rel.parts):
            continue
        if p.name.endswith(SIDECAR_SUFFIX) or rel.as_posix() == "sources.yaml":  # web pages list: ingest/websync.py
            continue
        files.append(p)
    return files


def doc_id_for(path: Path, corpus_dir: Path) -> str:
    rel = path.relative_to(corpus_dir)
    return rel.with_suffix("").as_posix()


def _hash(*blobs: bytes) -> str:
    h = hashlib.sha256()
    for b in blobs:
        h.update(len(b).to_bytes(8, "big"))
        h.update(b)
    return h.hexdigest()[:32]


def decode_text(raw: bytes, path: Path) -> tuple[str, str | None]:
    """Decode bytes as text: UTF-8 first, else the detected encoding.

    Returns (text, encoding used when it was not UTF-8). Raises CorpusError for binary data.
    """
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise CorpusError(str(path), "encodage UTF-16 illisible : enregistrez le fichier en UTF-8") from None
    if b"\x00" in raw[:4096]:
        raise CorpusError(str(path), "ce n'est pas un fichier texte (contenu binaire)")
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    # A French corpus that is not UTF-8 is almost always in a Western encoding; restricting
    # detection to those avoids reading « à » as « ą » on short files.
    best = from_bytes(raw, cp_isolation=WESTERN_ENCODINGS).best()
    if best is None:
        raise CorpusError(str(path), "encodage illisible : enregistrez le fichier en UTF-8")
    text = str(best)
    printable = sum(c.isprintable() or c.isspace() for c in text[:5000]) / max(1, len(text[:5000]))
    if printable < 0.95:
        raise CorpusError(str(path), "ce n'est pas un fichier texte lisible : enregistrez-le en UTF-8")
    return text, best.encoding


class _HtmlToMarkdown(HTMLParser):
    """Keep headings, paragraphs and list items; drop scripts, styles and navigation."""

    SKIP = {"script", "style", "nav", "footer", "header", "noscript", "svg", "form"}
    BLOCKS = {"p", "div", "section", "article", "br", "tr", "blockquote", "dd", "dt", "table"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip_depth = 0
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skip_depth += 1
        elif tag == "title":
            self._in_title = True
        elif re.fullmatch(r"h[1-6]", tag):
            self.out.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag == "li":
            self.out.append("\n- ")
        elif tag in self.BLOCKS:
            self.out.append("\n\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag == "title":
            self._in_title = False
        elif re.fullmatch(r"h[1-6]", tag) or tag in self.BLOCKS or tag in ("ul", "ol"):
            self.out.append("\n\n")

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        elif not self.skip_depth:
            self.out.append(re.sub(r"\s+", " ", data))

    def markdown(self) -> str:
        text = "".join(self.out)
        text = re.sub(r"[ \t]+\n", "\n", text)
        text = re.sub(r"\n- \s*\n", "\n", text)
        return re.sub(r"\n{3,}", "\n\n", text).strip()


def html_to_markdown(html: str) -> str:
    parser = _HtmlToMarkdown()
    parser.feed(html)
    parser.close()
    return parser.markdown()


def _has_images(page) -> bool:
    try:
        return len(page.images) > 0
    except Exception:  # an unreadable image dictionary: treat the page as having none
        return False


def _read_pdf(path: Path) -> tuple[list[str], set[int], list[str]]:
    """(text of each page, 1-based pages read by OCR, notes). A page with no text layer but an
    image is a scan: French OCR reads it (ingest/ocr.py); without tesseract, a fully scanned PDF
    is refused saying what to install, a partly scanned one is kept with a note."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path), strict=False)
        if reader.is_encrypted:
            # An owner-password-only PDF opens with the empty password; a user password does not.
            try:
                ok = reader.decrypt("")
            except Exception:
                ok = 0
            if not ok:
                raise CorpusError(str(path), "PDF chiffré par mot de passe : fournissez une version non protégée")
        pages = [(page.extract_text() or "") for page in reader.pages]
        # A scan may carry a short digital stamp (page number, date): under SCAN_TEXT_CHARS
        # characters of text, a page with an image is still read by OCR.
        scans = [
            i for i, (page, text) in enumerate(zip(reader.pages, pages))
            if len(text.strip()) < SCAN_TEXT_CHARS and _has_images(page)
        ]
    except CorpusError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, AssertionError) as exc:
        raise CorpusError(str(path), f"PDF illisible ou corrompu ({type(exc).__name__})") from None
    except Exception as exc:  # pypdf raises many internal types on damaged files
        if "crypt" in str(exc).lower():
            raise CorpusError(str(path), "PDF chiffré : fournissez une version non protégée") from None
        raise CorpusError(str(path), f"PDF illisible ou corrompu ({type(exc).__name__})") from None
    if not pages:
        raise CorpusError(str(path), "PDF sans aucune page")
    ocr_done: set[int] = set()
    notes: list[str] = []
    if scans:
        from . import ocr

        if ocr.available():
            try:
                for i, text in ocr.ocr_pages(path, scans).items():
                    if text.strip():
                        pages[i] = text
                        ocr_done.add(i + 1)
            except Exception as exc:  # pdfium/tesseract failing on one file must not stop the run
                raise CorpusError(str(path), f"OCR impossible sur ce PDF ({type(exc).__name__})") from None
        elif not any(p.strip() for p in pages):
            raise CorpusError(str(path), f"aucun texte extractible (PDF scanné) : {ocr.unavailable_reason()}")
        else:
            notes.append(f"{len(scans)} page(s) scannée(s) non lue(s) : {ocr.unavailable_reason()}")
    if not any(p.strip() for p in pages):
        raise CorpusError(
            str(path), "aucun texte extractible (PDF scanné ?) : fournissez une version texte ou océrisée"
        )
    return [clean_pdf_text(p) for p in pages], ocr_done, notes


ITEM_START_RE = re.compile(r"^\s*([-•▶]|\d+[.)])\s")


def clean_pdf_text(text: str) -> str:
    """Undo the usual extraction damage: hyphenated line breaks, hard-wrapped lines."""
    text = re.sub(r"(\w)-\n(\w)", r"\1\2", text)
    lines = [ln.rstrip() for ln in text.splitlines()]
    # A line much shorter than the page's usual line ends its paragraph (or is a title, an
    # author, a date line): joining it to the next one glued mastheads to the first sentence.
    lengths = sorted(len(ln.strip()) for ln in lines if ln.strip())
    usual = lengths[len(lengths) // 2] if len(lengths) >= 5 else 0
    paragraphs, current = [], []
    for ln in lines:
        if not ln.strip():
            if current:
                paragraphs.append(" ".join(current))
                current = []
            continue
        if ITEM_START_RE.match(ln) and current:
            paragraphs.append(" ".join(current))
            current = []
        elif (current and ITEM_START_RE.match(current[0]) and re.search(r"[.!?…»]$", current[-1])
              and re.match(r"^[«A-ZÀ-ÖØ-Þ]", ln.strip())):
            # A sentence that starts a line after a list item's last sentence is the paragraph after
            # the list: the extraction dropped the blank line between them.
            paragraphs.append(" ".join(current))
            current = []
        current.append(ln.strip())
        if usual and len(ln.strip()) < 0.6 * usual and not ln.rstrip().endswith((",", "-")):
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return "\n\n".join(paragraphs)


def load(path: Path, corpus_dir: Path, max_file_mb: float = 50.0) -> LoadedDoc:
    """Load one corpus file. Raises CorpusError with a French reason when it cannot be used."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise CorpusError(
            str(path), f"format non pris en charge « {suffix or 'sans extension'} » (PDF, Markdown, texte, HTML, Word .docx, OpenDocument .odt, PowerPoint .pptx)"
        )
    size = path.stat().st_size
    if size == 0:
        raise CorpusError(str(path), "fichier vide")
    if size > max_file_mb * 1024 * 1024:
        raise CorpusError(
            str(path), f"fichier trop volumineux ({size / 1e6:.0f} Mo > {max_file_mb:.0f} Mo, réglage max_file_mb)"
        )
    raw = path.read_bytes()
    doc_id = doc_id_for(path, corpus_dir)
    notes: list[str] = []

    if suffix in PDF_SUFFIXES:
        meta = read_sidecar(path)
        pages, ocr_pages, notes = _read_pdf(path)
        side = sidecar_path(path).read_bytes()
        # Scanned pages left unread change the hash, so the file is read again once OCR is installed.
        content_hash = _hash(raw, side, b"sans-ocr") if notes else _hash(raw, side)
        return LoadedDoc(doc_id, path, meta, content_hash, pages=pages, ocr_pages=ocr_pages, notes=notes)

    if suffix in OFFICE_SUFFIXES:
        from .office import read_office

        office = read_office(path)
        meta = read_sidecar(path, defaults=office.properties)
        side = sidecar_path(path).read_bytes()
        return LoadedDoc(doc_id, path, meta, _hash(raw, side), text=office.text, pages=office.pages)

    text, encoding = decode_text(raw, path)
    if encoding:
        notes.append(f"encodage détecté : {encoding} (converti en UTF-8)")
    if suffix in HTML_SUFFIXES:
        meta = read_sidecar(path)
        body = html_to_markdown(text)
        content_hash = _hash(raw, sidecar_path(path).read_bytes())
    else:
        meta, body = split_front_matter(text, path)
        content_hash = _hash(raw)
    if not body.strip():
        raise CorpusError(str(path), "aucun texte après les métadonnées")
    return LoadedDoc(doc_id, path, meta, content_hash, text=body, notes=notes)

"""Word (.docx), OpenDocument text (.odt) and PowerPoint (.pptx) files → text for the chunker.

Headings become `#` lines (so they give the section path and `section_access` works as for
Markdown), list items `- ` lines, table rows `| a | b |` lines; the document's own title and
creation date are returned so the sidecar may leave them out.

Libraries, chosen for the structure they expose: python-docx (MIT) gives each paragraph's style,
outline level and numbering and each table in document order; odfdo (Apache-2.0, maintained,
unlike odfpy) exports ODT to Markdown with heading levels, nested lists and tables. Both need
only lxml. Neither format stores page numbers (the layout is computed by the word processor), so
chunks from these files carry a section, not a page. A .pptx (python-pptx, MIT) has slides: each
becomes a page, so its chunks carry the slide number; the slide title opens the slide's text.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from assistant.errors import CorpusError

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc, .xls, and password-protected .docx


@dataclass
class OfficeText:
    text: str  # Markdown-like: "#" headings, "- " items, "| a | b |" rows
    properties: dict[str, str] = field(default_factory=dict)  # title/date found in the file
    pages: list[str] = field(default_factory=list)  # one per slide, for .pptx


def read_office(path: Path) -> OfficeText:
    """Read a .docx or .odt file. Raises CorpusError (French reason) when it cannot be used."""
    head = path.read_bytes()[:8]
    if head.startswith(OLE_MAGIC):
        raise CorpusError(
            str(path), "document Office chiffré par mot de passe ou au format ancien (.doc) : enregistrez-le en .docx sans mot de passe"
        )
    if not zipfile.is_zipfile(path):
        raise CorpusError(str(path), "document Office illisible ou corrompu (ce n'est pas une archive valide)")
    reader = {".docx": _read_docx, ".pptx": _read_pptx}.get(path.suffix.lower(), _read_odt)
    try:
        result = reader(path)
    except CorpusError:
        raise
    except Exception as exc:  # both libraries raise many internal types on damaged files
        raise CorpusError(str(path), f"document Office illisible ou corrompu ({type(exc).__name__})") from None
    result.text = _tidy(result.text)
    result.pages = [_tidy(p) for p in result.pages]
    if not result.text.strip() and not any(p.strip() for p in result.pages):
        raise CorpusError(str(path), "aucun texte dans le document")
    return result


def _date(value) -> str:
    if isinstance(value, (datetime, date)) and value.year > 1900:
        return value.strftime("%Y-%m-%d")
    return ""


def _props(title, created) -> dict[str, str]:
    props = {}
    if title and str(title).strip():
        props["title"] = str(title).strip()
    if _date(created):
        props["date"] = _date(created)
    return props


def _tidy(text: str) -> str:
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return text + "\n" if text else ""


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(re.sub(r"\s+", " ", c).strip() for c in cells) + " |"


# --- DOCX ---------------------------------------------------------------------------------


def _heading_level(paragraph) -> int:
    """1-6 for a heading, 0 otherwise: the style name (Title, Heading N) or else an outline level
    set on the paragraph or its style chain (custom or localised heading styles)."""
    style = paragraph.style
    name = (style.name or "") if style is not None else ""
    if name == "Title":
        return 1
    m = re.fullmatch(r"(?:Heading|Titre)\s*(\d)", name)
    if m:
        return min(6, max(1, int(m.group(1))))
    elements = [paragraph._p.pPr]
    while style is not None:
        elements.append(style.element.pPr)
        style = style.base_style
    for ppr in elements:
        lvl = ppr.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}outlineLvl") if ppr is not None else None
        if lvl is not None:
            value = int(lvl.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}val", "9"))
            if value < 9:  # 9 means "body text"
                return min(6, value + 1)
    return 0


def _list_level(paragraph) -> int | None:
    """Nesting level (0-based) of a list item, None for an ordinary paragraph. Numbering is set
    on the paragraph (ilvl) or inherited from a list style (List Bullet, List Number...)."""
    ppr = paragraph._p.pPr
    if ppr is not None and ppr.numPr is not None:
        ilvl = ppr.numPr.ilvl
        return int(ilvl.val) if ilvl is not None else 0
    style = paragraph.style
    while style is not None:
        sppr = style.element.pPr
        if sppr is not None and sppr.numPr is not None:
            m = re.search(r"(\d)$", style.name or "")
            return int(m.group(1)) - 1 if m else 0
        style = style.base_style
    return None


def _read_docx(path: Path) -> OfficeText:
    import docx
    from docx.table import Table

    document = docx.Document(str(path))
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            lines.append("")
            for row in block.rows:
                cells, seen = [], set()
                for cell in row.cells:  # a merged cell is repeated once per grid column
                    if id(cell._tc) not in seen:
                        seen.add(id(cell._tc))
                        cells.append(cell.text)
                lines.append(_row(cells))
            lines.append("")
            continue
        text = block.text.replace("\t", " ").strip()
        if not text:
            continue
        level = _heading_level(block)
        if level:
            lines += ["", "#" * level + " " + re.sub(r"\s+", " ", text), ""]
            continue
        depth = _list_level(block)
        if depth is not None:
            lines.append("  " * depth + "- " + text)
        else:
            lines += ["", text, ""]
    cp = document.core_properties
    return OfficeText("\n".join(lines), _props(cp.title, cp.created or cp.modified))


# --- ODT ----------------------------------------------------------------------------------


def _unescape(m: re.Match) -> str:
    start = m.start() == 0 or m.string[m.start() - 1] == "\n"
    return m.group(0) if (m.group(1) == "#" and start) else m.group(1)


def _read_odt(path: Path) -> OfficeText:
    from odfdo import Document

    with zipfile.ZipFile(path) as archive:
        manifest = archive.read("META-INF/manifest.xml") if "META-INF/manifest.xml" in archive.namelist() else b""
    if b"encryption-data" in manifest:
        raise CorpusError(str(path), "document OpenDocument chiffré par mot de passe : fournissez une version non protégée")
    document = Document(str(path))
    if document.get_type() not in ("text", "text-template"):
        raise CorpusError(str(path), f"document OpenDocument de type « {document.get_type()} » : seul le texte (.odt) est lu")
    text = document.to_markdown()
    # odfdo writes " -  item" and a "|---|" rule under each table's first row: normalise both.
    text = re.sub(r"(?m)^( *)-  +", r"\1- ", re.sub(r"(?m)^ (\s*-)", r"\1", text))
    text = re.sub(r"(?m)^\|(?:\s*:?-+:?\s*\|)+\s*$\n?", "", text)
    text = re.sub(r"(?m)^\|.*\|$", lambda m: re.sub(r" {2,}", " ", m.group(0)), text)  # cell padding
    # It also backslash-escapes Markdown punctuation (« l\_ESS », « non\-lieu »): the chunker
    # reads headings only, so undo it, except a "#" opening a line (it would become a heading).
    text = re.sub(r"\\([\\`*_{}\[\]()#+\-.!|>~<])", _unescape, text)
    meta = document.meta
    return OfficeText(text, _props(meta.get_title(), meta.get_creation_date() or meta.get_modification_date()))


# --- PPTX ---------------------------------------------------------------------------------


def _shape_lines(shape) -> list[str]:
    """Text of one shape: paragraphs (bulleted by their level), table rows, grouped shapes."""
    from pptx.enum.shapes import MSO_SHAPE_TYPE, PP_PLACEHOLDER

    if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
        return [line for sub in _reading_order(shape.shapes) for line in _shape_lines(sub)]
    if getattr(shape, "has_table", False) and shape.has_table:
        return [_row([cell.text for cell in row.cells]) for row in shape.table.rows]
    if not getattr(shape, "has_text_frame", False) or not shape.has_text_frame:
        return []
    lines = []
    for para in shape.text_frame.paragraphs:
        text = "".join(run.text for run in para.runs).strip() or para.text.strip()
        if text:
            # Body placeholders are bulleted lists in practice; a text box's paragraphs are not.
            bulleted = shape.is_placeholder and shape.placeholder_format.type in (PP_PLACEHOLDER.BODY, PP_PLACEHOLDER.OBJECT)
            lines.append(("  " * para.level + "- " + text) if bulleted else text)
    return lines


def _reading_order(shapes):
    return sorted(shapes, key=lambda s: ((s.top or 0), (s.left or 0)))


def _read_pptx(path: Path) -> OfficeText:
    from pptx import Presentation

    deck = Presentation(str(path))
    pages = []
    for slide in deck.slides:
        title_shape = slide.shapes.title
        lines = []
        if title_shape is not None and title_shape.has_text_frame and title_shape.text_frame.text.strip():
            lines.append(re.sub(r"\s+", " ", title_shape.text_frame.text).strip())
        for shape in _reading_order(slide.shapes):
            if shape is not None and title_shape is not None and shape.shape_id == title_shape.shape_id:
                continue
            lines += _shape_lines(shape)
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            notes = slide.notes_slide.notes_text_frame.text.strip()
            if notes:
                lines.append("Notes : " + re.sub(r"\s+", " ", notes))
        pages.append("\n".join(lines))
    cp = deck.core_properties
    return OfficeText("", _props(cp.title, cp.created or cp.modified), pages=pages)

#!/usr/bin/env python3
"""Render a simple Markdown file to an A4 PDF with fpdf2 and the DejaVu Unicode fonts.

Usage:
    python scripts/md2pdf.py SRC.md OUT.pdf [--title T] [--author A] [--page-break-before TEXT]

Supported Markdown: ATX headings (# to ######), paragraphs (consecutive lines are joined),
"- " / "* " bullets, **bold** (rendered bold), *italics* and [text](url) links (rendered as plain
text). Anything else is printed as it is written.

fpdf2's built-in fonts are Latin-1 only and fail on « œ », « ’ » or « — », so the text is set in
DejaVu Sans (regular for the body, bold for headings). The PDF metadata title and author come
from --title/--author, else from the corpus sidecar OUT.pdf.meta.yaml when it exists (its
`title` and `authors`), else the title falls back to the first heading of SRC.md.

Set SOURCE_DATE_EPOCH to get a reproducible creation date.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_REGULAR = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
FAMILY = "DejaVu"

MARGIN_MM = 22
BODY_PT = 11
LINE_H = 5.6  # mm, for an 11 pt body
HEADING_PT = {1: 17, 2: 13.5, 3: 12, 4: 11, 5: 11, 6: 11}
BULLET = "•"
BULLET_INDENT_MM = 6

HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
BULLET_RE = re.compile(r"^\s*[-*+]\s+(.*)$")
BOLD_RE = re.compile(r"\*\*(.+?)\*\*")


@dataclass
class Block:
    kind: str  # "heading", "paragraph" or "bullet"
    text: str
    level: int = 0


def parse_markdown(text: str) -> list[Block]:
    """Split Markdown into headings, paragraphs and bullet items, in order."""
    blocks: list[Block] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            blocks.append(Block("paragraph", " ".join(para)))
            para.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            flush()
            continue
        heading = HEADING_RE.match(line)
        bullet = BULLET_RE.match(line)
        if heading:
            flush()
            blocks.append(Block("heading", heading.group(2), len(heading.group(1))))
        elif bullet:
            flush()
            blocks.append(Block("bullet", bullet.group(1)))
        elif blocks and blocks[-1].kind == "bullet" and not para and raw[:1].isspace():
            blocks[-1].text += " " + line  # continuation line of a bullet item
        else:
            para.append(line)
    flush()
    return blocks


def strip_inline(text: str, keep_bold: bool = False) -> str:
    """Drop link targets and emphasis markers (but **bold** when keep_bold)."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    if not keep_bold:
        text = BOLD_RE.sub(r"\1", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)([^*]+?)(?<!\s)\*(?![\w*])", r"\1", text)
    text = re.sub(r"(?<!\w)_(?!\s)([^_]+?)(?<!\s)_(?!\w)", r"\1", text)
    return text


def read_sidecar(out: Path) -> dict:
    side = out.with_name(out.name + ".meta.yaml")
    if not side.is_file():
        return {}
    try:
        import yaml
    except ImportError:
        return {}
    data = yaml.safe_load(side.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


class Renderer:
    def __init__(self, title: str, author: str):
        for path in (FONT_REGULAR, FONT_BOLD):
            if not path.is_file():
                sys.exit(f"police introuvable : {path} (paquet fonts-dejavu-core)")
        pdf = FPDF(orientation="P", unit="mm", format="A4")
        pdf.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
        pdf.set_auto_page_break(True, margin=MARGIN_MM)
        pdf.add_font(FAMILY, "", str(FONT_REGULAR))
        pdf.add_font(FAMILY, "B", str(FONT_BOLD))
        pdf.set_title(title)
        if author:
            pdf.set_author(author)
        pdf.set_creator("scripts/md2pdf.py (fpdf2)")
        pdf.set_lang("fr")
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        if epoch:
            pdf.set_creation_date(dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc))
        pdf.add_page()
        self.pdf = pdf

    def heading(self, block: Block) -> None:
        pdf = self.pdf
        size = HEADING_PT[block.level]
        pdf.ln(4 if block.level == 1 else 3)
        pdf.set_font(FAMILY, "B", size)
        pdf.multi_cell(0, size * 0.5, strip_inline(block.text), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2.5)

    def inline(self, text: str) -> None:
        """Write running text from the current position, switching to bold for **runs**."""
        pdf = self.pdf
        parts = BOLD_RE.split(strip_inline(text, keep_bold=True))
        for i, part in enumerate(parts):
            if part:
                pdf.set_font(FAMILY, "B" if i % 2 else "", BODY_PT)
                pdf.write(LINE_H, part)
        pdf.ln(LINE_H)

    def paragraph(self, block: Block) -> None:
        self.inline(block.text)
        self.pdf.ln(2.2)

    def bullet(self, block: Block) -> None:
        pdf = self.pdf
        left = pdf.l_margin
        pdf.set_font(FAMILY, "", BODY_PT)
        pdf.set_x(left + 1.5)
        pdf.cell(BULLET_INDENT_MM - 1.5, LINE_H, BULLET)
        pdf.set_left_margin(left + BULLET_INDENT_MM)  # hanging indent for wrapped lines
        try:
            self.inline(block.text)
        finally:
            pdf.set_left_margin(left)
        pdf.ln(1.2)

    def render(self, blocks: list[Block], break_before: str | None) -> FPDF:
        for block in blocks:
            if break_before and strip_inline(block.text).startswith(break_before):
                self.pdf.add_page()
                break_before = None
            getattr(self, block.kind)(block)
        return self.pdf


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Markdown simple → PDF A4 (fpdf2, police DejaVu).")
    parser.add_argument("src", type=Path, help="fichier Markdown source")
    parser.add_argument("out", type=Path, help="PDF à écrire")
    parser.add_argument("--title", help="titre des métadonnées PDF (défaut : sidecar, sinon premier titre)")
    parser.add_argument("--author", help="auteur des métadonnées PDF (défaut : sidecar authors)")
    parser.add_argument(
        "--page-break-before",
        metavar="TEXT",
        help="commencer une nouvelle page avant le premier bloc dont le texte commence par TEXT",
    )
    args = parser.parse_args(argv)

    blocks = parse_markdown(args.src.read_text(encoding="utf-8"))
    if not blocks:
        parser.error(f"{args.src} ne contient aucun texte")
    sidecar = read_sidecar(args.out)
    first_heading = next((strip_inline(b.text) for b in blocks if b.kind == "heading"), args.src.stem)
    title = args.title or str(sidecar.get("title") or first_heading)
    authors = sidecar.get("authors") or []
    if isinstance(authors, str):
        authors = [authors]
    author = args.author or ", ".join(str(a) for a in authors)

    pdf = Renderer(title, author).render(blocks, args.page_break_before)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(args.out))
    print(f"{args.out} : {pdf.pages_count} page(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

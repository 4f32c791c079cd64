#!/usr/bin/env python3
"""Generate the corpus's Word (.docx) and OpenDocument (.odt) files from Markdown sources.

Usage:
    python scripts/make-office-docs.py [--sources scripts/office-sources] [--corpus corpus]

Each `scripts/office-sources/NAME.md` carries YAML front matter with an `output` key (the path of
the file to write, relative to the corpus, ending in .docx or .odt) and the corpus metadata. The
script writes that file, with the title and creation date set in the document's own properties,
and its sidecar `<file>.meta.yaml` holding the other keys: the title is left out of the sidecar
on purpose, so the shipped corpus exercises « title defaults to the document's properties ».

Supported Markdown: ATX headings, paragraphs, "- " bullets (indent 2 spaces per level), pipe
tables, **bold**; link targets and emphasis markers are dropped. The zip entries get a fixed
timestamp (SOURCE_DATE_EPOCH, else the document date) so that re-running the script on unchanged
sources gives byte-identical files and `coopter ingest` re-embeds nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
FRONT_RE = re.compile(r"\A---\n(.*?)\n---\n", re.S)
HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
BULLET_RE = re.compile(r"^(\s*)[-*+]\s+(.*)$")
ROW_RE = re.compile(r"^\s*\|(.*)\|\s*$")
RULE_RE = re.compile(r"^\s*\|(\s*:?-+:?\s*\|)+\s*$")


@dataclass
class Block:
    kind: str  # heading, paragraph, bullet, table
    text: str = ""
    level: int = 0
    rows: list[list[str]] | None = None


def strip_inline(text: str) -> str:
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    return re.sub(r"(?<![\w*])\*(?!\s)([^*]+?)(?<!\s)\*(?![\w*])", r"\1", text)


def parse(markdown: str) -> list[Block]:
    blocks: list[Block] = []
    para: list[str] = []

    def flush():
        if para:
            blocks.append(Block("paragraph", strip_inline(" ".join(para))))
            para.clear()

    for raw in markdown.splitlines():
        line = raw.strip()
        if not line:
            flush()
            continue
        if (m := HEADING_RE.match(line)):
            flush()
            blocks.append(Block("heading", strip_inline(m.group(2)), len(m.group(1))))
        elif RULE_RE.match(raw):
            continue
        elif (m := ROW_RE.match(raw)):
            flush()
            cells = [strip_inline(c.strip()) for c in m.group(1).split("|")]
            if blocks and blocks[-1].kind == "table":
                blocks[-1].rows.append(cells)
            else:
                blocks.append(Block("table", rows=[cells]))
        elif (m := BULLET_RE.match(raw)):
            flush()
            blocks.append(Block("bullet", strip_inline(m.group(2)), len(m.group(1)) // 2))
        else:
            para.append(line)
    flush()
    return blocks


def as_datetime(date: str) -> dt.datetime:
    parts = [int(p) for p in str(date).split("-")] + [1, 1]
    return dt.datetime(parts[0], parts[1], parts[2], 12, 0, tzinfo=dt.timezone.utc)


def write_docx(blocks: list[Block], out: Path, title: str, created: dt.datetime, author: str) -> None:
    import docx

    document = docx.Document()
    for b in blocks:
        if b.kind == "heading":
            document.add_heading(b.text, min(b.level, 9))
        elif b.kind == "bullet":
            document.add_paragraph(b.text, style="List Bullet" if not b.level else f"List Bullet {min(b.level + 1, 3)}")
        elif b.kind == "table":
            width = max(len(r) for r in b.rows)
            table = document.add_table(rows=len(b.rows), cols=width)
            table.style = "Table Grid"
            for i, row in enumerate(b.rows):
                for j, cell in enumerate(row):
                    table.cell(i, j).text = cell
        else:
            document.add_paragraph(b.text)
    cp = document.core_properties
    cp.title, cp.author, cp.last_modified_by, cp.language = title, author, author, "fr-FR"
    cp.created = cp.modified = created.replace(tzinfo=None)
    cp.revision = 1
    document.save(str(out))


def write_odt(blocks: list[Block], out: Path, title: str, created: dt.datetime, author: str) -> None:
    from odfdo import Document, Header, List, ListItem, Paragraph, Table

    document = Document("text")
    body = document.body
    lists: list = []  # open lists, outermost first, while consecutive bullets come
    for b in blocks:
        if b.kind != "bullet":
            lists = []
        if b.kind == "heading":
            body.append(Header(b.level, b.text))
        elif b.kind == "bullet":
            level = min(b.level, len(lists))
            del lists[level + 1:]
            if level == len(lists):
                new = List()
                (lists[-1].get_items()[-1] if lists else body).append(new)
                lists.append(new)
            lists[level].append(ListItem(b.text))
        elif b.kind == "table":
            width = max(len(r) for r in b.rows)
            table = Table("Tableau", width=width, height=len(b.rows))
            for i, row in enumerate(b.rows):
                for j, cell in enumerate(row):
                    table.set_value((j, i), cell)
            body.append(table)
        else:
            body.append(Paragraph(b.text))
    meta = document.meta
    meta.set_title(title)
    meta.set_creation_date(created.replace(tzinfo=None))
    meta.set_modification_date(created.replace(tzinfo=None))
    meta.set_initial_creator(author)
    meta.set_language("fr-FR")
    meta.set_generator("scripts/make-office-docs.py (odfdo)")
    meta.set_editing_cycles(1)
    document.save(str(out))


def fix_zip_times(path: Path, when: dt.datetime) -> None:
    """Rewrite the archive with one timestamp for every entry, keeping order and compression
    (an ODT's `mimetype` must stay first and stored)."""
    stamp = (max(1980, when.year), when.month, when.day, when.hour, when.minute, 0)
    with zipfile.ZipFile(path) as src:
        entries = [(info, src.read(info)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w") as dst:
        for info, data in entries:
            new = zipfile.ZipInfo(info.filename, date_time=stamp)
            new.compress_type = info.compress_type
            new.external_attr = 0o644 << 16
            dst.writestr(new, data)


def generate(src: Path, corpus: Path) -> Path:
    text = src.read_text(encoding="utf-8")
    m = FRONT_RE.match(text)
    if not m:
        sys.exit(f"{src} : bloc de métadonnées (--- ... ---) absent")
    meta = yaml.safe_load(m.group(1))
    out = corpus / meta.pop("output")
    blocks = parse(text[m.end():])
    title = str(meta["title"])
    created = as_datetime(meta["date"])
    author = ", ".join(meta.get("authors") or []) or "coopter-assistant"
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = {".docx": write_docx, ".odt": write_odt}.get(out.suffix)
    if writer is None:
        sys.exit(f"{src} : sortie {out.name} non prise en charge (.docx ou .odt)")
    writer(blocks, out, title, created, author)
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    fix_zip_times(out, dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc) if epoch else created)

    sidecar = {k: v for k, v in meta.items() if k != "title"}
    sidecar["office_note"] = (
        f"{out.suffix[1:].upper()} produit par scripts/make-office-docs.py à partir de "
        f"scripts/office-sources/{src.name} ; titre lu dans les propriétés du document"
    )
    side = out.with_name(out.name + ".meta.yaml")
    side.write_text(yaml.safe_dump(sidecar, allow_unicode=True, sort_keys=False, width=200), encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Sources Markdown → fichiers .docx / .odt du corpus.")
    parser.add_argument("--sources", type=Path, default=ROOT / "scripts" / "office-sources")
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    args = parser.parse_args(argv)
    sources = sorted(args.sources.glob("*.md"))
    if not sources:
        parser.error(f"aucune source .md dans {args.sources}")
    for src in sources:
        out = generate(src, args.corpus)
        print(f"{src.name} → {out.relative_to(args.corpus.parent) if out.is_relative_to(args.corpus.parent) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

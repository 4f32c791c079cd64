"""What is a reference and not content: bibliographic lines, link lists, provenance notes.

Ingestion marks a chunk `kind = "references"` when its section is a references section
(« Pour aller plus loin », « Bibliographie »…) or when most of its lines are references. Such
chunks stay searchable (a user may look for a source) but are never answer material; the
answer step also drops reference lines found inside ordinary chunks, with the same rules.
"""

from __future__ import annotations

import re

KIND_TEXT = "text"
KIND_REFERENCES = "references"

ITEM_RE = re.compile(r"^\s*(?:[-•▶*]|\d+[.)])\s+")
REFERENCE_SECTION_RE = re.compile(r"pour aller plus loin|r[ée]f[ée]rences|bibliographie|\bsources?\b|liens?\b", re.I)
REFERENCE_LINE_RE = re.compile(
    r"(^(fiche|page|note|document|guide|aide-mémoire)( de travail)? (rédigée?|créée?|synthétique)\b)|www\.|https?://"
    r"|^pour (en savoir plus|aller plus loin)\b",
    re.I,
)
MONTHS = r"(janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre)"
# « Titre, Éditeur, 2022. », « Carnet des projets – ADEME. 2024 »: a short line ending in a date.
BIBLIO_RE = re.compile(r"^.{0,160}[,.–—]\s*(" + MONTHS + r"\s+)?(19|20)\d\d\.?$", re.I)
# A dated issue's title: « Cap sur COOP'TER Janvier 2025 – Le journal du programme… ».
DATED_TITLE_RE = re.compile(r"^[^.!?]{0,80}\b" + MONTHS + r"\s+(19|20)\d\d\s*[–—]\s*[^.!?]{0,160}$", re.I)
# A resource's title standing alone: « Annuaire des accompagnateurs COOP'TER ».
RESOURCE_RE = re.compile(r"^(carnet|annuaire|guide|site( internet)?|publication|rapport|points? de rep[èe]re|"
                         r"lettre|dossier|webinaire|vidéo|boîte à outils)\b[^.!?]{0,120}$", re.I)


def is_reference(line: str) -> bool:
    """Bibliographic lines, links and provenance notes: searchable, never answer content."""
    line = ITEM_RE.sub("", line.strip()).strip()
    return bool(REFERENCE_LINE_RE.search(line) or BIBLIO_RE.match(line) or RESOURCE_RE.match(line)
                or DATED_TITLE_RE.match(line))


def is_reference_section(section: str) -> bool:
    return bool(REFERENCE_SECTION_RE.search(section or ""))


def chunk_kind(section: str, text: str) -> str:
    """`references` for a references section or a chunk made mostly of reference lines."""
    if is_reference_section(section):
        return KIND_REFERENCES
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if lines and 2 * sum(is_reference(ln) for ln in lines) > len(lines):
        return KIND_REFERENCES
    return KIND_TEXT

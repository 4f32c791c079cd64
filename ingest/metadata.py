"""Document metadata: YAML front matter (Markdown, text) or a `<file>.meta.yaml` sidecar (PDF, HTML,
DOCX, ODT; for the last two, title and date default to the document's own properties).

Required: title, type, access, date, source. Optional: authors, publisher, themes, language,
section_access (raise the access of sections by heading), date_note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.errors import CorpusError
from assistant.schema import ACCESS_LEVELS, DOC_TYPES, access_rank

REQUIRED = ("title", "type", "access", "date", "source")
DATE_RE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
FRONT_MATTER_RE = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(\r?\n|\Z)", re.S)
SIDECAR_SUFFIX = ".meta.yaml"


@dataclass
class DocMeta:
    title: str
    type: str
    access: str
    date: str
    source: str
    authors: list[str] = field(default_factory=list)
    publisher: str = ""
    themes: list[str] = field(default_factory=list)
    language: str = "fr"
    section_access: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v).strip() for v in value if str(v).strip()]


def parse_meta(data: Any, path: Path | str) -> DocMeta:
    """Validate a metadata mapping. Raises CorpusError naming the file and the problem."""
    if not isinstance(data, dict):
        raise CorpusError(str(path), "métadonnées absentes ou mal formées (un bloc YAML clé: valeur est attendu)")
    missing = [k for k in REQUIRED if not str(data.get(k) or "").strip()]
    if missing:
        raise CorpusError(str(path), f"métadonnée(s) manquante(s) : {', '.join(missing)}")
    access = str(data["access"]).strip()
    if access not in ACCESS_LEVELS:
        raise CorpusError(
            str(path), f"niveau d'accès inconnu « {access} » (attendu : {', '.join(ACCESS_LEVELS)})"
        )
    doc_type = str(data["type"]).strip()
    if doc_type not in DOC_TYPES:
        raise CorpusError(str(path), f"type inconnu « {doc_type} » (attendu : {', '.join(DOC_TYPES)})")
    date = str(data["date"]).strip()
    if not DATE_RE.match(date):
        raise CorpusError(str(path), f"date « {date} » invalide (formats : AAAA, AAAA-MM ou AAAA-MM-JJ)")
    section_access = {}
    for heading, level in (data.get("section_access") or {}).items():
        level = str(level).strip()
        if level not in ACCESS_LEVELS:
            raise CorpusError(
                str(path), f"niveau d'accès inconnu « {level} » pour la section « {heading} »"
            )
        if access_rank(level) < access_rank(access):
            raise CorpusError(
                str(path), f"la section « {heading} » ne peut pas être moins protégée que le document"
            )
        section_access[str(heading).strip()] = level
    known = set(REQUIRED) | {"authors", "publisher", "themes", "language", "section_access"}
    return DocMeta(
        title=str(data["title"]).strip(),
        type=doc_type,
        access=access,
        date=date,
        source=str(data["source"]).strip(),
        authors=_as_list(data.get("authors")),
        publisher=str(data.get("publisher") or "").strip(),
        themes=[t.lower() for t in _as_list(data.get("themes"))],
        language=str(data.get("language") or "fr"),
        section_access=section_access,
        extra={k: v for k, v in data.items() if k not in known},
    )


def _yaml(text: str, path: Path):
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        where = f" (ligne {line + 1})" if line is not None else ""
        raise CorpusError(str(path), f"YAML des métadonnées illisible{where}") from None


def split_front_matter(text: str, path: Path) -> tuple[DocMeta, str]:
    """Return (metadata, body) of a Markdown/text file with front matter."""
    m = FRONT_MATTER_RE.match(text)
    if not m:
        raise CorpusError(
            str(path), "pas de bloc de métadonnées en tête de fichier (--- title: ... ---)"
        )
    return parse_meta(_yaml(m.group(1), path), path), text[m.end():]


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def read_sidecar(path: Path, defaults: dict[str, str] | None = None) -> DocMeta:
    """Metadata of a PDF/HTML/Office file from its `<file>.meta.yaml`; `defaults` (the document's
    own title/date properties) fill keys the sidecar leaves out."""
    side = sidecar_path(path)
    if not side.is_file():
        raise CorpusError(str(path), f"fichier de métadonnées absent : créez {side.name}")
    try:
        text = side.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CorpusError(str(side), "métadonnées non encodées en UTF-8") from None
    data = _yaml(text, side)
    if defaults and isinstance(data, dict):
        data = {**{k: v for k, v in defaults.items() if v}, **{k: v for k, v in data.items() if v not in (None, "")}}
    return parse_meta(data, side)

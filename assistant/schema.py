"""The store's schema and the small typed values passed between stages.

Defined once here; ingestion writes it, retrieval reads it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any

COLLECTION = "coopter"
SCHEMA_VERSION = 1

# Access levels, lowest to highest. A user sees their level and below.
ACCESS_LEVELS: tuple[str, ...] = ("public", "community", "staff")
ACCESS_LABELS_FR = {"public": "Public", "community": "Communauté", "staff": "Équipe"}

DOC_TYPES: tuple[str, ...] = ("note", "guide", "fiche-projet", "article", "page")
DOC_TYPE_LABELS_FR = {
    "note": "notes",
    "guide": "guides",
    "fiche-projet": "fiches projets",
    "article": "articles",
    "page": "pages",
}

# Chunk metadata keys (Chroma metadata values must be str/int/float/bool).
K_DOC_ID = "doc_id"
K_DOC_HASH = "doc_hash"
K_TITLE = "title"
K_SECTION = "section"
K_PAGE = "page"  # 0 when the document has no pages
K_ACCESS = "access"
K_ACCESS_RANK = "access_rank"
K_TYPE = "type"
K_DATE = "date"
K_DATE_NUM = "date_num"  # YYYYMMDD, missing parts as 00, for range filters
K_SOURCE = "source"
K_THEMES = "themes"  # "|"-joined, for display
K_THEME_PREFIX = "theme__"  # one boolean key per theme, for filtering
K_AUTHORS = "authors"
K_PATH = "path"
K_POSITION = "position"
K_OCR = "ocr"  # True on chunks whose text was read by OCR from a scanned page; absent otherwise
K_KIND = "kind"  # "text" or "references" (bibliography, links: searchable, never answer content)

# The index database beside the store (assistant/manifest.py): lexical index and manifest.
INDEX_DIR_NAME = "lexical"  # <store>/lexical unless `index_dir` is set
INDEX_DB_NAME = "index.sqlite3"
INDEX_SCHEMA_VERSION = 1


def access_rank(level: str) -> int:
    """Rank of an access level (0 = public). Raises ValueError on an unknown level."""
    try:
        return ACCESS_LEVELS.index(level)
    except ValueError:
        raise ValueError(
            f"niveau d'accès inconnu « {level} » (attendu : {', '.join(ACCESS_LEVELS)})"
        ) from None


def fold(text: str) -> str:
    """Lowercase and strip accents: « Collectivités » -> « collectivites »."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def theme_key(theme: str) -> str:
    """Metadata key of a theme flag: « écosystème coopératif » -> theme__ecosysteme_cooperatif."""
    slug = "".join(c if c.isalnum() else "_" for c in fold(theme.strip()))
    return K_THEME_PREFIX + "_".join(p for p in slug.split("_") if p)


def date_num(date: str) -> int:
    """'2025-03' -> 20250300; '' -> 0."""
    parts = [p for p in str(date).split("-") if p]
    if not parts:
        return 0
    y = int(parts[0])
    m = int(parts[1]) if len(parts) > 1 else 0
    d = int(parts[2]) if len(parts) > 2 else 0
    return y * 10000 + m * 100 + d


@dataclass
class Chunk:
    """A piece of a document, ready to embed and store."""

    id: str
    doc_id: str
    text: str
    title: str
    section: str
    page: int | None
    access: str
    type: str
    date: str
    source: str
    themes: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    path: str = ""
    position: int = 0
    doc_hash: str = ""
    ocr: bool = False  # text read by OCR (ingest/ocr.py)
    kind: str = "text"

    def embedding_text(self) -> str:
        """What the embedder sees: title and section give the passage its context."""
        head = self.title if not self.section else f"{self.title} — {self.section}"
        return f"{head}\n{self.text}"

    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {
            K_DOC_ID: self.doc_id,
            K_DOC_HASH: self.doc_hash,
            K_TITLE: self.title,
            K_SECTION: self.section,
            K_PAGE: self.page or 0,
            K_ACCESS: self.access,
            K_ACCESS_RANK: access_rank(self.access),
            K_TYPE: self.type,
            K_DATE: self.date,
            K_DATE_NUM: date_num(self.date),
            K_SOURCE: self.source,
            K_THEMES: "|".join(self.themes),
            K_AUTHORS: "|".join(self.authors),
            K_PATH: self.path,
            K_POSITION: self.position,
            K_KIND: self.kind,
        }
        if self.ocr:  # set only when true, so other chunks keep exactly the metadata they had
            meta[K_OCR] = True
        for theme in self.themes:
            meta[theme_key(theme)] = True
        return meta


@dataclass
class Passage:
    """A stored chunk as retrieval returns it, with its score."""

    chunk_id: str
    text: str
    meta: dict[str, Any]
    score: float = 0.0
    dense: float | None = None  # cosine similarity to the question, when known

    @property
    def doc_id(self) -> str:
        return self.meta.get(K_DOC_ID, "")

    @property
    def title(self) -> str:
        return self.meta.get(K_TITLE, "")

    @property
    def section(self) -> str:
        return self.meta.get(K_SECTION, "")

    @property
    def page(self) -> int | None:
        return self.meta.get(K_PAGE) or None

    @property
    def access(self) -> str:
        return self.meta.get(K_ACCESS, "staff")

    @property
    def type(self) -> str:
        return self.meta.get(K_TYPE, "")

    @property
    def source(self) -> str:
        return self.meta.get(K_SOURCE, "")

    @property
    def date(self) -> str:
        return self.meta.get(K_DATE, "")

    @property
    def themes(self) -> list[str]:
        raw = self.meta.get(K_THEMES, "")
        return [t for t in raw.split("|") if t]

    @property
    def ocr(self) -> bool:
        return bool(self.meta.get(K_OCR))


@dataclass
class Citation:
    """A passage cited in an answer as [n]."""

    n: int
    doc_id: str
    title: str
    section: str
    page: int | None
    access: str
    source: str
    text: str
    score: float
    type: str = ""
    date: str = ""
    chunk_id: str = ""
    highlights: list[str] = field(default_factory=list)
    ocr: bool = False  # the passage comes from a scanned page read by OCR

    @classmethod
    def from_passage(cls, n: int, p: Passage, highlights: list[str] | None = None) -> Citation:
        return cls(
            n=n,
            doc_id=p.doc_id,
            title=p.title,
            section=p.section,
            page=p.page,
            access=p.access,
            source=p.source,
            text=p.text,
            # Cosine similarity to the question when known: readable, unlike a fused rank score.
            score=round(float(p.dense if p.dense is not None else p.score), 4),
            type=p.type,
            date=p.date,
            chunk_id=p.chunk_id,
            highlights=list(highlights or []),
            ocr=p.ocr,
        )

    def to_json(self) -> dict[str, Any]:
        """The CLI contract's citation object."""
        return {
            "n": self.n,
            "doc_id": self.doc_id,
            "title": self.title,
            "section": self.section,
            "page": self.page,
            "access": self.access,
            "source": self.source,
            "text": self.text,
            "score": self.score,
        }


@dataclass
class Answer:
    """What the assistant returns for one question."""

    question: str
    answer: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    standalone_question: str = ""
    # Every passage retrieved (already access-checked), for evaluation only; never shown to users.
    retrieved: list[Passage] = field(default_factory=list, repr=False)
    confidence: float = 0.0
    # With a refusal: questions the corpus answers, nearest to the one asked (the web app offers
    # them as buttons).
    suggestions: list[str] = field(default_factory=list)
    # Why it abstained (Draft.reason), for evaluation only: `evals.diagnose` counts them.
    abstain_reason: str = field(default="", repr=False)

    def to_json(self) -> dict[str, Any]:
        """The CLI contract: question, answer, abstained, citations, timings_ms."""
        return {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [c.to_json() for c in self.citations],
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "suggestions": self.suggestions,
        }


def as_dict(obj: Any) -> dict[str, Any]:
    return asdict(obj)

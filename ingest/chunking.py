"""Structure-first chunking: headings, then paragraphs, then a token cap with overlap.

The cap is measured with the embedder's own tokenizer, on the text the embedder actually sees
(title and section included), so nothing falls past the model's sequence limit unembedded.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from assistant.schema import Chunk, access_rank, fold

from .loaders import LoadedDoc
from .references import chunk_kind

# What stored chunks owe to this code (splitting, token cap, metadata, `chunk_kind`'s rules in
# references.py, the PDF text cleanup of loaders.clean_pdf_text, the terms of
# assistant.lexical.analyze). Bump it when a change must reach chunks already stored: the next
# `coopter ingest` re-chunks (and re-embeds) every document, as their content hash alone would not say.
CHUNKING_VERSION = 4

HEADING_RE = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
FENCE_RE = re.compile(r"^\s*(```|~~~)")


@dataclass
class Section:
    path: list[str]  # heading path, outermost first
    body: str


def split_sections(markdown: str) -> list[Section]:
    """Cut Markdown at headings; each section keeps its full heading path."""
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    lines: list[str] = []
    in_fence = False

    def flush():
        body = "\n".join(lines).strip()
        if body:
            sections.append(Section([h for _, h in stack], body))
        lines.clear()

    for line in markdown.splitlines():
        if FENCE_RE.match(line):
            in_fence = not in_fence
        m = None if in_fence else HEADING_RE.match(line)
        if m:
            flush()
            level, heading = len(m.group(1)), _clean_heading(m.group(2))
            while stack and stack[-1][0] >= level:
                stack.pop()
            if heading:
                stack.append((level, heading))
        else:
            lines.append(line)
    flush()
    return sections


def _clean_heading(text: str) -> str:
    text = re.sub(r"[*_`]+", "", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"\s+", " ", text).strip(" >")


def _clean_body(text: str) -> str:
    """Markdown emphasis and link targets add nothing to a cited passage."""
    text = re.sub(r"\[([^\]]*)\]\((#|https?://[^)]*)\)", r"\1", text)
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"\1", text)
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def section_label(path: list[str], title: str) -> str:
    """'A > B', without a top heading that only repeats the document title."""
    if path and fold(path[0]) == fold(title):
        path = path[1:]
    return " > ".join(path)


def section_access(path: list[str], doc_access: str, overrides: dict[str, str]) -> str:
    """The highest of the document's level and any override matching a heading of the path."""
    level = doc_access
    folded = {fold(k): v for k, v in overrides.items()}
    for heading in path:
        override = folded.get(fold(heading))
        if override and access_rank(override) > access_rank(level):
            level = override
    return level


# A page that stops mid-sentence (« … administrative et concurrentielle, ») and a next page that
# goes on in lower case: the sentence was cut by the page break, not by its author.
SENTENCE_END_RE = re.compile(r"[.!?…:;»\")]\s*$")
LAST_SENTENCE_RE = re.compile(r"(?:^|(?<=[.!?…»])\s+|\n\s*\n)(?=[^.!?…]*$)", re.S)
MAX_CARRIED = 600  # characters; a longer tail is a layout artefact, left where it is


def mend_page_breaks(pages: list[str]) -> list[str]:
    """Pages where a sentence cut by a page break starts on the page that ends it: the cut tail
    of a page moves to the head of the next one, so that no chunk starts or ends mid-sentence
    (an extractive answer cannot quote half a sentence; the citation gives the page it ends on)."""
    out = list(pages)
    for i in range(len(out) - 1):
        here, nxt = out[i].rstrip(), out[i + 1].lstrip()
        if not here or not nxt or SENTENCE_END_RE.search(here) or not nxt[0].islower():
            continue
        starts = [m.end() for m in LAST_SENTENCE_RE.finditer(here)]
        start = starts[-1] if starts else 0
        tail = here[start:].strip()
        if not tail or len(tail) > MAX_CARRIED:
            continue
        out[i] = here[:start].rstrip()
        out[i + 1] = f"{tail} {nxt}"
    return out


class Chunker:
    """Turns a LoadedDoc into Chunks sized for `embedder`."""

    def __init__(self, embedder, chunk_tokens: int = 200, overlap: int = 40):
        self.embedder = embedder
        self.chunk_tokens = chunk_tokens
        self.overlap = overlap
        self._splitters: dict[int, object] = {}

    def _tokens(self, text: str) -> list:
        n = self.embedder.count_tokens(text)
        return [0] * n  # SentenceSplitter only needs the length

    def _splitter(self, budget: int):
        if budget not in self._splitters:
            from llama_index.core.node_parser import SentenceSplitter

            self._splitters[budget] = SentenceSplitter(
                chunk_size=budget,
                chunk_overlap=min(self.overlap, budget // 4),
                tokenizer=self._tokens,
                paragraph_separator="\n\n",
                include_metadata=False,
                include_prev_next_rel=False,
            )
        return self._splitters[budget]

    def _split(self, text: str, header: str) -> list[str]:
        # Room left for the body once the title/section header is embedded with it.
        room = self.embedder.max_tokens - self.embedder.count_tokens(header) - 8
        budget = max(48, min(self.chunk_tokens, room))
        if self.embedder.count_tokens(text) <= budget:
            return [text]
        return [t for t in self._splitter(budget).split_text(text) if t.strip()]

    def chunk(self, doc: LoadedDoc) -> list[Chunk]:
        """Chunks in document order, with stable ids (hash of doc id, position and text)."""
        meta = doc.meta
        pieces: list[tuple[str, str, int | None, str]] = []  # text, section, page, access
        if doc.pages:
            for page_no, page_text in enumerate(mend_page_breaks(doc.pages), start=1):
                if not page_text.strip():
                    continue  # a page whose only, unfinished, sentence went on to the next one
                for text in self._split(page_text, meta.title):
                    pieces.append((text, "", page_no, meta.access))
        else:
            for sec in split_sections(doc.text):
                label = section_label(sec.path, meta.title)
                access = section_access(sec.path, meta.access, meta.section_access)
                body = _clean_body(sec.body)
                if not body:
                    continue
                for text in self._split(body, f"{meta.title} — {label}"):
                    pieces.append((text, label, None, access))

        chunks = []
        for position, (text, section, page, access) in enumerate(pieces):
            digest = hashlib.sha256(f"{doc.doc_id}\x1f{position}\x1f{text}".encode()).hexdigest()[:24]
            chunks.append(
                Chunk(
                    id=digest,
                    doc_id=doc.doc_id,
                    text=text,
                    title=meta.title,
                    section=section,
                    page=page,
                    access=access,
                    type=meta.type,
                    date=meta.date,
                    source=meta.source,
                    themes=meta.themes,
                    authors=meta.authors or ([meta.publisher] if meta.publisher else []),
                    path=str(doc.path),
                    position=position,
                    doc_hash=doc.content_hash,
                    ocr=page in doc.ocr_pages,
                    kind=chunk_kind(section, text),
                )
            )
        return chunks

"""The Python API: `Assistant.ask(question, role=..., conversation=...)` -> Answer.

The CLI, the web app and the evaluation all go through this class.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ingest.references import KIND_REFERENCES

from . import access
from .answer import Draft, LLMBackend, abstention_text, confidence, finish_llm, to_citations
from .asked import (
    CROSS_SOURCE_Q_RE,
    REFERS_BACK_RE,
    RESOURCE_Q_RE,
    SAME_Q_RE,
    SOURCES_Q_RE,
    asking_sentences,
    compared_acronyms,
    name_terms,
    named_authors,
    question_kind,
    question_names,
    unknown_name,
)
from .conversation import (
    Conversation,
    Turn,
    condense_heuristic,
    looks_like_follow_up,
    ordinal_item,
    stays_on_subject,
)
from .errors import QuestionError
from .extractive import EXAMPLES_MAX, EXAMPLES_PART_RE, PARTS_RE, compose, experience_names, is_experience
from .language import NOT_FRENCH_NOTE, is_french
from .lexical import analyze, content_words
from .named_docs import (
    asked_reserved_level,
    mentions_documents,
    named_documents,
    named_section,
    named_visible_documents,
    unseen_named_document,
    unseen_named_section,
)
from .retrieval import Filters, Retriever
from .schema import Answer, Passage, access_rank
from .settings import Settings, load_settings
from .store import META_LAST_INGEST, check_embedder, open_store
from .suggestions import StarterIndex, closest_documents
from .units import SentenceCache

log = logging.getLogger(__name__)


@dataclass
class DocInfo:
    doc_id: str
    title: str
    type: str
    date: str
    access: str
    source: str
    themes: list[str]
    chunks: int


MAX_QUESTION_CHARS = 2000  # ~ the 512 tokens the embedder reads; longer costs seconds per 1 000 characters


def clean_question(question: str | None) -> str:
    """The question stripped, lone surrogates (undecodable bytes of a command-line argument)
    replaced. Raises QuestionError when it is longer than MAX_QUESTION_CHARS."""
    question = (question or "").encode("utf-8", "replace").decode("utf-8").strip()
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"question trop longue ({len(question)} caractères, au plus {MAX_QUESTION_CHARS}) : posez une question plus courte"
        )
    return question


CROSS_SOURCE_EXTRA = 3  # passages added for a question that crosses sources, tuned on the dev split
AUTHOR_POOL = 40  # passages searched for each named author's own best ones
EXPERIENCE_POOL = 20  # passages searched for the experiences a question asking for examples hears
NAMED_POOL = 10  # BM25 hits searched for a passage that names a thing compared (3 missed Strasbourg behind long context)
AUTHOR_PASSAGES = 2  # passages each named author brings at most


class Assistant:
    """Answers French questions over the store, within the asker's clearance."""

    def __init__(self, settings: Settings | None = None, embedder=None):
        from ingest.embedder import load_embedder

        self.settings = settings or load_settings()
        self.store = open_store(self.settings)  # a missing store fails before the model loads
        self.embedder = embedder or load_embedder(self.settings)
        check_embedder(self.store, self.embedder)
        self.retriever = Retriever(self.store, self.embedder, self.settings)
        self.sentences = SentenceCache(self.embedder)  # unit vectors, computed once per chunk
        self._llm: LLMBackend | None = None
        self._starters: StarterIndex | None = None  # embedded on the first refusal
        self._authors: dict[tuple[int, int], dict[str, list[str]]] = {}  # (rank, generation) -> doc authors
        self._meta_terms: dict[tuple[int, int], frozenset[str]] = {}  # (rank, generation) -> title and author words

    # -- backends ---------------------------------------------------------------------------
    @property
    def llm(self) -> LLMBackend | None:
        if self.settings.backend == "extractive":
            return None
        if self._llm is None:
            self._llm = LLMBackend(self.settings)
        return self._llm

    # -- conversation -----------------------------------------------------------------------
    def standalone(self, question: str, conversation: Conversation | None) -> str:
        """A follow-up rewritten so that it can be searched on its own."""
        if not conversation or not conversation.turns:
            return question
        if self.llm is not None and looks_like_follow_up(question):
            return self.llm.condense(conversation.history_text(), question)
        return condense_heuristic(conversation, question)

    # -- answering ----------------------------------------------------------------------------
    def searched_types(self, role: str) -> list[str]:
        """Types of the documents `role` may see (for the abstention message), from the manifest."""
        return self.store.index().doc_types(access.check_role(role))

    def _prepare(self, question, role, conversation, filters, mode):
        role = access.check_role(role)
        if conversation is not None:
            conversation.check(role)
        question = clean_question(question)
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        standalone = self.standalone(question, conversation)
        timings["condense_ms"] = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        # A question that crosses sources needs passages from more documents (dev split: +3).
        k = self.settings.top_k + CROSS_SOURCE_EXTRA if CROSS_SOURCE_Q_RE.search(question) else None
        passages = self.retriever.retrieve(standalone, role, filters, k=k, mode=mode, timings=timings) if question else []
        if passages and all(p.meta.get("kind") == KIND_REFERENCES for p in passages) and not RESOURCE_Q_RE.search(question):
            # « …la lecture de Demoustier en 2013 colle-t-elle avec leur publi de 2025 ? »: names and
            # years match the reading lists and provenance lines, which say nothing on the subject.
            pool = self.retriever.retrieve(standalone, role, filters, k=self.settings.candidates, mode=mode)
            passages = [p for p in pool if p.meta.get("kind") != KIND_REFERENCES][: k or self.settings.top_k] or passages
        if k is not None:
            passages += self._named_passages(question, role, filters, passages)
        passages += self._author_passages(question, standalone, role, filters, passages)
        passages += self._experience_passages(question, standalone, role, filters, passages)
        passages += self._spelled_out(question, role, filters, passages)
        timings["retrieve_ms"] = (time.perf_counter() - t0) * 1000
        return role, question, standalone, passages, timings

    def _named_passages(self, question, role, filters, have) -> list[Passage]:
        """« Points communs entre la Fabrique à initiatives et La Place ? »: each thing compared
        brings its own best passage (BM25 on its name and the question), when retrieval of the
        whole question left it out."""
        seen = {p.chunk_id for p in have}
        out: list[Passage] = []
        for name in question_names(question):
            if any(name & name_terms(f"{p.text} {p.title}") for p in have + out):
                continue
            hits = self.retriever.lexical(role).search(" ".join(sorted(name)) + " " + content_words(question), NAMED_POOL,
                                                       filters or None)
            for p in access.visible(hits, role):
                if p.chunk_id not in seen and name & name_terms(f"{p.text} {p.title}"):
                    seen.add(p.chunk_id)
                    out.append(p)
                    break
        return out

    def _experience_passages(self, question, standalone, role, filters, have) -> list[Passage]:
        """« Vous avez des exemples de collectivités qui soutiennent des coopérations ? »: the
        experiences (project sheets, a guide's « Expérience : » boxes) that answer best join, up to
        EXAMPLES_MAX heard, when retrieval of the whole question gave the general passages only."""
        # A list question hears examples only in a part of their own (« Quels arguments…, et
        # quelles collectivités citer en exemple ? »): « Quels outils ou exemples concrets… ? »
        # wants the tools listed, not three experiences' best lines.
        parts = PARTS_RE.split(question)[1:] if question_kind(question) == "list" else [question]
        if not any(p and EXAMPLES_PART_RE.search(p) for p in parts):
            return []
        heard: list[frozenset[str]] = []
        for p in have:
            names = experience_names(p) if is_experience(p) else frozenset()
            if names and not any(names & h for h in heard):
                heard.append(names)
        seen = {p.chunk_id for p in have}
        out: list[Passage] = []
        for p in self.retriever.retrieve(standalone, role, filters, k=EXPERIENCE_POOL):
            if len(heard) >= EXAMPLES_MAX:
                break
            names = experience_names(p)
            if (p.chunk_id in seen or not is_experience(p) or not names or p.meta.get("kind") == KIND_REFERENCES
                    or any(names & h for h in heard)):
                continue
            heard.append(names)
            out.append(p)
        return out

    def _spelled_out(self, question, role, filters, have) -> list[Passage]:
        """« PTCE et ECT, c'est pareil ? »: each acronym compared brings the passage that spells
        it out (« … Territorialisé (ECT) »), when retrieval of the whole question left it out."""
        if not SAME_Q_RE.search(question):
            return []
        seen = {p.chunk_id for p in have}
        found: dict[str, Passage] = {}

        def defined(acronym: str) -> bool:
            if any(f"({acronym})" in p.text for p in have):
                return True
            for p in access.visible(self.retriever.lexical(role).search(acronym, 10, filters or None), role):
                if f"({acronym})" in p.text:
                    found.setdefault(acronym, p)
                    return True
            return False

        acronyms = compared_acronyms(question, defined)
        out = [found[a] for a in acronyms if a in found and found[a].chunk_id not in seen]
        return list({p.chunk_id: p for p in out}.values())

    def authors_named(self, question: str, role: str) -> list[tuple[str, frozenset[str]]]:
        """The authors a question asks to hear (« que disent l'ADEME et Demoustier… », « d'après le
        Labo de l'ESS »), among those of the documents `role` may see."""
        if not SOURCES_Q_RE.search(question):
            return []
        return named_authors(question, self._doc_authors(role))

    def _doc_authors(self, role: str) -> dict[str, list[str]]:
        """doc_id -> authors of the documents `role` may see, read once per level and ingest."""
        rank = len(access.allowed_levels(role)) - 1
        key = (rank, self.retriever.generation())
        if key not in self._authors:
            self._authors = {k: v for k, v in self._authors.items() if k[1] == key[1]}
            self._authors[key] = self.store.index().doc_authors(rank)
        return self._authors[key]

    def _author_passages(self, question, standalone, role, filters, have) -> list[Passage]:
        """Each author the question names brings the best passages of their own documents, when
        retrieval of the whole question left them out (their page may rank below another
        document that talks about them)."""
        authors = self.authors_named(question, role)
        if not authors:
            return []
        # Searched without the authors' names: they would pull in whatever talks about them.
        names = {w for author, _ in authors for w in re.findall(r"[\w'’-]+", author) if len(w) > 2}
        query = " ".join(w for w in re.findall(r"[\w'’-]+|[^\w\s]", standalone)
                         if not any(w.endswith(n) for n in names)) or standalone
        pool = self.retriever.retrieve(query, role, filters, k=AUTHOR_POOL)
        seen = {p.chunk_id for p in have}
        out: list[Passage] = []
        for _, docs in authors:
            mine = [p for p in pool if p.doc_id in docs]
            for p in mine[:AUTHOR_PASSAGES]:
                if p.chunk_id not in seen:
                    seen.add(p.chunk_id)
                    out.append(p)
        return out

    def _finish(self, question, role, standalone, passages, draft: Draft, timings, conversation, started) -> Answer:
        passages = access.visible(passages + draft.extra, role)
        suggestions: list[str] = []
        if draft.abstained:
            (text, suggestions), citations = self._refusal(question or standalone, passages, role, draft.unseen), []
        else:
            text, citations = draft.text, to_citations(draft, passages)
        if question and not is_french(question):
            text = f"{NOT_FRENCH_NOTE}\n\n{text}"
        timings["total_ms"] = (time.perf_counter() - started) * 1000
        answer = Answer(
            question=question,
            answer=text,
            abstained=draft.abstained,
            citations=citations,
            timings_ms=timings,
            standalone_question=standalone,
            retrieved=passages,
            confidence=draft.confidence,
            suggestions=suggestions,
            abstain_reason=draft.reason if draft.abstained else "",
        )
        if conversation is not None:
            conversation.add(
                Turn(question, standalone, text, draft.abstained, [c.chunk_id for c in citations],
                     list(dict.fromkeys(c.doc_id for c in citations)),
                     list(dict.fromkeys((c.doc_id, c.section) for c in citations)))
            )
        return answer

    def ask(
        self,
        question: str,
        role: str = "public",
        conversation: Conversation | None = None,
        filters: Filters | None = None,
        mode: str | None = None,
    ) -> Answer:
        """Answer one question for `role`. Raises AccessError for an unknown role or a
        conversation opened with another role; BackendError when an LLM backend fails."""
        started = time.perf_counter()
        role, question, standalone, passages, timings = self._prepare(question, role, conversation, filters, mode)
        t0 = time.perf_counter()
        draft = self._draft(question, standalone, passages, self._confidence(standalone, passages, role), role, conversation)
        timings["answer_ms"] = (time.perf_counter() - t0) * 1000
        return self._finish(question, role, standalone, passages, draft, timings, conversation, started)

    def stream(
        self,
        question: str,
        role: str = "public",
        conversation: Conversation | None = None,
        filters: Filters | None = None,
        on_retrieved: Callable[[list[Passage], dict[str, float]], None] | None = None,
    ) -> Iterator[str | Answer]:
        """Yield text pieces as they come, then the final, validated Answer (always last).

        Show the final Answer's text in place of the streamed pieces: invalid citations
        are removed from it and an unsupported answer becomes an abstention.
        `on_retrieved(passages, timings)`, when given, is called as soon as retrieval ends, with
        the passages `role` may see, before any answer text (the web app shows them at once).
        """
        started = time.perf_counter()
        role, question, standalone, passages, timings = self._prepare(question, role, conversation, filters, None)
        if on_retrieved is not None:
            on_retrieved(access.visible(passages, role), dict(timings))
        t0 = time.perf_counter()
        score = self._confidence(standalone, passages, role)
        unseen = self._unseen_document(question, passages, role)
        if self.llm is None or score < self.settings.abstain_threshold or unseen:
            draft = self._draft(question, standalone, passages, score, role, conversation, unseen)
            if not draft.abstained:
                for piece in draft.text.split(" "):
                    yield piece + " "
        else:
            parts = []
            for delta in self.llm.stream(standalone, passages):
                parts.append(delta)
                yield delta
            draft = finish_llm("".join(parts), passages, score)
        timings["answer_ms"] = (time.perf_counter() - t0) * 1000
        yield self._finish(question, role, standalone, passages, draft, timings, conversation, started)

    def _refusal(self, question: str, passages: list[Passage], role: str, unseen: str = "") -> tuple[str, list[str]]:
        """The abstention message and the questions it suggests: where it searched, the closest
        documents `role` may open (`passages` are access-checked), and the starter questions
        nearest to the question."""
        if not question:
            return abstention_text(self.searched_types(role)), []
        if self._starters is None:
            self._starters = StarterIndex(self.embedder)
        docs = [title for _, title in closest_documents(passages, 3)]
        questions = self._starters.closest(question, 2)
        return abstention_text(self.searched_types(role), docs, questions, unseen), questions

    def _confidence(self, question: str, passages: list[Passage], role: str) -> float:
        if not passages:
            return 0.0
        dense = max((p.dense or 0.0) for p in passages)
        # Form words (« que signifie le sigle », « en quelle année ») are not content the
        # passages should hold: only the question's content words count.
        # A sentence that only gives context (« ptce ca veut dire quoi ? je vois ce sigle partout »)
        # may help, never hurt: what is asked must be there, not the asker's circumstances.
        lex = self.retriever.lexical(role)
        coverage = max(lex.coverage(content_words(q), passages[:3]) for q in {question, asking_sentences(question)})
        return confidence(dense, coverage, self.settings.abstain_dense_weight, self.settings.abstain_dense_floor)

    def _unseen_document(self, question: str, passages: list[Passage], role: str) -> str:
        """« Aucun document « X » n'y figure. » when the question names a document `role` cannot
        see, « Aucune section « X »… » when it names a section that `role` cannot see in the
        documents retrieved, else '' (see named_docs)."""
        visible = access.visible(passages, role)
        reserved = asked_reserved_level(question)
        if reserved and access_rank(reserved) > access_rank(role):
            return "Vous demandez un contenu que la question dit réservé : votre profil n'y donne pas accès."
        if named_documents(question):
            name = unseen_named_document(question, lambda: self.store.index().documents(role), visible)
            if name:
                return ("Aucun document de ce nom n'y figure." if mentions_documents(question)
                        else f"Aucun document « {name} » n'y figure.")
        if named_section(question):

            def sections() -> list[str]:
                docs = list(dict.fromkeys(p.doc_id for p in visible))
                return [p.section for d in docs for p in self.document_text(d, role)]

            name = unseen_named_section(question, sections, visible)
            if name:
                return f"Aucune section « {name} » n'y figure."
        # « Est-ce que la Région Bretagne a un équivalent du Générateur BFC ? »: nothing the asker may
        # see names Bretagne, so passages on the Générateur would answer another question. (« Que
        # disent l'Avise et X… ? » hears the authors the asker may see, the others are not heard.)
        lex, meta = self.retriever.lexical(role), self._metadata_terms(role)
        name = unknown_name(question, lambda w: lex.df(w) or int(w in meta))
        if name and not self.authors_named(question, role):
            return f"Aucun document n'y parle de « {name} »."
        return ""

    def _metadata_terms(self, role: str) -> frozenset[str]:
        """Analysed words of the titles and authors of the documents `role` may see (« Demoustier »
        signs a note whose text never names her)."""
        key = (len(access.allowed_levels(role)) - 1, self.retriever.generation())
        if key not in self._meta_terms:
            self._meta_terms = {k: v for k, v in self._meta_terms.items() if k[1] == key[1]}
            authors = [a for names in self._doc_authors(role).values() for a in names]
            titles = [d.title for d in self.store.index().documents(role)]
            self._meta_terms[key] = frozenset(analyze(" ".join(titles + authors)))
        return self._meta_terms[key]

    def _draft(self, question, standalone, passages, score, role, conversation=None, unseen=None) -> Draft:
        """Abstain below the threshold or when the question names a document the asker cannot
        see (`unseen`, computed here unless the caller has it); else compose (extractive) or
        generate (LLM) the answer."""
        s = self.settings
        if unseen is None:
            unseen = self._unseen_document(question, passages, role)
        if not passages or score < s.abstain_threshold or unseen:
            return Draft("", [], True, score, {}, unseen=unseen, reason="unseen" if unseen else "threshold")
        if self.llm is not None:
            return finish_llm("".join(self.llm.stream(standalone, passages)), passages, score)
        # The condensed question chose the passages; a follow-up's own words choose the sentences.
        focus = question if standalone != question else ""
        pointed = ordinal_item(focus, conversation.turns[-1].answer) if focus and conversation and conversation.turns else ""
        given = " ".join(t.answer for t in conversation.turns) if conversation else ""
        prior = set(conversation.turns[-1].cited_doc_ids) if focus and conversation and conversation.turns else set()
        # « Lequel concerne les filières ? » picks among what the previous answer cited: those
        # passages are candidates even when the condensed question did not retrieve them.
        recalled: list[Passage] = []
        if prior and REFERS_BACK_RE.search(question):
            cited, have = set(conversation.turns[-1].cited_chunk_ids), {p.chunk_id for p in passages}
            recalled = [p for d in sorted(prior) for p in self.document_text(d, role)
                        if p.chunk_id in cited and p.chunk_id not in have]
        why: list[str] = []
        composed = compose(
            standalone,
            passages + recalled,
            self.sentences,
            self.retriever.lexical(role).idf,
            focus=focus,
            given=given,
            next_passage=lambda p: self._next_chunk(p, role),
            prev_passage=lambda p: self._next_chunk(p, role, -1),
            budget_words=s.answer_words,
            prior_docs=prior,
            prior_sections=(set(conversation.turns[-1].cited_sections)
                            if prior and stays_on_subject(question) else set()),
            pointed=pointed,
            # « Dans sa note de 2013, … ? » then « Elle donne des exemples ? »: the note named in the
            # conversation still leads.
            named_docs=named_visible_documents(standalone, lambda: self.store.index().documents(role)),
            authors=self.authors_named(question, role),
            why=why,
        )
        if composed is None:
            return Draft("", [], True, score, {}, reason=why[-1] if why else "no unit")
        return Draft(composed.text, composed.cited, False, score, composed.highlights, recalled + composed.extra)

    def _next_chunk(self, passage: Passage, role: str, step: int = 1) -> Passage | None:
        """The chunk that follows `passage` in its document (or precedes it, step -1), if `role`
        may see it."""
        rank = len(access.allowed_levels(role)) - 1
        position = int(passage.meta.get("position", 0)) + step
        if position < 0:
            return None
        nxt = self.store.index().chunk_at(passage.doc_id, position, rank)
        return nxt if nxt is not None and access.visible([nxt], role) else None

    # -- what a role may see ------------------------------------------------------------------
    def documents(self, role: str = "public") -> list[DocInfo]:
        """Documents with at least one chunk visible to `role` (their visible chunks counted),
        read from the manifest that ingestion keeps (no scan of the chunks)."""
        role = access.check_role(role)
        docs = [
            DocInfo(
                doc_id=d.doc_id,
                title=d.title,
                type=d.type,
                date=d.date,
                access=d.access,
                source=d.source,
                themes=d.themes,
                chunks=d.visible_chunks(role),
            )
            for d in self.store.index().documents(role)
        ]
        return sorted(docs, key=lambda d: (d.type, d.title))

    def document_text(self, doc_id: str, role: str = "public") -> list[Passage]:
        """The chunks of one document that `role` may see, in order (empty when none)."""
        rank = len(access.allowed_levels(role)) - 1
        return access.visible(self.store.index().document_passages(doc_id, rank), role)

    def status(self) -> dict:
        """Index status for the admin page: documents, chunks, last ingest, embedder."""
        meta = self.store.metadata
        return {
            "documents": len(self.store.index().documents()),
            "chunks": self.store.count(),
            "last_ingest": meta.get(META_LAST_INGEST, ""),
            "embedder": meta.get("embedder", ""),
            "store": self.store.label,
        }

    def reload(self) -> None:
        """Reopen the index database and forget cached lexical indexes (after a re-ingest;
        a newer lexical generation is also picked up by itself at the next question)."""
        if self.store._index is not None:
            self.store._index.close()
            self.store._index = None
        self.retriever = Retriever(self.store, self.embedder, self.settings)

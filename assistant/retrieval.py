"""Hybrid retrieval: dense (Chroma) + French BM25, fused by reciprocal rank fusion, optional
cross-encoder rerank. The access filter is inside both retrievers and checked again at the end.

The BM25 side reads the persisted per-level index that ingestion maintains
(`lexical_index.PersistentLexicalIndex`): nothing is rebuilt in the process, and a new
generation written by an ingestion is picked up at the next question.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from . import access
from .lexical import content_words
from .lexical_index import PersistentLexicalIndex
from .schema import K_DATE_NUM, K_TYPE, Passage, date_num, theme_key

log = logging.getLogger(__name__)

MODES = ("hybrid", "dense", "bm25")


@dataclass
class Filters:
    """What a user may narrow a search to. Empty means no restriction."""

    types: list[str] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)
    date_from: str = ""  # YYYY, YYYY-MM or YYYY-MM-DD
    date_to: str = ""

    def clauses(self) -> list[dict]:
        out: list[dict] = []
        if self.types:
            out.append({K_TYPE: {"$in": list(self.types)}})
        if self.themes:
            flags = [{theme_key(t): True} for t in self.themes]
            out.append(flags[0] if len(flags) == 1 else {"$or": flags})
        if self.date_from:
            out.append({K_DATE_NUM: {"$gte": date_num(self.date_from)}})
        if self.date_to:
            # '2024' as an upper bound means the end of 2024.
            n = date_num(self.date_to)
            n = n + 9999 if n % 10000 == 0 else (n + 99 if n % 100 == 0 else n)
            out.append({K_DATE_NUM: {"$lte": n}})
        return out

    def matches(self, meta: dict) -> bool:
        if self.types and meta.get(K_TYPE) not in self.types:
            return False
        if self.themes and not any(meta.get(theme_key(t)) for t in self.themes):
            return False
        for clause in self.clauses():
            if K_DATE_NUM in clause:
                (op, bound), = clause[K_DATE_NUM].items()
                value = int(meta.get(K_DATE_NUM) or 0)
                if (op == "$gte" and value < bound) or (op == "$lte" and value > bound):
                    return False
        return True

    def __bool__(self) -> bool:
        return bool(self.types or self.themes or self.date_from or self.date_to)


def where_clause(role: str, filters: Filters | None) -> dict:
    clauses = [access.where_for(role)] + (filters.clauses() if filters else [])
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def rrf(rankings: list[list[Passage]], k: int = 60, weights: list[float] | None = None) -> list[Passage]:
    """Weighted reciprocal rank fusion; keeps each passage's dense similarity when one ranking has it."""
    scores: dict[str, float] = {}
    by_id: dict[str, Passage] = {}
    weights = weights or [1.0] * len(rankings)
    for weight, ranking in zip(weights, rankings):
        for rank, p in enumerate(ranking):
            scores[p.chunk_id] = scores.get(p.chunk_id, 0.0) + weight / (k + rank + 1)
            kept = by_id.get(p.chunk_id)
            if kept is None or (kept.dense is None and p.dense is not None):
                by_id[p.chunk_id] = p
    fused = []
    for cid in sorted(scores, key=scores.get, reverse=True):
        p = by_id[cid]
        fused.append(Passage(chunk_id=cid, text=p.text, meta=p.meta, score=scores[cid], dense=p.dense))
    return fused


DENSE_OVERFETCH = 2.0  # unfiltered dense query: ask for n / share-visible x this
DENSE_MIN_SHARE = 0.05  # below this share of visible chunks, Chroma's filtered query is used
DENSE_MAX_FETCH = 2000
GENERATION_CHECK_S = 1.0  # how often a reader looks for a newer lexical generation


class Retriever:
    """Retrieves passages a role may see. Lexical indexes are opened lazily, one per level.

    Raises StoreMissingError (at the first lexical search) when the store has no index
    database yet: `coopter ingest` builds it.
    """

    def __init__(self, store, embedder, settings):
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self._lexical: dict[str, PersistentLexicalIndex] = {}
        self._generation: int | None = None
        self._checked_at = 0.0
        self._reranker = None
        store.index()  # fails here, with what to do, when the index database is missing

    def generation(self) -> int:
        """The index's generation (it changes with every ingest), checked at most every few seconds."""
        return self._current_generation()

    def _current_generation(self) -> int:
        now = time.monotonic()
        if self._generation is None or now - self._checked_at > GENERATION_CHECK_S:
            self._checked_at = now
            generation = self.store.index().generation()
            if generation != self._generation:
                self._lexical.clear()  # readers of another process's new generation reopen
                self._generation = generation
        return self._generation

    def lexical(self, role: str) -> PersistentLexicalIndex:
        """The BM25 index of the chunks `role` may see (`.search`, `.idf`, `.coverage`)."""
        role = access.check_role(role)
        generation = self._current_generation()
        index = self._lexical.get(role)
        if index is None or getattr(index, "generation", generation) != generation:
            index = self._lexical[role] = PersistentLexicalIndex(self.store.index(), role, generation)
        return index

    def reranker(self):
        if self._reranker is None and self.settings.reranker:
            from sentence_transformers import CrossEncoder

            self._reranker = CrossEncoder(self.settings.reranker, device="cpu", local_files_only=True)
        return self._reranker

    def _dense(self, qvec: list[float], n: int, role: str, filters: Filters | None, timings: dict) -> list[Passage]:
        """The n nearest chunks `role` may see (and that pass `filters`), best first.

        Chroma's metadata-filtered query costs about linearly in the number of chunks the
        filter allows (measured: 124 ms for 11 k allowed chunks against 8 ms unfiltered), so
        an unfiltered query asks for ids and distances only, over-fetching by the share of
        chunks the role may see; the access level and filters are then applied by reading
        those ids from the index database, whose SQL query carries the conditions (nothing of
        a chunk above the role is read). When fewer than n survive, the filtered Chroma query
        answers. Both give the n nearest allowed chunks of the same HNSW graph.
        """
        rank = len(access.allowed_levels(role)) - 1
        db = self.store.index()
        visible, total = db.visible_count(rank)
        share = visible / total if total else 0.0
        if share >= DENSE_MIN_SHARE and not filters:
            want = min(total, int(n / share * DENSE_OVERFETCH) + n)
            if want <= DENSE_MAX_FETCH:
                ids, sims = self.store.nearest_ids(qvec, want)
                found = db.visible_passages(ids, rank)
                kept = [(cid, sim) for cid, sim in zip(ids, sims) if cid in found]
                if len(kept) >= n or want >= total:
                    timings["dense_path"] = 1.0
                    out = []
                    for cid, sim in kept[:n]:
                        p = found[cid]
                        out.append(Passage(chunk_id=cid, text=p.text, meta=p.meta, score=sim, dense=sim))
                    return out
        timings["dense_path"] = 0.0
        return self.store.query(qvec, n, where_clause(role, filters))

    def _fill_dense(self, passages: list[Passage], qvec: list[float]) -> None:
        """Cosine similarity to the question for passages that came only from BM25."""
        missing = [p for p in passages if p.dense is None]
        if not missing:
            return
        got = self.store.collection.get(ids=[p.chunk_id for p in missing], include=["embeddings"])
        vecs = {cid: np.asarray(v) for cid, v in zip(got["ids"], got["embeddings"])}
        q = np.asarray(qvec)
        for p in missing:
            if p.chunk_id in vecs:
                p.dense = float(vecs[p.chunk_id] @ q)

    def retrieve(
        self,
        query: str,
        role: str,
        filters: Filters | None = None,
        k: int | None = None,
        mode: str | None = None,
        rerank: bool | None = None,
        timings: dict | None = None,
    ) -> list[Passage]:
        """The k best passages for `query` that `role` may see, best first."""
        role = access.check_role(role)
        mode = mode or self.settings.retrieval_mode
        if mode not in MODES:
            raise ValueError(f"mode de recherche inconnu : {mode} ({', '.join(MODES)})")
        k = k or self.settings.top_k
        n = max(self.settings.candidates, k)
        timings = timings if timings is not None else {}

        t0 = time.perf_counter()
        qvec = self.embedder.embed_queries([query])[0]
        timings["embed_ms"] = (time.perf_counter() - t0) * 1000

        rankings: list[list[Passage]] = []
        t0 = time.perf_counter()
        if mode in ("hybrid", "dense"):
            rankings.append(self._dense(qvec, n, role, filters, timings))
        timings["dense_ms"] = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        if mode in ("hybrid", "bm25"):
            # Form words (« que signifie », « la liste des ») name no content: BM25 would match them.
            rankings.append(self.lexical(role).search(content_words(query), n, filters or None))
        timings["bm25_ms"] = (time.perf_counter() - t0) * 1000

        if len(rankings) == 1:
            fused = rankings[0]
        else:  # [dense, bm25]
            fused = rrf(rankings, self.settings.rrf_k, [1.0, self.settings.bm25_weight])
        fused = access.visible(fused, role)
        if filters:
            fused = [p for p in fused if filters.matches(p.meta)]

        use_rerank = self.settings.reranker if rerank is None else rerank
        if use_rerank and self.reranker() is not None and fused:
            t0 = time.perf_counter()
            pool = fused[: n]
            scores = self.reranker().predict([(query, p.text) for p in pool], show_progress_bar=False)
            for p, s in zip(pool, scores):
                p.score = float(s)
            fused = sorted(pool, key=lambda p: p.score, reverse=True)
            timings["rerank_ms"] = (time.perf_counter() - t0) * 1000

        top = fused[:k]
        t0 = time.perf_counter()
        self._fill_dense(top, qvec)
        timings["fill_ms"] = (time.perf_counter() - t0) * 1000
        return access.visible(top, role)

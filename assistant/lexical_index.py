"""The persisted French BM25 index: one bm25s index per access level, saved next to the store
and memory-mapped by every app process, so no process rebuilds it to answer.

Each level's index holds only the chunks that level may see (its own and lower levels): a
role's query never scores a chunk above it, and its idf and length statistics are those of
what it may see, exactly as the in-memory `lexical.LexicalIndex` computed them.

Ingestion (`build`) writes a new *generation* (`bm25-<n>/<level>/`) from the bags of term ids
the index database keeps per chunk (`manifest.IndexDB`), then records its number; readers notice the new
number and reopen. The previous generation is kept for readers still holding it.
Chosen over SQLite FTS5 `bm25()` by measurement (see benchmarks/scale.py and the README): FTS5
scores every matching row of an OR query in the query, ~45-75 ms at 10 k chunks against
< 1 ms here, and its statistics are global rather than per level.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import time
from pathlib import Path

import numpy as np

from .lexical import analyze, coverage
from .manifest import S_GENERATION, IndexDB
from .schema import ACCESS_LEVELS, Passage, access_rank

log = logging.getLogger(__name__)

K1, B = 1.2, 0.75  # the bm25s defaults LexicalIndex used


def _quiet_bm25s():
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG
    return bm25s


def _index_tokens(bm25s, token_lists: list[list[str]]):
    retriever = bm25s.BM25(k1=K1, b=B)
    retriever.index(token_lists, show_progress=False)
    return retriever


def generation_dir(db: IndexDB, generation: int) -> Path:
    return db.dir / f"bm25-{generation}"


def build(db: IndexDB) -> int:
    """Write a new generation of the per-level indexes from `db`'s bags of terms; returns its
    number.

    The scores are bm25s's own (k1, b, lucene idf, float32), computed with numpy from the term
    ids stored at ingestion: no text is re-read or re-tokenised, no Python object is made per
    term, and one level's arrays are freed before the next (at 100 k chunks the old build from
    token strings took minutes and most of the ingestion's peak memory).
    """
    bm25s = _quiet_bm25s()
    started = time.perf_counter()
    db.ensure_schema()  # `db` may have been opened as a reader (coopter check --repair)
    try:
        rowids, ranks, sizes, pairs = db.bow_arrays()
    except ValueError:  # rows written before `bow` existed: filled once
        db.fill_bow()
        rowids, ranks, sizes, pairs = db.bow_arrays()
    n_all = len(rowids)
    doc = np.repeat(np.arange(n_all, dtype=np.int32), sizes)
    term, tf = pairs[:, 0], pairs[:, 1]
    del pairs
    lengths = np.bincount(doc, weights=tf, minlength=n_all).astype(np.int64)  # chunk lengths in terms
    # (term, chunk) order once: each level's subset of it is already in CSC order.
    order = np.argsort(term, kind="stable")
    term, doc, tf = term[order], doc[order], tf[order]
    del order
    generation = db.generation() + 1
    final = generation_dir(db, generation)
    tmp = final.with_name(final.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(final, ignore_errors=True)  # a generation written but never recorded
    for rank, level in enumerate(ACCESS_LEVELS):
        out = tmp / level
        out.mkdir(parents=True)
        visible = ranks <= rank
        np.save(out / "rowids.npy", rowids[visible])
        if visible.any():
            _save_level(bm25s, db, out, visible, lengths, term, doc, tf)
    os.replace(tmp, final)
    db.set_state(S_GENERATION, str(generation))
    for old in db.dir.glob("bm25-*"):
        number = old.name[len("bm25-"):]
        if not number.isdigit() or int(number) < generation - 1:
            shutil.rmtree(old, ignore_errors=True)
    log.info("index lexical : génération %d, %d passages, %.1f s", generation, n_all, time.perf_counter() - started)
    return generation


def _save_level(bm25s, db: IndexDB, out: Path, visible, lengths, term, doc, tf) -> None:
    """One level's bm25s index over the `visible` chunks, saved in bm25s's format.

    Same arithmetic as bm25s.BM25.index on the same token lists (checked bit for bit by
    tests/test_lexical_build.py): idf = log(1 + (N - df + 0.5) / (df + 0.5)) in float64 stored
    as float32; tf / (tf + k1 * (1 - b + b * len / avg_len)) in float64; their product stored as
    float32; columns are the level's own terms, plus bm25s's empty token last.
    """
    keep = visible[doc]
    t, local_doc, f = term[keep], (np.cumsum(visible) - 1)[doc[keep]].astype(np.int32), tf[keep]
    del keep
    n_docs = int(visible.sum())
    dl = lengths[visible]
    avg = np.array(dl).mean()
    starts = np.flatnonzero(np.diff(t, prepend=-1)) if len(t) else np.zeros(0, dtype=np.int64)  # t is sorted
    present, df = t[starts], np.diff(np.append(starts, len(t)))
    del t, starts
    idf_by_df = {int(x): math.log(1 + (n_docs - int(x) + 0.5) / (int(x) + 0.5)) for x in np.unique(df)}
    idf = np.array([idf_by_df[int(x)] for x in df], dtype=np.float32)
    # In place, in bm25s's order of operations: norm per chunk, then tf / (norm + tf), * idf.
    norm = K1 * ((1 - B) + B * dl / avg)
    tfc = f.astype(np.float64)
    del f
    den = norm[local_doc]
    den += tfc
    np.divide(tfc, den, out=tfc)
    del den
    tfc *= np.repeat(idf, df)
    data = tfc.astype(np.float32)
    del tfc
    indptr = np.zeros(len(present) + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    vocab = {word: i for i, word in enumerate(db.vocab_terms(present))}
    vocab[""] = len(vocab)  # as bm25s.index(create_empty_token=True) does
    retriever = bm25s.BM25(k1=K1, b=B)
    retriever.scores = {"data": data, "indices": local_doc, "indptr": indptr, "num_docs": n_docs}
    retriever.vocab_dict = vocab
    retriever.nonoccurrence_array = None  # lucene scoring has none; save() reads it
    retriever.save(str(out), show_progress=False)


class PersistentLexicalIndex:
    """BM25 over the chunks one role may see, read from a saved generation (or, if none was
    saved yet, built in memory from the database's analysed terms).

    Same interface as `lexical.LexicalIndex` for its callers: `search`, `idf`, `coverage`.
    """

    def __init__(self, db: IndexDB, role: str, generation: int):
        bm25s = _quiet_bm25s()
        self.db = db
        self.role = role
        self.rank = access_rank(role)
        self.generation = generation
        self.retriever = None
        folder = generation_dir(db, generation) / role
        if generation and (folder / "rowids.npy").exists():
            self.rowids = np.load(folder / "rowids.npy", mmap_mode="r")
            if len(self.rowids):
                self.retriever = bm25s.BM25.load(str(folder), mmap=True, show_progress=False)
        else:  # no generation yet: slower (a full read of the terms), never wrong
            rows = [(rid, terms) for rid, rank, terms in db.level_terms() if rank <= self.rank]
            self.rowids = np.array([rid for rid, _ in rows], dtype=np.int64)
            if rows:
                self.retriever = _index_tokens(bm25s, [terms.split() for _, terms in rows])
        self.n = len(self.rowids)
        self._vocab = self.retriever.vocab_dict if self.retriever is not None else {}
        self._indptr = np.asarray(self.retriever.scores["indptr"]) if self.retriever is not None else np.zeros(1)

    def df(self, term: str) -> int:
        """Number of this level's chunks containing `term` (an analysed term)."""
        col = self._vocab.get(term)
        if col is None or col + 1 >= len(self._indptr):
            return 0
        return int(self._indptr[col + 1] - self._indptr[col])

    def idf(self, term: str) -> float:
        """BM25 idf; a term absent from every visible chunk gets the highest weight."""
        n, df = self.n, self.df(term)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def coverage(self, question: str, passages: list[Passage]) -> float:
        """Share of the question's information found in `passages` (lexical.coverage)."""
        return coverage(question, passages, self.idf)

    def mask_for(self, filters) -> np.ndarray:
        """0/1 per chunk of this level: 1 when it passes `filters` (evaluated in SQL)."""
        allowed = np.fromiter(self.db.filtered_rowids(self.rank, filters), dtype=np.int64)
        return np.isin(np.asarray(self.rowids), allowed).astype(np.float32)

    def search(self, query: str, k: int, mask_or_filters=None) -> list[Passage]:
        """Top-k passages by BM25, best first; only positive scores (zero is no match at all).

        `mask_or_filters`: None, a `retrieval.Filters` (type, theme, dates), or a 0/1 array
        over this level's chunks.
        """
        if self.retriever is None or k <= 0:
            return []
        tokens = analyze(query)
        if not tokens:
            return []
        mask = mask_or_filters
        if mask is not None and not isinstance(mask, np.ndarray):
            mask = self.mask_for(mask) if mask else None
        docs, scores = self.retriever.retrieve(
            [tokens], k=min(k, self.n), show_progress=False, weight_mask=mask, n_threads=0
        )
        hits = [(int(self.rowids[int(i)]), float(s)) for i, s in zip(docs[0], scores[0]) if s > 0]
        found = self.db.passages([rid for rid, _ in hits], self.rank)
        out = []
        for rid, score in hits:
            p = found.get(rid)  # None: removed by an ingestion since this generation
            if p is not None:
                out.append(Passage(chunk_id=p.chunk_id, text=p.text, meta=p.meta, score=score))
        return out

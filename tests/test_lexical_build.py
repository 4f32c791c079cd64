"""The BM25 build from stored term ids (`lexical_index.build`): bit for bit the index bm25s
builds from the token strings, the same after incremental ingestions as from scratch, and
after filling a database written before term ids were stored."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant import lexical_index
from assistant.lexical import analyze
from assistant.schema import ACCESS_LEVELS
from tests.conftest import front, write
from tests.test_lexical_index import more_docs
from tests.test_manifest import assert_agreement, ingest

QUERIES = ["Comment le pôle finance-t-il les projets ?", "gouvernance des coopératives", "capitaux patients",
           "budget 2027", "CANARI-STAFF-9999 tiers-lieux", "financement financement collectivités"]


def _db(settings):
    from assistant.store import open_store

    return open_store(settings).index()


def _reference(db, rank: int):
    """bm25s's own index over the token strings of the chunks `rank` may see, by rowid."""
    bm25s = lexical_index._quiet_bm25s()
    rows = [(rid, terms) for rid, r, terms in db.level_terms() if r <= rank]
    ref = bm25s.BM25(k1=lexical_index.K1, b=lexical_index.B)
    ref.index([terms.split() for _, terms in rows], show_progress=False)
    return ref, [rid for rid, _ in rows]


def _columns(retriever) -> dict[str, tuple[list[int], list[float]]]:
    """term -> (row positions, scores) of a bm25s index: comparable whatever the column order."""
    data, indices, indptr = (np.asarray(retriever.scores[k]) for k in ("data", "indices", "indptr"))
    out = {}
    for term, col in retriever.vocab_dict.items():
        if col + 1 < len(indptr):
            lo, hi = indptr[col], indptr[col + 1]
            order = np.argsort(indices[lo:hi], kind="stable")
            out[term] = (indices[lo:hi][order].tolist(), data[lo:hi][order].tolist())
    return out


def _level_scores(settings) -> dict[str, dict[str, dict[str, float]]]:
    """level -> query -> chunk_id -> score, read from the saved generation."""
    db = _db(settings)
    out = {}
    for level in ACCESS_LEVELS:
        index = lexical_index.PersistentLexicalIndex(db, level, db.generation())
        out[level] = {q: {p.chunk_id: p.score for p in index.search(q, 1000)} for q in QUERIES}
    return out


@pytest.fixture
def corpus(tiny_corpus):
    more_docs(tiny_corpus)
    return tiny_corpus


def test_build_from_term_ids_is_bm25s_bit_for_bit(settings, corpus):
    ingest(settings)
    db = _db(settings)
    folder = lexical_index.generation_dir(db, db.generation())
    bm25s = lexical_index._quiet_bm25s()
    for rank, level in enumerate(ACCESS_LEVELS):
        ref, ref_rowids = _reference(db, rank)
        saved = bm25s.BM25.load(str(folder / level), mmap=False, show_progress=False)
        assert np.load(folder / level / "rowids.npy").tolist() == ref_rowids
        assert saved.scores["num_docs"] == ref.scores["num_docs"]
        assert set(saved.vocab_dict) == set(ref.vocab_dict)  # the level's own terms and ""
        assert _columns(saved) == _columns(ref)  # exact float32 equality, every (term, chunk)
        for q in QUERIES:
            tokens = [t for t in analyze(q) if t in ref.vocab_dict]
            if tokens:
                assert np.array_equal(saved.get_scores(tokens), ref.get_scores(tokens))


def test_incremental_ingestions_score_like_a_build_from_scratch(settings, corpus, tmp_path):
    ingest(settings)
    # add, change (text and level), remove, over several runs: terms enter and leave the vocab
    write(corpus / "public" / "sol.md", front("Sols vivants") + "## Sols\n\nLes mycorhizes nourrissent les sols agricoles.\n")
    ingest(settings)
    write(
        corpus / "communaute" / "atelier.md",
        front("Atelier financement", access="staff", themes=("financement",))
        + "## Capitaux patients\n\nL'atelier a discuté des fonds propres et des capitaux patients.\n",
    )
    (corpus / "plus" / "d1.md").unlink()
    ingest(settings)
    assert_agreement(settings)
    incremental = _level_scores(settings)

    scratch = settings.with_overrides(store=tmp_path / "scratch-store")
    shutil.copytree(corpus, tmp_path / "corpus-copy")
    ingest(scratch.with_overrides(corpus_dir=tmp_path / "corpus-copy"))
    fresh = _level_scores(scratch)
    assert incremental == fresh  # same chunks, same scores, exactly


def test_a_database_without_term_ids_is_filled_and_scores_the_same(settings, corpus):
    ingest(settings)
    before = _level_scores(settings)
    db = _db(settings)
    db.conn.execute("UPDATE chunks SET bow = NULL")
    db.conn.execute("DELETE FROM vocab")
    lexical_index.build(db)
    assert db.conn.execute("SELECT count(*) FROM chunks WHERE bow IS NULL").fetchone()[0] == 0
    assert _level_scores(settings) == before
    # filled in small batches too
    filled = {rid: bow for rid, bow in db.conn.execute("SELECT rowid, bow FROM chunks")}
    db.conn.execute("UPDATE chunks SET bow = NULL")
    assert db.fill_bow(batch=3) == len(filled) > 3
    assert dict(db.conn.execute("SELECT rowid, bow FROM chunks")) == filled


def test_term_ids_stay_consistent_after_a_failed_write(settings, corpus):
    ingest(settings)
    db = _db(settings)
    db._term_ids(["mot"])  # cache loaded
    with pytest.raises(RuntimeError):
        with db.transaction():
            db._term_ids(["neologismeannule"])
            raise RuntimeError("interrompu")
    assert db.conn.execute("SELECT count(*) FROM vocab WHERE term = 'neologismeannule'").fetchone()[0] == 0
    with db.transaction():
        ids = db._term_ids(["autreterme"])
    stored = dict(db.conn.execute("SELECT term, id FROM vocab"))
    assert ids["autreterme"] == stored["autreterme"]
    assert "neologismeannule" not in ids
    # every stored bag decodes to the stored terms
    vocab = {i: t for t, i in stored.items()}
    for terms, bow in db.conn.execute("SELECT terms, bow FROM chunks"):
        pairs = np.frombuffer(bow, dtype="<i4").reshape(-1, 2)
        assert sorted(t for i, n in pairs for t in [vocab[int(i)]] * int(n)) == sorted(terms.split())


def _downgrade(path) -> None:
    """Rewrite the index database at `path` with the schema of before term ids and
    fingerprints (no `bow`, no `fingerprint`, no `vocab`), keeping its rows."""
    import re
    import sqlite3

    from assistant import manifest

    schema = manifest._SCHEMA.replace("terms TEXT NOT NULL,", "terms TEXT NOT NULL").replace("last_ingest TEXT,", "last_ingest TEXT")
    schema = re.sub(r"\n.*(bow BLOB|fingerprint TEXT|TABLE IF NOT EXISTS vocab).*", "", schema)
    old = path.with_name("old.sqlite3")
    conn = sqlite3.connect(old)
    conn.executescript(schema)
    conn.execute("ATTACH ? AS cur", (str(path),))
    for table in ("chunks", "documents", "state"):
        cols = ", ".join(row[1] for row in conn.execute(f"PRAGMA main.table_info({table})"))
        conn.execute(f"INSERT INTO main.{table}({cols}) SELECT {cols} FROM cur.{table}")
    conn.commit()
    conn.execute("DETACH cur")
    conn.close()
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    old.rename(path)


def test_a_database_from_before_term_ids_and_fingerprints_is_migrated(settings, corpus):
    ingest(settings)
    before = _level_scores(settings)
    db = _db(settings)
    path = db.path
    db.close()
    _downgrade(path)
    import sqlite3

    with sqlite3.connect(path) as conn:
        assert "bow" not in {row[1] for row in conn.execute("PRAGMA table_info(chunks)")}
        assert "fingerprint" not in {row[1] for row in conn.execute("PRAGMA table_info(documents)")}
    lexical_index.build(_db(settings))  # opened as a reader, as `coopter check --repair` does
    assert _level_scores(settings) == before
    report = ingest(settings)
    assert report.chunks_written == 0 and len(report.unchanged) == 8
    assert_agreement(settings)

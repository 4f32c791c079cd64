"""The index database (lexical terms + document manifest) agrees with the Chroma store after
every kind of ingestion: add, change, removal, a file that fails to load, a killed run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import StoreMissingError
from assistant.manifest import S_DIRTY, chunk_terms
from assistant.schema import ACCESS_LEVELS, K_ACCESS, K_DOC_HASH, K_DOC_ID, access_rank
from ingest.embedder import HashingEmbedder
from tests.conftest import front, write

ROOT = Path(__file__).resolve().parent.parent


def assert_agreement(settings) -> None:
    """Chroma's chunks == the index database's chunks (ids, metadata, text, terms); the manifest
    == what a scan of Chroma says (hash, chunks per level); every level's BM25 files hold exactly
    the rows that level may see."""
    from assistant import lexical_index
    from assistant.store import open_store

    store = open_store(settings)
    got = store.collection.get(include=["documents", "metadatas"])
    chroma = {cid: (text, meta) for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"])}
    db = store.index()
    rows = {
        cid: (text, json.loads(meta), terms, rank)
        for cid, text, meta, terms, rank in db.conn.execute("SELECT chunk_id, text, meta, terms, access_rank FROM chunks")
    }
    assert set(rows) == set(chroma)
    for cid, (text, meta) in chroma.items():
        r_text, r_meta, r_terms, r_rank = rows[cid]
        assert (r_text, r_meta, r_rank) == (text, meta, access_rank(meta[K_ACCESS]))
        assert r_terms == chunk_terms(text, meta)

    expected: dict[str, dict] = {}
    for _text, meta in chroma.values():
        d = expected.setdefault(meta[K_DOC_ID], {"hashes": set(), "counts": dict.fromkeys(ACCESS_LEVELS, 0)})
        d["hashes"].add(meta[K_DOC_HASH])
        d["counts"][meta[K_ACCESS]] += 1
    manifest = {d.doc_id: d for d in db.documents()}
    assert set(manifest) == set(expected)
    for doc_id, d in expected.items():
        assert manifest[doc_id].hash == (next(iter(d["hashes"])) if len(d["hashes"]) == 1 else "")
        assert manifest[doc_id].chunks == d["counts"]
    assert db.doc_hashes() == store.scan_doc_hashes()
    assert db.get_state(S_DIRTY) == "0"

    folder = lexical_index.generation_dir(db, db.generation())
    by_rowid = dict(db.conn.execute("SELECT rowid, access_rank FROM chunks"))
    for rank, level in enumerate(ACCESS_LEVELS):
        saved = set(np.load(folder / level / "rowids.npy").tolist())
        assert saved == {rid for rid, r in by_rowid.items() if r <= rank}
    store.index().close()


def ingest(settings, **kw):
    from ingest import run

    return run(settings, embedder=HashingEmbedder(), **kw)


def test_manifest_and_lexical_agree_after_add_change_and_removal(settings, tiny_corpus):
    first = ingest(settings)
    assert len(first.added) == 3
    assert_agreement(settings)

    # change: new text and a raised access level; add: a new document; remove: another one.
    write(
        tiny_corpus / "communaute" / "atelier.md",
        front("Atelier financement", access="staff", themes=("financement",))
        + "## Capitaux patients\n\nL'atelier a discuté des fonds propres et des capitaux patients. CANARI-COMM-5678\n",
    )
    write(tiny_corpus / "public" / "nouveau.md", front("Nouveau guide", doc_type="guide") + "## Tiers-lieux\n\nLes tiers-lieux accueillent des coopérations.\n")
    (tiny_corpus / "interne" / "pilotage.md").unlink()
    second = ingest(settings)
    assert (second.added, second.updated, second.removed) == (["public/nouveau"], ["communaute/atelier"], ["interne/pilotage"])
    assert_agreement(settings)

    from assistant.engine import Assistant

    bot = Assistant(settings, embedder=HashingEmbedder())
    assert {d.doc_id for d in bot.documents("community")} == {"public/ptce", "public/nouveau"}
    assert "communaute/atelier" in {d.doc_id for d in bot.documents("staff")}
    assert bot.status()["documents"] == 3

    third = ingest(settings)  # unchanged: read from the manifest, nothing written
    assert len(third.unchanged) == 3 and third.chunks_written == 0
    assert_agreement(settings)


def test_documents_list_counts_only_visible_chunks(settings):
    ingest(settings)
    from assistant.engine import Assistant

    bot = Assistant(settings, embedder=HashingEmbedder())
    got = {role: {d.doc_id: d.chunks for d in bot.documents(role)} for role in ACCESS_LEVELS}
    # A scan of the chunks each role may see, as documents() did before the manifest.
    for role in ACCESS_LEVELS:
        expected: dict[str, int] = {}
        for meta in bot.store.iter_metadatas(where={K_ACCESS: {"$in": list(ACCESS_LEVELS[: access_rank(role) + 1])}}):
            expected[meta[K_DOC_ID]] = expected.get(meta[K_DOC_ID], 0) + 1
        assert got[role] == expected
    assert got["public"]["public/ptce"] < got["community"]["public/ptce"]  # its community section
    assert bot.searched_types("public") == ["note"]
    assert [p.access for p in bot.document_text("public/ptce", "public")] == ["public"] * got["public"]["public/ptce"]


def test_a_file_that_fails_keeps_its_last_good_version(settings, tiny_corpus):
    from assistant.store import open_store

    ingest(settings)
    before = open_store(settings).index().doc_hashes()
    write(tiny_corpus / "communaute" / "atelier.md", b"\x00\x01\x02 binaire \xff\xfe")
    report = ingest(settings)
    assert [s.path for s in report.skipped] == [str(tiny_corpus / "communaute" / "atelier.md")]
    assert_agreement(settings)
    assert open_store(settings).index().doc_hashes() == before


def test_an_old_store_without_index_is_indexed_without_reembedding(settings):
    import shutil

    from assistant.engine import Assistant
    from assistant.manifest import index_dir

    ingest(settings)
    shutil.rmtree(index_dir(settings))
    with pytest.raises(StoreMissingError, match="coopter ingest"):
        Assistant(settings, embedder=HashingEmbedder())
    report = ingest(settings)
    assert report.chunks_written == 0 and len(report.unchanged) == 3
    assert_agreement(settings)


KILLER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from assistant.settings import Settings
    from assistant import manifest
    from ingest import run
    from ingest.embedder import HashingEmbedder

    where, marker, after = sys.argv[1], sys.argv[2], int(sys.argv[3])
    calls = []

    def stall():
        calls.append(1)
        if len(calls) == after:
            open(marker, "w").close()
            time.sleep(600)  # killed here

    if where == "embed":  # between two documents' embeddings
        class Slow(HashingEmbedder):
            def embed_passages(self, texts, progress=False):
                stall()
                return super().embed_passages(texts)
        embedder = Slow()
    else:  # after a document's vectors are written, before its index rows are
        original = manifest.IndexDB.replace_document
        def replace_document(self, *a, **kw):
            stall()
            return original(self, *a, **kw)
        manifest.IndexDB.replace_document = replace_document
        embedder = HashingEmbedder()
    run(Settings(corpus_dir=Path({corpus!r}), store=Path({store!r}), embed_model="fake:hashing"), embedder=embedder)
    """
)


@pytest.mark.parametrize("where", ["embed", "index"])
def test_a_killed_ingest_is_repaired_by_the_next_run(settings, tiny_corpus, tmp_path, where):
    for i in range(8):
        write(tiny_corpus / "lot" / f"doc{i}.md", front(f"Document {i}", access=ACCESS_LEVELS[i % 3]) + f"## Partie\n\nTexte numéro {i} sur les coopérations.\n")
    ingest(settings)
    # Change every document, then kill the run in the middle.
    for i in range(8):
        write(tiny_corpus / "lot" / f"doc{i}.md", front(f"Document {i}", access=ACCESS_LEVELS[(i + 1) % 3]) + f"## Partie\n\nTexte révisé {i} sur les tiers-lieux.\n")
    (tiny_corpus / "interne" / "pilotage.md").unlink()
    script = tmp_path / "killer.py"
    script.write_text(KILLER.format(root=str(ROOT), corpus=str(tiny_corpus), store=str(settings.store)))
    marker = tmp_path / "marker"
    proc = subprocess.Popen([sys.executable, str(script), where, str(marker), "5"])
    try:
        deadline = time.time() + 120
        while not marker.exists():
            assert proc.poll() is None, "the ingest ended before reaching the kill point"
            assert time.time() < deadline
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL

    from assistant.store import open_store

    assert open_store(settings).index().get_state(S_DIRTY) == "1"
    report = ingest(settings)
    assert not report.skipped
    assert "interne/pilotage" in report.removed
    assert_agreement(settings)
    again = ingest(settings)
    assert again.chunks_written == 0 and not again.removed


def _count_loads(monkeypatch) -> list[str]:
    """Doc paths `ingest.run` parses (loads), in order."""
    from ingest import pipeline

    loaded: list[str] = []
    original = pipeline.load

    def spy(path, *a, **kw):
        loaded.append(Path(path).name)
        return original(path, *a, **kw)

    monkeypatch.setattr(pipeline, "load", spy)
    return loaded


SIDECAR = 'title: "Page HTML"\ntype: page\ndate: "2024"\nsource: "test"\naccess: public\n'


def test_an_unchanged_file_is_not_parsed_again(settings, tiny_corpus, monkeypatch):
    write(tiny_corpus / "web" / "page.html", "<html><body><h2>Tiers-lieux</h2><p>Les tiers-lieux coopèrent.</p></body></html>")
    write(tiny_corpus / "web" / "page.html.meta.yaml", SIDECAR)
    loaded = _count_loads(monkeypatch)
    assert len(ingest(settings).added) == 4 and len(loaded) == 4

    loaded.clear()
    again = ingest(settings)
    assert loaded == [] and len(again.unchanged) == 4 and again.chunks_written == 0
    assert_agreement(settings)

    # a changed file, and a changed sidecar alone, are parsed and re-ingested
    write(tiny_corpus / "public" / "ptce.md", (tiny_corpus / "public" / "ptce.md").read_text() + "\nUne phrase ajoutée.\n")
    write(tiny_corpus / "web" / "page.html.meta.yaml", SIDECAR.replace("access: public", "access: community"))
    loaded.clear()
    third = ingest(settings)
    assert sorted(loaded) == ["page.html", "ptce.md"]
    assert sorted(third.updated) == ["public/ptce", "web/page"]
    assert_agreement(settings)
    from assistant.store import open_store

    assert {d.doc_id: d.access for d in open_store(settings).index().documents()}["web/page"] == "community"

    # `touch` with the same bytes: still not parsed
    os.utime(tiny_corpus / "interne" / "pilotage.md")
    loaded.clear()
    assert len(ingest(settings).unchanged) == 4 and loaded == []


def test_a_manifest_without_fingerprints_loads_once_then_remembers(settings, tiny_corpus, monkeypatch):
    from assistant.store import open_store

    ingest(settings)
    db = open_store(settings).index()
    db.conn.execute("UPDATE documents SET fingerprint = ''")  # as written before fingerprints
    db.close()
    loaded = _count_loads(monkeypatch)
    report = ingest(settings)
    assert len(loaded) == 3 and len(report.unchanged) == 3 and report.chunks_written == 0
    loaded.clear()
    ingest(settings)
    assert loaded == []
    assert_agreement(settings)


def test_a_file_loaded_with_a_note_is_always_parsed(settings, tiny_corpus, monkeypatch):
    text = front("Note ancienne") + "## Coopération\n\nLes élus et les coopératives travaillent ensemble à l'économie du territoire.\n"
    write(tiny_corpus / "vieux" / "latin.md", text.encode("cp1252"))  # re-encoded, with a note
    ingest(settings)
    loaded = _count_loads(monkeypatch)
    report = ingest(settings)
    assert loaded == ["latin.md"] and "vieux/latin" in report.unchanged
    assert any("latin.md" in n for n in report.notes)


def test_forced_documents_are_re_embedded_even_when_their_file_is_unchanged(settings, monkeypatch):
    ingest(settings)
    loaded = _count_loads(monkeypatch)
    report = ingest(settings, force={"interne/pilotage"})
    assert loaded == ["pilotage.md"] and report.updated == ["interne/pilotage"]
    assert_agreement(settings)

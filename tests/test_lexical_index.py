"""The persisted per-level BM25 index: access inside the index, the same scores as the
in-memory index it replaces, filters inside the lexical query, readers following ingestion,
and a Chroma server sharing one index directory."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant import access
from assistant.lexical import LexicalIndex, analyze
from assistant.retrieval import Filters
from assistant.schema import ACCESS_LEVELS, Passage, access_rank
from ingest.embedder import HashingEmbedder
from tests.conftest import front, stop_process, write
from tests.test_manifest import assert_agreement, ingest

# canary -> the level of the chunk holding it (the section canary is in a community section).
CANARIES = {"CANARI-SECTION-1234": "community", "CANARI-COMM-5678": "community", "CANARI-STAFF-9999": "staff"}


def more_docs(corpus: Path) -> None:
    """A few more documents over several types, themes, dates and levels."""
    specs = [
        ("guide", "public", "2023-05", ("ptce", "financement")),
        ("article", "community", "2024-11", ("collectivités",)),
        ("note", "staff", "2025-02", ("ptce",)),
        ("fiche-projet", "public", "2025-09", ("tiers-lieux",)),
        ("page", "community", "2022-01", ("financement",)),
    ]
    for i, (kind, level, date, themes) in enumerate(specs):
        write(
            corpus / "plus" / f"d{i}.md",
            front(f"Coopération {i}", access=level, doc_type=kind, date=date, themes=themes)
            + f"## Financement\n\nLe pôle territorial de coopération {i} finance des projets d'ESS avec les collectivités.\n\n"
            f"## Gouvernance\n\nLa gouvernance du pôle {i} associe les acteurs du territoire et les coopératives.\n",
        )


@pytest.fixture
def bot(settings, tiny_corpus):
    from assistant.engine import Assistant

    more_docs(tiny_corpus)
    ingest(settings)
    return Assistant(settings, embedder=HashingEmbedder())


def test_a_role_never_gets_a_lexical_hit_above_its_level(bot):
    for role in ACCESS_LEVELS:
        index = bot.retriever.lexical(role)
        for canary, level in CANARIES.items():
            hits = index.search(f"{canary} pôle coopération financement gouvernance", 100)
            assert hits, role
            assert all(access_rank(p.access) <= access_rank(role) for p in hits)
            found = any(canary in p.text for p in hits)
            assert found == access.can_see(role, level), (role, canary)
        # Its statistics are those of what it may see: a staff-only word is unknown to public.
        assert index.df(analyze("canari")[0]) == sum(
            1 for p in bot.store.all_passages(where=access.where_for(role)) if "CANARI" in p.text
        )


def test_persisted_index_scores_like_the_in_memory_index(bot):
    questions = ["Comment le pôle finance-t-il les projets ?", "gouvernance des coopératives", "capitaux patients", "budget 2027"]
    for role in ACCESS_LEVELS:
        memory = LexicalIndex(bot.store.all_passages(where=access.where_for(role)))
        persisted = bot.retriever.lexical(role)
        assert persisted.n == len(memory.passages)
        for term in analyze("financement gouvernance canari inconnu"):
            assert persisted.idf(term) == pytest.approx(memory.idf(term))
        for q in questions:
            a = {p.chunk_id: p.score for p in memory.search(q, 50)}
            b = {p.chunk_id: p.score for p in persisted.search(q, 50)}
            assert a.keys() == b.keys()
            assert all(b[c] == pytest.approx(a[c], rel=1e-5) for c in a)
            some = bot.store.all_passages(where=access.where_for(role))[:3]
            assert persisted.coverage(q, some) == pytest.approx(memory.coverage(q, some))


@pytest.mark.parametrize(
    "filters",
    [
        Filters(types=["guide", "note"]),
        Filters(themes=["financement"]),
        Filters(themes=["ptce", "tiers-lieux"]),
        Filters(date_from="2024"),
        Filters(date_to="2024"),
        Filters(types=["page"], date_from="2021-06", date_to="2022-12"),
    ],
)
def test_filters_apply_inside_the_lexical_query(bot, filters):
    import numpy as np

    for role in ACCESS_LEVELS:
        memory = LexicalIndex(bot.store.all_passages(where=access.where_for(role)))
        mask = np.array([1.0 if filters.matches(p.meta) else 0.0 for p in memory.passages])
        expected = {p.chunk_id for p in memory.search("pôle coopération financement gouvernance", 100, mask)}
        got = bot.retriever.lexical(role).search("pôle coopération financement gouvernance", 100, filters)
        assert {p.chunk_id for p in got} == expected
        assert all(filters.matches(p.meta) for p in got)


def test_a_running_assistant_sees_a_new_ingestion_without_reload(bot, settings, tiny_corpus, monkeypatch):
    from assistant import retrieval

    monkeypatch.setattr(retrieval, "GENERATION_CHECK_S", 0.0)
    assert not bot.retriever.lexical("public").search("mycorhizes", 5)
    write(tiny_corpus / "public" / "sol.md", front("Sols vivants") + "## Sols\n\nLes mycorhizes nourrissent les sols agricoles.\n")
    ingest(settings)
    hits = bot.retriever.lexical("public").search("mycorhizes", 5)
    assert [p.doc_id for p in hits] == ["public/sol"]
    assert "public/sol" in {d.doc_id for d in bot.documents("public")}


def test_index_dir_setting_moves_the_index(settings, tmp_path):
    from assistant.engine import Assistant

    moved = settings.with_overrides(index_dir=str(tmp_path / "idx"))
    ingest(moved)
    assert (tmp_path / "idx" / "index.sqlite3").is_file()
    assert not (settings.store / "lexical").exists()
    assert_agreement(moved)
    assert len(Assistant(moved, embedder=HashingEmbedder()).documents("staff")) == 3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path):
    exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    if not Path(exe).exists():
        pytest.skip("commande `chroma` introuvable")
    port = _free_port()
    log = open(tmp_path / "chroma.log", "wb")
    proc = subprocess.Popen([exe, "run", "--path", str(tmp_path / "server-data"), "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        import urllib.request

        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    pytest.skip("le serveur Chroma n'a pas démarré : " + (tmp_path / "chroma.log").read_text(errors="replace")[-300:])
                time.sleep(0.2)
        yield port
    finally:
        stop_process(proc, 10)
        log.close()


def test_chroma_server_mode_shares_one_index_dir(settings, tiny_corpus, tmp_path, chroma_server):
    """Server mode: ingestion (the one writer) and two app processes' Assistants (readers) use
    the same index_dir; a re-ingestion reaches the readers."""
    from assistant import retrieval
    from assistant.engine import Assistant

    server = settings.with_overrides(chroma_host="127.0.0.1", chroma_port=chroma_server, store=tmp_path / "unused",
                                     index_dir=str(tmp_path / "shared-index"))
    report = ingest(server)
    assert len(report.added) == 3
    assert_agreement(server)
    assert not (tmp_path / "unused").exists()  # nothing local but the index directory
    readers = [Assistant(server, embedder=HashingEmbedder()) for _ in range(2)]
    for bot in readers:
        hits = bot.retriever.lexical("public").search("capitaux patients CANARI", 10)
        assert all(p.access == "public" for p in hits)
        assert bot.retriever.lexical("community").search("capitaux patients", 10)

    retrieval.GENERATION_CHECK_S, saved = 0.0, retrieval.GENERATION_CHECK_S
    try:
        write(tiny_corpus / "public" / "sol.md", front("Sols vivants") + "## Sols\n\nLes mycorhizes nourrissent les sols agricoles.\n")
        ingest(server)
        assert_agreement(server)
        for bot in readers:
            assert [p.doc_id for p in bot.retriever.lexical("public").search("mycorhizes", 5)] == ["public/sol"]
            assert len(bot.documents("staff")) == 4
    finally:
        retrieval.GENERATION_CHECK_S = saved


def test_dense_side_gives_the_filtered_query_and_reads_nothing_above_the_role(bot, monkeypatch):
    """The unfiltered over-fetch + SQL access check returns what Chroma's filtered query returns,
    and never builds a passage of a chunk above the role."""
    from assistant.retrieval import where_clause

    read = []
    original = type(bot.store.index()).visible_passages

    def spy(self, chunk_ids, max_rank, filters=None):
        got = original(self, chunk_ids, max_rank, filters)
        read.extend(p.access for p in got.values())
        return got

    monkeypatch.setattr(type(bot.store.index()), "visible_passages", spy)
    qvec = bot.embedder.embed_queries(["pôle coopération financement gouvernance"])[0]
    for role in ACCESS_LEVELS:
        read.clear()
        timings: dict = {}
        got = bot.retriever._dense(qvec, 5, role, None, timings)
        assert timings["dense_path"] == 1.0
        expected = bot.store.query(qvec, 5, where_clause(role, None))
        assert [p.dense for p in got] == pytest.approx([p.dense for p in expected], abs=1e-5)
        last = expected[-1].dense  # equal similarities at the cut may come in either order
        assert {p.chunk_id for p in got if p.dense > last + 1e-5} == {p.chunk_id for p in expected if p.dense > last + 1e-5}
        assert all(access.can_see(role, level) for level in read)
        assert all(access.can_see(role, p.access) for p in got)


def test_words_typed_without_accents_analyse_as_the_documents_words():
    """« collectivites », « filiere », « menee » stemmed apart from the documents' « collectivités »
    (collect), « filière » (fili), « menée » (men): BM25 and the abstention score missed them."""
    assert analyze("collectivites filieres menee proximite") == analyze("collectivités filières menée proximité")
    # Words French writes without an accent keep their stems.
    assert analyze("site limite suite") == ["sit", "limit", "suit"]
    # The index and the question agree: an unaccented question finds what the accented one finds.
    docs = [Passage(chunk_id=str(i), text=t, meta={"doc_id": "d", "access": "public"}) for i, t in enumerate([
        "Les collectivités soutiennent la filière locale.", "Une association gère un tiers-lieu."])]
    index = LexicalIndex(docs)
    assert [p.chunk_id for p in index.search("collectivites filiere", 1)] == ["0"]

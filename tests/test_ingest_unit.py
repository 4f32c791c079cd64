"""Loaders, metadata, chunking and the incremental logic, with the fast fake embedder."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import CorpusError, StoreMismatchError
from ingest import run
from ingest.chunking import Chunker, section_access, split_sections
from ingest.embedder import HashingEmbedder
from ingest.loaders import decode_text, html_to_markdown, load
from ingest.metadata import parse_meta

from .conftest import front, write


def test_front_matter_is_parsed_and_validated(tiny_corpus):
    doc = load(tiny_corpus / "public" / "ptce.md", tiny_corpus)
    assert doc.doc_id == "public/ptce"
    assert doc.meta.title == "Les PTCE"
    assert doc.meta.access == "public"
    assert doc.meta.section_access == {"Retours d'expérience": "community"}
    assert doc.text.lstrip().startswith("# Les PTCE")


@pytest.mark.parametrize(
    "data, message",
    [
        ({"title": "t", "type": "note", "date": "2024", "source": "s", "access": "secret"}, "niveau d'accès inconnu « secret »"),
        ({"title": "t", "type": "note", "date": "2024", "access": "public"}, "manquante(s) : source"),
        ({"title": "t", "type": "memo", "date": "2024", "source": "s", "access": "public"}, "type inconnu"),
        ({"title": "t", "type": "note", "date": "mars 2024", "source": "s", "access": "public"}, "date"),
        ({"title": "t", "type": "note", "date": "2024", "source": "s", "access": "staff", "section_access": {"X": "public"}}, "moins protégée"),
    ],
)
def test_bad_metadata_is_a_clear_error_naming_the_file(data, message):
    with pytest.raises(CorpusError) as exc:
        parse_meta(data, Path("corpus/x.md"))
    assert "corpus/x.md" in str(exc.value)
    assert message in str(exc.value)


def test_latin1_text_is_decoded_and_binary_is_refused(tmp_path):
    text, enc = decode_text("Coopération économique des collectivités à Besançon".encode("latin-1"), tmp_path / "a.txt")
    assert text == "Coopération économique des collectivités à Besançon"
    assert enc is not None
    with pytest.raises(CorpusError, match="pas un fichier texte"):
        decode_text(b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", tmp_path / "b.txt")


def test_html_keeps_headings_lists_and_drops_scripts():
    md = html_to_markdown(
        "<html><head><title>T</title><script>var x=1;</script></head><body><nav>menu</nav>"
        "<h1>Titre</h1><p>Un <b>paragraphe</b>.</p><h2>Partie</h2><ul><li>un</li><li>deux</li></ul></body></html>"
    )
    assert "# Titre" in md and "## Partie" in md
    assert "- un" in md and "- deux" in md
    assert "var x" not in md and "menu" not in md


def test_sections_keep_heading_path_and_access_override():
    secs = split_sections("# Doc\n\nintro\n\n## A\n\ntexte a\n\n### A1\n\ntexte a1\n\n## Retours d'expérience\n\nretours")
    assert [s.path for s in secs] == [["Doc"], ["Doc", "A"], ["Doc", "A", "A1"], ["Doc", "Retours d'expérience"]]
    overrides = {"Retours d'expérience": "community"}
    assert section_access(secs[1].path, "public", overrides) == "public"
    assert section_access(secs[3].path, "public", overrides) == "community"


def test_chunks_respect_the_token_cap_and_have_stable_ids(tiny_corpus):
    emb = HashingEmbedder()
    long_body = "\n\n".join(f"Paragraphe {i} sur la coopération territoriale et les PTCE en France." for i in range(80))
    write(tiny_corpus / "long.md", front("Long document") + "## Partie\n\n" + long_body)
    doc = load(tiny_corpus / "long.md", tiny_corpus)
    chunker = Chunker(emb, chunk_tokens=60, overlap=10)
    chunks = chunker.chunk(doc)
    assert len(chunks) > 5
    assert all(emb.count_tokens(c.embedding_text()) <= emb.max_tokens for c in chunks)
    assert all(c.section == "Partie" and c.page is None for c in chunks)
    assert [c.id for c in chunker.chunk(doc)] == [c.id for c in chunks]
    assert len({c.id for c in chunks}) == len(chunks)


def test_community_section_chunks_carry_the_raised_access(tiny_corpus):
    doc = load(tiny_corpus / "public" / "ptce.md", tiny_corpus)
    chunks = Chunker(HashingEmbedder()).chunk(doc)
    by_section = {c.section: c.access for c in chunks}
    assert by_section["Définition"] == "public"
    assert by_section["Retours d'expérience"] == "community"
    assert all("CANARI-SECTION" not in c.text for c in chunks if c.access == "public")


def _ids(settings):
    from assistant.store import open_store

    store = open_store(settings)
    return store, sorted(store.collection.get(include=[])["ids"])


def test_incremental_ingest_embeds_nothing_when_unchanged(settings):
    first = run(settings)
    assert sorted(first.added) == ["communaute/atelier", "interne/pilotage", "public/ptce"]
    assert first.ok and first.chunks_total == first.chunks_written > 0
    second = run(settings)
    assert second.chunks_written == 0
    assert sorted(second.unchanged) == sorted(first.added)
    assert second.chunks_total == first.chunks_total


def test_changed_document_replaces_all_its_chunks(settings, tiny_corpus):
    run(settings)
    store, _ = _ids(settings)
    old = set(store.chunk_ids("interne/pilotage"))
    write(
        tiny_corpus / "interne" / "pilotage.md",
        front("Note de pilotage", access="community", date="2026-02") + "## Calendrier\n\nLe comité se réunit désormais en avril.\n",
    )
    report = run(settings)
    assert report.updated == ["interne/pilotage"]
    metas = list(store.iter_metadatas(where={"doc_id": "interne/pilotage"}))
    assert metas and all(m["access"] == "community" for m in metas)  # access change reached every chunk
    texts = store.collection.get(where={"doc_id": "interne/pilotage"})["documents"]
    assert not any("mars" in t for t in texts)
    assert not (old & set(store.chunk_ids("interne/pilotage"))) or len(metas) == len(old)


def test_removed_document_is_purged_and_no_prune_keeps_it(settings, tiny_corpus):
    run(settings)
    (tiny_corpus / "communaute" / "atelier.md").unlink()
    kept = run(settings, prune=False)
    assert kept.removed == []
    store, _ = _ids(settings)
    assert store.chunk_ids("communaute/atelier")
    pruned = run(settings)
    assert pruned.removed == ["communaute/atelier"]
    assert store.chunk_ids("communaute/atelier") == []


def test_a_broken_file_keeps_its_last_good_version(settings, tiny_corpus):
    run(settings)
    write(tiny_corpus / "public" / "ptce.md", "---\ntitle: x\naccess: confidentiel\n---\ntexte\n")
    report = run(settings)
    assert [s.path.endswith("ptce.md") for s in report.skipped] == [True]
    assert "niveau d'accès inconnu" in report.skipped[0].reason or "manquante" in report.skipped[0].reason
    store, _ = _ids(settings)
    assert store.chunk_ids("public/ptce"), "the previous version must not be purged"


def test_store_built_with_another_embedder_is_refused(settings):
    from assistant.store import open_store

    run(settings)
    other = HashingEmbedder(dim=32, name="autre-modele")
    with pytest.raises(StoreMismatchError, match="autre-modele"):
        open_store(settings, embedder=other)
    with pytest.raises(StoreMismatchError):
        run(settings, embedder=other)


REFERENCES_DOC = (
    "# Fiche\n\n## En bref\n\nLe pôle associe des entreprises et des associations du territoire.\n\n"
    "## Ressources\n\n- Points de RepèrESS : PTCE et collectivité, RTES, 2022.\n"
    "- Carnet des projets COOP'TER – ADEME. 2024\n- www.lelabo-ess.org\n\n"
    "## Pour aller plus loin\n\nLe guide du Labo de l'ESS sur les coopérations territoriales.\n"
)


def test_reference_sections_and_bibliographies_are_marked_at_ingestion(tmp_path):
    from ingest.references import KIND_REFERENCES, KIND_TEXT

    path = write(tmp_path / "c" / "fiche.md", front("Fiche") + REFERENCES_DOC)
    chunks = Chunker(HashingEmbedder()).chunk(load(path, tmp_path / "c"))
    kinds = {c.section: c.kind for c in chunks}
    assert kinds == {"En bref": KIND_TEXT, "Ressources": KIND_REFERENCES, "Pour aller plus loin": KIND_REFERENCES}
    assert all(c.metadata()["kind"] == c.kind for c in chunks)


def test_reference_chunks_stay_searchable_but_answer_only_a_request_for_resources(settings, tiny_corpus):
    """A user may look for a source: the references chunk is retrieved. A question on content is
    answered from content only; a question that asks for a resource (« Quelles ressources… ? ») is
    answered by the references themselves."""
    from assistant.engine import Assistant

    write(tiny_corpus / "public" / "fiche.md", front("Fiche pôle") + REFERENCES_DOC)
    run(settings)
    bot = Assistant(settings.with_overrides(abstain_threshold=0.0))  # the fake embedder's scores are low
    hits = bot.retriever.retrieve("Carnet des projets COOP'TER ADEME 2024", "public", k=5)
    assert any(p.meta.get("kind") == "references" for p in hits)
    answer = bot.ask("Que fait le pôle pour les projets, les PTCE et la collectivité ?", role="public")
    assert not answer.abstained
    assert "RTES, 2022" not in answer.answer and "Carnet des projets" not in answer.answer
    asked = bot.ask("Quelles ressources sur les PTCE et la collectivité, RTES ?", role="public")
    assert "Points de RepèrESS : PTCE et collectivité, RTES, 2022" in asked.answer, asked.answer


def test_pdf_mastheads_are_not_glued_to_the_first_sentence():
    from ingest.loaders import clean_pdf_text

    page = ("Les pôles territoriaux de coopération\néconomique : une perspective ambitieuse\n"
            "Danièle Demoustier\nFévrier 2013\n"
            "Après 30 ans d'innovation sociale pour construire de nouveaux services plus\n"
            "adaptés aux besoins sociaux, l'économie sociale et solidaire (ESS) se préoccupe\n"
            "maintenant des modes de structuration de ces innova-\ntions collectives et territoriales.\n"
            "L'émiettement, lié à l'émergence, est en effet devenu un frein à la consolidation\n"
            "des structures et un vecteur de concurrence qui les affaiblit collectivement.\n")
    paragraphs = clean_pdf_text(page).split("\n\n")
    assert paragraphs[:4] == ["Les pôles territoriaux de coopération", "économique : une perspective ambitieuse",
                              "Danièle Demoustier", "Février 2013"]
    assert paragraphs[4].startswith("Après 30 ans") and "innovations collectives et territoriales." in paragraphs[4]
    assert paragraphs[4].endswith("territoriales. L'émiettement, lié à l'émergence, est en effet devenu un frein "
                                  "à la consolidation des structures et un vecteur de concurrence qui les affaiblit "
                                  "collectivement.") or paragraphs[5].startswith("L'émiettement")


def test_the_paragraph_after_a_pdf_list_is_not_glued_to_its_last_item():
    """The extraction drops the blank line after a list: « Les PTCE pourraient ainsi… » read as the
    end of the list's last item, and « Ces PTCE doivent relever… » as the end of the item before
    it. An item's own wrapped lines (lower case, or mid-sentence) stay with it."""
    from ingest.loaders import clean_pdf_text

    page = ("• Il s'agit de construire des processus d'évaluation autour de l'utilité socio-économique\n"
            "de ces pôles, qui prennent en compte les résultats et les processus.\n"
            "• Il s'agit enfin de trouver les formes d'organisation qui ne recréent pas des superstructures\n"
            "qui rigidifient les relations entre les membres mais les activent. Elles les fluidifient à\n"
            "l'usage, en donnant à chacun sa place dans le collectif et dans ses décisions communes.\n"
            "Les PTCE pourraient ainsi s'inscrire, non pas seulement dans la phase actuelle de gestion de crise,\n"
            "mais surtout dans un nouveau modèle de sortie de crise.\n")
    paragraphs = clean_pdf_text(page).split("\n\n")
    assert len(paragraphs) == 3, paragraphs
    assert paragraphs[0].endswith("les résultats et les processus.")
    assert paragraphs[1].startswith("• Il s'agit enfin") and paragraphs[1].endswith("dans ses décisions communes.")
    assert paragraphs[2].startswith("Les PTCE pourraient ainsi")


def test_a_sentence_cut_by_a_pdf_page_break_is_chunked_whole():
    """« … Aux côtés des coordinations administrative et concurrentielle, » ends page 2 and « la
    coordination coopérative… » opens page 3: the sentence goes whole to page 3, so no chunk
    starts mid-sentence (an extractive answer cannot quote half a sentence)."""
    from ingest.chunking import mend_page_breaks
    from ingest.loaders import LoadedDoc

    pages = ["Les PTCE ouvrent une perspective nouvelle. Aux côtés des coordinations administrative et concurrentielle,",
             "la coordination coopérative est un levier pour une économie de la proximité. Elle suppose du temps."]
    assert mend_page_breaks(pages) == [
        "Les PTCE ouvrent une perspective nouvelle.",
        "Aux côtés des coordinations administrative et concurrentielle, la coordination coopérative est un levier "
        "pour une économie de la proximité. Elle suppose du temps."]
    # A page that ends a sentence, announces a list, or a next page that starts a new one: left alone.
    for kept in (["Une phrase entière.", "la suite en minuscule."], ["Il répond à trois enjeux :", "• la mutualisation"],
                 ["Un début sans point", "Une nouvelle page."]):
        assert mend_page_breaks(kept) == kept
    assert mend_page_breaks(["Titre\n\nun début sans point", "qui finit ici. Fin."]) == \
        ["Titre", "un début sans point qui finit ici. Fin."]
    # a page whose only sentence goes on: emptied, and no empty chunk comes of it
    assert mend_page_breaks(["un début sans point", "qui finit ici."]) == ["", "un début sans point qui finit ici."]
    meta = parse_meta({"title": "Note", "type": "note", "access": "public", "date": "2013", "source": "test"},
                      Path("n.pdf"))
    doc = LoadedDoc(doc_id="notes/n", path=Path("n.pdf"), meta=meta, text="\n\n".join(pages), pages=pages,
                    content_hash="h")
    chunks = Chunker(HashingEmbedder()).chunk(doc)
    assert [c.page for c in chunks] == [1, 2]
    doc.pages = ["un début sans point", "qui finit ici."]
    assert [(c.page, c.text) for c in Chunker(HashingEmbedder()).chunk(doc)] == [(2, "un début sans point qui finit ici.")]
    assert chunks[1].text.startswith("Aux côtés des coordinations")


def test_a_new_chunking_reaches_chunks_already_stored(settings, monkeypatch):
    """Chunk kinds and metadata come from the chunking code, not from the document: a change to it
    (CHUNKING_VERSION bumped) makes the next ingest re-chunk every document, content unchanged,
    and `coopter check` says so until then."""
    import ingest.chunking
    import ingest.pipeline
    from assistant.store import open_store
    from ingest.check import check

    first = run(settings)
    assert check(settings).ok
    monkeypatch.setattr(ingest.chunking, "chunk_kind", lambda section, text: "references")
    assert run(settings).chunks_written == 0  # same content, same version: nothing to redo

    monkeypatch.setattr(ingest.chunking, "CHUNKING_VERSION", ingest.chunking.CHUNKING_VERSION + 1)
    monkeypatch.setattr(ingest.pipeline, "CHUNKING_VERSION", ingest.chunking.CHUNKING_VERSION)
    stale = check(settings)
    assert [i.kind for i in stale.issues] == ["decoupage"] and "coopter ingest" in stale.issues[0].detail
    redo = run(settings)
    assert sorted(redo.updated) == sorted(first.added) and redo.unchanged == []
    assert any("redécoupés" in n for n in redo.notes)
    metas = list(open_store(settings).iter_metadatas())
    assert metas and all(m["kind"] == "references" for m in metas)
    assert check(settings).ok and run(settings).chunks_written == 0


def test_a_new_store_is_of_this_chunking_even_when_its_first_run_covers_some_files(settings, tiny_corpus):
    """A first ingest of a few files (or one cut short) leaves chunks of this code's chunking: the
    next full run adds the other files without re-chunking those."""
    first = run(settings, paths=[tiny_corpus / "public" / "ptce.md"])
    assert first.added == ["public/ptce"]
    full = run(settings)
    assert "public/ptce" in full.unchanged and not any("redécoupés" in n for n in full.notes)

"""`coopter check` finds each kind of disagreement between Chroma, the index database and the
corpus, and `--repair` fixes it by re-ingesting what is needed. Each test damages a freshly
ingested tiny store the way a crash or a hand edit would."""

from __future__ import annotations

import json
import shutil

from click.testing import CliRunner

from assistant.cli import EXIT_MISMATCH, main
from assistant.manifest import S_DIRTY
from assistant.store import open_store
from ingest import run
from ingest.check import check, repair

from .conftest import front, write

PTCE = "public/ptce"


def _kinds(report) -> set[tuple[str, str]]:
    return {(i.kind, i.doc_id) for i in report.issues}


def _repaired(settings):
    result = repair(settings)
    assert not result.before.ok
    assert result.after.ok, [str(i) for i in result.after.issues]
    return result


def test_fresh_ingest_is_consistent(settings):
    run(settings)
    report = check(settings)
    assert report.ok, [str(i) for i in report.issues]
    assert report.documents == 3 and report.corpus_files == 3 and report.chunks >= 4


def test_mixed_versions_of_a_document_are_duplicates(settings):
    """What a replace killed between writing the new chunks and removing the old ones leaves."""
    run(settings)
    store = open_store(settings)
    got = store.collection.get(where={"doc_id": PTCE}, include=["embeddings", "documents", "metadatas"])
    metas = [{**m, "doc_hash": "ancienne-version"} for m in got["metadatas"]]
    store.upsert([f"old-{i}" for i in got["ids"]], [list(v) for v in got["embeddings"]], got["documents"], metas)
    assert ("doublon", PTCE) in _kinds(check(settings))
    _repaired(settings)
    assert len(open_store(settings).chunk_ids(PTCE)) == len(got["ids"])


def test_vectors_missing_from_the_index_and_index_orphans(settings):
    run(settings)
    store = open_store(settings)
    store.index().remove_document("communaute/atelier")  # vectors without index rows
    store.delete_doc("interne/pilotage")  # index rows without vectors
    kinds = _kinds(check(settings))
    assert ("index", "communaute/atelier") in kinds
    assert ("orphelin", "interne/pilotage") in kinds
    _repaired(settings)


def test_corpus_changes_are_reported_until_ingested(settings, tiny_corpus):
    run(settings)
    write(tiny_corpus / "public" / "nouveau.md", front("Nouveau") + "Un texte nouveau sur les coopérations.\n")
    (tiny_corpus / "interne" / "pilotage.md").unlink()
    with open(tiny_corpus / "communaute" / "atelier.md", "a", encoding="utf-8") as f:
        f.write("\nUne phrase ajoutée.\n")
    kinds = _kinds(check(settings))
    assert {("absent", "public/nouveau"), ("orphelin", "interne/pilotage"), ("perime", "communaute/atelier")} <= kinds
    result = _repaired(settings)
    assert result.ingest.added == ["public/nouveau"] and result.ingest.removed == ["interne/pilotage"]


def test_manifest_edited_by_hand_is_rewritten(settings):
    run(settings)
    db = open_store(settings).index()
    db.conn.execute("UPDATE documents SET hash = 'faux', chunks_public = 42 WHERE doc_id = ?", (PTCE,))
    assert ("inventaire", PTCE) in _kinds(check(settings))
    _repaired(settings)


def test_truncated_document_is_found_only_by_rechunking(settings):
    """A chunk lost from both sides (the manifest recomputed from what is left) looks complete:
    only the deep check, which chunks the file again, sees it."""
    run(settings)
    store = open_store(settings)
    ids = sorted(store.chunk_ids(PTCE))
    assert len(ids) >= 2
    store.delete_ids(ids[:1])
    run(settings)  # reconciles the index with Chroma: counts agree again, the hash too
    assert check(settings, deep=False).ok
    assert ("passages", PTCE) in _kinds(check(settings))
    _repaired(settings)
    assert sorted(open_store(settings).chunk_ids(PTCE)) == ids


def test_stale_bm25_generation_and_dirty_flag(settings):
    run(settings)
    db = open_store(settings).index()
    shutil.rmtree(db.dir / f"bm25-{db.generation()}" / "staff")
    db.set_state(S_DIRTY, "1")
    kinds = {k for k, _ in _kinds(check(settings))}
    assert {"lexical", "etat"} <= kinds
    _repaired(settings)


def test_cli_exit_codes_and_french_lines(settings, monkeypatch):
    monkeypatch.setenv("COOPTER_EMBED_MODEL", "fake:hashing")
    run(settings)
    args = ["check", str(settings.corpus_dir), "--store", str(settings.store)]
    ok = CliRunner().invoke(main, args)
    assert ok.exit_code == 0, ok.output
    assert "cohérente" in ok.stdout
    open_store(settings).delete_doc(PTCE)
    bad = CliRunner().invoke(main, args)
    assert bad.exit_code == EXIT_MISMATCH
    assert "écart : [orphelin] public/ptce" in bad.stdout and "coopter check --repair" in bad.stdout
    assert "Traceback" not in bad.output
    fixed = CliRunner().invoke(main, [*args, "--repair", "--json"])
    assert fixed.exit_code == 0, fixed.output
    out = json.loads(fixed.stdout)
    assert out["ok"] and not out["before"]["ok"]


def test_cli_check_without_store_is_one_clear_line(tmp_path, tiny_corpus, monkeypatch):
    monkeypatch.setenv("COOPTER_EMBED_MODEL", "fake:hashing")
    result = CliRunner().invoke(main, ["check", str(tiny_corpus), "--store", str(tmp_path / "rien")])
    assert result.exit_code == 2
    assert result.stderr.startswith("Erreur : ") and "coopter ingest" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_file_ingestion_skips_is_a_warning_not_a_mismatch(settings, tiny_corpus):
    """Found by tests/test_fuzz.py: an HTML page that loads but gives no passage."""
    write(tiny_corpus / "public" / "vide.html", "<html><body><h1>T")
    write(tiny_corpus / "public" / "vide.html.meta.yaml", 'title: "Vide"\ntype: note\ndate: "2024"\nsource: "test"\naccess: public\n')
    write(tiny_corpus / "public" / "casse.md", "pas de métadonnées")
    report = run(settings)
    assert len(report.skipped) == 2
    result = check(settings)
    assert result.ok, [str(i) for i in result.issues]
    assert len(result.warnings) == 2

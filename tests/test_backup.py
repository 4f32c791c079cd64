"""`coopter export` / `coopter import`: the round trip gives the same answers, accounts and
feedback; a bad, incomplete or tampered folder, another model, or a non-empty target is refused
with one clear line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.backup import MANIFEST, VECTORS, BackupError, export_state, import_state
from assistant.cli import main
from assistant.engine import Assistant
from assistant.errors import StoreMismatchError
from ingest import run
from ingest.check import check
from ui.auth import UserStore
from ui.feedback import FeedbackStore

QUESTIONS = [
    "Qu'est-ce qu'un pôle territorial de coopération économique ?",
    "Comment financer les coopérations avec des capitaux patients ?",
    "Quand le comité de pilotage se réunit-il ?",
    "Quelles leçons tirer des retours d'expérience ?",
]


def _answers(settings) -> list:
    bot = Assistant(settings)
    out = []
    for role in ("public", "community", "staff"):
        for q in QUESTIONS:
            a = bot.ask(q, role=role)
            out.append((role, a.answer, a.abstained, [c.to_json() for c in a.citations]))
    return out


@pytest.fixture
def exported(settings, tmp_path):
    run(settings)
    UserStore(settings.users_file).add("alice", "secret-alice", "staff")
    FeedbackStore(settings.feedback_db).add(role="public", question="q ?", answer="r.", chunk_ids=["a"], rating=1)
    folder = tmp_path / "sauvegarde"
    report = export_state(settings, folder)
    assert report.chunks > 0 and report.documents == 3
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    assert {oct(f.stat().st_mode & 0o777) for f in folder.iterdir()} == {"0o600"}
    return folder


def _elsewhere(settings, tmp_path: Path):
    other = tmp_path / "restaure"
    return settings.with_overrides(store=other / "store", users_file=other / "users.json", feedback_db=other / "feedback.sqlite3")


def test_round_trip_gives_identical_answers_accounts_and_feedback(settings, exported, tmp_path):
    restored = _elsewhere(settings, tmp_path)
    report = import_state(restored, exported)
    assert report.documents == 3
    assert _answers(restored) == _answers(settings)
    assert check(restored).ok
    assert UserStore(restored.users_file).verify("alice", "secret-alice") == "staff"
    assert oct(restored.users_file.stat().st_mode & 0o777) == "0o600"
    assert [r["question"] for r in FeedbackStore(restored.feedback_db).rows()] == ["q ?"]


def test_incomplete_tampered_or_foreign_folders_are_refused(settings, exported, tmp_path):
    restored = _elsewhere(settings, tmp_path)
    with pytest.raises(BackupError, match="n'est pas un export"):
        import_state(restored, tmp_path)  # any folder
    raw = (exported / VECTORS).read_bytes()
    (exported / VECTORS).write_bytes(raw[:-8] + bytes(b ^ 0xFF for b in raw[-8:]))  # one vector altered
    with pytest.raises(BackupError, match="endommagé : vectors.npy"):
        import_state(restored, exported)
    (exported / VECTORS).unlink()
    with pytest.raises(BackupError, match="incomplet : vectors.npy"):
        import_state(restored, exported)
    assert not restored.store.exists()  # nothing was written


def test_another_model_is_refused(settings, exported, tmp_path):
    manifest = json.loads((exported / MANIFEST).read_text())
    manifest["embedder"] = "autre-modele"
    (exported / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(StoreMismatchError, match="autre-modele"):
        import_state(_elsewhere(settings, tmp_path), exported)


def test_non_empty_target_needs_replace(settings, exported):
    with pytest.raises(BackupError, match="--replace"):
        import_state(settings, exported)
    before = _answers(settings)
    import_state(settings, exported, replace=True)
    assert _answers(settings) == before and check(settings).ok


def test_cli_export_import_and_one_line_errors(settings, tmp_path, monkeypatch):
    monkeypatch.setenv("COOPTER_EMBED_MODEL", "fake:hashing")
    monkeypatch.setenv("COOPTER_USERS_FILE", str(tmp_path / "users.json"))
    monkeypatch.setenv("COOPTER_FEEDBACK_DB", str(tmp_path / "feedback.sqlite3"))
    run(settings)
    folder = tmp_path / "export"
    out = CliRunner().invoke(main, ["export", str(folder), "--store", str(settings.store)])
    assert out.exit_code == 0, out.output
    assert out.stdout.startswith("Exporté vers")
    again = CliRunner().invoke(main, ["export", str(folder), "--store", str(settings.store)])
    assert again.exit_code == 2 and "n'est pas vide" in again.stderr
    ok = CliRunner().invoke(main, ["import", str(folder), "--store", str(tmp_path / "neuve")])
    assert ok.exit_code == 0, ok.output
    bad = CliRunner().invoke(main, ["import", str(tmp_path / "nulle-part"), "--store", str(tmp_path / "autre")])
    assert bad.exit_code == 2 and bad.stderr.startswith("Erreur : dossier d'export introuvable")
    assert len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.output


@pytest.mark.slow
def test_real_model_round_trip_answers_identically(real_store, real_assistant, tmp_path):
    """The shipped corpus, the real model: the same answers and citations after import."""
    settings, _ = real_store
    folder = tmp_path / "export"
    export_state(settings, folder)
    restored = settings.with_overrides(store=tmp_path / "store", users_file=tmp_path / "u.json", feedback_db=tmp_path / "f.sqlite3")
    import_state(restored, folder, embedder=real_assistant.embedder)
    other = Assistant(restored, embedder=real_assistant.embedder)
    questions = ["Quels sont les trois piliers du programme COOP'TER ?", "Qu'est-ce que la Fabrique à initiatives ?",
                 "Qu'est-ce qu'un PTCE ?", "Quelle est la recette de la tarte tatin ?"]
    for role in ("public", "staff"):
        for q in questions:
            a, b = real_assistant.ask(q, role=role), other.ask(q, role=role)
            assert (a.answer, a.abstained, [c.to_json() for c in a.citations]) == (b.answer, b.abstained, [c.to_json() for c in b.citations])

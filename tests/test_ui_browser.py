"""The real app in a real browser: `streamlit run` + headless Chromium through Playwright.

Asks a question in the chat box, waits for the cited answer and its source card, and saves a
screenshot to test-artifacts/ui-answer.png.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import stop_process

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
QUESTION = "Qu'est-ce que le Conseil de l'ESS de l'Eurométropole de Strasbourg ?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, server: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit s'est arrêté (code {server.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} ne répond pas après {timeout} s")


@pytest.fixture
def sync_api():
    """Playwright's sync API, or a skip when the browser stack is missing."""
    if not CHROMIUM.exists():
        pytest.skip("Chromium absent (/usr/bin/chromium) : apt-get install chromium")
    return pytest.importorskip("playwright.sync_api", reason="paquet playwright absent")


@pytest.fixture
def server(sync_api, real_store, tmp_path):
    settings, _ = real_store
    port = free_port()
    env = {
        **os.environ,
        "COOPTER_CORPUS_DIR": str(settings.corpus_dir),
        "COOPTER_STORE": str(settings.store),
        "COOPTER_USERS_FILE": str(tmp_path / "users.json"),
        "COOPTER_FEEDBACK_DB": str(tmp_path / "feedback.sqlite3"),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "ui" / "app.py"),
        "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    log = (tmp_path / "streamlit.log").open("w")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_healthy(f"http://127.0.0.1:{port}/_stcore/health", proc)
        yield f"http://127.0.0.1:{port}/"
    finally:
        stop_process(proc, 15)
        log.close()


def test_browser_question_shows_cited_answer_and_source_card(sync_api, server):
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1500}, locale="fr-FR")
            page.goto(server)
            box = page.get_by_placeholder("Posez votre question sur la coopération territoriale…")
            box.wait_for(timeout=120_000)  # the first run loads the model
            box.fill(QUESTION)
            box.press("Enter")
            answer = page.locator('[data-testid="stChatMessage"]').nth(1)
            answer.get_by_text("[1]").first.wait_for(timeout=60_000)
            card = answer.locator('[data-testid="stExpander"]').first
            card.wait_for(timeout=30_000)
            card.locator("summary").click()
            card.locator("mark").first.wait_for(timeout=10_000)
            page.wait_for_timeout(500)  # let the expander finish opening
            page.screenshot(path=str(ARTIFACTS / "ui-answer.png"))
            assert "[1]" in answer.inner_text()
            assert card.locator("mark").count() >= 1
        finally:
            browser.close()


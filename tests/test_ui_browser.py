"""The real app in a real browser: `streamlit run` + headless Chromium through Playwright.

Asks a question in the chat box, waits for the cited answer and its source card, and saves a
screenshot to test-artifacts/ui-answer.png. A fresh server's first page appears before the models
are loaded; every page loads nothing from outside 127.0.0.1 (the app runs offline); a click on a
row of the documents table opens the document. Screenshots: test-artifacts/ui-*.png.
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



LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "about:")


def watch_network(page) -> dict[str, list[str]]:
    """Requests that leave 127.0.0.1, and the console's errors (failed loads show there)."""
    seen: dict[str, list[str]] = {"outside": [], "console": []}
    page.on("request", lambda r: None if r.url.startswith(LOCAL) else seen["outside"].append(r.url))
    page.on("console", lambda m: seen["console"].append(m.text) if m.type == "error" else None)
    page.on("requestfailed", lambda r: seen["console"].append(f"{r.url} {r.failure}"))
    return seen


def test_browser_first_page_then_answer_with_sources_and_nothing_from_the_internet(sync_api, server, tmp_path):
    """A fresh server: the page shows at once, models load behind a French message; the answer
    comes with the elapsed time and its sources; the documents page opens a document on a row
    click; the staff's administration page too; no page asks anything of the internet."""
    from ui.auth import UserStore

    UserStore(tmp_path / "users.json").add("sam", "motdepasse-equipe", "staff")  # the server's users file
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1100}, locale="fr-FR")
            seen = watch_network(page)
            started = time.monotonic()
            page.goto(server)
            page.get_by_text("Assistant COOP'TER").first.wait_for(timeout=30_000)
            page.get_by_text("Je veux créer un PTCE").first.wait_for(timeout=30_000)
            first_page_s = time.monotonic() - started
            try:  # shown only while the models load: a fast machine may not show it at all
                page.get_by_text("Chargement du modèle").first.wait_for(timeout=5_000)
            except sync_api.TimeoutError:
                pass
            page.screenshot(path=str(ARTIFACTS / "ui-first-page.png"))
            box = page.get_by_placeholder("Posez votre question sur la coopération territoriale…")
            box.wait_for(timeout=120_000)
            # the page is drawn while the models load: it does not wait for them
            assert first_page_s < 20, f"première page après {first_page_s:.1f} s"

            box.fill(QUESTION)
            box.press("Enter")
            answer = page.locator('[data-testid="stChatMessage"]').nth(1)
            try:  # the documents found, shown before the answer text (a short moment when warm)
                answer.get_by_text("Documents consultés").first.wait_for(timeout=15_000)
                page.screenshot(path=str(ARTIFACTS / "ui-answer-sources-first.png"))
            except sync_api.TimeoutError:
                pass
            answer.get_by_text("[1]").first.wait_for(timeout=120_000)
            answer.get_by_text("Recherche :").first.wait_for(timeout=10_000)
            page.screenshot(path=str(ARTIFACTS / "ui-answer-timing.png"))
            assert "réponse complète" in answer.inner_text()

            page.get_by_role("link", name="Documents").first.click()
            grid = page.locator('[data-testid="stDataFrame"]').first
            grid.wait_for(timeout=60_000)
            page.wait_for_timeout(1000)  # the grid draws on a canvas after it mounts
            page.screenshot(path=str(ARTIFACTS / "ui-documents.png"))
            # the grid is a canvas: click the first row's selection box (left edge, first data row)
            bbox = grid.bounding_box()
            page.mouse.click(bbox["x"] + 15, bbox["y"] + 38 + 92 / 2)
            heading = page.locator('[data-testid="stHeading"] h3').first
            heading.wait_for(timeout=30_000)
            heading.scroll_into_view_if_needed()
            page.wait_for_timeout(500)
            page.screenshot(path=str(ARTIFACTS / "ui-document-open.png"))
            assert heading.inner_text().strip()
            assert page.get_by_text("Source :").count() or page.get_by_text("Ouvrir la source").count()

            sidebar = page.locator('[data-testid="stSidebar"]')
            sidebar.get_by_label("Identifiant").fill("sam")
            sidebar.get_by_label("Mot de passe").fill("motdepasse-equipe")
            sidebar.get_by_role("button", name="Se connecter").click()
            page.get_by_role("link", name="Administration").first.click()
            page.get_by_text("Dernière indexation").first.wait_for(timeout=60_000)
            page.wait_for_timeout(500)
            page.screenshot(path=str(ARTIFACTS / "ui-admin.png"))
        finally:
            browser.close()
    assert seen["outside"] == [], seen["outside"]
    assert not [m for m in seen["console"] if "ERR_" in m or "Failed to load" in m], seen["console"]

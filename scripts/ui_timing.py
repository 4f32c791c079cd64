"""Cold start of the web app, as a first visitor lives it: `python scripts/ui_timing.py [--store DIR]`.

Starts `coopter ui` (headless, 127.0.0.1), opens headless Chromium as soon as the server answers
its health check, and prints, in seconds from the server's start:
- page: the page shows something (the title and a message) instead of a blank screen;
- ready: the chat box can be used (models and indexes loaded);
- answer: the first question's answer is on screen (cited passage [1]);
plus the answer's own latency from pressing Enter, and any request that left 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "Qu'est-ce qu'un pôle territorial de coopération économique ?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", default="", help="dossier de la base (défaut : réglages)")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--wait", type=float, default=0, help="secondes entre le démarrage et la visite")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    port = free_port()
    cmd = [sys.executable, "-m", "assistant.cli", "ui"]
    if args.store:
        cmd += ["--store", args.store]
    cmd += ["--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    t0 = time.monotonic()
    # its own process group: an older `coopter ui` ran Streamlit as a child, stopped with it below
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    outside: list[str] = []
    try:
        url = f"http://127.0.0.1:{port}/"
        while True:
            try:
                with urllib.request.urlopen(url + "_stcore/health", timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() - t0 > 120:
                    sys.exit("le serveur n'a pas démarré")
                time.sleep(0.1)
        health = time.monotonic() - t0
        time.sleep(args.wait)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(locale="fr-FR")
            page.on("request", lambda r: None if r.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")) else outside.append(r.url))
            visit = time.monotonic() - t0
            page.goto(url)
            page.get_by_text("Assistant COOP'TER").first.wait_for(timeout=120_000)
            shown = time.monotonic() - t0
            box = page.get_by_placeholder("Posez votre question sur la coopération territoriale…")
            box.wait_for(timeout=120_000)
            ready = time.monotonic() - t0
            box.fill(QUESTION)
            asked = time.monotonic()
            box.press("Enter")
            page.locator('[data-testid="stChatMessage"]').nth(1).get_by_text("[1]").first.wait_for(timeout=120_000)
            done = time.monotonic()
            browser.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(15)
    print(f"santé du serveur : {health:.1f} s ; visite à {visit:.1f} s")
    print(f"page visible : {shown:.1f} s ; saisie possible : {ready:.1f} s ; première réponse : {done - t0:.1f} s "
          f"(dont {done - asked:.1f} s après Entrée)")
    print(f"requêtes hors 127.0.0.1 : {len(outside)}" + "".join(f"\n  {u}" for u in outside))


if __name__ == "__main__":
    main()

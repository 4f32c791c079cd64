"""`coopter ui` under a supervisor: SIGTERM stops the Streamlit server (no orphan holding the
port), and users get Streamlit's minimal toolbar (no developer menu, no « Deploy » button)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .conftest import ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _pids_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if marker in cmdline:
                found.append(int(entry.name))
    return found


def test_sigterm_to_coopter_ui_stops_streamlit_and_frees_the_port(tmp_path):
    port = _free_port()
    env = {**os.environ, "COOPTER_EMBED_MODEL": "fake:hashing", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "assistant.cli", "ui", "--store", str(tmp_path / "store"),
           "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port)]
    log = (tmp_path / "ui.log").open("w")
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "ui.log").read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "streamlit never became healthy"
            time.sleep(0.3)
        # The pid the supervisor knows is the server itself, started with the minimal toolbar.
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")
        assert b"streamlit" in cmdline and b"--client.toolbarMode" in cmdline
        assert cmdline[cmdline.index(b"--client.toolbarMode") + 1] == b"minimal"
        assert cmdline[cmdline.index(b"--runner.magicEnabled") + 1] == b"false"  # from any directory
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
    deadline = time.monotonic() + 5
    while _listening(port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _listening(port), "the port is still held after SIGTERM"
    assert _pids_with(f"--server.port {port}") == []

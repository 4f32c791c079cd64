"""`coopter export DIR` / `coopter import DIR`: a whole deployment's state in one folder.

What a folder holds (each file listed with its SHA-256 in `coopter-export.json`):
- `chunks.jsonl` + `vectors.npy`: every chunk (id, text, metadata) and its vector, in one
  order, read through Chroma's API, so an embedded store and a `chroma run` server export and
  import alike, and nothing is re-embedded on import;
- `index.sqlite3`: the index database (lexical terms + document manifest), an SQLite backup;
- `users.json`, `oidc_roles.json`, `feedback.sqlite3` when they exist.

Import checks the folder first (format, every file present and intact, counts) and that the
configured embedder is the one that built the vectors; it refuses a non-empty target unless
asked to replace it. The persisted BM25 files are rebuilt from the imported terms (seconds).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from .errors import CoopterError, StoreMismatchError

FORMAT = "coopter-export"
VERSION = 1
MANIFEST = "coopter-export.json"
CHUNKS, VECTORS, INDEX, USERS, FEEDBACK = "chunks.jsonl", "vectors.npy", "index.sqlite3", "users.json", "feedback.sqlite3"


class BackupError(CoopterError):
    """An export folder that cannot be written or imported."""


@dataclass
class BackupReport:
    folder: str
    chunks: int = 0
    documents: int = 0
    embedder: str = ""
    files: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary_fr(self, verb: str) -> str:
        return (
            f"{verb} {self.folder} : {self.documents} document(s), {self.chunks} passage(s), "
            f"modèle {self.embedder}, fichiers {', '.join(self.files)} ; {self.seconds:.1f} s"
        )


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _sqlite_copy(src: Path, dst: Path) -> None:
    """A consistent copy of a live SQLite database (WAL included), through the backup API."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{dst}{suffix}").unlink(missing_ok=True)
    with closing(sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=30)) as a, closing(sqlite3.connect(dst)) as b:
        a.backup(b)
    with closing(sqlite3.connect(dst)) as b:
        b.execute("PRAGMA journal_mode = DELETE")  # one self-contained file


def _oidc_file(users_file: Path) -> Path:
    # ui.auth.OIDC_ROLES_FILE, named here so that assistant/ does not import ui/.
    return Path(users_file).with_name("oidc_roles.json")


def export_state(settings, folder: Path) -> BackupReport:
    """Write the store, the index database, the users file and the feedback database of
    `settings` into `folder` (new or empty). Raises BackupError when the folder is not empty or
    the store and its index disagree (an ingestion running, or a crash: `coopter check`)."""
    import numpy as np

    from .manifest import S_DIRTY
    from .store import META_DIM, META_EMBEDDER, open_store

    started = time.perf_counter()
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"le dossier d'export {folder} n'est pas vide : choisissez un dossier neuf")
    store = open_store(settings)
    db = store.index()
    if db.get_state(S_DIRTY) == "1":
        raise BackupError("une ingestion est en cours ou a été interrompue : attendez-la ou lancez `coopter check --repair`, puis exportez")
    meta = store.metadata
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)  # it holds every level's text and the password hashes
    ids: list[str] = []
    vectors = []
    with (folder / CHUNKS).open("w", encoding="utf-8") as out:
        offset, batch = 0, 1000
        while True:
            got = store.collection.get(include=["documents", "metadatas", "embeddings"], limit=batch, offset=offset)
            for cid, text, m, vec in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"]):
                out.write(json.dumps({"id": cid, "text": text, "meta": m}, ensure_ascii=False) + "\n")
                ids.append(cid)
                vectors.append(np.asarray(vec, dtype=np.float32))
            if len(got["ids"]) < batch:
                break
            offset += batch
    dim = int(meta.get(META_DIM) or (len(vectors[0]) if vectors else 0))
    np.save(folder / VECTORS, np.stack(vectors) if vectors else np.zeros((0, dim), dtype=np.float32))
    _sqlite_copy(db.path, folder / INDEX)
    with closing(sqlite3.connect(folder / INDEX)) as conn:
        indexed = {c for (c,) in conn.execute("SELECT chunk_id FROM chunks")}
        documents = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
    if indexed != set(ids):
        shutil.rmtree(folder)
        raise BackupError("la base vectorielle et l'index lexical diffèrent : lancez `coopter check --repair`, puis exportez")
    files = [CHUNKS, VECTORS, INDEX]
    users = Path(settings.users_file)
    if users.is_file():
        shutil.copyfile(users, folder / USERS)
        (folder / USERS).chmod(0o600)  # password hashes
        files.append(USERS)
    if _oidc_file(users).is_file():
        shutil.copyfile(_oidc_file(users), folder / _oidc_file(users).name)
        files.append(_oidc_file(users).name)
    if Path(settings.feedback_db).is_file():
        _sqlite_copy(Path(settings.feedback_db), folder / FEEDBACK)
        files.append(FEEDBACK)
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "embedder": meta.get(META_EMBEDDER, ""),
        "dim": dim,
        "collection_metadata": {k: v for k, v in meta.items() if k != "hnsw:space"},
        "chunks": len(ids),
        "documents": documents,
        "files": {name: _sha256(folder / name) for name in files},
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    for path in folder.iterdir():
        path.chmod(0o600)
    return BackupReport(str(folder), len(ids), documents, manifest["embedder"], files, time.perf_counter() - started)


def read_manifest(folder: Path) -> dict:
    """The export's description after checking the folder is complete and intact.
    Raises BackupError naming what is wrong."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not folder.is_dir():
        raise BackupError(f"dossier d'export introuvable : {folder}")
    if not path.is_file():
        raise BackupError(f"{folder} n'est pas un export coopter ({MANIFEST} absent)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise BackupError(f"{path} illisible : export endommagé") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} n'est pas la description d'un export coopter")
    if manifest.get("version") != VERSION:
        raise BackupError(f"export au format {manifest.get('version')} : cette version sait lire le format {VERSION}")
    files = manifest.get("files") or {}
    for required in (CHUNKS, VECTORS, INDEX):
        if required not in files:
            raise BackupError(f"export incomplet : {required} manque à la description {MANIFEST}")
    for name, digest in files.items():
        if Path(name).name != name:
            raise BackupError(f"nom de fichier invalide dans {MANIFEST} : {name}")
        if not (folder / name).is_file():
            raise BackupError(f"export incomplet : {name} manque dans {folder}")
        if _sha256(folder / name) != digest:
            raise BackupError(f"export endommagé : {name} ne correspond pas à son empreinte")
    return manifest


def _target_is_empty(settings) -> bool:
    from .store import open_store

    try:
        return open_store(settings).count() == 0
    except CoopterError:  # no store, no collection
        return True


def import_state(settings, folder: Path, replace: bool = False, embedder=None) -> BackupReport:
    """Restore an export into the store, users file and feedback database of `settings`.

    Raises BackupError for a bad or incomplete folder or a target that already holds data
    (unless `replace`), StoreMismatchError when the configured embedder is not the one that
    built the exported vectors.
    """
    import numpy as np

    from ingest.embedder import load_embedder

    from . import lexical_index
    from .manifest import S_COLLECTION, S_DIRTY, S_GENERATION, IndexDB, index_dir
    from .schema import INDEX_DB_NAME
    from .store import META_CHUNKING, META_LAST_INGEST, drop_collection, open_store

    started = time.perf_counter()
    folder = Path(folder)
    manifest = read_manifest(folder)
    embedder = embedder or load_embedder(settings)
    if manifest.get("embedder") != embedder.name or int(manifest.get("dim") or 0) != embedder.dim:
        raise StoreMismatchError(
            f"l'export a été construit avec le modèle « {manifest.get('embedder')} » ({manifest.get('dim')} dim.), "
            f"la configuration utilise « {embedder.name} » ({embedder.dim} dim.) : réglez embed_model sur le même modèle"
        )
    users, feedback = Path(settings.users_file), Path(settings.feedback_db)
    files = manifest["files"]
    if not replace:
        busy = [str(settings.store)] if not _target_is_empty(settings) else []
        busy += [str(p) for name, p in ((USERS, users), (FEEDBACK, feedback)) if name in files and p.exists()]
        if busy:
            raise BackupError(f"la cible contient déjà des données ({', '.join(busy)}) : ajoutez --replace pour les écraser")
    rows = [json.loads(line) for line in (folder / CHUNKS).read_text(encoding="utf-8").splitlines() if line.strip()]
    vectors = np.load(folder / VECTORS, allow_pickle=False)
    if len(rows) != manifest.get("chunks") or vectors.shape != (len(rows), embedder.dim):
        raise BackupError("export endommagé : nombre de passages ou de vecteurs différent de sa description")

    drop_collection(settings)
    store = open_store(settings, embedder=embedder, create=True)
    store.upsert([r["id"] for r in rows], vectors.tolist(), [r["text"] for r in rows], [r["meta"] for r in rows])
    # When the chunks were last ingested, and by which chunking (the next ingest re-chunks an old one).
    store.stamp({k: v for k, v in manifest.get("collection_metadata", {}).items() if k in (META_LAST_INGEST, META_CHUNKING)})

    target = index_dir(settings)
    for old in target.glob("bm25-*"):
        shutil.rmtree(old, ignore_errors=True)
    _sqlite_copy(folder / INDEX, target / INDEX_DB_NAME)
    db = IndexDB(target / INDEX_DB_NAME, create=True)
    try:
        db.set_state(S_COLLECTION, str(store.collection.id))
        db.set_state(S_GENERATION, "0")
        db.set_state(S_DIRTY, "0")
        lexical_index.build(db)
        documents = len(db.documents())
    finally:
        db.close()

    if USERS in files:
        users.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / USERS, users)
        users.chmod(0o600)
    oidc = _oidc_file(users)
    if oidc.name in files:
        shutil.copyfile(folder / oidc.name, oidc)
    if FEEDBACK in files:
        _sqlite_copy(folder / FEEDBACK, feedback)
    return BackupReport(str(folder), len(rows), documents, embedder.name, list(files), time.perf_counter() - started)

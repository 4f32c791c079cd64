"""Ingestion: corpus files -> chunks -> embeddings -> Chroma, incrementally.

A content hash per document decides what to do: unchanged documents are not re-embedded, a
changed one has all its chunks replaced (new chunks written before old ones are removed, so a
crash never leaves it missing), and a document gone from the corpus is purged (`prune`).
A file that cannot be read is skipped with its reason; its previous version, if any, is kept.
A file whose bytes (and sidecar's) match the fingerprint the manifest recorded when it was last
loaded is unchanged without being parsed (`file_fingerprint`).

The index database beside the store (lexical index + document manifest, assistant/manifest.py)
follows the vectors document by document, in the same order: vectors written, stale vectors
removed, then one SQLite transaction writes the document's chunks and terms, removes its stale
ones and records its hash in the manifest last. A run that dies between the two leaves the
manifest on the older hash, so the next run redoes that document; a `dirty` flag set during the
run makes the next one reconcile the database with Chroma first. The per-level BM25 files are
rebuilt once at the end of a run that changed something, from the term ids stored per chunk.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from assistant import lexical_index
from assistant.errors import CorpusError, StoreMissingError
from assistant.manifest import S_COLLECTION, S_DIRTY, chunk_terms
from assistant.store import META_CHUNKING, drop_collection, open_store

from .chunking import CHUNKING_VERSION, Chunker
from .embedder import load_embedder
from .loaders import discover, doc_id_for, load
from .metadata import sidecar_path

log = logging.getLogger(__name__)


@dataclass
class Skipped:
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path} : {self.reason}"


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    chunks_written: int = 0
    chunks_total: int = 0
    seconds: float = 0.0
    store: str = ""

    @property
    def ok(self) -> bool:
        return not self.skipped

    def summary_fr(self) -> str:
        return (
            f"{len(self.added)} ajouté(s), {len(self.updated)} mis à jour, "
            f"{len(self.unchanged)} inchangé(s), {len(self.removed)} supprimé(s), "
            f"{len(self.skipped)} ignoré(s) ; {self.chunks_written} passages écrits, "
            f"{self.chunks_total} dans la base ; {self.seconds:.1f} s"
        )

    def to_json(self) -> dict:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "notes": self.notes,
            "chunks_written": self.chunks_written,
            "chunks_total": self.chunks_total,
            "seconds": round(self.seconds, 2),
            "store": self.store,
        }


def _progress(iterable, total: int, enabled: bool, desc: str):
    if not enabled:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="doc", leave=False)


def _reconcile_if_needed(store, db, report: IngestReport) -> bool:
    """Bring the index database in line with Chroma when it cannot be trusted: new (a store
    indexed before it existed), left dirty by a killed run, built for another collection, or
    holding another number of chunks. Returns True when it reconciled."""
    why = ""
    if db.get_state(S_COLLECTION) != str(store.collection.id):
        why = "absent ou construit pour une autre collection"
    elif db.get_state(S_DIRTY) == "1":
        why = "ingestion précédente interrompue"
    elif db.chunk_count() != store.count():
        why = "nombre de passages différent de la base"
    if not why:
        return False
    fixed = db.reconcile(store.collection)
    if any(fixed.values()):
        report.notes.append(
            f"index lexical et inventaire resynchronisés ({why}) : {fixed['added']} passage(s) ajouté(s), "
            f"{fixed['updated']} mis à jour, {fixed['removed']} retiré(s)"
        )
    return True


def stale_chunking(store) -> str:
    """The chunking version the stored chunks were made with, when it is not this code's ('' when
    it is); '1' for a store from before the version was kept. Kept in the collection, with the
    chunks: an index database rebuilt from Chroma does not lose it. (Meaningless when empty.)"""
    built = str(store.metadata.get(META_CHUNKING) or "1")
    return "" if built == str(CHUNKING_VERSION) else built


def file_fingerprint(path: Path, max_file_mb: float) -> str:
    """A hash of a file's bytes and its sidecar's ('' for a file over the size limit): equal
    fingerprints mean `load` would read the same document, so an unchanged file is not parsed
    again (at 4 000 files, parsing front matter was most of an unchanged re-ingest). '' also
    when the file cannot be read: `load` then says why."""
    h = hashlib.sha256()
    try:
        if not path.is_file() or path.stat().st_size > max_file_mb * 1024 * 1024:
            return ""
        for part in (path, sidecar_path(path)):
            data = part.read_bytes() if part.is_file() else b""
            h.update(len(data).to_bytes(8, "big"))
            h.update(data)
    except OSError:
        return ""
    return h.hexdigest()[:32]


def run(
    settings,
    corpus_dir: Path | None = None,
    paths: list[Path] | None = None,
    prune: bool | None = None,
    progress: bool = False,
    embedder=None,
    rebuild: bool = False,
    force: set[str] | frozenset[str] = frozenset(),
) -> IngestReport:
    """Ingest a corpus directory (or only `paths` inside it) into the store of `settings`.

    Pruning (removing documents no longer in the corpus) is on by default for a full-corpus run
    and off when `paths` is given. Returns an IngestReport; raises CoopterError when the store
    itself cannot be opened (missing server, other embedder) or the corpus directory is missing.
    `rebuild` deletes the collection first and embeds everything again (after a change of model).
    `force`: doc ids re-embedded even when their hash is unchanged (`coopter check --repair`).
    """
    started = time.perf_counter()
    corpus_dir = Path(corpus_dir or settings.corpus_dir).resolve()
    if not corpus_dir.is_dir():
        raise StoreMissingError(f"dossier de corpus introuvable : {corpus_dir}")
    if prune is None:
        prune = paths is None
    files = [Path(p).resolve() for p in paths] if paths else discover(corpus_dir)

    embedder = embedder or load_embedder(settings)
    if rebuild:
        drop_collection(settings)
    store = open_store(settings, embedder=embedder, create=True)
    chunker = Chunker(embedder, settings.chunk_tokens, settings.chunk_overlap)
    report = IngestReport(store=store.label)
    db = store.index(create=True)
    interrupted = db.get_state(S_DIRTY) == "1"
    before = db.doc_hashes() if interrupted else {}
    reconciled = _reconcile_if_needed(store, db, report)
    known = db.doc_hashes()
    if interrupted:
        # Documents the reconciliation entered or changed were being written by the killed run:
        # a new one may hold only its first upsert batch, every chunk with the right hash. Redo them.
        force = set(force) | {d for d, h in known.items() if before.get(d) != h}
    old_chunking = stale_chunking(store) if known else ""
    if not known:  # a new store: its chunks are this code's, even if this run is cut short
        store.stamp({META_CHUNKING: CHUNKING_VERSION})
    elif old_chunking:
        report.notes.append(
            f"découpage modifié depuis la dernière ingestion (version {old_chunking} → {CHUNKING_VERSION}) : "
            f"les {len(known)} documents sont redécoupés et revectorisés"
        )
        force = set(force) | set(known)
    prints, refresh = db.fingerprints(), {}
    seen: set[str] = set()
    db.set_state(S_DIRTY, "1")

    for path in _progress(files, len(files), progress, "Ingestion"):
        try:
            doc_id = doc_id_for(path, corpus_dir)
        except ValueError:
            report.skipped.append(Skipped(str(path), f"hors du dossier de corpus {corpus_dir}"))
            continue
        seen.add(doc_id)  # even if it fails below: a broken file must not purge its last good version
        try:
            fingerprint = file_fingerprint(path, settings.max_file_mb)
            if fingerprint and prints.get(doc_id) == fingerprint and doc_id not in force:
                report.unchanged.append(doc_id)
                continue
            doc = load(path, corpus_dir, settings.max_file_mb)
            report.notes.extend(f"{path} : {n}" for n in doc.notes)
            # A file whose load left a note (no OCR, re-encoded) may load otherwise next time.
            fingerprint = "" if doc.notes else fingerprint
            if known.get(doc_id) == doc.content_hash and doc_id not in force:
                report.unchanged.append(doc_id)
                if fingerprint and prints.get(doc_id) != fingerprint:
                    refresh[doc_id] = fingerprint
                continue
            chunks = chunker.chunk(doc)
            if not chunks:
                raise CorpusError(str(path), "aucun passage exploitable après découpage")
            vectors = embedder.embed_passages([c.embedding_text() for c in chunks])
        except CorpusError as exc:
            report.skipped.append(Skipped(exc.path, exc.reason))
            log.warning("ignoré : %s", exc, extra={"in_report": True})  # the CLI prints the report itself
            continue
        new_ids = [c.id for c in chunks]
        texts, metas = [c.text for c in chunks], [c.metadata() for c in chunks]
        store.upsert(new_ids, vectors, texts, metas)
        # Asked of Chroma, not of the manifest: a killed run may have left chunks it never recorded.
        stale = set(store.chunk_ids(doc_id)) - set(new_ids)
        store.delete_ids(sorted(stale))
        db.replace_document(doc_id, new_ids, texts, metas, [chunk_terms(t, m) for t, m in zip(texts, metas)], fingerprint)
        if doc_id in known:
            report.updated.append(doc_id)
        else:
            report.added.append(doc_id)
        report.chunks_written += len(chunks)

    if paths is None:  # the web pages of <corpus>/sources.yaml, treated like files (ingest/websync.py)
        from .websync import sync as sync_web

        sync_web(corpus_dir, store, db, chunker, embedder, known, seen, report, force=force)

    if prune:
        for doc_id in sorted(set(known) - seen):
            store.delete_doc(doc_id)
            db.remove_document(doc_id)
            report.removed.append(doc_id)

    if refresh:
        db.set_fingerprints(refresh)
    changed = bool(report.added or report.updated or report.removed)
    if changed or reconciled or not db.generation():
        lexical_index.build(db)
    if changed:
        store.mark_ingested()
    if paths is None and old_chunking:  # a run over some files leaves the others to re-chunk
        store.stamp({META_CHUNKING: CHUNKING_VERSION})
    db.set_state(S_DIRTY, "0")
    report.chunks_total = store.count()
    report.seconds = time.perf_counter() - started
    return report

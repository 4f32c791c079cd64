"""`coopter check`: do the vector store, the index database (lexical index + document manifest)
and the corpus agree? And `--repair`: re-ingest what is needed so that they do.

Chroma is the reference for what is stored, the corpus for what should be. The checks, in the
order a reader meets them:

- state of the index database: an ingestion left it dirty (killed), it mirrors another
  collection, or its chunks come from an older chunking (`CHUNKING_VERSION`);
- vectors: one document's chunks from two versions (two content hashes) or two chunks at one
  position (duplicates a killed replace can leave);
- vectors against the lexical index: chunks in one and not the other (orphans), or whose
  metadata differ (an access level not carried over);
- lexical index against the manifest: a document without its row, a row without chunks,
  counts per access level or hash that disagree with the chunks;
- the persisted BM25 generation against the chunk table (the rows each level indexes);
- manifest against the corpus: a file not ingested, a document gone from the corpus but still
  stored, a file changed since (hash mismatch), and, when `deep`, a document whose stored chunk
  ids are not those its file chunks into today (a truncated write).

A file the loader refuses is a warning, not a mismatch: ingestion keeps its last good version.
"""

from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import CorpusError, StoreMissingError
from assistant.schema import ACCESS_LEVELS, K_DOC_HASH, K_DOC_ID, K_POSITION

log = logging.getLogger(__name__)

# Issues whose document must be re-embedded by a repair (reconciling the index is not enough).
_FORCE = {"doublon", "inventaire", "passages"}


@dataclass
class Issue:
    """One disagreement. `kind` is a short French code; `doc_id` is '' for store-wide issues."""

    kind: str
    doc_id: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.doc_id + ' : ' if self.doc_id else ''}{self.detail}"


@dataclass
class CheckReport:
    issues: list[Issue] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    documents: int = 0
    chunks: int = 0
    corpus_files: int = 0
    store: str = ""

    @property
    def ok(self) -> bool:
        return not self.issues

    def add(self, kind: str, doc_id: str, detail: str) -> None:
        self.issues.append(Issue(kind, doc_id, detail))

    def summary_fr(self) -> str:
        head = f"{self.documents} document(s), {self.chunks} passage(s), {self.corpus_files} fichier(s) de corpus"
        if self.ok:
            return f"Base {self.store} cohérente : {head}."
        return f"Base {self.store} incohérente : {len(self.issues)} écart(s) ; {head}. Corrigez avec `coopter check --repair`."

    def to_json(self) -> dict:
        return {
            "ok": self.ok,
            "issues": [{"kind": i.kind, "doc_id": i.doc_id, "detail": i.detail} for i in self.issues],
            "warnings": self.warnings,
            "documents": self.documents,
            "chunks": self.chunks,
            "corpus_files": self.corpus_files,
            "store": self.store,
        }


def _chroma_chunks(collection, batch: int = 2000) -> dict[str, dict]:
    """chunk id -> metadata of every chunk in the collection."""
    out: dict[str, dict] = {}
    offset = 0
    while True:
        got = collection.get(include=["metadatas"], limit=batch, offset=offset)
        out.update(zip(got["ids"], got["metadatas"] or []))
        if len(got["ids"]) < batch:
            return out
        offset += batch


def _check_vectors(report: CheckReport, chroma: dict[str, dict]) -> None:
    by_doc: dict[str, list[dict]] = defaultdict(list)
    for meta in chroma.values():
        by_doc[meta.get(K_DOC_ID, "")].append(meta)
    for doc_id, metas in sorted(by_doc.items()):
        hashes = {m.get(K_DOC_HASH, "") for m in metas}
        if len(hashes) > 1:
            report.add("doublon", doc_id, f"passages de {len(hashes)} versions du document mêlés dans la base vectorielle")
            continue
        repeated = sorted(p for p, n in Counter(int(m.get(K_POSITION) or 0) for m in metas).items() if n > 1)
        if repeated:
            report.add("doublon", doc_id, f"plusieurs passages à la position {', '.join(map(str, repeated[:5]))}")


def _check_index(report: CheckReport, chroma: dict[str, dict], db) -> dict[str, dict]:
    """Compare the chunk table with Chroma, then the manifest with the chunk table.
    Returns the manifest rows by doc id."""
    rows = {cid: (doc_id, rank, json.loads(meta)) for cid, doc_id, rank, meta in db.conn.execute("SELECT chunk_id, doc_id, access_rank, meta FROM chunks")}
    only_chroma = Counter(chroma[c].get(K_DOC_ID, "") for c in chroma.keys() - rows.keys())
    only_index = Counter(rows[c][0] for c in rows.keys() - chroma.keys())
    differ = Counter(rows[c][0] for c in chroma.keys() & rows.keys() if rows[c][2] != chroma[c])
    for doc_id, n in sorted(only_chroma.items()):
        report.add("index", doc_id, f"{n} passage(s) dans la base vectorielle absent(s) de l'index lexical")
    for doc_id, n in sorted(only_index.items()):
        report.add("orphelin", doc_id, f"{n} passage(s) de l'index lexical absent(s) de la base vectorielle")
    for doc_id, n in sorted(differ.items()):
        report.add("index", doc_id, f"{n} passage(s) aux métadonnées différentes entre l'index lexical et la base vectorielle")

    per_doc: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for doc_id, rank, meta in rows.values():
        per_doc[doc_id].append((rank, meta.get(K_DOC_HASH, "")))
    manifest = {d.doc_id: d for d in db.documents()}
    for doc_id in sorted(per_doc.keys() - manifest.keys()):
        report.add("inventaire", doc_id, "passages indexés mais document absent de l'inventaire")
    for doc_id in sorted(manifest.keys() - per_doc.keys()):
        report.add("inventaire", doc_id, "document inscrit à l'inventaire sans aucun passage")
    for doc_id in sorted(manifest.keys() & per_doc.keys()):
        row, chunks = manifest[doc_id], per_doc[doc_id]
        counts = Counter(ACCESS_LEVELS[r] for r, _ in chunks)
        if any(row.chunks.get(level, 0) != counts.get(level, 0) for level in ACCESS_LEVELS):
            report.add("inventaire", doc_id, f"comptes par niveau {row.chunks} ≠ passages indexés {dict(counts)}")
        hashes = {h for _, h in chunks}
        if len(hashes) == 1 and row.hash != next(iter(hashes)):
            report.add("inventaire", doc_id, "empreinte de l'inventaire différente de celle des passages")
    return manifest


def _check_bm25(report: CheckReport, db) -> None:
    """Each level's persisted BM25 rows must be exactly the chunk rows that level may see."""
    import numpy as np

    from assistant.lexical_index import generation_dir

    generation = db.generation()
    if not generation:
        report.add("lexical", "", "aucune génération de l'index lexical BM25 enregistrée")
        return
    by_rank: dict[int, set[int]] = defaultdict(set)
    for rowid, rank, _ in db.level_terms():
        by_rank[rank].add(int(rowid))
    for rank, level in enumerate(ACCESS_LEVELS):
        path = generation_dir(db, generation) / level / "rowids.npy"
        expected = set().union(*(by_rank[r] for r in range(rank + 1)))
        if not path.exists():
            report.add("lexical", "", f"génération {generation} de l'index BM25 incomplète (niveau {level} absent)")
            continue
        got = {int(r) for r in np.load(path)}
        if got != expected:
            report.add(
                "lexical", "",
                f"index BM25 du niveau {level} périmé : {len(expected - got)} passage(s) manquant(s), {len(got - expected)} en trop",
            )


def _check_corpus(report, settings, corpus_dir: Path, manifest: dict, chroma: dict[str, dict], deep: bool, embedder) -> None:
    from .loaders import discover, doc_id_for, load

    files = discover(corpus_dir)
    report.corpus_files = len(files)
    made: list = []

    def chunker():  # the embedder's tokenizer is loaded only when a file must be chunked
        if not made:
            from .chunking import Chunker
            from .embedder import load_embedder

            made.append(Chunker(embedder or load_embedder(settings), settings.chunk_tokens, settings.chunk_overlap))
        return made[0]

    stored_ids: dict[str, set[str]] = defaultdict(set)
    for cid, meta in chroma.items():
        stored_ids[meta.get(K_DOC_ID, "")].add(cid)
    seen: set[str] = set()
    for path in files:
        doc_id = doc_id_for(path, corpus_dir)
        seen.add(doc_id)  # a file that fails to load keeps its stored version: not an orphan
        try:
            doc = load(path, corpus_dir, settings.max_file_mb)
        except CorpusError as exc:
            report.warnings.append(f"{doc_id} : illisible, non vérifié ({exc.reason})")
            continue
        row = manifest.get(doc_id)
        if row is None:
            # As ingestion does: a file that loads but gives no passage is skipped, not missing.
            try:
                chunks = chunker().chunk(doc)
            except CorpusError as exc:
                chunks, why = [], exc.reason
            else:
                why = "aucun passage exploitable après découpage"
            if chunks:
                report.add("absent", doc_id, "fichier du corpus jamais ingéré")
            else:
                report.warnings.append(f"{doc_id} : ignoré à l'ingestion, non vérifié ({why})")
        elif row.hash != doc.content_hash:
            report.add("perime", doc_id, "le fichier a changé depuis la dernière ingestion (empreinte différente)")
        elif deep:
            try:
                expected = {c.id for c in chunker().chunk(doc)}
            except CorpusError:
                continue
            got = stored_ids.get(doc_id, set())
            if expected != got:
                report.add(
                    "passages", doc_id,
                    f"{len(expected - got)} passage(s) attendu(s) absent(s), {len(got - expected)} en trop par rapport au fichier",
                )
    from assistant.manifest import index_dir

    from .websync import tracked_doc_ids

    seen |= tracked_doc_ids(index_dir(settings))  # web pages of sources.yaml have no file
    for doc_id in sorted(manifest.keys() - seen):
        report.add("orphelin", doc_id, "document retiré du corpus mais toujours dans la base")


def check(settings, corpus_dir: Path | None = None, deep: bool = True, embedder=None) -> CheckReport:
    """Compare the store, the index database and the corpus of `settings`.

    `deep` also chunks every up-to-date file again and compares the chunk ids (needs the
    embedder's tokenizer, not its vectors). Returns a CheckReport (`.ok`, `.issues`); raises
    StoreMissingError when there is no store to check or no corpus directory.
    """
    from assistant.manifest import S_COLLECTION, S_DIRTY, IndexDB
    from assistant.store import open_store

    from .chunking import CHUNKING_VERSION
    from .pipeline import stale_chunking

    corpus_dir = Path(corpus_dir or settings.corpus_dir).resolve()
    if not corpus_dir.is_dir():
        raise StoreMissingError(f"dossier de corpus introuvable : {corpus_dir}")
    store = open_store(settings)
    report = CheckReport(store=store.label)
    chroma = _chroma_chunks(store.collection)
    report.chunks = len(chroma)
    report.documents = len({m.get(K_DOC_ID, "") for m in chroma.values()})
    _check_vectors(report, chroma)
    if store.index_path is None or not Path(store.index_path).exists():
        report.add("index", "", f"index lexical et inventaire absents ({store.index_path}) : lancez `coopter ingest`")
        return report
    db = IndexDB(store.index_path)
    try:
        if db.get_state(S_DIRTY) == "1":
            report.add("etat", "", "une ingestion a été interrompue (index marqué en cours d'écriture)")
        if db.get_state(S_COLLECTION) != str(store.collection.id):
            report.add("etat", "", "l'index lexical a été construit pour une autre collection")
        built = stale_chunking(store) if report.chunks else ""
        if built:
            report.add("decoupage", "", f"passages découpés par une version antérieure du découpage ({built}, "
                                        f"aujourd'hui {CHUNKING_VERSION}) : relancez `coopter ingest`, qui les redécoupe tous")
        manifest = _check_index(report, chroma, db)
        _check_bm25(report, db)
        _check_corpus(report, settings, corpus_dir, manifest, chroma, deep, embedder)
    finally:
        db.close()
    return report


@dataclass
class RepairResult:
    before: CheckReport
    after: CheckReport
    ingest: object | None = None  # the IngestReport of the re-ingestion, when one ran

    @property
    def ok(self) -> bool:
        return self.after.ok


def repair(settings, corpus_dir: Path | None = None, embedder=None, progress: bool = False, deep: bool = True) -> RepairResult:
    """Check, then re-ingest what is needed: the index database is rebuilt from Chroma (no
    re-embedding), documents with mixed, duplicated or missing chunks are re-embedded, changed
    and new files ingested, documents gone from the corpus purged. Returns before/after reports.
    """
    from assistant import lexical_index
    from assistant.manifest import S_DIRTY, IndexDB
    from assistant.store import open_store

    from .embedder import load_embedder
    from .pipeline import run

    corpus_dir = Path(corpus_dir or settings.corpus_dir).resolve()
    embedder = embedder or load_embedder(settings)
    before = check(settings, corpus_dir, deep=deep, embedder=embedder)
    if before.ok:
        return RepairResult(before, before)
    store = open_store(settings, embedder=embedder)  # refuses a store built with another model
    db = IndexDB(store.index_path, create=True)
    try:
        db.set_state(S_DIRTY, "1")  # the next run reconciles the index with Chroma first
    finally:
        db.close()
    force = {i.doc_id for i in before.issues if i.kind in _FORCE and i.doc_id}
    report = run(settings, corpus_dir=corpus_dir, embedder=embedder, force=force, progress=progress)
    after = check(settings, corpus_dir, deep=deep, embedder=embedder)
    if any(i.kind == "lexical" for i in after.issues):
        db = open_store(settings).index()
        lexical_index.build(db)
        after = check(settings, corpus_dir, deep=deep, embedder=embedder)
    return RepairResult(before, after, report)

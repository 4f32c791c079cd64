"""The index database beside the vector store: one SQLite file that ingestion keeps in step
with Chroma and that every app process reads.

- `chunks`: every stored chunk with its text, metadata, access rank, filter columns (type,
  date, themes) and its French terms already analysed (`lexical.analyze`, the costly part of
  building a lexical index, done once at ingestion), also kept as a bag of term ids (`bow`:
  int32 pairs id, count) so that rebuilding the BM25 indexes after a change is array work,
  with no text re-read or re-tokenised (`assistant.lexical_index.build`).
- `vocab`: term -> id for `bow`; ids are never reused or renumbered.
- `documents`: the document manifest (doc id, content hash, title, type, date, access,
  chunk count per access level, last ingest), read by unchanged re-ingest, the documents page,
  the abstention message and the status instead of scanning the chunks. `fingerprint`: a hash
  of the file's bytes (and its sidecar's) when they were last loaded, so an unchanged file is
  recognised without being parsed; cleared whenever the row is rewritten otherwise.
- `state`: the Chroma collection it mirrors, the current lexical generation, a dirty flag set
  while an ingestion writes (a killed ingestion leaves it set; the next one reconciles).

One writer (ingestion), many readers (app processes): WAL journal, short transactions.
Where it lives: `index_dir(settings)`.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import StoreMissingError
from .schema import (
    ACCESS_LEVELS,
    INDEX_DIR_NAME,
    INDEX_SCHEMA_VERSION,
    K_ACCESS,
    K_DATE,
    K_DATE_NUM,
    K_DOC_HASH,
    K_DOC_ID,
    K_PATH,
    K_POSITION,
    K_SECTION,
    K_SOURCE,
    K_THEME_PREFIX,
    K_THEMES,
    K_TITLE,
    K_TYPE,
    Passage,
    access_rank,
)

S_COLLECTION = "collection_id"
S_GENERATION = "lexical_generation"
S_DIRTY = "dirty"
S_SCHEMA = "schema_version"
S_LAST_INGEST = "last_ingest"

_COUNT_COLS = [f"chunks_{level}" for level in ACCESS_LEVELS]

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY AUTOINCREMENT,   -- never reused: a BM25 generation maps to rowids
    chunk_id TEXT NOT NULL UNIQUE,
    doc_id TEXT NOT NULL,
    access_rank INTEGER NOT NULL,
    type TEXT NOT NULL DEFAULT '',
    date_num INTEGER NOT NULL DEFAULT 0,
    themes TEXT NOT NULL DEFAULT '|',          -- '|theme__a|theme__b|': the filter flags
    position INTEGER NOT NULL DEFAULT 0,
    text TEXT NOT NULL,
    meta TEXT NOT NULL,                        -- the chunk's Chroma metadata, JSON
    terms TEXT NOT NULL,                       -- analysed French terms, space-joined
    bow BLOB                                   -- the terms as int32 pairs (vocab id, count)
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    hash TEXT NOT NULL,                        -- '' when its chunks disagree (forces a re-ingest)
    title TEXT, type TEXT, date TEXT, access TEXT, source TEXT, themes TEXT, path TEXT,
    {", ".join(f"{c} INTEGER NOT NULL DEFAULT 0" for c in _COUNT_COLS)},
    last_ingest TEXT,
    fingerprint TEXT NOT NULL DEFAULT ''       -- the file's bytes when last loaded ('' unknown)
);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS vocab (id INTEGER PRIMARY KEY, term TEXT NOT NULL UNIQUE);
"""


def index_dir(settings) -> Path:
    """Where the index database and the BM25 files live.

    `index_dir` when set (required to be a path shared by ingestion and the app processes with a
    Chroma server), else `<store>/lexical`, next to the embedded Chroma files.
    """
    explicit = getattr(settings, "index_dir", "") or ""
    if str(explicit):
        return Path(explicit).expanduser()
    return Path(settings.store) / INDEX_DIR_NAME


def chunk_terms(text: str, meta: dict) -> str:
    """The analysed terms indexed for a chunk: title, section and text (as LexicalIndex does)."""
    from .lexical import analyze

    return " ".join(analyze(f"{meta.get(K_TITLE, '')} {meta.get(K_SECTION, '')} {text}"))


def _themes_col(meta: dict) -> str:
    flags = sorted(k for k, v in meta.items() if k.startswith(K_THEME_PREFIX) and v)
    return "|" + "".join(f"{f}|" for f in flags)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S")


@dataclass
class DocRow:
    """One manifest row. `chunks` counts the chunks per access level (exact level, not cumulative)."""

    doc_id: str
    hash: str
    title: str
    type: str
    date: str
    access: str
    source: str
    themes: list[str]
    path: str
    chunks: dict[str, int]
    last_ingest: str

    def visible_chunks(self, role: str) -> int:
        top = access_rank(role)
        return sum(n for level, n in self.chunks.items() if access_rank(level) <= top)


class IndexDB:
    """The SQLite index database. Readers open it read-only; ingestion opens it with `create`."""

    def __init__(self, path: Path, create: bool = False):
        self.path = Path(path)
        if not create and not self.path.exists():
            raise StoreMissingError(
                f"index lexical absent ({self.path}) : lancez `coopter ingest` pour le construire "
                f"(les passages déjà vectorisés ne le sont pas une seconde fois)"
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # check_same_thread=False: Streamlit serves one cached Assistant from several threads;
        # sqlite3 serialises access to a connection itself.
        self.conn = sqlite3.connect(str(self.path), timeout=30, check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA busy_timeout = 30000")
        self._vocab: dict[str, int] | None = None  # the writer's cache of the vocab table
        if create:
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
            self.ensure_schema()
            if self.get_state(S_SCHEMA) is None:
                self.set_state(S_SCHEMA, str(INDEX_SCHEMA_VERSION))

    def ensure_schema(self) -> None:
        """Create the tables, and add the columns a database from an older version lacks
        (`bow`, filled by `fill_bow`; `fingerprint`). Writers only; cheap when up to date."""
        self.conn.executescript(_SCHEMA)
        if "bow" not in {row[1] for row in self.conn.execute("PRAGMA table_info(chunks)")}:
            self.conn.execute("ALTER TABLE chunks ADD COLUMN bow BLOB")
        if "fingerprint" not in {row[1] for row in self.conn.execute("PRAGMA table_info(documents)")}:
            self.conn.execute("ALTER TABLE documents ADD COLUMN fingerprint TEXT NOT NULL DEFAULT ''")

    @property
    def dir(self) -> Path:
        return self.path.parent

    def close(self) -> None:
        self.conn.close()

    # -- state ------------------------------------------------------------------------------
    def get_state(self, key: str) -> str | None:
        try:
            row = self.conn.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        except sqlite3.OperationalError:  # an empty file: never initialised
            return None
        return row[0] if row else None

    def set_state(self, key: str, value: str) -> None:
        self.conn.execute("INSERT INTO state(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    def generation(self) -> int:
        return int(self.get_state(S_GENERATION) or 0)

    # -- writing (ingestion) -----------------------------------------------------------------
    def _term_ids(self, terms: Iterable[str]) -> dict[str, int]:
        """Vocab ids of `terms`, adding the new ones. Call inside a write transaction: ids are
        read back from the table, so a term another process added keeps its id."""
        if self._vocab is None:
            self._vocab = dict(self.conn.execute("SELECT term, id FROM vocab"))
        new = sorted({t for t in terms if t not in self._vocab})
        for start in range(0, len(new), 500):
            part = new[start : start + 500]
            self.conn.executemany("INSERT OR IGNORE INTO vocab(term) VALUES (?)", ((t,) for t in part))
            self._vocab.update(self.conn.execute(f"SELECT term, id FROM vocab WHERE term IN ({', '.join('?' * len(part))})", part))
        return self._vocab

    def bow(self, terms: str) -> bytes:
        """`terms` (space-joined) as int32 pairs (vocab id, count), ids ascending."""
        counts = Counter(terms.split())
        vocab = self._term_ids(counts)
        pairs = np.array(sorted((vocab[t], n) for t, n in counts.items()), dtype="<i4").reshape(-1, 2)
        return pairs.tobytes()

    def _rows(self, ids: list[str], texts: list[str], metas: list[dict], terms: list[str]) -> Iterator[tuple]:
        for cid, text, meta, t in zip(ids, texts, metas, terms):
            yield (
                cid,
                meta[K_DOC_ID],
                access_rank(meta.get(K_ACCESS, "staff")),
                meta.get(K_TYPE, ""),
                int(meta.get(K_DATE_NUM) or 0),
                _themes_col(meta),
                int(meta.get(K_POSITION) or 0),
                text,
                json.dumps(meta, ensure_ascii=False, sort_keys=True),
                t,
                self.bow(t),
            )

    def _upsert_chunks(self, ids, texts, metas, terms) -> None:
        self.conn.executemany(
            "INSERT INTO chunks(chunk_id, doc_id, access_rank, type, date_num, themes, position, text, meta, terms, bow) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(chunk_id) DO UPDATE SET "
            "doc_id = excluded.doc_id, access_rank = excluded.access_rank, type = excluded.type, "
            "date_num = excluded.date_num, themes = excluded.themes, position = excluded.position, "
            "text = excluded.text, meta = excluded.meta, terms = excluded.terms, bow = excluded.bow",
            list(self._rows(ids, texts, metas, terms)),  # built first: `bow` writes to vocab
        )

    def fill_bow(self, batch: int = 2000) -> int:
        """Compute `bow` for rows written before it existed; returns how many were filled."""
        filled, after = 0, 0
        while True:
            with self.transaction():
                rows = self.conn.execute(
                    "SELECT rowid, terms FROM chunks WHERE rowid > ? AND bow IS NULL ORDER BY rowid LIMIT ?", (after, batch)
                ).fetchall()
                self.conn.executemany("UPDATE chunks SET bow = ? WHERE rowid = ?", [(self.bow(t), rid) for rid, t in rows])
            filled += len(rows)
            if len(rows) < batch:
                return filled
            after = rows[-1][0]

    def _write_doc_row(self, doc_id: str, when: str, fingerprint: str = "") -> None:
        """Recompute one document's manifest row from its chunk rows (removed when it has none)."""
        rows = self.conn.execute(
            "SELECT access_rank, meta FROM chunks WHERE doc_id = ? ORDER BY access_rank, position", (doc_id,)
        ).fetchall()
        if not rows:
            self.conn.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))
            return
        counts = [0] * len(ACCESS_LEVELS)
        hashes = set()
        for rank, meta_json in rows:
            counts[rank] += 1
            hashes.add(json.loads(meta_json).get(K_DOC_HASH, ""))
        head = json.loads(rows[0][1])  # lowest level, first position: the document's own values
        self.conn.execute(
            f"INSERT OR REPLACE INTO documents(doc_id, hash, title, type, date, access, source, themes, path, "
            f"{', '.join(_COUNT_COLS)}, last_ingest, fingerprint) VALUES ({', '.join('?' * (11 + len(_COUNT_COLS)))})",
            (
                doc_id,
                hashes.pop() if len(hashes) == 1 else "",
                head.get(K_TITLE, ""),
                head.get(K_TYPE, ""),
                head.get(K_DATE, ""),
                head.get(K_ACCESS, ""),
                head.get(K_SOURCE, ""),
                head.get(K_THEMES, ""),
                head.get(K_PATH, ""),
                *counts,
                when,
                fingerprint,
            ),
        )

    def replace_document(
        self, doc_id: str, ids: list[str], texts: list[str], metas: list[dict], terms: list[str], fingerprint: str = ""
    ) -> None:
        """Write a document's chunks and manifest row in one transaction: its new chunks are
        written, then those not in `ids` removed; the manifest row (hash, counts, and the
        `fingerprint` of the file they were loaded from, '' if none) comes last."""
        with self.transaction():
            self._upsert_chunks(ids, texts, metas, terms)
            keep = set(ids)
            stale = [cid for (cid,) in self.conn.execute("SELECT chunk_id FROM chunks WHERE doc_id = ?", (doc_id,)) if cid not in keep]
            self.conn.executemany("DELETE FROM chunks WHERE chunk_id = ?", ((c,) for c in stale))
            self._write_doc_row(doc_id, _now(), fingerprint)

    def remove_document(self, doc_id: str) -> None:
        with self.transaction():
            self.conn.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
            self.conn.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))

    def transaction(self):
        db = self

        class _Tx:
            def __enter__(self):
                db.conn.execute("BEGIN IMMEDIATE")

            def __exit__(self, exc_type, exc, tb):
                if exc_type:
                    db._vocab = None  # it may hold ids of terms the rollback removed
                db.conn.execute("ROLLBACK" if exc_type else "COMMIT")
                return False

        return _Tx()

    def reconcile(self, collection, batch: int = 2000) -> dict[str, int]:
        """Make the chunk table and the manifest mirror `collection` exactly (Chroma is the truth).

        Used when the database is new (an existing store is indexed without re-embedding), after a
        killed ingestion, or when it mirrors another collection. Terms already analysed for an
        unchanged chunk id are kept. Returns counts of chunks added, updated and removed.
        """
        known: dict[str, str] = dict(self.conn.execute("SELECT chunk_id, meta FROM chunks"))
        seen: set[str] = set()
        missing: list[str] = []
        changed: list[tuple[str, dict]] = []
        offset = 0
        while True:
            got = collection.get(include=["metadatas"], limit=batch, offset=offset)
            for cid, meta in zip(got["ids"], got["metadatas"] or []):
                seen.add(cid)
                if cid not in known:
                    missing.append(cid)
                elif json.loads(known[cid]) != meta:
                    changed.append((cid, meta))
            if len(got["ids"]) < batch:
                break
            offset += batch
        removed = [cid for cid in known if cid not in seen]
        touched: set[str] = set()
        with self.transaction():
            for start in range(0, len(missing), 500):
                got = collection.get(ids=missing[start : start + 500], include=["documents", "metadatas"])
                texts, metas = got["documents"], got["metadatas"]
                terms = [chunk_terms(t, m) for t, m in zip(texts, metas)]
                self._upsert_chunks(got["ids"], texts, metas, terms)
                touched |= {m[K_DOC_ID] for m in metas}
            for cid, meta in changed:
                old = json.loads(known[cid])
                row = self.conn.execute("SELECT text, terms FROM chunks WHERE chunk_id = ?", (cid,)).fetchone()
                self._upsert_chunks([cid], [row[0]], [meta], [row[1]])
                touched |= {meta[K_DOC_ID], old.get(K_DOC_ID, "")}
            for cid in removed:
                touched.add(json.loads(known[cid]).get(K_DOC_ID, ""))
            self.conn.executemany("DELETE FROM chunks WHERE chunk_id = ?", ((c,) for c in removed))
            # Documents of the manifest with no chunk left, or never written, are fixed too.
            in_chunks = {d for (d,) in self.conn.execute("SELECT DISTINCT doc_id FROM chunks")}
            in_docs = {d for (d,) in self.conn.execute("SELECT doc_id FROM documents")}
            touched |= in_chunks ^ in_docs
            when = _now()
            for doc_id in sorted(d for d in touched if d):
                self._write_doc_row(doc_id, when)
            self.set_state(S_COLLECTION, str(collection.id))
        return {"added": len(missing), "updated": len(changed), "removed": len(removed)}

    # -- reading ------------------------------------------------------------------------------
    def chunk_count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM chunks").fetchone()[0]

    def doc_hashes(self) -> dict[str, str]:
        """doc_id -> content hash ('' when its chunks disagree), from the manifest."""
        return dict(self.conn.execute("SELECT doc_id, hash FROM documents"))

    def fingerprints(self) -> dict[str, str]:
        """doc_id -> fingerprint of the file its current chunks were loaded from, for the
        documents that have one (and a content hash)."""
        return dict(self.conn.execute("SELECT doc_id, fingerprint FROM documents WHERE fingerprint != '' AND hash != ''"))

    def set_fingerprints(self, prints: dict[str, str]) -> None:
        """Record the fingerprints of files found unchanged by a full load."""
        with self.transaction():
            self.conn.executemany("UPDATE documents SET fingerprint = ? WHERE doc_id = ?", ((f, d) for d, f in prints.items()))

    def documents(self, role: str | None = None) -> list[DocRow]:
        """Manifest rows; with `role`, only documents with at least one chunk that role may see."""
        sql = f"SELECT doc_id, hash, title, type, date, access, source, themes, path, {', '.join(_COUNT_COLS)}, last_ingest FROM documents"
        if role is not None:
            visible = " + ".join(_COUNT_COLS[: access_rank(role) + 1])
            sql += f" WHERE ({visible}) > 0"
        out = []
        for row in self.conn.execute(sql):
            counts = dict(zip(ACCESS_LEVELS, row[9 : 9 + len(_COUNT_COLS)]))
            out.append(
                DocRow(
                    doc_id=row[0], hash=row[1], title=row[2] or "", type=row[3] or "", date=row[4] or "",
                    access=row[5] or "", source=row[6] or "", themes=[t for t in (row[7] or "").split("|") if t],
                    path=row[8] or "", chunks=counts, last_ingest=row[-1] or "",
                )
            )
        return out

    def doc_types(self, role: str) -> list[str]:
        visible = " + ".join(_COUNT_COLS[: access_rank(role) + 1])
        return [t for (t,) in self.conn.execute(f"SELECT DISTINCT type FROM documents WHERE ({visible}) > 0 ORDER BY type")]

    def document_passages(self, doc_id: str, max_rank: int) -> list[Passage]:
        rows = self.conn.execute(
            "SELECT chunk_id, text, meta FROM chunks WHERE doc_id = ? AND access_rank <= ? ORDER BY position",
            (doc_id, max_rank),
        )
        return [Passage(chunk_id=c, text=t, meta=json.loads(m)) for c, t, m in rows]

    def doc_authors(self, max_rank: int) -> dict[str, list[str]]:
        """doc_id -> authors (document metadata, the same on every chunk) of the documents with a
        chunk at or below `max_rank`."""
        rows = self.conn.execute(
            "SELECT doc_id, json_extract(meta, '$.authors') FROM chunks WHERE access_rank <= ? GROUP BY doc_id",
            (max_rank,),
        )
        return {d: [a for a in (authors or "").split("|") if a] for d, authors in rows}

    def chunk_at(self, doc_id: str, position: int, max_rank: int) -> Passage | None:
        """The chunk at `position` in a document, if it is at or below `max_rank`."""
        row = self.conn.execute(
            "SELECT chunk_id, text, meta FROM chunks WHERE doc_id = ? AND position = ? AND access_rank <= ?",
            (doc_id, int(position), max_rank),
        ).fetchone()
        return Passage(chunk_id=row[0], text=row[1], meta=json.loads(row[2])) if row else None

    def passages(self, rowids: Iterable[int], max_rank: int) -> dict[int, Passage]:
        """rowid -> Passage for the given rows at or below `max_rank` (rows gone are left out)."""
        rowids = [int(r) for r in rowids]
        out: dict[int, Passage] = {}
        for start in range(0, len(rowids), 500):
            part = rowids[start : start + 500]
            rows = self.conn.execute(
                f"SELECT rowid, chunk_id, text, meta FROM chunks WHERE access_rank <= ? AND rowid IN ({', '.join('?' * len(part))})",
                (max_rank, *part),
            )
            for rid, cid, text, meta in rows:
                out[rid] = Passage(chunk_id=cid, text=text, meta=json.loads(meta))
        return out

    def visible_count(self, max_rank: int) -> tuple[int, int]:
        """(chunks at or below `max_rank`, all chunks), from the manifest's counts."""
        sums = self.conn.execute(f"SELECT {', '.join(f'coalesce(sum({c}), 0)' for c in _COUNT_COLS)} FROM documents").fetchone()
        return sum(sums[: max_rank + 1]), sum(sums)

    def visible_passages(self, chunk_ids: list[str], max_rank: int, filters=None) -> dict[str, Passage]:
        """chunk_id -> Passage for those of `chunk_ids` at or below `max_rank` that pass
        `filters`; the access and filter conditions are in the SQL query, so a chunk above the
        level is never read."""
        where, args = self._filter_sql(max_rank, filters)
        out: dict[str, Passage] = {}
        for start in range(0, len(chunk_ids), 500):
            part = chunk_ids[start : start + 500]
            rows = self.conn.execute(
                f"SELECT chunk_id, text, meta FROM chunks WHERE {where} AND chunk_id IN ({', '.join('?' * len(part))})",
                (*args, *part),
            )
            for cid, text, meta in rows:
                out[cid] = Passage(chunk_id=cid, text=text, meta=json.loads(meta))
        return out

    def filtered_rowids(self, max_rank: int, filters) -> list[int]:
        """Rows at or below `max_rank` that pass `filters` (retrieval.Filters), in SQL."""
        where, args = self._filter_sql(max_rank, filters)
        return [r for (r,) in self.conn.execute(f"SELECT rowid FROM chunks WHERE {where}", args)]

    def _filter_sql(self, max_rank: int, filters) -> tuple[str, list]:
        sql, args = ["access_rank <= ?"], [max_rank]
        if not filters:
            return sql[0], args
        if filters.types:
            sql.append(f"type IN ({', '.join('?' * len(filters.types))})")
            args += list(filters.types)
        if filters.themes:
            from .schema import theme_key

            sql.append("(" + " OR ".join("instr(themes, ?) > 0" for _ in filters.themes) + ")")
            args += [f"|{theme_key(t)}|" for t in filters.themes]
        for clause in filters.clauses():
            if K_DATE_NUM in clause:
                (op, bound), = clause[K_DATE_NUM].items()
                sql.append("date_num >= ?" if op == "$gte" else "date_num <= ?")
                args.append(bound)
        return " AND ".join(sql), args

    def level_terms(self) -> Iterator[tuple[int, int, str]]:
        """(rowid, access_rank, terms) of every chunk, by rowid."""
        yield from self.conn.execute("SELECT rowid, access_rank, terms FROM chunks ORDER BY rowid")

    def bow_arrays(self, batch: int = 5000) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Every chunk's bag of terms, by rowid, as arrays: (rowids, access ranks, pairs per
        chunk, all pairs (n, 2) int32 [vocab id, count]). Rows without `bow` raise ValueError
        (`fill_bow` first). Streams the table into one preallocated buffer: no Python object
        per term, no second copy."""
        snapshot = not self.conn.in_transaction
        if snapshot:
            self.conn.execute("BEGIN")  # the size and the rows read from one state of the table
        try:
            total, missing = self.conn.execute("SELECT coalesce(sum(length(bow)), 0), count(*) - count(bow) FROM chunks").fetchone()
            if missing:
                raise ValueError(f"{missing} passage(s) sans sac de termes (IndexDB.fill_bow)")
            buf = np.empty(total, dtype=np.uint8)
            rowids, ranks, sizes, pos = [], [], [], 0
            cur = self.conn.execute("SELECT rowid, access_rank, bow FROM chunks ORDER BY rowid")
            while rows := cur.fetchmany(batch):
                for rid, rank, blob in rows:
                    buf[pos : pos + len(blob)] = np.frombuffer(blob, dtype=np.uint8)
                    pos += len(blob)
                    rowids.append(rid)
                    ranks.append(rank)
                    sizes.append(len(blob) // 8)
        finally:
            if snapshot:
                self.conn.execute("COMMIT")
        pairs = buf.view("<i4").reshape(-1, 2)
        return (np.array(rowids, dtype=np.int64), np.array(ranks, dtype=np.int8),
                np.array(sizes, dtype=np.int64), pairs)

    def vocab_terms(self, ids: np.ndarray) -> list[str]:
        """The terms of vocab `ids`, in that order."""
        wanted = {int(i) for i in ids}
        by_id = {i: t for i, t in self.conn.execute("SELECT id, term FROM vocab") if i in wanted}
        return [by_id[int(i)] for i in ids]

"""Users' ratings of answers, in SQLite (`settings.feedback_db`).

One row per rated answer: when, which role asked, the question, the answer, the chunk ids it
cited, the rating (1 = 👍, 0 = 👎) and an optional comment.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    role TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    cited_chunk_ids TEXT NOT NULL,
    rating INTEGER NOT NULL,
    comment TEXT NOT NULL DEFAULT ''
)
"""
COLUMNS = ("id", "created_at", "role", "question", "answer", "cited_chunk_ids", "rating", "comment")


class FeedbackStore:
    """Append and read feedback rows. The database and its folder are created on first use."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=10)
        conn.execute(SCHEMA)
        return conn

    def add(self, *, role: str, question: str, answer: str, chunk_ids: list[str], rating: int, comment: str = "") -> int:
        """Store a rating; returns its row id."""
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with closing(self._connect()) as conn, conn:
            cur = conn.execute(
                "INSERT INTO feedback (created_at, role, question, answer, cited_chunk_ids, rating, comment)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (now, role, question, answer, json.dumps(chunk_ids), int(rating), comment.strip()),
            )
            return int(cur.lastrowid)

    def update(self, row_id: int, *, rating: int | None = None, comment: str | None = None) -> None:
        """Change the rating and/or the comment of a stored row."""
        with closing(self._connect()) as conn, conn:
            if rating is not None:
                conn.execute("UPDATE feedback SET rating = ? WHERE id = ?", (int(rating), row_id))
            if comment is not None:
                conn.execute("UPDATE feedback SET comment = ? WHERE id = ?", (comment.strip(), row_id))

    def delete(self, row_id: int) -> None:
        """Forget a rating (the user cleared it)."""
        with closing(self._connect()) as conn, conn:
            conn.execute("DELETE FROM feedback WHERE id = ?", (row_id,))

    def rows(self) -> list[dict]:
        """Every row, newest first, cited chunk ids as a list."""
        with closing(self._connect()) as conn:
            cur = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM feedback ORDER BY id DESC")
            out = [dict(zip(COLUMNS, row)) for row in cur.fetchall()]
        for row in out:
            row["cited_chunk_ids"] = json.loads(row["cited_chunk_ids"])
        return out

    def to_csv(self) -> str:
        """All rows as CSV (chunk ids joined with spaces)."""
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(COLUMNS)
        for row in self.rows():
            row["cited_chunk_ids"] = " ".join(row["cited_chunk_ids"])
            writer.writerow([row[c] for c in COLUMNS])
        return buf.getvalue()

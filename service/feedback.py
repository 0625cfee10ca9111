"""Officials' thumbs up/down on answers, kept in one SQLite file under the data directory.

Every call opens its own short-lived connection: sqlite3 connections must not be shared between
the threads FastAPI runs sync handlers on, and WAL mode plus a busy timeout lets concurrent
requests queue for the single writer instead of failing with "database is locked".
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from indexer.errors import PlanqaError

FILE_NAME = "feedback.sqlite3"
RATINGS = ("up", "down")
MAX_COMMENT = 2000
BUSY_TIMEOUT_S = 15.0

# One entry per schema version; entry i upgrades a file from user_version i to i + 1.
# Add a new entry (never edit an old one) when the table changes.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at TEXT NOT NULL,
        question TEXT NOT NULL,
        answer TEXT NOT NULL,
        rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
        comment TEXT NOT NULL DEFAULT '',
        passage_ids TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX feedback_created ON feedback (created_at);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


class FeedbackStoreError(PlanqaError):
    """The feedback file cannot be opened or was written by a newer schema."""


@dataclass(frozen=True)
class Feedback:
    id: int
    created_at: str
    question: str
    answer: str
    rating: str
    comment: str
    passage_ids: tuple[str, ...]


def _row_to_feedback(row: sqlite3.Row) -> Feedback:
    return Feedback(
        id=int(row["id"]),
        created_at=str(row["created_at"]),
        question=str(row["question"]),
        answer=str(row["answer"]),
        rating=str(row["rating"]),
        comment=str(row["comment"]),
        passage_ids=tuple(str(p) for p in json.loads(row["passage_ids"] or "[]")),
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class FeedbackStore:
    """The feedback table of one SQLite file; the file and its schema appear on first use."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._ready = False
        self._init_lock = threading.Lock()

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> FeedbackStore:
        return cls(data_dir / FILE_NAME)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            # isolation_level=None: transactions are opened explicitly with BEGIN IMMEDIATE,
            # so a writer takes the lock up front rather than upgrading mid-transaction.
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as exc:
            raise FeedbackStoreError(f"cannot open the feedback store {self.path}: {exc}") from exc
        conn.row_factory = sqlite3.Row
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            yield conn
        finally:
            conn.close()

    def ensure_schema(self) -> None:
        if self._ready:
            return
        with self._init_lock:
            if self._ready:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as conn:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("BEGIN IMMEDIATE")
                try:
                    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
                    if version > SCHEMA_VERSION:
                        raise FeedbackStoreError(
                            f"{self.path} has schema version {version}; this planqa knows up to "
                            f"{SCHEMA_VERSION}. Upgrade planqa or point PLANQA_DATA_DIR elsewhere."
                        )
                    for script in MIGRATIONS[version:]:
                        for statement in script.split(";"):
                            if statement.strip():
                                conn.execute(statement)
                    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            self._ready = True

    def schema_version(self) -> int:
        self.ensure_schema()
        with self._connect() as conn:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])

    def add(
        self,
        question: str,
        answer: str,
        rating: str,
        comment: str = "",
        passage_ids: Sequence[str] = (),
    ) -> Feedback:
        if rating not in RATINGS:
            raise ValueError(f"rating must be one of {RATINGS}, not {rating!r}")
        if len(comment) > MAX_COMMENT:
            raise ValueError(f"comment has {len(comment)} characters; at most {MAX_COMMENT} are allowed")
        self.ensure_schema()
        created = _now()
        ids_json = json.dumps(list(passage_ids), ensure_ascii=False)
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                cur = conn.execute(
                    "INSERT INTO feedback (created_at, question, answer, rating, comment, passage_ids)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (created, question, answer, rating, comment, ids_json),
                )
                new_id = int(cur.lastrowid or 0)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return Feedback(new_id, created, question, answer, rating, comment, tuple(passage_ids))

    def recent(self, limit: int = 50, offset: int = 0) -> tuple[list[Feedback], int]:
        """One page of feedback, newest first, and the total count."""
        self.ensure_schema()
        with self._connect() as conn:
            total = int(conn.execute("SELECT COUNT(*) FROM feedback").fetchone()[0])
            rows = conn.execute(
                "SELECT * FROM feedback ORDER BY id DESC LIMIT ? OFFSET ?", (max(0, limit), max(0, offset))
            ).fetchall()
        return [_row_to_feedback(r) for r in rows], total

"""Web-UI conversations kept in SQLite, so they survive a server restart and can be reopened.

Each conversation belongs to one owner ("user:<login>" or "browser:<random id>"); every read is
filtered by owner, so one browser never sees another's conversations.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
  id TEXT PRIMARY KEY, owner TEXT NOT NULL, title TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL);
CREATE INDEX IF NOT EXISTS conversations_owner ON conversations(owner, updated);
CREATE TABLE IF NOT EXISTS turns (
  conversation TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE, seq INTEGER NOT NULL,
  record TEXT NOT NULL, PRIMARY KEY (conversation, seq));
"""


@dataclass
class ConversationInfo:
    id: str
    title: str
    updated: float
    turns: int


class ConversationStore:
    """Conversations as ordered turn records (JSON dicts made by the UI)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # One connection shared by the UI's worker threads; the lock serialises every use.
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def create(self, owner: str, title: str) -> str:
        cid = uuid.uuid4().hex
        now = time.time()
        with self._lock:
            self._db.execute(
                "INSERT INTO conversations (id, owner, title, created, updated) VALUES (?, ?, ?, ?, ?)",
                (cid, owner, _title(title), now, now),
            )
        return cid

    def append(self, owner: str, conversation: str, record: dict) -> None:
        """Add a turn; silently refuses a conversation that is not the owner's."""
        with self._lock:
            if not self._owns(owner, conversation):
                return
            (last,) = self._db.execute(
                "SELECT COALESCE(MAX(seq), -1) FROM turns WHERE conversation = ?", (conversation,)
            ).fetchone()
            self._db.execute(
                "INSERT INTO turns (conversation, seq, record) VALUES (?, ?, ?)",
                (conversation, last + 1, json.dumps(record, ensure_ascii=False)),
            )
            self._db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (time.time(), conversation))

    def _owns(self, owner: str, conversation: str) -> bool:
        q = "SELECT 1 FROM conversations WHERE id = ? AND owner = ?"
        return self._db.execute(q, (conversation, owner)).fetchone() is not None

    def recent(self, owner: str, limit: int = 50) -> list[ConversationInfo]:
        with self._lock:
            rows = self._db.execute(
                "SELECT c.id, c.title, c.updated, COUNT(t.seq) FROM conversations c "
                "LEFT JOIN turns t ON t.conversation = c.id WHERE c.owner = ? "
                "GROUP BY c.id ORDER BY c.updated DESC LIMIT ?", (owner, limit),
            ).fetchall()
        return [ConversationInfo(*r) for r in rows]

    def turns(self, owner: str, conversation: str) -> list[dict] | None:
        """The conversation's turn records in order, or None if it is not the owner's."""
        with self._lock:
            if not self._owns(owner, conversation):
                return None
            rows = self._db.execute(
                "SELECT record FROM turns WHERE conversation = ? ORDER BY seq", (conversation,)
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def delete(self, owner: str, conversation: str) -> bool:
        with self._lock:
            cur = self._db.execute("DELETE FROM conversations WHERE id = ? AND owner = ?", (conversation, owner))
        return cur.rowcount > 0


def _title(text: str) -> str:
    text = " ".join(text.split())
    return text[:80] + ("…" if len(text) > 80 else "") or "Conversation"

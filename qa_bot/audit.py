"""Append-only JSONL logs (audit, feedback) with size-based rotation; secrets never written."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from qa_bot.schema import Answer


class JsonlLog:
    def __init__(self, path: Path, max_bytes: int = 5_000_000, backups: int = 3):
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.backups = backups
        self._lock = threading.Lock()

    def append(self, record: dict) -> None:
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists() and self.path.stat().st_size + len(line) > self.max_bytes:
                self._rotate()
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(line)

    def _rotate(self) -> None:
        for i in range(self.backups - 1, 0, -1):
            src = self.path.with_name(f"{self.path.name}.{i}")
            if src.exists():
                os.replace(src, self.path.with_name(f"{self.path.name}.{i + 1}"))
        os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))


def audit_record(ans: Answer) -> dict:
    return {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "question": ans.question,
        "standalone_question": ans.standalone_question,
        "answer": ans.answer,
        "refused": ans.refused,
        "citations": [{"marker": c.marker, "source": c.source, "start": c.start, "end": c.end} for c in ans.citations],
        "model": ans.model,
        "total_ms": round(ans.timings.get("total_ms", 0.0), 1),
    }

"""File digests, shared by the model check (GGUF parts) and the upload guard (same bytes, same document)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path


def sha256_file(path: Path, on_block: Callable[[int], object] | None = None) -> str:
    """Hex SHA-256 of a file, read in 1 MB blocks (`on_block(n)` after each, for a progress bar)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
            if on_block is not None:
                on_block(len(block))
    return h.hexdigest()

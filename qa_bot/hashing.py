"""File digests, shared by the model checks (GGUF, packaged embedders) and the upload guard (same bytes, same
document), and the marker that spares re-hashing a model file verified earlier."""

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


def _stamp(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


def verified_earlier(path: Path, marker: Path) -> bool:
    """Whether `marker` (written by `mark_verified`) still pins `path`'s size and mtime: hashed before, unchanged."""
    return path.is_file() and marker.is_file() and marker.read_text().strip() == _stamp(path)


def mark_verified(path: Path, marker: Path) -> None:
    marker.write_text(_stamp(path))

"""Upload guards for the web UI: allowed types and sizes, safe file names, no overwrite."""

from __future__ import annotations

import re
import shutil
import unicodedata
from pathlib import Path

from qa_bot.errors import QaBotError
from qa_bot.hashing import sha256_file
from qa_bot.settings import Settings

_UNSAFE = re.compile(r"[^\w.\-]+", re.UNICODE)


def sanitize_filename(name: str, fallback: str = "upload") -> str:
    """A plain file name: no folders, no leading dots, no control or shell characters, bounded length."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFKC", name or ""))[-1]
    base = _UNSAFE.sub("_", base).strip("._-")
    base = re.sub(r"_+", "_", base)
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    stem = stem[:100].rstrip("._-") or fallback
    return f"{stem}.{ext.lower()[:10]}" if ext else stem


def check_upload(path: Path, display_name: str, s: Settings) -> str | None:
    """Why an uploaded file cannot be accepted, or None if it can."""
    ext = Path(display_name).suffix.lower()
    if ext not in s.allowed_extensions:
        return f"file type '{ext or 'none'}' is not accepted (allowed: {', '.join(s.allowed_extensions)})"
    try:
        size = path.stat().st_size
    except OSError:
        return "the upload did not arrive; try again"
    if size > s.max_upload_mb * 1e6:
        return f"{_human(size)} is over the {s.max_upload_mb:g} MB upload limit"
    if size == 0:
        return "the file is empty"
    return None


def _human(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.1f} kB"


def store_upload(src: Path, display_name: str, uploads: Path) -> Path:
    """Copy an accepted upload into the uploads folder under a sanitised, non-clobbering name."""
    uploads.mkdir(parents=True, exist_ok=True)
    name = sanitize_filename(display_name)
    target = uploads / name
    digest = sha256_file(src)
    n = 2
    while target.exists() and sha256_file(target) != digest:  # same bytes again = same document
        stem, ext = Path(name).stem, Path(name).suffix
        target = uploads / f"{stem}-{n}{ext}"
        n += 1
    if target.resolve().parent != uploads.resolve():  # belt and braces after sanitising
        raise QaBotError(f"refused file name '{display_name}'")
    shutil.copyfile(src, target)
    return target

"""File -> Document. Each failure is a BadFileError whose message is the reason."""

from __future__ import annotations

import codecs
import errno
import hashlib
import json
import logging
import os
import stat
from pathlib import Path

from qa_bot.errors import BadFileError
from qa_bot.schema import Document
from qa_bot.text import TERMINAL

SIDECAR_SUFFIX = ".meta.json"


def doc_id_for(path: Path) -> str:
    return hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:16]


def load_file(path: Path, *, max_bytes: int, allowed: list[str]) -> Document:
    """Load one file, or raise BadFileError naming why it cannot be used."""
    _check_link(path)
    ext = path.suffix.lower()
    if ext not in allowed:
        raise BadFileError(f"unsupported file type '{ext or path.name}' (allowed: {', '.join(allowed)})")
    try:
        st = path.stat()
        # a FIFO or device named *.txt would block read_bytes() forever
        if not stat.S_ISREG(st.st_mode):
            raise BadFileError("not a regular file")
        if st.st_size > max_bytes:
            raise BadFileError(f"file is {st.st_size / 1e6:.1f} MB, over the {max_bytes / 1e6:.1f} MB limit")
        data = path.read_bytes()
    except FileNotFoundError:
        raise BadFileError("file disappeared before it could be read") from None
    except OSError as e:
        raise BadFileError(f"cannot read file: {e.strerror or e}") from None
    if len(data) > max_bytes:  # it grew between stat() and read
        raise BadFileError(f"file is over the {max_bytes / 1e6:.1f} MB limit")
    if not data.strip():
        raise BadFileError("empty file")
    text, title = _extract(ext, data)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise BadFileError("no text could be extracted")
    meta = _sidecar(path)
    title = meta.get("title") or title or fallback_title(text, path)
    if meta.get("publisher"):
        title = f"{title} ({meta['publisher']})"
    return Document(
        doc_id=doc_id_for(path),
        path=str(path.resolve()),
        source=path.name,
        title=title,
        text=text,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _check_link(path: Path) -> None:
    """Name broken and looping symlinks as such rather than as a missing or odd file."""
    if not path.is_symlink():
        return
    try:
        path.resolve(strict=True)
    except RuntimeError:  # Python 3.11 reports a loop this way
        raise BadFileError("symlink loop") from None
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise BadFileError("symlink loop") from None
        raise BadFileError(f"broken symlink (target {os.readlink(path)!r} is missing)") from None


def _extract(ext: str, data: bytes) -> tuple[str, str]:
    if ext in (".txt", ".md"):
        text = _decode(data)
        return text, headline(text)
    if ext in (".html", ".htm"):
        return _html(data)
    if ext == ".pdf":
        return _pdf(data)
    if ext == ".docx":
        return _docx(data)
    raise BadFileError(f"unsupported file type '{ext}'")


# byte-order marks that say the encoding outright (Windows Notepad's "Unicode" is UTF-16 LE with one); the
# UTF-32 ones first, since UTF-32 LE's begins with UTF-16 LE's
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _decode(data: bytes) -> str:
    """UTF-8 (with or without a BOM), or UTF-16/32 with a BOM. Other encodings are refused, not guessed: a wrong
    guess would index mojibake and quote it back as the source's words."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError as e:
                raise BadFileError(f"undecodable: starts with a {encoding.upper()} byte-order mark but is not "
                                   f"valid {encoding.upper()} (byte {e.start})") from None
            # any byte pairs decode as UTF-16: junk after the mark reads as symbols and ideographs without a space
            if any(c.isspace() for c in text) or all(ord(c) < 0x250 for c in text):
                return text
            raise BadFileError(f"undecodable: starts with a {encoding.upper()} byte-order mark but does not read as "
                               "text (no space or line break)")
    if b"\x00" in data[:8192]:
        raise BadFileError("binary file (contains NUL bytes), not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise BadFileError(f"undecodable: not valid UTF-8 (byte {e.start}); save it as UTF-8 and add it again") from None


def _html(data: bytes) -> tuple[str, str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(data), "html.parser")
    for tag in soup(["script", "style", "noscript"]):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else ""
    if soup.title:
        soup.title.decompose()
    lines = [ln.strip() for ln in soup.get_text("\n").splitlines()]
    return "\n".join(ln for ln in lines if ln), title


def _pdf(data: bytes) -> tuple[str, str]:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    # pypdf logs repairs of damaged files ("EOF marker not found") to stderr; the reason is reported instead
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [p.extract_text() or "" for p in reader.pages]
        title = (reader.metadata.title if reader.metadata else None) or ""
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as e:
        raise BadFileError(f"corrupt or unreadable PDF: {e}") from None
    except Exception as e:  # pypdf raises a wide range of errors on damaged files
        raise BadFileError(f"corrupt or unreadable PDF: {type(e).__name__}") from None
    text = ""
    for page in (p.strip() for p in pages if p.strip()):
        # a page that stops mid-sentence runs on into the next (a line break the sentence splitter can join)
        text += ("\n" if text and not text.endswith(TERMINAL) else "\n\n" if text else "") + page
    if not text:
        raise BadFileError("PDF has no extractable text (scanned images?)")
    return text, str(title)


def _docx(data: bytes) -> tuple[str, str]:
    import io

    try:
        import docx

        d = docx.Document(io.BytesIO(data))
    except Exception as e:  # python-docx raises zip, xml and key errors on damaged files
        raise BadFileError(f"corrupt or unreadable DOCX: {type(e).__name__}") from None
    from docx.table import Table

    lines: list[str] = []
    for block in d.iter_inner_content():  # paragraphs and tables, in document order
        if isinstance(block, Table):
            lines += _table_rows(block)
        elif block.text.strip():
            lines.append(block.text)
    title = d.core_properties.title or ""
    return "\n".join(lines), title


def _table_rows(table) -> list[str]:
    """A table as one line per row, cells joined by " | " (a merged cell once: python-docx repeats it)."""
    rows = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            text = " ".join(cell.text.split())
            if text:
                cells.append(text)
        if cells:
            rows.append(" | ".join(cells))
    return rows


def headline(text: str) -> str:
    """The first line when it reads like a headline (short, not a sentence of body text)."""
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if not line:
            continue
        if len(line) <= 160 and len(line.split()) <= 25 and not line.endswith((".", ",", ";", ":")):
            return line
        return ""
    return ""


def fallback_title(text: str, path: Path) -> str:
    """A readable title when the document has none: its opening words."""
    words = text.strip().splitlines()[0].split()
    if not words:
        return path.stem
    short = " ".join(words[:12])
    return short + ("…" if len(words) > 12 else "")


def _sidecar(path: Path) -> dict:
    side = path.with_name(path.name + SIDECAR_SUFFIX)
    if side.is_file():
        try:
            return json.loads(side.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
    return {}

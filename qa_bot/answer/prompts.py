"""Prompt files rendered strictly: a missing variable is an error, not an empty string."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"
REFUSAL = "I cannot answer that from the sources."


@lru_cache(maxsize=4)
def _env(folder: str) -> Environment:
    return Environment(
        loader=FileSystemLoader(folder), undefined=StrictUndefined, keep_trailing_newline=False,
        trim_blocks=True, lstrip_blocks=True, autoescape=False,
    )


def render(name: str, folder: Path = PROMPTS_DIR, **variables: object) -> str:
    return _env(str(folder)).get_template(f"{name}.txt").render(**variables).strip()

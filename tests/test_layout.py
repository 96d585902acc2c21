"""The house's rooms: every subpackage imports, and the core rooms never reach for an edge.

ingest, retrieval, answer and llm are what every surface shares; server, cli, bench and evaluation
are surfaces over them. An import the other way (found anywhere in a module, functions included)
would tie the core to one surface."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import qa_bot

PACKAGE = Path(qa_bot.__file__).parent
CORE = ("ingest", "retrieval", "answer", "llm")
EDGES = ("server", "cli", "bench", "evaluation")


def _modules(sub: str) -> list[Path]:
    return sorted((PACKAGE / sub).rglob("*.py"))


def _imports(path: Path, module: str = "") -> set[str]:
    """Every module `path` imports, relative imports resolved against its package (`module` names it)."""
    parts = (module or ".".join(["qa_bot", *path.relative_to(PACKAGE).with_suffix("").parts])).split(".")
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = parts[: len(parts) - node.level] if node.level else []
            mod = ".".join([*base, node.module] if node.module else base)
            found.add(mod)
            found |= {f"{mod}.{a.name}" for a in node.names}
    return found


def test_every_subpackage_imports_and_says_what_it_is_for():
    subs = [m.name for m in pkgutil.iter_modules([str(PACKAGE)]) if m.ispkg]
    assert set(CORE) | {"server", "bench", "evaluation"} <= set(subs), subs
    for sub in subs:
        mod = importlib.import_module(f"qa_bot.{sub}")
        assert mod.__doc__ and len(mod.__doc__.split()) >= 12, f"qa_bot/{sub}/__init__.py needs its paragraph"
        for info in pkgutil.iter_modules(mod.__path__):
            importlib.import_module(f"qa_bot.{sub}.{info.name}")


def test_core_rooms_never_import_a_surface():
    bad = []
    for sub in CORE:
        for path in _modules(sub):
            for name in _imports(path):
                if any(name == f"qa_bot.{e}" or name.startswith(f"qa_bot.{e}.") for e in EDGES):
                    bad.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert not bad, "\n".join(bad)


def test_the_direction_check_sees_function_level_and_relative_imports(tmp_path):
    """The checker itself: an import inside a function, or a relative one, is still found."""
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from ..server import app\n    import qa_bot.cli\n", encoding="utf-8")
    names = _imports(probe, "qa_bot.answer.probe")
    assert "qa_bot.server" in names and "qa_bot.server.app" in names and "qa_bot.cli" in names

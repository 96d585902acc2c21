"""The README's configuration table, generated from `Settings` so it cannot drift from the code.

`python -m qa_bot.settings_table [README.md]` rewrites the block between the markers below.
"""

from __future__ import annotations

import sys
from pathlib import Path

from qa_bot.settings import Settings

START = "<!-- settings-table:start -->"
END = "<!-- settings-table:end -->"


def _default(value: object) -> str:
    if isinstance(value, Path):
        home = Path.home()
        text = f"~/{value.relative_to(home)}" if value.is_relative_to(home) else str(value)
    elif isinstance(value, list):
        text = ", ".join(str(v) for v in value)
    elif value is None:
        return "(none)"
    else:
        text = str(value)
    return f"`{text}`" if text else '`""`'


def markdown_table() -> str:
    rows = ["| setting | env var | default | description |", "| --- | --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        desc = (field.description or "").replace("|", "\\|")
        rows.append(f"| `{name}` | `QA_BOT_{name.upper()}` | {_default(field.default)} | {desc} |")
    return "\n".join(rows) + "\n"


def update_readme(path: Path) -> bool:
    """Write the table between the markers (appending them if missing); True if the file changed."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    block = f"{START}\n{markdown_table()}{END}"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        tail = rest.split(END, 1)[1]
        new = head + block + tail
    else:
        new = text.rstrip("\n") + ("\n\n" if text.strip() else "") + block + "\n"
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def readme_block(text: str) -> str | None:
    """The table currently between the markers, or None if there are no markers."""
    if START not in text or END not in text:
        return None
    return text.split(START, 1)[1].split(END, 1)[0].strip("\n") + "\n"


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    print(f"{target}: {'updated' if update_readme(target) else 'up to date'}")

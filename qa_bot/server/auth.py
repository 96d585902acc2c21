"""Login for the web UI and the API: users from `auth` / `auth_file`, compared in constant time."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from pathlib import Path

from qa_bot.errors import QaBotError
from qa_bot.settings import Settings


def load_users(s: Settings) -> dict[str, str]:
    """user -> password from `auth` ("u:p,u2:p2") and `auth_file` (one "u:p" per line, # comments)."""
    lines = [part for part in s.auth.split(",")] if s.auth else []
    if s.auth_file:
        try:
            lines += Path(s.auth_file).read_text(encoding="utf-8").splitlines()
        except OSError as e:
            raise QaBotError(f"cannot read auth_file {s.auth_file}: {e.strerror}") from None
    users: dict[str, str] = {}
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, password = line.partition(":")
        if not sep or not user.strip() or not password:
            raise QaBotError("login entries must look like user:password")
        users[user.strip()] = password
    return users


def auth_check(users: dict[str, str]) -> Callable[[str, str], bool] | None:
    """Gradio's auth callable (constant-time comparison), or None when login is off."""
    if not users:
        return None

    def check(user: str, password: str) -> bool:
        expected = users.get(user)
        ok = hmac.compare_digest((expected or "\0").encode(), (password or "").encode())
        return expected is not None and ok

    return check

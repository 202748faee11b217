"""Django's SQLite backend, creating the database file's folder when it does not exist yet.

The demo's database lives under ``var/``, which a fresh clone does not have; without this the first
``fuwu migrate`` dies with "unable to open database file". The folder is made where the connection is
opened, so every entry point (``fuwu migrate``, the server, the worker, a test) gets it, and only a
file database needs it (an in-memory or ``file:`` URI database is left alone).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db.backends.sqlite3 import base


def _folder(name: Any) -> Path | None:
    text = str(name)
    if not text or text == ":memory:" or text.startswith("file:") or "mode=memory" in text:
        return None
    return Path(text).expanduser().parent


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        folder = _folder(conn_params.get("database", ""))
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        return super().get_new_connection(conn_params)

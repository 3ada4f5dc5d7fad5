"""The decision log: every review and gate with the deal as evaluated and the rule set that judged it,
pipeline runs, and how deals ended (SQLite by default, PostgreSQL for teams).

Names are imported on first use, so a command that logs nothing never imports SQLAlchemy.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "Store": "log", "StoreError": "log", "default_path": "log", "open_store": "log", "shown_url": "log", "store_url": "log",
    "Decision": "records", "LoggedFinding": "records", "Outcome": "records", "Run": "records", "decision_of": "records",
    "STORE_VARIABLE": "config",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{_WHERE[name]}", __name__), name)

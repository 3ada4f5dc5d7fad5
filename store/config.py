"""Which decision log a command or the service uses, and who is calling."""

from __future__ import annotations

import getpass
import os
import socket
from functools import lru_cache

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .log import Store

STORE_VARIABLE = "DEALCOACH_STORE"
CALLER_VARIABLE = "DEALCOACH_CALLER"


def configured(location: str | None) -> str | None:
    """The log to write to: --store, else $DEALCOACH_STORE, else none (reviews are not logged)."""
    chosen = location if location is not None else os.environ.get(STORE_VARIABLE, "")
    return chosen.strip() or None


def reading(location: str | None) -> str:
    """The log to read from: as configured, else the embedded default file."""
    return configured(location) or "default"


@lru_cache(maxsize=8)
def _opened(location: str) -> Store:
    from .log import open_store  # SQLAlchemy is imported only when a log is used

    return open_store(location)


def store_for(location: str) -> Store:
    """The opened log for a location, once per process (opening migrates; a service opens it at start)."""
    return _opened(location)


def read_store(location: str | None) -> Store:
    """The log a reading command uses (history, replay, outcomes, ...): as configured, else the default file."""
    return store_for(reading(location))


def cli_caller() -> str:
    """Who ran a command: $DEALCOACH_CALLER (a CRM job names itself there), else cli:user@host."""
    named = os.environ.get(CALLER_VARIABLE, "").strip()
    if named:
        return named[:200]
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return f"cli:{user}@{socket.gethostname()}"[:200]

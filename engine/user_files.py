"""Where a user's configuration files are, and which URLs may carry their secrets (chat channels, CRM connections)."""

from __future__ import annotations

import ipaddress
import os
import urllib.parse
from pathlib import Path


def config_file(given: str | None, variable: str, default: Path) -> Path | None:
    """The file to read: the one given, else the one $`variable` names, else `default` when it exists."""
    if given:
        return Path(given)
    if os.environ.get(variable):
        return Path(os.environ[variable])
    found = default.expanduser()
    return found if found.exists() else None


def is_loopback(host: str) -> bool:
    """Whether `host` is this machine (localhost, 127.0.0.0/8, ::1)."""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def secure_url(url: str) -> bool:
    """Whether `url` is https, or http to this machine (a local test server): a URL that may carry a secret."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    return bool(parts.scheme == "https" and host or parts.scheme == "http" and is_loopback(host))

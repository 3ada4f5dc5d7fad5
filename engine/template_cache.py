"""Compiled templates kept on disk, so a command's first render does not compile them again.

jinja2 compiles a template to Python code; `dealcoach gate` renders a dozen
templates once and exits, so compiling them was most of its run. The compiled
code is kept with jinja2's own FileSystemBytecodeCache, keyed by the template's
file and a checksum of its source salted with dealcoach's version and the
sandbox's code (engine.template_sandbox rewrites every template's syntax tree to
bound its work: code compiled by another version is never used). The folder is
`$DEALCOACH_CACHE_DIR`, else `$XDG_CACHE_HOME/dealcoach`, else
`~/.cache/dealcoach`, with `templates/` inside, private to its user; it is not
used when it cannot be made so, or when DEALCOACH_CACHE_DIR is `off`.
"""

from __future__ import annotations

import hashlib
import os
import stat
from functools import lru_cache
from pathlib import Path

import jinja2

from .version import VERSION

CACHE_VARIABLE = "DEALCOACH_CACHE_DIR"
_SANDBOX = Path(__file__).with_name("template_sandbox.py")


class CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """jinja2's on-disk bytecode cache, with the source checksum salted by what compiles it."""

    def __init__(self, directory: str, salt: str):
        super().__init__(directory, "%s.code")
        self.salt = salt

    def get_source_checksum(self, source: str) -> str:
        return hashlib.sha256(f"{self.salt}\0{source}".encode("utf-8", "surrogatepass")).hexdigest()


def cache_root() -> Path | None:
    """The folder for dealcoach's caches, or None when switched off."""
    configured = os.environ.get(CACHE_VARIABLE)
    if configured is not None:
        return None if configured.strip().lower() in ("", "off") else Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dealcoach"


def _private(directory: Path) -> bool:
    """Make `directory` (and its parents) if needed; whether it is ours and writable by us alone."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        found = directory.stat()
    except OSError:
        return False
    owned = not hasattr(os, "getuid") or found.st_uid == os.getuid()
    return owned and stat.S_ISDIR(found.st_mode) and not found.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


@lru_cache(maxsize=4)
def _cache_at(directory: str) -> CompiledTemplates | None:
    path = Path(directory)
    if not _private(path):
        return None
    try:
        sandbox = hashlib.sha256(_SANDBOX.read_bytes()).hexdigest()[:16]
    except OSError:
        return None
    return CompiledTemplates(directory, f"{VERSION}:{sandbox}:{jinja2.__version__}")


def compiled_templates() -> CompiledTemplates | None:
    """The bytecode cache to give a template environment, or None (compile every time)."""
    root = cache_root()
    return None if root is None else _cache_at(str(root / "templates"))

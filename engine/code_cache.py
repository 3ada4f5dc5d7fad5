"""Compiled code kept on disk, so a command does not compile again what the last one did.

A one-deal command (`dealcoach gate`) compiles a dozen templates and the Python
tests of the rules over base facts, uses them once and exits; compiling was
most of its run. Two kinds of code are kept:
- templates, with jinja2's own FileSystemBytecodeCache (`templates/`), keyed by
  the template's file and a checksum of its source salted with dealcoach's
  version and the sandbox's code (engine.template_sandbox rewrites every
  template's syntax tree to bound its work: code compiled by another version is
  never used);
- the generated rule tests (engine.base_fact_rules) as marshalled code objects
  (`rules/`), named by a digest of their source, dealcoach's version and
  Python's bytecode version;
- the data of the playbook's YAML files (`playbooks/`), named by a digest of
  the file's text, the YAML parser's version and dealcoach's: reading it back
  is a tenth of parsing it, and a file changed by a byte is parsed again.
The folder is `$DEALCOACH_CACHE_DIR`, else `$XDG_CACHE_HOME/dealcoach`, else
`~/.cache/dealcoach`, private to its user; it is not used when it cannot be made
so, or when DEALCOACH_CACHE_DIR is `off`. Files are written whole, then renamed.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import marshal
import os
import stat
import tempfile
import types
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import jinja2
import jinja2.bccache

from .version import VERSION

CACHE_VARIABLE = "DEALCOACH_CACHE_DIR"
_SANDBOX = Path(__file__).with_name("template_sandbox.py")


class CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """jinja2's on-disk bytecode cache, with the source checksum salted by what compiles it. A folder that cannot be
    read or written (a full disk, removed while a service runs) costs a compile, never a render."""

    def __init__(self, directory: str, salt: str):
        super().__init__(directory, "%s.code")
        self.salt = salt

    def get_source_checksum(self, source: str) -> str:
        return hashlib.sha256(f"{self.salt}\0{source}".encode("utf-8", "surrogatepass")).hexdigest()

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except OSError:
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


def cache_root() -> Path | None:
    """The folder for dealcoach's caches, or None when switched off."""
    configured = os.environ.get(CACHE_VARIABLE)
    if configured is not None:
        return None if configured.strip().lower() in ("", "off") else Path(configured)
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except (RuntimeError, KeyError, OSError):  # no home directory (a container's unnamed user): no cache
            return None
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
def _cache_at(directory: str, html: bool = False) -> CompiledTemplates | None:
    path = Path(directory)
    if not _private(path):
        return None
    try:
        sandbox = hashlib.sha256(_SANDBOX.read_bytes()).hexdigest()[:16]
    except OSError:
        return None
    # jinja2 writes escaping into the compiled code: an HTML environment never reads what a text one compiled
    return CompiledTemplates(directory, f"{VERSION}:{sandbox}:{jinja2.__version__}:{'html' if html else 'text'}")


def compiled_templates(html: bool = False) -> CompiledTemplates | None:
    """The bytecode cache to give a template environment (`html`: one that escapes), or None (compile every time)."""
    root = cache_root()
    return None if root is None else _cache_at(str(root / "templates"), html)


@lru_cache(maxsize=4)
def _code_folder(directory: str) -> Path | None:
    path = Path(directory)
    return path if _private(path) else None


def _kept(kind: str, key: str, make: Callable[[], object], keeps: Callable[[object], bool]) -> object:
    """`make()`, read from `kind/` when a value was made for this very `key` before (marshalled: plain data and code
    only); a value `keeps` refuses (or marshal cannot write) is made every time."""
    root = cache_root()
    folder = None if root is None else _code_folder(str(root / kind))
    if folder is None:
        return make()
    digest = hashlib.sha256(importlib.util.MAGIC_NUMBER + f"{VERSION}\0{key}".encode("utf-8", "surrogatepass"))
    path = folder / f"{digest.hexdigest()}.code"
    try:
        kept = marshal.loads(path.read_bytes())
        if keeps(kept):
            return kept
    except (OSError, ValueError, EOFError, TypeError):
        pass  # not there yet, or unreadable: make it again
    value = make()
    if not keeps(value):
        return value
    written = None
    try:
        data = marshal.dumps(value)
        with tempfile.NamedTemporaryFile("wb", dir=folder, prefix=path.name, suffix=".tmp", delete=False) as handle:
            written = handle.name
            handle.write(data)
        os.replace(written, path)
    except (OSError, ValueError):  # a full disk, a read-only folder, a value marshal cannot write: made next time too
        if written is not None:
            with contextlib.suppress(OSError):
                os.remove(written)
    return value


def compiled_code(source: str, label: str) -> types.CodeType:
    """`compile(source, label, "exec")`, read from the cache when this very source was compiled before."""
    return _kept("rules", f"{label}\0{source}", lambda: compile(source, label, "exec"), lambda kept: isinstance(kept, types.CodeType))


_PLAIN = (str, int, float, bool, type(None))


def _plain(value: object) -> bool:
    """Only mappings of text keys, lists and scalars, as a playbook file's YAML gives (not dates, not sets). Each
    list or mapping is looked at once, however many YAML aliases share it."""
    seen: set[int] = set()
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind in _PLAIN:
            continue
        if kind is not list and kind is not dict:
            return False
        if id(item) in seen:
            continue
        seen.add(id(item))
        if kind is dict:
            if not all(type(key) is str for key in item):
                return False
            pending.extend(item.values())
        else:
            pending.extend(item)
    return True


def parsed_data(text: str, parser: str, parse: Callable[[str], object]) -> object:
    """`parse(text)` for a playbook file, read from the cache when this very text was parsed (by `parser`, which names
    the parser and its version) before; only plain data is kept (a parse error is raised every time, never kept)."""
    return _kept("playbooks", f"{parser}\0{text}", lambda: parse(text), _plain)

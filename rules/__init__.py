"""The rule catalog: one module per rule under a family package (see FAMILIES).

Each module defines exactly one `RULE` (a FindingRule or a Derivation). The
catalog is discovered, not listed by hand, so adding a rule is adding a file;
tests/test_registry.py checks every rule has fixtures and templates.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from ..engine.rulebook import Rule, Rulebook

FAMILIES = (
    "process", "buying_centre", "supporters", "objective", "competition", "qualification", "relationship", "after_contract",
)


_DOCS: dict[str, str] = {}


def discover() -> list[Rule]:
    """Every RULE of every rule module, in a stable order (family, module name)."""
    found: list[Rule] = []
    for family in FAMILIES:
        package = importlib.import_module(f"{__name__}.{family}")
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            if not hasattr(module, "RULE"):
                raise ValueError(f"rule module {module.__name__} defines no RULE")
            found.append(module.RULE)
            _DOCS[module.RULE.key] = (module.__doc__ or module.RULE.summary).strip()
    return found


@cache
def catalog() -> Rulebook:
    """The shipped rulebook (checked once per process)."""
    return Rulebook(discover())


def documentation(key: str) -> str:
    """A rule module's docstring: what it checks, why, and what clears it."""
    catalog()
    return _DOCS[key]

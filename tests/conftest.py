"""Fixtures shared by the tests (helpers live in helpers.py, importable because pytest's pythonpath includes tests/)."""

from __future__ import annotations

import pytest

from helpers import ROOT, base_deal


@pytest.fixture
def deal() -> dict:
    """A minimal valid deal (tests/rule_cases/_base.yaml) as plain data."""
    return base_deal()


class _RootIsNotATestPackage:
    """Collect the repository root as a plain directory, not as a Python package.

    The root *is* the `dealcoach` package (package-dir = {"dealcoach" = "."}).
    Collected as a package, pytest would import it a second time under the
    checkout folder's name, or fail where that name is not an identifier.
    Registered as a plugin because conftest hooks only see paths below tests/.
    """

    @pytest.hookimpl(tryfirst=True)
    def pytest_collect_directory(self, path, parent):
        if path == ROOT:
            return pytest.Dir.from_parent(parent, path=path)
        return None


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(_RootIsNotATestPackage(), "dealcoach-root-is-not-a-test-package")

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


@pytest.fixture(scope="session")
def postgres_url():
    """A real PostgreSQL server for this test session (tests/pg_server.py); skipped where none is installed, except under CI."""
    import os

    from pg_server import binaries, postgres_server

    if binaries() is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have PostgreSQL's server binaries for the decision-log tests (see .ci/run)")
        pytest.skip("no PostgreSQL server binaries here (CI installs them)")
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_location(request, tmp_path) -> str:
    """A fresh, empty decision log: a SQLite file, or a new database on the session's PostgreSQL server."""
    if request.param == "sqlite":
        return str(tmp_path / "decisions.sqlite3")
    import uuid

    from pg_server import new_database

    return new_database(request.getfixturevalue("postgres_url"), f"log_{uuid.uuid4().hex[:12]}")

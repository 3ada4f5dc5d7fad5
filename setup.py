"""The package list, found rather than written out; everything else is in pyproject.toml.

The repository root *is* the `dealcoach` package (package-dir {"dealcoach" = "."}),
so each package below it installs as `dealcoach.<path>`. pyproject's
[tool.setuptools.packages.find] names a package by its path from `where` and
cannot add that prefix, so the search is made here: a new rules/<family>/ with an
__init__.py is packaged without editing anything (tests/test_packaging.py).
"""

from pathlib import Path

from setuptools import find_packages, setup

NOT_PACKAGED = ["tests", "tests.*", "benchmarks", "benchmarks.*", "build", "build.*", "dist", "dist.*"]

found = find_packages(where=str(Path(__file__).resolve().parent), exclude=NOT_PACKAGED)
setup(
    packages=["dealcoach", *(f"dealcoach.{name}" for name in found)],
    script_name="setup.py",  # so build_py leaves this file, which sits in the package directory, out of the wheel
)

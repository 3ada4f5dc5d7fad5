"""The package list, found rather than written out, and an early check of what building durable-rules needs.

The repository root *is* the `dealcoach` package (package-dir {"dealcoach" = "."}),
so each package below it installs as `dealcoach.<path>`. pyproject's
[tool.setuptools.packages.find] names a package by its path from `where` and
cannot add that prefix, so the search is made here: a new rules/<family>/ with an
__init__.py is packaged without editing anything (tests/test_packaging.py).

durable-rules, the rule engine, ships only as C source. pip reads this file for
dealcoach's metadata before it builds any dependency, so a machine that cannot
build durable-rules is told here, in one paragraph, instead of by a compiler log
("Failed building wheel for durable-rules") several screens later.
"""

import os
import shlex
import shutil
import sys
import sysconfig
from pathlib import Path

from setuptools import find_packages, setup

NOT_PACKAGED = ["tests", "tests.*", "benchmarks", "benchmarks.*", "build", "build.*", "dist", "dist.*"]
PY313_DEFINE = "-DPyEval_CallObject=PyObject_CallObject"
SKIP_CHECK = "DEALCOACH_SKIP_BUILD_CHECK"


def durable_already_installed() -> bool:
    """durable-rules is in the environment being installed into (pip runs this file with that environment's Python)."""
    site = Path(sysconfig.get_paths(vars={"base": sys.prefix, "platbase": sys.prefix})["platlib"])
    return any(site.glob("durable_rules-*.dist-info"))


def build_prerequisites_missing() -> list[str]:
    """What building durable-rules from source needs and this machine lacks, as sentences."""
    missing = []
    compiler = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")[:1]
    if not compiler or shutil.which(compiler[0]) is None:
        missing.append(f"a C compiler ({compiler[0] if compiler else 'cc'} was not found): Debian/Ubuntu `apt install gcc`, "
                       "Fedora `dnf install gcc`, macOS `xcode-select --install`")
    headers = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if not headers.exists():
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        missing.append(f"the Python {version} headers ({headers} is missing): Debian/Ubuntu `apt install python{version}-dev`, "
                       f"Fedora `dnf install python{version}-devel`")
    if sys.version_info >= (3, 13) and PY313_DEFINE not in os.environ.get("CPPFLAGS", ""):
        missing.append(f"on Python 3.13, CPPFLAGS={PY313_DEFINE} (durable-rules 2.0.28 calls a function 3.13 removed; "
                       "the README's install command sets it)")
    return missing


def check_build_prerequisites() -> None:
    """Stop with one clear message when durable-rules cannot be built here."""
    if os.environ.get(SKIP_CHECK) or durable_already_installed():
        return
    missing = build_prerequisites_missing()
    if missing:
        lines = "\n".join(f"  - {item}" for item in missing)
        sys.exit(f"dealcoach needs durable-rules, which pip builds from C source; this machine lacks:\n{lines}\n"
                 f"(If a durable-rules wheel for this Python is already cached, set {SKIP_CHECK}=1 to skip this check.)")


if __name__ == "__main__":  # as pip's build backend runs it; tests import the checks above without building
    check_build_prerequisites()
    found = find_packages(where=str(Path(__file__).resolve().parent), exclude=NOT_PACKAGED)
    setup(
        packages=["dealcoach", *(f"dealcoach.{name}" for name in found)],
        script_name="setup.py",  # so build_py leaves this file, which sits in the package directory, out of the wheel
    )

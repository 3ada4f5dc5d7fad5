"""The wheel holds the whole `dealcoach` package and nothing else.

The repository root *is* the package (package-dir {"dealcoach" = "."}), so a
package the build does not find is silently left out of the wheel: a new
rules/<family>/ would import in the checkout and be missing once installed.
The wheel is built (once, ~10 s) from a copy of the working tree with one extra,
empty rules family added, so a family nobody listed by hand must be packaged too.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from helpers import ROOT

pytestmark = pytest.mark.slow

PROBE_FAMILY = "zz_probe_family"
NOT_COPIED = shutil.ignore_patterns(
    ".git", ".venv*", "build", "dist", "*.egg-info", "__pycache__", ".hypothesis", ".pytest_cache", ".ruff_cache"
)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, list[str], str]:
    """(the copied source tree, the names in the wheel built from it, its METADATA)."""
    setuptools_version = importlib.metadata.version("setuptools")
    if int(setuptools_version.split(".")[0]) < 77:
        pytest.fail(f"setuptools {setuptools_version} is older than pyproject's build requirement; run pip install -e '.[test]'")
    work = tmp_path_factory.mktemp("packaging")
    source = work / "src"
    shutil.copytree(ROOT, source, ignore=NOT_COPIED)
    probe = source / "rules" / PROBE_FAMILY
    probe.mkdir()
    (probe / "__init__.py").write_text('"""An empty rules family: only here to prove new families are packaged."""\n', encoding="utf-8")
    wheels = work / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(wheels), str(source)],
        check=True,
        timeout=300,
    )
    [wheel] = wheels.glob("dealcoach-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return source, archive.namelist(), archive.read(next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))).decode()


def _files(folder: Path, pattern: str = "**/*") -> list[Path]:
    return sorted(p for p in folder.glob(pattern) if p.is_file() and "__pycache__" not in p.parts)


def test_every_rules_family_is_packaged(built) -> None:
    source, names, _ = built
    families = sorted(p.parent.name for p in (source / "rules").glob("*/__init__.py"))
    assert PROBE_FAMILY in families and len(families) > 5
    missing = [family for family in families if f"dealcoach/rules/{family}/__init__.py" not in names]
    assert not missing, f"rules families missing from the wheel: {missing}"
    modules = [f"dealcoach/{p.relative_to(source).as_posix()}" for p in _files(source / "rules", "**/*.py")]
    assert not [m for m in modules if m not in names]


def test_every_package_module_is_packaged(built) -> None:
    source, names, _ = built
    not_packages = {"tests", "benchmarks", "build"}  # build/: what the wheel build itself wrote into the copy
    packages = [p.parent for p in source.glob("**/__init__.py") if not not_packages & set(p.relative_to(source).parts)]
    modules = [f"dealcoach/{p.relative_to(source).as_posix()}" for package in packages for p in package.glob("*.py") if p != source / "setup.py"]
    assert "dealcoach/engine/api.py" in modules and "dealcoach/cli.py" in modules
    assert not [m for m in modules if m not in names]


@pytest.mark.parametrize("folder, pattern", [("playbooks", "**/*"), ("examples", "*.yaml"), ("crm/mappings", "*.yaml")])
def test_data_files_are_packaged(built, folder: str, pattern: str) -> None:
    source, names, _ = built
    files = [f"dealcoach/{p.relative_to(source).as_posix()}" for p in _files(source / folder, pattern)]
    assert files, f"nothing matches {folder}/{pattern}"
    assert not [f for f in files if f not in names]


def test_nothing_lands_outside_the_dealcoach_package(built) -> None:
    _, names, _ = built
    top = {name.split("/")[0] for name in names}
    [metadata] = [entry for entry in top if entry.startswith("dealcoach-") and entry.endswith(".dist-info")]
    assert top == {"dealcoach", metadata}, sorted(top)  # no bare engine/, rules/, tests/ ... in site-packages
    stray = [n for n in names if n.startswith(("dealcoach/tests/", "dealcoach/benchmarks/", "dealcoach/build/", "dealcoach/dist/"))]
    stray += [n for n in names if n in ("dealcoach/setup.py", "dealcoach/pyproject.toml")]  # build files beside the package's modules
    assert not stray, stray[:10]


def test_metadata_has_one_version_a_licence_and_the_pythons_ci_runs(built) -> None:
    _, names, metadata = built
    from dealcoach.engine.version import VERSION

    assert f"\nVersion: {VERSION}\n" in metadata  # written once, in engine/version.py
    assert "\nLicense-Expression: LicenseRef-Proprietary\n" in metadata
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "dealcoach/py.typed" in names
    claimed = {line.rsplit(" ", 1)[-1] for line in metadata.splitlines() if line.startswith("Classifier: Programming Language :: Python :: 3.")}
    assert claimed == {"3.11", "3.12", "3.13"}
    assert "Requires-Python: <3.14,>=3.11" in metadata
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert all(version in ci for version in claimed)

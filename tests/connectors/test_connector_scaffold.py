"""`kawal connector new`: the scaffolded package installs, registers and passes its tests as is."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.scaffold import ScaffoldError, new_connector

pytestmark = pytest.mark.slow

NAME = "scaffold-probe"
REPOSITORY = Path(__file__).parents[2]


def _run(*command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.fixture
def installed(tmp_path: Path) -> Iterator[Path]:
    """The scaffolded package, installed (editable) into this environment for the test."""
    created = _run(sys.executable, "-m", "streams.cli", "connector", "new", NAME, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    package = tmp_path / f"kawal-connector-{NAME}"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
    install = _run(*pip, "-e", str(package), cwd=tmp_path)
    assert install.returncode == 0, install.stderr
    try:
        yield package
    finally:
        uninstall = [sys.executable, "-m", "pip", "uninstall", "-y", f"kawal-connector-{NAME}"]
        _run(*uninstall, cwd=tmp_path)


def test_scaffolded_connector_passes_its_tests_unmodified(installed: Path) -> None:
    listing = _run(sys.executable, "-m", "streams.cli", "connector", "list", cwd=installed)
    assert f"{NAME}-inbound" in listing.stdout
    assert f"{NAME}-outbound" in listing.stdout

    tests = _run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=installed)

    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    assert "22 passed" in tests.stdout


def test_scaffolded_connector_type_checks_strictly_as_the_guide_runs_it(tmp_path: Path) -> None:
    """docs/connectors.md, section 1: ``MYPYPATH`` names the hub's repository."""
    new_connector(NAME, tmp_path)
    package = tmp_path / f"kawal-connector-{NAME}"
    env = dict(os.environ, MYPYPATH=str(REPOSITORY))
    module = f"kawal_connector_{NAME.replace('-', '_')}"
    mypy = [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache")]
    checked = subprocess.run(
        [*mypy, module], cwd=package, env=env, capture_output=True, text=True, timeout=600
    )

    assert checked.returncode == 0, checked.stdout[-3000:]


def test_bad_names_and_existing_directories_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ScaffoldError, match="lowercase"):
        new_connector("Bad_Name", tmp_path)
    new_connector("twice", tmp_path)
    with pytest.raises(ScaffoldError, match="already exists"):
        new_connector("twice", tmp_path)

"""`kawal connector new`: the scaffolded package installs, registers and passes its tests as is.

For the bundled Bawaslu office by default, and, as an integrator's walkthrough met it, for a
new institution registered in a registry file of the integrator's own
(``KAWAL_INSTITUTIONS_FILE``, docs/connectors.md "A new institution"), and for a PPK, whose
scaffold sends decrees: its role emits no reports.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.scaffold import ScaffoldError, new_connector
from streams.settings import Settings

pytestmark = pytest.mark.slow

NAME = "scaffold-probe"
REPOSITORY = Path(__file__).parents[2]
BUNDLED = REPOSITORY / "streams" / "data" / "institutions.toml"
#: The walkthrough's inspectorate, which the bundled registry does not list.
BOGOR = "inspektorat.3201"
BOGOR_ENTRY = f"""
[[institution]]
id = "{BOGOR}"
role = "regional_inspectorate"
name = "Inspektorat Kabupaten Bogor"
"""


def _run(*command: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "KAWAL_INSTITUTIONS_FILE"}
    return subprocess.run(
        command, cwd=cwd, env=environment | env, capture_output=True, text=True, timeout=600
    )


def _registry(tmp_path: Path) -> Path:
    """The integrator's registry: the bundled one and the new inspectorate."""
    registry = tmp_path / "institutions.toml"
    registry.write_text(BUNDLED.read_text() + BOGOR_ENTRY)
    return registry


def _tests_of(package: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The generated package's own tests, run as the guide runs them (``pytest`` there)."""
    return _run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=package, **env)


@pytest.fixture
def installed(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Path, dict[str, str]]]:
    """The package scaffolded for ``request.param`` (an institution, or None: the default).

    Installed (editable) into this environment for the test; with the environment the
    integrator runs its commands in (a registry of their own for the inspectorate).
    """
    institution = getattr(request, "param", None)
    env = {"KAWAL_INSTITUTIONS_FILE": str(_registry(tmp_path))} if institution == BOGOR else {}
    chosen = ["--institution", institution] if institution else []
    new = [sys.executable, "-m", "streams.cli", "connector", "new", NAME, *chosen]
    created = _run(*new, cwd=tmp_path, **env)
    assert created.returncode == 0, created.stderr
    package = tmp_path / f"kawal-connector-{NAME}"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
    install = _run(*pip, "-e", str(package), cwd=tmp_path)
    assert install.returncode == 0, install.stderr
    try:
        yield package, env
    finally:
        uninstall = [sys.executable, "-m", "pip", "uninstall", "-y", f"kawal-connector-{NAME}"]
        _run(*uninstall, cwd=tmp_path)


def test_scaffolded_connector_passes_its_tests_unmodified(
    installed: tuple[Path, dict[str, str]],
) -> None:
    package, _ = installed
    listing = _run(sys.executable, "-m", "streams.cli", "connector", "list", cwd=package)
    assert f"{NAME}-inbound" in listing.stdout
    assert f"{NAME}-outbound" in listing.stdout
    assert 'institution = "bawaslu.33"' in (package / "inbound.toml").read_text()

    tests = _tests_of(package)

    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    assert "23 passed" in tests.stdout


@pytest.mark.parametrize("installed", [BOGOR], indirect=True)
def test_a_new_institutions_scaffold_passes_its_tests_with_its_registry(
    installed: tuple[Path, dict[str, str]],
) -> None:
    """Before, the contract suite gave keys and topics to the bundled institutions only."""
    package, env = installed
    for written in ("inbound.toml", "outbound.toml", "tests/system_configs.py", "README.md"):
        assert BOGOR in (package / written).read_text(), written
    assert "bawaslu.33" not in (package / "inbound.toml").read_text()

    tests = _tests_of(package, **env)

    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    assert "23 passed" in tests.stdout

    unregistered = _tests_of(package)  # KAWAL_INSTITUTIONS_FILE forgotten

    assert unregistered.returncode == 1
    assert "10 failed" in unregistered.stdout
    said = f"institution '{BOGOR}' is in no institutions registry the contract suite reads"
    assert unregistered.stdout.count(said) >= 10
    assert 'If not, register it (docs/connectors.md, "A new institution"' in unregistered.stdout
    errors = "\n".join(line for line in unregistered.stdout.splitlines() if line.startswith("E "))
    assert "SigningKeyError" not in errors
    assert "No partitions are currently assigned" not in errors


@pytest.mark.parametrize("installed", ["ppk.3374"], indirect=True)
def test_a_ppks_scaffold_sends_decrees_and_passes_its_tests(
    installed: tuple[Path, dict[str, str]],
) -> None:
    """A PPK emits no ReportReceived: a report mapping failed its own contract tests."""
    package, env = installed
    assert (
        '"SanctionImposed"' in (package / "kawal_connector_scaffold_probe/mapping.py").read_text()
    )

    tests = _tests_of(package, **env)

    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    assert "21 passed" in tests.stdout


def test_scaffolded_connector_type_checks_strictly_as_the_guide_runs_it(tmp_path: Path) -> None:
    """docs/connectors.md, section 1: ``MYPYPATH`` names the hub's repository."""
    settings = Settings(institutions_file=_registry(tmp_path))
    for made, institution in (("report", BOGOR), ("decree", "ppk.3374")):
        package = new_connector(NAME, tmp_path / made, institution, settings)
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


def test_an_institution_no_registry_lists_or_no_id_is_refused_saying_how_to_register(
    tmp_path: Path,
) -> None:
    bundled = Settings(institutions_file=None)
    with pytest.raises(ScaffoldError) as unregistered:
        new_connector("bogor", tmp_path, BOGOR, bundled)
    said = str(unregistered.value)
    assert f"--institution '{BOGOR}' is not in the institutions registry" in said
    assert "did you mean 'inspektorat.3374'? If not, register it first" in said
    assert "KAWAL_INSTITUTIONS_FILE" in said
    with pytest.raises(ScaffoldError, match="is no institution id"):
        new_connector("bogor", tmp_path, "inspektorat 3201", bundled)
    with pytest.raises(ScaffoldError, match=r"kasn \(recommending_authority\) emits no"):
        new_connector("kasn", tmp_path, "kasn", bundled)
    assert not list(tmp_path.iterdir())  # nothing written for a refused institution


def test_the_command_refuses_an_unregistered_institution_with_exit_1(tmp_path: Path) -> None:
    new = [sys.executable, "-m", "streams.cli", "connector", "new", "bogor"]
    refused = _run(*new, "--institution", BOGOR, cwd=tmp_path)

    assert refused.returncode == 1, refused.stderr
    assert "is not in the institutions registry" in refused.stderr
    assert not list(tmp_path.iterdir())

    taken = _run(
        *new, "--institution", BOGOR, cwd=tmp_path, KAWAL_INSTITUTIONS_FILE=str(_registry(tmp_path))
    )

    assert taken.returncode == 0, taken.stderr
    assert f"for {BOGOR}" in taken.stdout

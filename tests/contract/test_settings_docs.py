"""docs/configuration.md: every setting of the hub, generated; the docs name only real ones."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from streams.contract.asyncapi import SETTINGS_PATH, generate
from streams.contract.generated_files import PROJECT_ROOT
from streams.contract.settingsdocs import build_settings_markdown, variable_of
from streams.local.storage import GRPC_PORT_OFFSET
from streams.settings import Settings
from streams.unknown_variables import known_variables

#: Variables read outside :class:`Settings` (the demo portal's, the secrets folder, the build's
#: revision, the tests' ports) and by the project's tooling: every one a process lets pass.
OTHER_VARIABLES = known_variables() - {variable_of(name) for name in Settings.model_fields}


def page() -> str:
    """The committed page."""
    return (PROJECT_ROOT / SETTINGS_PATH).read_text("utf-8")


def documents() -> list[Path]:
    """The README and every page under docs/."""
    return [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]


def test_the_committed_page_is_the_generated_one() -> None:
    # Regenerate with `.venv/bin/python -m streams.contract.asyncapi` after changing a setting.
    assert generate()[SETTINGS_PATH] == page()


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_has_a_row_with_its_meaning(name: str) -> None:
    description = Settings.model_fields[name].description
    assert description, f"{name} needs a description"
    assert description.endswith("."), f"{name}'s description is not a sentence"
    rows = [line for line in page().splitlines() if line.startswith(f"| `{variable_of(name)}` |")]
    assert len(rows) == 1
    assert description.replace("|", "\\|") in rows[0]


def test_defaults_are_shown_as_an_operator_writes_them() -> None:
    text = build_settings_markdown()
    assert "| `KAWAL_SESSION_TIMEOUT` | `6` |" in text
    assert "| `KAWAL_FAUST_METRICS` | `false` |" in text
    assert "| `KAWAL_AUDIT_DB_URL` | unset |" in text
    assert "| `KAWAL_HOME` | `.kawal` |" in text


def test_the_readme_points_at_the_page() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text("utf-8")
    assert f"]({SETTINGS_PATH.as_posix()})" in readme


@pytest.mark.parametrize("document", documents(), ids=lambda path: path.name)
def test_the_docs_name_only_variables_that_exist(document: Path) -> None:
    settings = {variable_of(name) for name in Settings.model_fields}
    named = set(re.findall(r"KAWAL_[A-Z0-9_]*[A-Z0-9]", document.read_text("utf-8")))
    assert named - settings - OTHER_VARIABLES == set()


def test_the_storage_port_names_both_blocks_of_ports_it_takes() -> None:
    description = Settings.model_fields["embedded_storage_port"].description or ""

    assert "S3 on it, base+1..base+4" in description
    assert f"base+{GRPC_PORT_OFFSET}..base+{GRPC_PORT_OFFSET + 4}" in description

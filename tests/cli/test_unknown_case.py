"""A case id the audit store does not hold: exit 3, saying where the cases are listed.

An officer who mistypes a case id must learn that the case is not there and how to find the
right id, and a script reading ``--json`` must get an error rather than an empty answer.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streams.audit.store import AuditStore
from streams.cli import main
from streams.cli.exits import EXIT_UNKNOWN_CASE
from streams.settings import Settings

ABSENT = "0b5c6a1e-0000-4000-8000-00000000dead"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("KAWAL_HOME", str(home))
    monkeypatch.delenv("KAWAL_AUDIT_DB_URL", raising=False)
    store = AuditStore(Settings(home=home).audit_url)
    store.create_schema()
    store.close()
    return home


@pytest.mark.parametrize(
    "command",
    [
        ("case", "trail", ABSENT),
        ("case", "trail", ABSENT, "--as", "bawaslu.33"),
        ("audit", "verify", ABSENT),
        ("audit", "proof", ABSENT),
        ("access", "log", "--case", ABSENT),
        ("retention", ABSENT),
    ],
)
def test_an_unknown_case_is_exit_3_naming_kawal_case_list(
    home: Path, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    assert main(list(command)) == EXIT_UNKNOWN_CASE
    said = capsys.readouterr().err
    assert f"no case {ABSENT} in the audit store" in said
    assert "`kawal case list` shows the cases it holds" in said

    assert main([*command, "--json"]) == EXIT_UNKNOWN_CASE
    error = json.loads(capsys.readouterr().out)["error"]
    assert f"no case {ABSENT} in the audit store" in error

"""``kawal audit verify --heads FILE`` given a file that holds no heads to check, or bad ones.

An empty file proves nothing: passing it as "consistent with 0 kept heads" would tell an
auditor who gave the wrong file that the store matched. A head line whose numbers no head can
hold, or heads of another hub, are named by their line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streams.audit.store import AuditStore
from streams.cli.exits import EXIT_ERROR, EXIT_UNVERIFIED
from streams.domain.keyring import KeyRing
from tests.audit.test_head_check import Institution, institution_keeping, kawal
from tests.audit.treetools import keyring, registry_toml
from tests.storetools import open_store


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return keyring()


@pytest.fixture
def kept(tmp_path: Path, ring: KeyRing) -> tuple[AuditStore, Institution, Path]:
    """A store with three signed heads, the institution that kept them, the key registry."""
    store = open_store("sqlite", tmp_path, None)
    institution, keys_file = institution_keeping(store, tmp_path, ring)
    return store, institution, keys_file


@pytest.mark.parametrize("content", ["", "\n\n  \n"])
def test_a_file_without_any_line_is_refused_not_passed(
    kept: tuple[AuditStore, Institution, Path], tmp_path: Path, content: str
) -> None:
    store, _, keys_file = kept
    empty = tmp_path / "empty.jsonl"
    empty.write_text(content, encoding="utf-8")

    ran = kawal(tmp_path, store, keys_file, "audit", "verify", "--heads", str(empty))

    assert ran.returncode == EXIT_ERROR, ran.stdout
    assert ran.stderr.splitlines() == [
        f"kawal: {empty} holds no heads (it is empty); give the file a connector keeps its "
        "heads in, KAWAL_HOME/connectors/<connector>.heads.jsonl"
    ]


@pytest.mark.parametrize("field", ["tree_size", "previous_size"])
def test_a_head_line_with_a_count_beyond_any_head_is_unreadable(
    kept: tuple[AuditStore, Institution, Path], tmp_path: Path, field: str
) -> None:
    store, institution, keys_file = kept
    lines = institution.lines()
    huge = json.loads(lines[-1]) | {field: 10**30}
    institution.path.write_text("\n".join([*lines, json.dumps(huge)]) + "\n", encoding="utf-8")

    ran = kawal(tmp_path, store, keys_file, "audit", "verify", "--heads", str(institution.path))

    assert ran.returncode == EXIT_UNVERIFIED, ran.stderr
    assert "head_unreadable: head 4: " in ran.stdout


def test_heads_of_another_hub_are_each_named_as_not_the_hubs(
    kept: tuple[AuditStore, Institution, Path], tmp_path: Path
) -> None:
    store, institution, _ = kept
    other_keys = tmp_path / "other-keys.toml"
    other_keys.write_text(registry_toml(keyring()), encoding="utf-8")

    ran = kawal(tmp_path, store, other_keys, "audit", "verify", "--heads", str(institution.path))

    assert ran.returncode == EXIT_UNVERIFIED, ran.stderr
    # One problem, one line: how many heads, which lines and which tree sizes.
    # The store's own heads are another hub's too: their line names them by size.
    [refused] = [
        line
        for line in ran.stdout.splitlines()
        if "not the hub's" in line and "the hub's head of size" not in line
    ]
    assert refused.startswith("hub_unknown_key: 3 heads (lines 1-3, tree sizes 3 to 9): ")
    # What to do for whoever checks heads, not a sender's advice (register a key, replay).
    assert "heads of another hub" in refused
    assert "KAWAL_KEYS_FILE" in refused
    assert "dlq replay" not in refused
    assert "register the" not in refused
    assert "(one line per problem; --json lists every head's finding)" in ran.stdout

    as_json = kawal(
        tmp_path, store, other_keys, "audit", "verify", "--heads", str(institution.path), "--json"
    )
    findings = json.loads(as_json.stdout)["heads"]["findings"]
    assert [(f["code"], f["heads"]) for f in findings] == [
        ("hub_unknown_key", [n]) for n in (1, 2, 3)
    ]
    assert findings[0]["detail"].startswith("head 1 is not the hub's: ")

"""A key folder is parsed again only where a file changed, and every change is still seen.

Each hub process looks at its key folder every 2 s. Before, each look parsed every key file;
now a file is parsed again only when its stat (mtime, size, inode, mode, ctime) changed. The
parses are counted (:attr:`streams.domain.key_folder.KeyFolder.parses`), never timed.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from streams.domain.hub_signer import HubSigner
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.key_files import KeyFileDamage
from streams.domain.key_folder import KeyFolder
from streams.domain.keys import KeyRegistry, NewKey, load_key_registry, new_key_pair

SINCE = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


def written(folder: Path, institution: str = HUB_INSTITUTION) -> NewKey:
    """A key of ``institution`` whose private half is in ``folder``, mode 0600."""
    key = new_key_pair(institution, SINCE)
    path = key.path_in(folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(key.private_pem)
    path.chmod(0o600)
    return key


def registry_of(tmp_path: Path, *keys: NewKey) -> KeyRegistry:
    """A registry file listing ``keys``, read."""
    path = tmp_path / "keys.toml"
    path.write_text("\n".join(key.registry_text() for key in keys), encoding="utf-8")
    return load_key_registry(path)


def test_an_unchanged_folder_is_not_parsed_again(tmp_path: Path) -> None:
    keys = [written(tmp_path / "keys") for _ in range(3)]
    folder = KeyFolder(tmp_path / "keys", HUB_INSTITUTION)
    registry = registry_of(tmp_path, *keys)

    first = folder.read(registry)
    for _ in range(5):
        again = folder.read(registry)

    assert folder.parses == 3
    assert {key.key_id for key in again.held} == {key.key_id for key in keys}
    assert again.held == first.held


def test_a_changed_added_removed_and_damaged_file_are_each_seen_at_the_next_read(
    tmp_path: Path,
) -> None:
    keep, change, remove = (written(tmp_path / "keys") for _ in range(3))
    folder = KeyFolder(tmp_path / "keys", HUB_INSTITUTION)
    registry = registry_of(tmp_path, keep, change, remove)
    folder.read(registry)
    assert folder.parses == 3

    # Changed in place: another key's bytes under the same name (a restore from another copy).
    other = new_key_pair(HUB_INSTITUTION, SINCE)
    change.path_in(tmp_path / "keys").write_bytes(other.private_pem)
    seen = folder.read(registry)
    assert folder.parses == 4
    assert other.key_id in {key.key_id for key in seen.held}

    added = written(tmp_path / "keys")
    seen = folder.read(registry)
    assert folder.parses == 5
    assert added.key_id in {key.key_id for key in seen.held}

    remove.path_in(tmp_path / "keys").unlink()
    seen = folder.read(registry)
    assert folder.parses == 5  # a file gone needs no parse, only to be dropped
    assert remove.key_id not in {key.key_id for key in seen.held}

    # Damaged in place, to the same size and modification time: the inode's change time tells.
    path = keep.path_in(tmp_path / "keys")
    status = path.stat()
    path.write_bytes(b"-----BEGIN PRIVATE KEY-----\n".ljust(status.st_size, b"A"))
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))
    seen = folder.read(registry)
    assert folder.parses == 6
    assert [(file.path, file.damage) for file in seen.damaged] == [(path, KeyFileDamage.TRUNCATED)]
    assert keep.key_id not in {key.key_id for key in seen.held}


def test_a_hub_key_mended_by_chmod_alone_is_taken_up(tmp_path: Path) -> None:
    key = written(tmp_path / "keys")
    path = key.path_in(tmp_path / "keys")
    path.chmod(0o644)
    folder = KeyFolder(tmp_path / "keys", HUB_INSTITUTION)
    registry = registry_of(tmp_path, key)
    assert [file.damage for file in folder.read(registry).damaged] == [KeyFileDamage.WRONG_MODE]

    path.chmod(0o600)
    mended = folder.read(registry)

    assert [held.key_id for held in mended.held] == [key.key_id]
    assert mended.damaged == []


def test_a_damaged_file_is_said_anew_when_the_registry_changes_without_a_new_parse_of_keys(
    tmp_path: Path,
) -> None:
    valid = written(tmp_path / "keys")
    empty = new_key_pair(HUB_INSTITUTION, SINCE)
    empty.path_in(tmp_path / "keys").write_bytes(b"")
    folder = KeyFolder(tmp_path / "keys", HUB_INSTITUTION)
    unregistered = folder.read(registry_of(tmp_path, valid))
    assert "remove the file" in unregistered.damaged[0].problem

    registered = folder.read(registry_of(tmp_path, valid, empty))

    assert "restore the file from the backup" in registered.damaged[0].problem
    assert folder.parses == 3  # the empty file twice; the valid key once


def test_the_hubs_check_at_rest_parses_nothing_while_the_folder_stays_as_it_is(
    tmp_path: Path,
) -> None:
    key = written(tmp_path / "keys")
    (tmp_path / "keys" / HUB_INSTITUTION / "spare.pem").write_bytes(b"")
    signer = HubSigner(tmp_path / "keys", registry_of(tmp_path, key))
    assert signer.key_at(NOW).key_id == key.key_id
    parsed = signer.files.parses

    for _ in range(10):
        assert signer.available(NOW)

    assert signer.files.parses == parsed == 2
    assert [path.name for path in signer.damaged.files] == ["spare.pem"]

"""Every reader of a key folder sets a damaged file aside as the hub does, never stops on it.

:class:`streams.domain.keyring.KeyRing` holds the keys of connectors, ``kawal erase`` and
``kawal dlq replay``. Before, one damaged ``*.pem`` in an institution's folder (or the hub's)
raised at the first read, even beside a valid key. Now the file is set aside, logged once with
its path and what to do (never its content), told to whoever follows the ring (a connector's
metric), and the valid key signs; only with no usable key does the ring refuse, naming the file
and the runbook.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from streams.domain import keyring as keyring_module
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.key_files import RUNBOOK, DamagedKeyFile
from streams.domain.keyring import KeyRing
from streams.domain.signing import SigningKeyError
from tests.domain.test_key_folder import registry_of, written

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
CUT = b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI"


def test_a_damaged_file_beside_a_valid_key_is_set_aside_and_the_valid_key_signs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    valid = written(tmp_path / "keys", "bkn")
    damaged = tmp_path / "keys" / "bkn" / "0a1b2c3d4e5f6a7b.pem"
    damaged.write_bytes(CUT)
    told: list[tuple[str, list[tuple[str, str]]]] = []
    ring = KeyRing(tmp_path / "keys", registry_of(tmp_path, valid))
    ring.follow_set_aside(
        lambda institution, files: told.append(
            (institution, [(f.path.name, f.damage.value) for f in files])
        )
    )

    with caplog.at_level("WARNING"):
        assert ring.signing_key("bkn", NOW).key_id == valid.key_id
        assert ring.unusable("bkn") is None

    assert told[-1] == ("bkn", [("0a1b2c3d4e5f6a7b.pem", "truncated")])
    [line] = [r.getMessage() for r in caplog.records if "is set aside" in r.getMessage()]
    assert str(damaged) in line
    assert RUNBOOK in line
    assert "MC4CAQ" not in caplog.text  # never the key's content


def test_a_follower_that_comes_later_is_told_the_files_already_set_aside(tmp_path: Path) -> None:
    valid = written(tmp_path / "keys", "bkn")
    (tmp_path / "keys" / "bkn" / "stray.pem").write_text("not a key\n")
    ring = KeyRing(tmp_path / "keys", registry_of(tmp_path, valid))
    ring.signing_key("bkn", NOW)
    told: list[Sequence[DamagedKeyFile]] = []

    ring.follow_set_aside(lambda institution, files: told.append(files))

    assert [(f.path.name, f.damage.value) for f in told[0]] == [("stray.pem", "not_a_key")]
    assert [f.path.name for f in ring.set_aside("bkn")] == ["stray.pem"]


def test_a_file_mended_is_let_go_at_the_next_look(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keyring_module, "RECHECK_SECONDS", 0.0)
    valid = written(tmp_path / "keys", "bkn")
    spare = tmp_path / "keys" / "bkn" / "spare.pem"
    spare.write_bytes(b"")
    ring = KeyRing(tmp_path / "keys", registry_of(tmp_path, valid))
    ring.signing_key("bkn", NOW)
    assert [f.path for f in ring.set_aside("bkn")] == [spare]

    spare.unlink()
    ring.signing_key("bkn", NOW)

    assert ring.set_aside("bkn") == []


def test_with_no_usable_key_the_refusal_names_the_damaged_file_and_says_restore(
    tmp_path: Path,
) -> None:
    key = written(tmp_path / "keys", "bkn")
    path = key.path_in(tmp_path / "keys")
    path.write_bytes(CUT)
    ring = KeyRing(tmp_path / "keys", registry_of(tmp_path, key))

    with pytest.raises(SigningKeyError) as refused:
        ring.signing_key("bkn", NOW)

    said = str(refused.value)
    assert said.startswith(f"no private key of bkn in {path.parent} reads, but the registered")
    assert f"{key.key_id} is in the key registry: restore the file from the backup" in said
    assert f"Set aside in {path.parent}: {path.name} ({RUNBOOK})" in said
    assert "MC4CAQ" not in said
    unusable = ring.unusable("bkn")  # what a connector checks at its start
    assert unusable is not None
    assert "restore the file from the backup" in unusable
    assert f"Set aside in {path.parent}: {path.name} ({RUNBOOK})" in unusable


def test_with_only_a_stray_file_and_no_registered_key_a_new_key_is_still_the_advice(
    tmp_path: Path,
) -> None:
    (tmp_path / "keys" / "bkn").mkdir(parents=True)
    (tmp_path / "keys" / "bkn" / "stray.pem").write_text("not a key\n")
    ring = KeyRing(tmp_path / "keys", registry_of(tmp_path))

    with pytest.raises(SigningKeyError) as refused:
        ring.signing_key("bkn", NOW)

    said = str(refused.value)
    assert said.startswith(f"no private key of bkn in {tmp_path / 'keys' / 'bkn'} reads; make")
    assert "kawal keys new bkn --use signing" in said
    assert f": stray.pem ({RUNBOOK})" in said


def test_a_hub_key_others_may_read_is_set_aside_an_institutions_is_not(tmp_path: Path) -> None:
    hub = written(tmp_path / "keys", HUB_INSTITUTION)
    bkn = written(tmp_path / "keys", "bkn")
    hub.path_in(tmp_path / "keys").chmod(0o644)
    bkn.path_in(tmp_path / "keys").chmod(0o644)
    ring = KeyRing(tmp_path / "keys", registry_of(tmp_path, hub, bkn))

    assert ring.signing_key("bkn", NOW).key_id == bkn.key_id
    with pytest.raises(SigningKeyError) as refused:
        ring.signing_key(HUB_INSTITUTION, NOW)

    assert "can be read or written by others than its owner (mode 644)" in str(refused.value)
    assert [f.damage.value for f in ring.set_aside(HUB_INSTITUTION)] == ["wrong_mode"]

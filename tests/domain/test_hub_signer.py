"""The hub's key chosen at each signing from the registry file as it is then."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from streams.domain.hub_signer import WHILE_RUNNING, HubKeyUnavailableError, HubSigner
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.keys import KeyProblem, KeyRefusal, NewKey, load_key_registry, new_key_pair
from streams.local.key_revocation import revoke_key

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
SINCE = datetime(2026, 1, 1, tzinfo=UTC)


def held_key(folder: Path, registry: Path, valid_from: datetime = SINCE) -> NewKey:
    """A hub key whose private half is in ``folder`` and whose entry ends ``registry``."""
    key = new_key_pair(HUB_INSTITUTION, valid_from)
    path = key.path_in(folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(key.private_pem)
    path.chmod(0o600)  # as `kawal keys new` writes it: a key others may read is set aside
    before = registry.read_text(encoding="utf-8") if registry.exists() else ""
    registry.write_text(before + "\n" + key.registry_text(), encoding="utf-8")
    # A second write within the file system's time granularity is seen by its size alone.
    os.utime(registry, ns=(registry.stat().st_mtime_ns + 1_000_000,) * 2)
    return key


def signer_of(tmp_path: Path) -> tuple[HubSigner, NewKey, Path]:
    """A signer over one hub key, held and registered; the key and the registry's file."""
    registry = tmp_path / "keys.toml"
    old = held_key(tmp_path / "keys", registry)
    reports: list[bool] = []
    signer = HubSigner(tmp_path / "keys", load_key_registry(registry), reports.append)
    return signer, old, registry


def test_a_key_revoked_in_the_file_is_never_used_again(tmp_path: Path) -> None:
    signer, old, registry = signer_of(tmp_path)
    assert signer.key_at(NOW).key_id == old.key_id
    new = held_key(tmp_path / "keys", registry)
    # Registered but not needed: the key in use goes on while it is valid.
    assert signer.key_at(NOW).key_id == old.key_id

    revoke_key(registry, old.key_id, "drill", datetime.now(UTC))

    assert signer.key_at(datetime.now(UTC)).key_id == new.key_id
    assert signer.problem is None
    # Every holder of the registry sees the revocation too: the object was updated in place.
    seen = signer.registry.key_for(HUB_INSTITUTION, old.key_id, datetime.now(UTC))
    assert isinstance(seen, KeyRefusal)
    assert seen.problem is KeyProblem.REVOKED


def test_with_no_valid_key_nothing_is_signed_and_the_reason_says_what_to_do(
    tmp_path: Path,
) -> None:
    reports: list[bool] = []
    registry = tmp_path / "keys.toml"
    old = held_key(tmp_path / "keys", registry)
    signer = HubSigner(tmp_path / "keys", load_key_registry(registry), reports.append)
    signer.key_at(NOW)
    revoked_at = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    revoke_key(registry, old.key_id, "drill", revoked_at)

    with pytest.raises(HubKeyUnavailableError) as refused:
        signer.key_at(datetime.now(UTC))

    assert f"{old.key_id} was revoked at {revoked_at.isoformat()} (drill)" in str(refused.value)
    assert f"--valid-from {revoked_at.isoformat()}`" in str(refused.value)
    assert signer.problem == str(refused.value)
    assert not signer.available(datetime.now(UTC))
    assert reports == [True, False, False]

    new = held_key(tmp_path / "keys", registry, revoked_at)
    assert signer.key_at(datetime.now(UTC)).key_id == new.key_id
    assert signer.problem is None
    assert reports[-1] is True


def test_a_registry_that_no_longer_reads_stops_the_signing_until_it_is_mended(
    tmp_path: Path,
) -> None:
    signer, old, registry = signer_of(tmp_path)
    good = registry.read_text(encoding="utf-8")
    registry.write_text(good + "\n[[key]]\nid = 'half written", encoding="utf-8")

    with pytest.raises(HubKeyUnavailableError, match="cannot be read"):
        signer.key_at(NOW)
    registry.write_text(good, encoding="utf-8")
    os.utime(registry, ns=(registry.stat().st_mtime_ns + 1_000_000,) * 2)

    assert signer.key_at(NOW).key_id == old.key_id


def test_an_expired_key_gives_way_at_the_end_of_its_validity(tmp_path: Path) -> None:
    registry = tmp_path / "keys.toml"
    old = new_key_pair(HUB_INSTITUTION, SINCE, NOW)
    path = old.path_in(tmp_path / "keys")
    path.parent.mkdir(parents=True)
    path.write_bytes(old.private_pem)
    path.chmod(0o600)
    registry.write_text(old.registry_text(), encoding="utf-8")
    new = held_key(tmp_path / "keys", registry, NOW - timedelta(days=1))
    signer = HubSigner(tmp_path / "keys", load_key_registry(registry))
    signer.current = signer.key_at(NOW - timedelta(days=2))

    assert signer.current.key_id == old.key_id
    assert signer.key_at(NOW).key_id == new.key_id


def test_the_reason_no_key_signs_is_logged_once_a_change_not_at_every_look(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The reason names the moment asked about: before, each look every 2 s logged it anew.
    signer, old, registry = signer_of(tmp_path)
    signer.key_at(NOW)
    revoke_key(registry, old.key_id, "drill", datetime.now(UTC) - timedelta(seconds=1))

    with caplog.at_level("ERROR", logger="streams.domain.hub_signer"):
        for look in range(5):
            assert not signer.available(datetime.now(UTC) + timedelta(seconds=look))
        # Another reason is news: a file in the hub's key folder that holds no key.
        (tmp_path / "keys" / HUB_INSTITUTION / "spare.pem").write_bytes(b"")
        assert not signer.available(datetime.now(UTC))

    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 2
    assert f"{old.key_id} was revoked at " in said[0]
    # Said as what it is (an empty file, not registered: remove it), never "make one".
    assert "spare.pem is empty: its writing was most likely interrupted" in said[1]
    assert f"{HUB_INSTITUTION}/spare is in no entry of the key registry: remove the file" in said[1]


def test_a_backlog_from_before_the_new_key_is_signed_with_the_old_key_while_it_is_valid(
    tmp_path: Path,
) -> None:
    # A worker restarted after a rotation took the newest key, and signed the records recorded
    # before its validity with it: their entries did not verify (hub_key_not_yet_valid).
    _, old, registry = signer_of(tmp_path)
    rotated_at = NOW - timedelta(hours=1)
    new = held_key(tmp_path / "keys", registry, rotated_at)
    restarted = HubSigner(tmp_path / "keys", load_key_registry(registry))
    backlog = rotated_at - timedelta(minutes=30)

    assert restarted.key_at(NOW, since=backlog).key_id == old.key_id
    assert restarted.key_at(NOW).key_id == old.key_id  # the key in use, while it is valid
    fresh = HubSigner(tmp_path / "keys", load_key_registry(registry))
    assert fresh.key_at(NOW).key_id == new.key_id  # the newest, when nothing asks for older
    # Once in use, the new key gives way to the old one for a backlog it cannot vouch for.
    assert fresh.key_at(NOW, since=backlog).key_id == old.key_id
    # No key valid then: the key valid now signs, as before (the pipeline says so).
    assert fresh.key_at(NOW, since=SINCE - timedelta(days=1)).key_id == old.key_id


def test_a_registered_key_whose_file_was_moved_away_is_restored_not_made_anew(
    tmp_path: Path,
) -> None:
    # An operator moved keys/kawal/*.pem away: the registered key was still valid, and the
    # advice was to make a new one, "taken up within seconds", although the worker had exited.
    signer, old, _ = signer_of(tmp_path)
    path = old.path_in(tmp_path / "keys")
    moved = path.rename(tmp_path / "moved.pem")

    with pytest.raises(HubKeyUnavailableError) as at_start:
        signer.key_at(NOW)
    signer.then = WHILE_RUNNING
    with pytest.raises(HubKeyUnavailableError) as running:
        signer.key_at(NOW)

    said = str(at_start.value)
    assert "the folder holds none" in said
    assert f"The registered key {old.key_id} is valid then, but its private file {path}" in said
    assert "restore it (mode 0600) from the backup of the keys folder" in said
    assert "Back up a one-machine hub" in said
    assert "kawal keys new" not in said
    # At start the process stops: only a new start takes the restored file up.
    assert "start the hub again" in said
    assert "within seconds" not in said
    assert "take it up within seconds" in str(running.value)
    assert "start the hub again" not in str(running.value)
    moved.rename(path)
    assert signer.key_at(NOW).key_id == old.key_id


def test_with_no_registered_key_valid_a_new_one_is_still_the_advice(tmp_path: Path) -> None:
    signer, old, _ = signer_of(tmp_path)
    old.path_in(tmp_path / "keys").unlink()

    with pytest.raises(HubKeyUnavailableError) as refused:
        signer.key_at(SINCE - timedelta(days=1))  # before the one registered key's validity

    said = str(refused.value)
    assert "No registered key of the hub is valid then: make one with `kawal keys new" in said
    assert "restore" not in said


def test_an_empty_registered_key_file_is_said_to_be_restored_from_the_backup(
    tmp_path: Path,
) -> None:
    signer, old, _ = signer_of(tmp_path)
    path = old.path_in(tmp_path / "keys")
    path.write_bytes(b"")  # as a key cut short by a full disk

    with pytest.raises(HubKeyUnavailableError) as refused:
        signer.key_at(NOW)

    said = str(refused.value)
    assert f"the private key file {path} is empty: its writing was most likely interrupted" in said
    assert f"{old.key_id} is in the key registry: restore the file from the backup" in said
    assert "make one" not in said
    assert "kawal keys new" not in said


def test_a_damaged_file_beside_a_valid_key_is_set_aside_reported_and_let_go_once_mended(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    registry = tmp_path / "keys.toml"
    old = held_key(tmp_path / "keys", registry)
    reported: list[list[tuple[str, str]]] = []
    signer = HubSigner(
        tmp_path / "keys",
        load_key_registry(registry),
        set_aside=lambda files: reported.append([(f.path.name, f.damage.value) for f in files]),
    )
    spare = tmp_path / "keys" / HUB_INSTITUTION / "spare.pem"
    spare.write_bytes(b"")

    with caplog.at_level("WARNING"):
        assert signer.key_at(NOW).key_id == old.key_id
        for _ in range(3):
            assert signer.available(NOW)
        spare.unlink()
        assert signer.available(NOW)

    assert signer.problem is None
    assert reported[0] == [("spare.pem", "truncated")]
    assert reported[-1] == []
    said = [r.getMessage() for r in caplog.records]
    assert len([line for line in said if "is set aside (truncated)" in line]) == 1
    assert f"the key file {spare} is no longer set aside" in said[-1]

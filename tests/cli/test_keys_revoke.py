"""``kawal keys revoke`` as an operator runs it after a key leaked.

The key's entry in the registry in force gets ``revoked_at`` and the reason, the rest of the
file stays byte for byte (comments, order, spacing) with its mode; the hub then refuses the key.
Every way the command refuses leaves the file as it was.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from streams.cli import main
from streams.cli.exits import EXIT_ERROR, EXIT_OK, EXIT_USAGE
from streams.domain.keys import (
    KeyEntry,
    KeyProblem,
    KeyRefusal,
    NewKey,
    load_key_registry,
    new_encryption_key_pair,
    new_key_pair,
)
from streams.settings import Settings

SINCE = datetime(2026, 1, 1, tzinfo=UTC)
LEAKED_AT = "2026-11-30T09:00:00+07:00"
OTHER_UID = 65534  # nobody


class Registry:
    """A registry file as an operator keeps it: a header, comments between and in entries."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.old = new_key_pair("bkn", SINCE)
        self.new = new_key_pair("bkn", SINCE + timedelta(days=300))
        self.sealing = new_encryption_key_pair("bkn", SINCE)
        self.lone = new_key_pair("kasn", SINCE)
        self.text = (
            "# Key registry of the hub: public keys only.\n"
            "\n"
            f"{self.old.registry_text()}"
            "# its successor, from October:\n"
            "\n"
            f"{self.new.registry_text()}"
            "# valid_until = ... when it is rotated\n"
            "\n"
            f"{self.sealing.registry_text()}\n"
            f"{self.lone.registry_text()}"
            "\n"
            "# end of the registry\n"
        )
        path.write_text(self.text, encoding="utf-8")
        path.chmod(0o640)


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Registry:
    monkeypatch.setenv("KAWAL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KAWAL_KEYS_FILE", str(tmp_path / "keys.toml"))
    return Registry(tmp_path / "keys.toml")


def revoke(*args: str) -> int:
    return main(["keys", "revoke", *args])


def refusal(key: NewKey, moment: datetime) -> KeyRefusal | KeyEntry:
    """What the hub reads now from the registry in force about ``key`` at ``moment``."""
    registry = load_key_registry(Settings().key_registry_file)
    return registry.key_for(key.entry["institution"], key.key_id, moment)


def test_revoking_adds_two_lines_to_the_entry_and_keeps_the_rest(
    registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    key = registry.old

    assert revoke(key.key_id, "--reason", 'laptop "A" stolen', "--at", LEAKED_AT) == EXIT_OK

    out = capsys.readouterr().out
    after = registry.path.read_text(encoding="utf-8")
    valid_from = f"valid_from = {SINCE.isoformat()}\n"
    added = f'revoked_at = {LEAKED_AT}\nreason = "laptop \\"A\\" stolen"\n'
    first_entry_end = registry.text.index(valid_from) + len(valid_from)
    assert after == registry.text[:first_entry_end] + added + registry.text[first_entry_end:]
    assert stat.S_IMODE(registry.path.stat().st_mode) == 0o640
    assert [p.name for p in registry.path.parent.iterdir() if "partial" in p.name] == []
    leaked = datetime.fromisoformat(LEAKED_AT)
    refused = refusal(key, leaked)
    assert isinstance(refused, KeyRefusal)
    assert refused.problem is KeyProblem.REVOKED
    assert f"key {key.key_id} was revoked at {leaked.isoformat()};" in refused.detail
    assert "stolen" not in refused.detail  # the reason is in the entry, for the operators
    assert isinstance(refusal(key, leaked - timedelta(seconds=1)), KeyEntry)
    assert f"key {key.key_id} revoked from {LEAKED_AT} in {registry.path}" in out
    assert "next: nothing to restart here" in out
    assert "the connectors before their next pass" in out
    assert "warning" not in out  # bkn has its successor


def test_a_key_without_a_successor_is_revoked_with_a_warning(
    registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    assert revoke(registry.lone.key_id, "--reason", "leaked") == EXIT_OK

    out = capsys.readouterr().out
    assert "warning: kasn has no other signing key valid now" in out
    assert "kawal keys new kasn --use signing" in out


def test_a_key_revoked_from_before_its_successor_warns_of_the_gap_only(
    registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    # As operations.md has it: the successor made now, the old key revoked from the leak.
    made = datetime.now(UTC) - timedelta(minutes=1)
    successor = new_key_pair("kasn", made)
    with registry.path.open("a", encoding="utf-8") as file:
        file.write("\n" + successor.registry_text())
    leaked = (made - timedelta(hours=1)).isoformat()

    assert revoke(registry.lone.key_id, "--reason", "leaked", "--at", leaked) == EXIT_OK

    out = capsys.readouterr().out
    # Before, it warned that kasn had no key valid now, with the successor registered.
    assert "has no other signing key valid now" not in out
    assert (
        f"warning: no signing key of kasn is valid from {leaked} until {made.isoformat()}"
    ) in out
    assert f"kawal keys new kasn --use signing --valid-from {leaked}" in out


def test_a_revocation_without_a_time_counts_from_the_moment_it_is_made(
    registry: Registry,
) -> None:
    # Not from the start of that second: the hub may have recorded entries earlier in it.
    before = datetime.now(UTC)
    assert revoke(registry.lone.key_id, "--reason", "leaked") == EXIT_OK
    after = datetime.now(UTC)

    [entry] = [e for e in load_key_registry(registry.path).entries() if e.institution == "kasn"]
    assert entry.revoked_at is not None
    assert before <= entry.revoked_at <= after
    assert isinstance(refusal(registry.lone, before), KeyEntry)


def test_an_encryption_key_is_revoked_too(
    registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    assert revoke(registry.sealing.key_id, "--reason", "leaked") == EXIT_OK

    entry = load_key_registry(registry.path).encryption_entry(registry.sealing.key_id)
    assert entry is not None
    assert entry.reason == "leaked"
    assert "kawal keys new bkn --use encryption" in capsys.readouterr().out


def test_the_local_registry_is_revoked_in_when_no_keys_file_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KAWAL_HOME", str(tmp_path))
    monkeypatch.delenv("KAWAL_KEYS_FILE", raising=False)
    assert main(["keys", "init"]) == EXIT_OK
    local = Settings().local_key_registry
    [key_id, *_] = [entry.id for entry in load_key_registry(local).entries()]
    mode = stat.S_IMODE(local.stat().st_mode)
    before = datetime.now(UTC).replace(microsecond=0)

    assert revoke(key_id, "--reason", "leaked") == EXIT_OK

    assert f"in {local}" in capsys.readouterr().out
    [entry] = [e for e in load_key_registry(local).entries() if e.id == key_id]
    assert entry.revoked_at is not None
    assert before <= entry.revoked_at <= datetime.now(UTC)
    assert stat.S_IMODE(local.stat().st_mode) == mode


def test_a_linked_registry_stays_a_link(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    link = tmp_path / "linked.toml"
    link.symlink_to(registry.path)
    monkeypatch.setenv("KAWAL_KEYS_FILE", str(link))

    assert revoke(registry.old.key_id, "--reason", "leaked") == EXIT_OK

    assert link.is_symlink()
    assert "revoked_at" in registry.path.read_text(encoding="utf-8")


# -- refusals: each leaves the file as it was --------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--reason", "  "], "--reason is empty; say why the key is withdrawn"),
        (["--reason", "one\ntwo"], "give it on one line"),
        # Every institution holds the registry: before, a NIK or an address was taken.
        (["--reason", "leaked by Budi NIK 3374010101900001"], "looks like it holds personal"),
        (["--reason", "leaked by budi@example.org"], "say what happened without naming anyone"),
        (
            ["--reason", "leaked", "--at", "2999-01-01T00:00:00+00:00"],
            "--at 2999-01-01T00:00:00+00:00 lies in the future",
        ),
    ],
)
def test_a_bad_reason_or_a_future_time_is_refused(
    registry: Registry, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert revoke(registry.old.key_id, *args) == EXIT_ERROR

    assert message in capsys.readouterr().err
    assert registry.path.read_text(encoding="utf-8") == registry.text


def test_a_time_that_does_not_parse_is_a_usage_error(
    registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        revoke(registry.old.key_id, "--reason", "leaked", "--at", "yesterday noon")

    assert exited.value.code == EXIT_USAGE
    assert "'yesterday noon' is not a date (2027-01-01: 00:00 UTC)" in capsys.readouterr().err
    assert registry.path.read_text(encoding="utf-8") == registry.text


def test_an_unknown_key_is_refused_with_the_closest_id(
    registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    typo = registry.old.key_id[:-1] + ("0" if registry.old.key_id[-1] != "0" else "1")

    assert revoke(typo, "--reason", "leaked") == EXIT_ERROR

    err = capsys.readouterr().err
    assert f"no key {typo!r} in the key registry {registry.path}" in err
    assert f"did you mean {registry.old.key_id!r}?" in err
    assert registry.path.read_text(encoding="utf-8") == registry.text


def test_a_key_already_revoked_is_refused_saying_when(
    registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    assert revoke(registry.old.key_id, "--reason", "leaked", "--at", LEAKED_AT) == EXIT_OK
    revoked = registry.path.read_text(encoding="utf-8")
    capsys.readouterr()

    assert revoke(registry.old.key_id, "--reason", "again") == EXIT_ERROR

    err = capsys.readouterr().err
    since = datetime.fromisoformat(LEAKED_AT).isoformat()
    assert f"key {registry.old.key_id} is already revoked, since {since} (leaked)" in err
    assert registry.path.read_text(encoding="utf-8") == revoked


def test_the_bundled_registry_is_never_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KAWAL_HOME", str(tmp_path))
    monkeypatch.delenv("KAWAL_KEYS_FILE", raising=False)

    assert revoke("kawal/0123456789abcdef", "--reason", "leaked") == EXIT_ERROR

    err = capsys.readouterr().err
    assert "the key registry in force is the bundled streams/data/keys.toml" in err
    assert "set KAWAL_KEYS_FILE" in err


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A folder another user may enter (pytest's own are 0700)."""
    folder = Path(tempfile.mkdtemp(prefix="kawal-revoke-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def revoke_as_another_user(args: list[str]) -> tuple[int, str]:
    """``kawal keys revoke`` by a user who may read the registry, not write beside it.

    Root writes anywhere, so when the tests run as root the command runs in a child as nobody.
    """
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no pytest machinery from here, only os._exit
        os.close(read)
        code = EXIT_ERROR
        try:
            os.dup2(write, sys.stderr.fileno())
            sys.stderr = os.fdopen(sys.stderr.fileno(), "w", closefd=False)
            if os.geteuid() == 0:
                os.setgid(OTHER_UID)
                os.setuid(OTHER_UID)
            code = revoke(*args)
            sys.stderr.flush()
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        err = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), err


def test_a_registry_that_cannot_be_written_is_refused_with_the_lines_to_add(
    shared_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = shared_tmp / "registry"
    folder.mkdir()
    registry = Registry(folder / "keys.toml")
    registry.path.chmod(0o644)
    folder.chmod(0o555)
    monkeypatch.setenv("KAWAL_HOME", str(shared_tmp / "home"))
    monkeypatch.setenv("KAWAL_KEYS_FILE", str(registry.path))

    code, err = revoke_as_another_user(
        [registry.old.key_id, "--reason", "leaked", "--at", LEAKED_AT]
    )
    folder.chmod(0o755)

    assert code == EXIT_ERROR, err
    assert f"cannot write the key registry {registry.path} (Permission denied)" in err
    assert f"revoked_at = {LEAKED_AT} and reason = " in err
    assert registry.path.read_text(encoding="utf-8") == registry.text

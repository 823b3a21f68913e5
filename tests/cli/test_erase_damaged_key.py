"""``kawal erase`` beside a damaged file in the hub's key folder: set aside, as the hub does.

The command signs the erasure's event with the hub's key, read through a
:class:`streams.domain.keyring.KeyRing`. Before, one damaged ``*.pem`` in ``keys/kawal`` stopped
it after the case's data key was destroyed (exit 8, the event not published), even beside the
valid key the running hub signs with. Now the file is set aside and named, and the valid key
signs; with no usable key the command refuses before it destroys anything (exit 1), naming
the file, what to do and the runbook.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.cli.exits import EXIT_ERROR
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.key_files import RUNBOOK
from streams.settings import Settings
from streams.vault.data_keys import DataKeyVault
from tests.cli.test_erase_cli import REASON, as_hub, erase, kawal, vault, wait_for_erasure
from tests.hubtools import RunningHub

__all__ = ["as_hub", "vault"]  # fixtures, used by name

CUT = b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI"


@pytest.fixture
def hub_key_file(as_hub: RunningHub) -> Iterator[Path]:
    """The hub's one signing key file, put back as it was after the test."""
    [path] = sorted((Settings(home=as_hub.home).key_dir / HUB_INSTITUTION).glob("*.pem"))
    before = path.read_bytes()
    yield path
    path.write_bytes(before)
    path.chmod(0o600)


def test_a_damaged_file_beside_the_valid_key_is_named_and_the_case_erased(
    as_hub: RunningHub,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    hub_key_file: Path,
) -> None:
    spare = hub_key_file.parent / "0a1b2c3d4e5f6a7b.pem"
    spare.write_bytes(CUT)
    try:
        case_id = as_hub.open_case()
        with caplog.at_level("WARNING"):
            done = erase(capsys, case_id)
    finally:
        spare.unlink()

    assert (done["erasure"], done["event"]) == ("erased", "published")
    assert wait_for_erasure(as_hub, case_id)
    [line] = [
        r.getMessage() for r in caplog.records if "is set aside (truncated)" in r.getMessage()
    ]
    assert str(spare) in line
    assert RUNBOOK in line
    assert "MC4CAQ" not in caplog.text


def test_with_no_usable_hub_key_nothing_is_erased_and_the_file_is_named(
    as_hub: RunningHub,
    capsys: pytest.CaptureFixture[str],
    vault: DataKeyVault,
    hub_key_file: Path,
) -> None:
    case_id = as_hub.open_case()
    hub_key_file.write_bytes(CUT)  # the registered key's own file, cut short

    code, out, err = kawal(capsys, "erase", case_id, "--reason", REASON)

    assert code == EXIT_ERROR, err
    assert out == ""
    assert f"case {case_id} is not erased and nothing was published" in err
    assert f"{HUB_INSTITUTION}/{hub_key_file.stem} is in the key registry: restore the file" in err
    assert f"Set aside in {hub_key_file.parent}: {hub_key_file.name} ({RUNBOOK})" in err
    assert f"run `kawal erase {case_id} --reason ...` again" in err
    assert "MC4CAQ" not in err
    assert vault.tombstone(case_id) is None

"""A private key file that is empty or does not parse says so, and what to do, never "make one".

Such a file was most likely cut short while it was written (a full disk). Its name is its key's
fingerprint, so whether the registry lists it decides the advice: a registered key's file is
restored from the backup of the keys folder, an unregistered one removed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from streams.domain.keys import KeyRegistry, new_encryption_key_pair, new_key_pair, parse_entry
from streams.domain.private_key_files import load_private_key
from streams.domain.signing import SigningKeyError

JAN = datetime(2027, 1, 1, tzinfo=UTC)


def refusal(path: Path, registry: KeyRegistry | None) -> str:
    with pytest.raises(SigningKeyError) as refused:
        load_private_key(path, "bkn", registry, SigningKeyError)
    return str(refused.value)


@pytest.mark.parametrize(
    ("content", "state"),
    [(b"", "is empty"), (b"\n", "is empty"), (b"-----BEGIN PRIV", "is damaged")],
)
def test_an_empty_or_damaged_file_is_said_so_and_restored_or_removed(
    tmp_path: Path, content: bytes, state: str
) -> None:
    registered = new_key_pair("bkn", JAN)
    path = registered.path_in(tmp_path)
    path.parent.mkdir()
    path.write_bytes(content)
    registry = KeyRegistry([parse_entry(registered.entry)])
    said_registered = refusal(path, registry)
    said_unregistered = refusal(path, KeyRegistry([]))
    said_unknown = refusal(path, None)

    for said in (said_registered, said_unregistered, said_unknown):
        assert f"the private key file {path} {state}" in said
        assert "most likely interrupted (a full disk" in said
        assert "make one" not in said
        assert "kawal keys new" not in said
    assert f"{registered.key_id} is in the key registry: restore the file from the backup" in (
        said_registered
    )
    assert "remove" not in said_registered
    assert f"{registered.key_id} is in no entry of the key registry: remove the file" in (
        said_unregistered
    )
    assert "restore" in said_unknown
    assert "remove the file" in said_unknown


def test_a_good_file_reads_and_an_unreadable_one_names_the_cause(tmp_path: Path) -> None:
    key = new_encryption_key_pair("bkn", JAN)
    path = key.path_in(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(key.private_pem)
    assert load_private_key(path, "bkn", None, SigningKeyError) is not None

    path.unlink()
    path.mkdir()
    said = refusal(path, None)
    assert f"cannot read the private key file {path} (Is a directory)" in said
    assert "make one" not in said

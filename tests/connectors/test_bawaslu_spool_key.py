"""The key the Bawaslu webhook seals its spool under: made private on first start, kept.

The key file (``spool_key_file``, by default ``spool.key`` in the spool's folder) is made mode
0600 in a folder of mode 0700 on first start, read again at every start, and refused, never
replaced, when it is a link or does not hold a key.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from connectors.base import ConnectorConfig, InboundConnector
from connectors.bawaslu.sealing import SpoolKeyError
from connectors.errors import ConnectorConfigError
from connectors.host import build
from tests.connectors.test_bawaslu import webhook_bed


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def config(tmp_path: Path, key: Path) -> dict[str, object]:
    with webhook_bed(tmp_path, spool_key_file=str(key)) as bed:
        return dict(bed.config)


def start(settings: dict[str, object]) -> InboundConnector[ConnectorConfig]:
    connector = build("bawaslu-webhook", settings)
    assert isinstance(connector, InboundConnector)
    return connector


def test_the_key_is_made_private_on_first_start_and_kept_across_restarts(tmp_path: Path) -> None:
    key = tmp_path / "keys" / "bawaslu-spool.key"
    with webhook_bed(tmp_path, spool_key_file=str(key)) as bed:
        assert (mode(key), mode(key.parent)) == (0o600, 0o700)
        first = key.read_bytes()
        post = bed.bawaslu.report()
        assert bed.bawaslu.post(post)[0] == 202
        settings = dict(bed.config)
    key.chmod(0o644)  # loosened by hand: tightened again at the next start
    connector = start(settings)
    assert key.read_bytes() == first
    assert mode(key) == 0o600
    assert [dict(r.payload) for r in connector.read(None, 10)] == [post]
    connector.close()


@pytest.mark.parametrize("content", [b"", b"not hex at all", b"ab" * 16, b"\xff" * 64])
def test_a_damaged_key_file_is_refused_without_quoting_it(tmp_path: Path, content: bytes) -> None:
    key = tmp_path / "keys" / "spool.key"
    key.parent.mkdir(mode=0o700)
    key.write_bytes(content)
    with pytest.raises(
        ConnectorConfigError, match=r"spool key file .* is (empty|damaged)"
    ) as refused:
        config(tmp_path, key)
    assert isinstance(refused.value, SpoolKeyError)
    said = str(refused.value)
    # Empty or damaged, said as such, with the likely cause; never "make one" over it.
    assert ("is empty" if not content else "is damaged") in said
    assert "interrupted (a full disk)" in said
    assert "restore it from its backup" in said
    if content:
        assert content.decode(errors="replace") not in said
    assert key.read_bytes() == content  # never replaced: it may be the only copy


def test_a_key_file_that_is_a_link_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.key"
    target.write_text("ab" * 32)
    key = tmp_path / "keys" / "spool.key"
    key.parent.mkdir(mode=0o700)
    os.symlink(target, key)
    with pytest.raises(SpoolKeyError, match="symbolic link"):
        config(tmp_path, key)


def test_the_default_key_in_a_linked_spool_folder_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "spool").symlink_to(elsewhere)
    with pytest.raises(SpoolKeyError, match="symbolic link"), webhook_bed(tmp_path):
        pass
    assert list(elsewhere.iterdir()) == []

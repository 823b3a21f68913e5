"""How %%title%% reads the outbox, and tells the system what it refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from system_configs import inbound_config

from %%package%%.simulator import FileExchangeSystem
from connectors.base import ConnectorConfig, InboundConnector, PermanentError, TransientError
from connectors.host import build


@pytest.fixture
def system(tmp_path: Path) -> FileExchangeSystem:
    return FileExchangeSystem(tmp_path / "system")


def inbound(system: FileExchangeSystem, tmp_path: Path) -> InboundConnector[ConnectorConfig]:
    connector = build("%%name%%-inbound", inbound_config(system, tmp_path))
    assert isinstance(connector, InboundConnector)
    return connector


def test_a_line_in_another_encoding_is_refused_alone(
    system: FileExchangeSystem, tmp_path: Path
) -> None:
    system.register_record(encoding="cp1252", note="Jos\u00e9 Budi")
    system.register_record()
    connector = inbound(system, tmp_path)
    first, second = connector.read(None, 10)
    with pytest.raises(PermanentError) as refused:
        connector.to_events(first)
    assert refused.value.reason_code == "unmappable_record"
    assert "not UTF-8" in refused.value.reason
    [event] = connector.to_events(second)
    assert event.record["envelope"]["source"] == connector.institution


def test_a_rotated_export_is_read_from_its_first_line(
    system: FileExchangeSystem, tmp_path: Path
) -> None:
    """A line number alone would skip the new file's first lines, or all of them."""
    for _ in range(3):
        system.register_record()
    connector = inbound(system, tmp_path)
    checkpoint = connector.read(None, 10)[-1].position
    system.rotate()
    for _ in range(5):  # more lines than the old checkpoint
        system.register_record()
    read = connector.read(checkpoint, 10)
    assert [record.source_id for record in read] == [f"line {n}" for n in range(1, 6)]
    assert connector.read(read[-1].position, 10) == []


def test_a_mistyped_position_is_refused_with_what_to_do(
    system: FileExchangeSystem, tmp_path: Path
) -> None:
    connector = inbound(system, tmp_path)
    with pytest.raises(TransientError, match="--reread-after LINE"):
        connector.read("line 4", 10)


def test_a_line_refused_before_sending_is_written_back_to_the_system_once(
    system: FileExchangeSystem, tmp_path: Path
) -> None:
    """The dead letter reaches the hub's operators only; the system reads ``inbox/``."""
    system.register_record()
    system.write_garbage()
    connector = inbound(system, tmp_path)
    _, garbage = connector.read(None, 10)
    with pytest.raises(PermanentError) as refused:
        connector.to_events(garbage)

    connector.rejected(garbage, refused.value)
    connector.rejected(garbage, refused.value)  # the line read and refused again

    [told] = system.rejections()
    assert told["record"] == "line 2"
    assert told["position"] == garbage.position
    assert told["reason_code"] == "unmappable_record"
    assert told["reason"] == refused.value.reason
    assert told["refused_by"] == "connector"
    with system.offline(), pytest.raises(TransientError):
        connector.rejected(garbage, refused.value)

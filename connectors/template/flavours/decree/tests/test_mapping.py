"""What the mapping of %%title%% refuses, decree by decree, and how it names the case."""

from __future__ import annotations

from pathlib import Path

import pytest
from system_configs import INSTITUTION, inbound_config

from %%package%%.simulator import FileExchangeSystem
from connectors.base import ConnectorConfig, InboundConnector, PermanentError
from connectors.host import build
from connectors.ids import event_id_for
from schemas.identity import case_id_for


@pytest.fixture
def system(tmp_path: Path) -> FileExchangeSystem:
    return FileExchangeSystem(tmp_path / "system")


def inbound(system: FileExchangeSystem, tmp_path: Path) -> InboundConnector[ConnectorConfig]:
    connector = build("%%name%%-inbound", inbound_config(system, tmp_path))
    assert isinstance(connector, InboundConnector)
    return connector


def refusal(system: FileExchangeSystem, tmp_path: Path, **decree: str) -> PermanentError:
    """How the connector refuses the one decree ``decree`` overrides."""
    system.register_record(**decree)
    connector = inbound(system, tmp_path)
    with pytest.raises(PermanentError) as refused:
        connector.to_events(connector.read(None, 1)[0])
    return refused.value


def test_a_decree_names_the_case_of_the_institution_that_reported_it(
    system: FileExchangeSystem, tmp_path: Path
) -> None:
    decree = system.register_record()
    connector = inbound(system, tmp_path)
    [event] = connector.to_events(connector.read(None, 1)[0])
    envelope = event.record["envelope"]
    assert event.event_type == "SanctionImposed"
    assert envelope["source"] == INSTITUTION
    assert envelope["case_id"] == case_id_for(decree["reported_by"], decree["case_number"])
    # The same decree read again (a restart) is the same event: the hub answers the repeat.
    assert envelope["event_id"] == event_id_for(
        INSTITUTION, f"decree/{decree['decree_number']}", "SanctionImposed"
    )


def test_a_time_without_offset_is_refused_for_that_record(
    system: FileExchangeSystem, tmp_path: Path
) -> None:
    refused = refusal(system, tmp_path, signed_at="2024-11-25T10:00:00")
    assert refused.reason_code == "naive_time"
    assert "signed_at" in refused.reason
    assert "offset" in refused.reason


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("reported_by", "bawaslu:33", "is no institution id"),
        ("reported_by", " ", "is not a non-empty string"),
        ("case_number", "", "is not a non-empty string"),
        ("decree_number", "  ", "is not a non-empty string"),
        ("effective_on", "2 December 2024", "is not an ISO 8601 date"),
    ],
)
def test_a_field_the_hub_would_refuse_is_refused_for_that_record(
    system: FileExchangeSystem, tmp_path: Path, field: str, value: str, why: str
) -> None:
    refused = refusal(system, tmp_path, **{field: value})
    assert refused.reason_code == "invalid_field"
    assert f"field {field!r} {why}" in refused.reason
    assert value.strip() == "" or value not in refused.reason  # named, never quoted

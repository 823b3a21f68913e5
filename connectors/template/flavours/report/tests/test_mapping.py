"""What the mapping of %%title%% refuses, record by record, and how it names reporters."""

from __future__ import annotations

from pathlib import Path

import pytest
from system_configs import INSTITUTION, inbound_config

from %%package%%.simulator import FileExchangeSystem
from connectors.base import ConnectorConfig, InboundConnector, PermanentError
from connectors.host import build
from connectors.pseudonyms import case_pseudonym, kept_key
from schemas.identity import case_id_for


@pytest.fixture
def system(tmp_path: Path) -> FileExchangeSystem:
    return FileExchangeSystem(tmp_path / "system")


def inbound(system: FileExchangeSystem, tmp_path: Path) -> InboundConnector[ConnectorConfig]:
    connector = build("%%name%%-inbound", inbound_config(system, tmp_path))
    assert isinstance(connector, InboundConnector)
    return connector


def refusal(system: FileExchangeSystem, tmp_path: Path, **report: str) -> PermanentError:
    """How the connector refuses the one report ``report`` overrides."""
    system.register_record(**report)
    connector = inbound(system, tmp_path)
    with pytest.raises(PermanentError) as refused:
        connector.to_events(connector.read(None, 1)[0])
    return refused.value


def test_the_reporter_is_a_per_case_pseudonym(system: FileExchangeSystem, tmp_path: Path) -> None:
    report = system.register_record()
    connector = inbound(system, tmp_path)
    [event] = connector.to_events(connector.read(None, 1)[0])
    case_id = case_id_for(INSTITUTION, report["case_number"])
    key = kept_key(tmp_path / "keys" / "pseudonyms.key")
    assert event.record["reporter_ref"] == case_pseudonym(key, case_id, report["reporter"])
    assert report["reporter"] not in event.record["reporter_ref"]
    assert report["id"] not in event.record["reporter_ref"]


def test_a_time_without_offset_is_refused_for_that_record(
    system: FileExchangeSystem, tmp_path: Path
) -> None:
    refused = refusal(system, tmp_path, reported_at="2024-11-01T09:30:00")
    assert refused.reason_code == "naive_time"
    assert "reported_at" in refused.reason
    assert "offset" in refused.reason


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("subject_nip", "12345", "is neither a NIP"),
        ("subject_nip", "\uff11" * 18, "is neither a NIP"),  # fullwidth digits: no NIP to SIASN
        ("subject_nip", "19850101201001100X", "is neither a NIP"),
        ("subject_nip", " ", "is neither a NIP"),
        ("case_number", "", "is not a non-empty string"),
        ("reporter", "  ", "is not a non-empty string"),
    ],
)
def test_a_field_the_hub_would_refuse_is_refused_for_that_record(
    system: FileExchangeSystem, tmp_path: Path, field: str, value: str, why: str
) -> None:
    refused = refusal(system, tmp_path, **{field: value})
    assert refused.reason_code == "invalid_field"
    assert f"field {field!r} {why}" in refused.reason
    assert value.strip() == "" or value not in refused.reason  # named, never quoted


def test_a_subject_whose_nip_the_reporter_does_not_know_is_mapped(
    system: FileExchangeSystem, tmp_path: Path
) -> None:
    system.register_record(subject_nip="")
    connector = inbound(system, tmp_path)
    [event] = connector.to_events(connector.read(None, 1)[0])
    assert event.record["subject_nip"] == ""

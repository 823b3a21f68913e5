"""The connectors `kawal connector new` scaffolds, loaded from the generated package."""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest

from connectors.base import ConnectorContext, HubRefusal, PermanentError, SourceRecord
from connectors.scaffold import new_connector
from schemas.catalog import default_catalog
from schemas.codec import AvroCodec

REPORT = {
    "id": "R-1",
    "case_number": "LP/1/2024",
    "reported_at": "2024-11-01T09:30:00+07:00",
    "election": "pilkada-2024",
    "region_code": "3374",
    "employing_agency": "ppk.3374",
    "violation": "ETHICS_SOCIAL_MEDIA_CAMPAIGN",
    "summary": "Shared campaign material in an official group.",
    "subject_nip": "198501012010011001",
    "subject_name": "Subject Name",
    "reporter": "U-1",
}


def _scaffolded(tmp_path: Path) -> ModuleType:
    package = new_connector("mapping-probe", tmp_path) / "kawal_connector_mapping_probe"
    spec = importlib.util.spec_from_file_location("scaffold_probe", package / "connector.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pydantic resolves the configs' annotations through it
    spec.loader.exec_module(module)
    return module


def _refusal(tmp_path: Path, report: dict[str, str]) -> PermanentError:
    module = _scaffolded(tmp_path)
    config = module.InboundConfig(
        institution="bawaslu.33",
        share=tmp_path / "share",
        pseudonym_key_file=tmp_path / "keys" / "pseudonyms.key",
    )
    catalog = default_catalog()
    connector = module.Inbound(config, ConnectorContext(catalog, AvroCodec(catalog)))
    payload = {"line": json.dumps(report), "utf8": True}  # as the connector reads a line
    line = SourceRecord(position="1", payload=payload, source_id="line 1")
    with pytest.raises(PermanentError) as refused:
        connector.to_events(line)
    return refused.value


@pytest.mark.parametrize("field", ["election", "reported_at", "employing_agency"])
def test_a_report_without_a_field_is_refused_naming_the_field(tmp_path: Path, field: str) -> None:
    report = {name: value for name, value in REPORT.items() if name != field}

    refused = _refusal(tmp_path, report)

    assert refused.reason_code == "unmappable_record"
    assert f"field {field!r} is missing" in refused.reason
    assert "KeyError" not in refused.reason
    assert REPORT["subject_name"] not in refused.reason


def test_a_refusal_by_the_hub_is_written_to_the_system_once(tmp_path: Path) -> None:
    module = _scaffolded(tmp_path)
    inbox = tmp_path / "share" / "inbox"
    inbox.mkdir(parents=True)
    config = module.ExchangeConfig(institution="bawaslu.33", share=tmp_path / "share")
    catalog = default_catalog()
    connector = module.Outbound(config, ConnectorContext(catalog, AvroCodec(catalog)))
    refusal = HubRefusal(
        event_id="8030f7d2-9fce-59bd-8bf7-b44d5f717667",
        case_id="faed18c1-b230-5d73-ad36-0499544320a5",
        event_type="ReportReceived",
        reason_code="unknown_region",
        reason="region_code: the region code is not a Kemendagri code",
        source="kawal.inbound.bawaslu.33:0:7",
        issued_at=datetime(2026, 12, 6, 14, 22, tzinfo=UTC),
    )

    connector.refused(refusal)
    connector.refused(refusal)  # the receipt delivered again

    [written] = inbox.iterdir()
    told = json.loads(written.read_text())
    assert told["event_id"] == refusal.event_id
    assert told["reason_code"] == "unknown_region"
    assert told["reason"] == refusal.reason

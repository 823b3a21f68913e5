"""How settings shape the hub: wire format chosen by the registry setting, the policy file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.app import create_codec, create_disclosure_policy, create_rules
from streams.domain.disclosure_policy import DisclosurePolicyError
from streams.settings import Settings
from tests.registry_double import RegistryDouble

LETTER = {
    "stage": "ingress",
    "reason_code": "undecodable",
    "reason": "test",
    "source_topic": "kawal.inbound.bkn",
    "source_partition": 0,
    "source_offset": 7,
    "payload": b"\x00",
    "rejected_at": datetime(2024, 11, 1, tzinfo=UTC),
    "sealed_to": "kawal/8899aabbccddeeff",
}


def test_without_registry_the_hub_writes_single_object_encoding(tmp_path: Path) -> None:
    codec = create_codec(Settings(home=tmp_path), default_catalog())

    assert codec.encode("kawal.DeadLetter", LETTER)[:2] == b"\xc3\x01"


def test_with_registry_the_hub_writes_confluent_framing_that_any_reader_decodes(
    tmp_path: Path,
) -> None:
    with RegistryDouble() as registry:
        settings = Settings(home=tmp_path, schema_registry_url=registry.url)
        codec = create_codec(settings, default_catalog())
        data = codec.encode("kawal.DeadLetter", LETTER)
        decoded = create_codec(settings, default_catalog()).decode(data)

    assert data[0] == 0
    assert decoded.record == LETTER
    canonical = AvroCodec(default_catalog()).encode_canonical("kawal.DeadLetter", LETTER)
    assert codec.canonical_bytes(data) == canonical


def test_the_disclosure_policy_file_is_taken_from_kawal_disclosure_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy_file = tmp_path / "disclosure.toml"
    policy_file.write_text('[[sees_nothing]]\nrole = "ppk"\nwhy = "Stricter."\n', "utf-8")
    monkeypatch.setenv("KAWAL_DISCLOSURE_FILE", str(policy_file))
    settings = Settings(home=tmp_path)

    policy = create_disclosure_policy(settings, create_rules(settings))

    assert settings.disclosure_file == policy_file
    assert policy.grants == ()
    assert not policy.may_see("ppk", "ReportReceived", "subject_nip")


def test_an_unreadable_disclosure_policy_file_names_the_setting(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, disclosure_file=tmp_path / "missing.toml")

    with pytest.raises(DisclosurePolicyError, match="unset KAWAL_DISCLOSURE_FILE"):
        create_disclosure_policy(settings, create_rules(settings))

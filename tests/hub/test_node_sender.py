"""A sender written in Node from docs/signing.md alone, publishing to a running hub.

tools/signing/publish.mjs builds, commits, signs and seals a ReportReceived with Node libraries
(avsc, @noble/curves, @hpke/core, KafkaJS) and the repository's schema files, shares no code with
the hub, and checks each receipt it gets back: an acceptance's hash recomputed from what it sent
and the hub's signatures. Each slip an integrator makes must come back refused with a reason
that names what to change.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.hubtools import RunningHub

ROOT = Path(__file__).parents[2]
TOOLS = ROOT / "tools" / "signing"
INSTALL_HINT = "npm ci --ignore-scripts --prefix tools/signing"
#: Each slip, the reason code it must get, and what its reason must say to do.
SLIPS = {
    "wrong_fingerprint": ("undecodable", "CRC-64-AVRO of its Parsing Canonical Form"),
    "no_context": ("bad_signature", "sign the ASCII context 'kawal.event.v1', one zero byte"),
    "short_salt": ("disclosure_mismatch", "has 8 bytes; draw at least 16 at random"),
    "field_in_clear": ("personal_data_in_clear", "subject_name is personal data"),
    "upper_hex": ("disclosure_mismatch", "it is written in upper-case hex"),
    "salt_hex_text": ("disclosure_mismatch", "hashes the salt's hex text instead of"),
    "encryption_key_id": ("unknown_key", "is an encryption key, not a signing key"),
    "wrong_partition": ("wrong_partition", "where Kafka's default partitioner"),
    "upper_key": ("key_mismatch", "the case_id in other letters"),
    "random_case_id": ("case_id_not_derived", "'<envelope.source>:<case_number>'"),
    "ingest_time": ("schema_mismatch", "envelope.ingest_time must be null"),
    "event_time_seconds": ("key_not_yet_valid", "not at 1970-"),
    "info_without_hash": ("unsealable", "then the SHA-256 of the event bytes"),
}


def publish(hub: RunningHub, *slips: str) -> dict[str, dict[str, Any]]:
    """Each slip's receipt as the Node sender reports it."""
    node = shutil.which("node")
    if node is None or not (TOOLS / "node_modules" / "kafkajs").is_dir():
        pytest.fail(f"the Node sender is not installed: needs node 20+ and `{INSTALL_HINT}`")
    script = str(TOOLS / "publish.mjs")
    result = subprocess.run(
        [node, script, str(ROOT), str(hub.home), hub.bootstrap[0], "bawaslu.33", *slips],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode in (0, 1), f"the Node sender crashed: {result.stderr}"
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 0, lines
    return {line["slip"]: line for line in lines}


def test_a_node_sender_is_accepted_and_each_slip_is_told_what_to_fix(hub: RunningHub) -> None:
    receipts = publish(hub, "none", *SLIPS)

    assert receipts["none"]["status"] == "ACCEPTED"
    for slip, (code, said) in SLIPS.items():
        receipt = receipts[slip]
        assert (receipt["status"], receipt["reason_code"]) == ("REJECTED", code), receipt
        assert said in receipt["reason"], receipt
    assert all(receipt["verified"] for receipt in receipts.values())

"""A portal report through the real hub: entitled institutions read and verify the evidence."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from minio import Minio

from connectors.lapor.evidence import (
    EvidenceStore,
    EvidenceTamperedError,
    S3Location,
    object_name,
    parse_evidence_keys,
)
from schemas.identity import case_id_for
from streams.audit.trail import WITHHELD
from tests.hubtools import RunningHub, registration, verification
from tests.lapor_hub import RunningPortal, feed_event, running_portal
from tests.lapor_support import CHAT_LOG, PDF, png, report_fields

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def portal(
    hub: RunningHub, location: S3Location, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningPortal]:
    with running_portal(hub, location, tmp_path_factory.mktemp("lapor-home")) as running:
        yield running


def submit(portal: RunningPortal, payload: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        portal.base_url + "/api/v1/reports",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 202
        answer: dict[str, Any] = json.loads(response.read())
        return answer


def tracking(portal: RunningPortal, code: str) -> list[str]:
    url = f"{portal.base_url}/api/v1/tracking/{code}"
    with urllib.request.urlopen(url, timeout=30) as response:
        return [step["step"] for step in json.loads(response.read())["steps"]]


def wait_for_step(portal: RunningPortal, code: str, step: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while step not in tracking(portal, code):
        assert time.monotonic() < deadline, f"no step {step} after {timeout} s"
        time.sleep(0.3)


def read_and_verify(reader: EvidenceStore, event: dict[str, Any]) -> dict[str, bytes]:
    """Each file of a disclosed ReportReceived by name, opened and checked against its hash."""
    keys = parse_evidence_keys(event["evidence_keys"])
    files = {}
    for ref in event["evidence"]:
        key, name = keys[ref["sha256"]]
        files[name] = reader.read(ref, key)
        assert hashlib.sha256(files[name]).hexdigest() == ref["sha256"]
    return files


FILES = [("spanduk.png", png(shade=90)), ("undangan.pdf", PDF), ("grup-wa.txt", CHAT_LOG)]


def test_three_files_travel_sealed_to_bawaslu_and_the_authority_only(
    hub: RunningHub, portal: RunningPortal, location: S3Location
) -> None:
    payload: dict[str, Any] = report_fields(
        anonymous="false", reporter_name="Rina Canary", reporter_contact="0812-3456-7890"
    )
    payload["evidence"] = [
        {"name": name, "content_base64": base64.b64encode(data).decode()} for name, data in FILES
    ]

    answer = submit(portal, payload)
    case_id = case_id_for("bawaslu.33", answer["case_number"])
    hub.wait_trail(case_id, 1)

    with EvidenceStore(location) as reader:  # an institution's read access, no evidence key
        for institution in ("bawaslu.33", "bkn"):  # the supervisor; the authority after 2024-10
            event = feed_event(hub, institution, case_id, "ReportReceived")
            assert event["channel"] == "WEB_FORM"
            assert event["reporter_identity"] == "Rina Canary <0812-3456-7890>"
            # Each under the name of its place and kind, none the reporter's device gave it.
            assert read_and_verify(reader, event) == {
                "bukti-1.png": FILES[0][1],
                "bukti-2.pdf": FILES[1][1],
                "bukti-3.txt": FILES[2][1],
            }

    # The PPK (often the reported official's superior) gets no ReportReceived in its feed;
    # its view of the trail names its civil servant, never the reporter nor the evidence keys.
    ppk = hub.trail_json(case_id, hub.token("ppk.3374").secret)["entries"][0]["fields"]
    assert ppk["subject_name"] == "Budi Canary-Subject"
    assert ppk["reporter_identity"] == WITHHELD
    assert ppk["evidence_keys"] == WITHHELD
    assert ppk["summary"] == WITHHELD
    assert len(ppk["evidence"]) == 3  # references and hashes only
    assert "Rina" not in json.dumps(ppk)


def test_a_tampered_evidence_file_is_detected_by_its_reader(
    hub: RunningHub, portal: RunningPortal, location: S3Location
) -> None:
    photo = png(shade=91)
    payload: dict[str, Any] = report_fields()
    payload["evidence"] = [{"name": "a.png", "content_base64": base64.b64encode(photo).decode()}]
    answer = submit(portal, payload)
    case_id = case_id_for("bawaslu.33", answer["case_number"])
    hub.wait_trail(case_id, 1)
    event = feed_event(hub, "bkn", case_id, "ReportReceived")
    (ref,) = event["evidence"]
    key = parse_evidence_keys(event["evidence_keys"])[ref["sha256"]][0]
    client = Minio(
        location.endpoint.removeprefix("http://"),
        access_key=location.access_key,
        secret_key=location.secret_key,
        secure=False,
        region="us-east-1",
    )
    forged = png(shade=92)
    client.put_object(location.bucket, object_name(ref["sha256"]), io.BytesIO(forged), len(forged))

    with EvidenceStore(location) as reader, pytest.raises(EvidenceTamperedError):
        reader.read(ref, key)


def test_the_tracking_code_follows_the_case_through_the_hub(
    hub: RunningHub, portal: RunningPortal
) -> None:
    answer = submit(portal, report_fields())
    case_id = case_id_for("bawaslu.33", answer["case_number"])
    code = answer["tracking_code"]

    wait_for_step(portal, code, "received")
    hub.step("ReportRegistered", registration(case_id))
    wait_for_step(portal, code, "registered")
    hub.step("VerificationCompleted", verification(case_id, proven=True))
    wait_for_step(portal, code, "proven")

    assert tracking(portal, code) == ["received", "registered", "proven"]


def test_nothing_of_the_report_is_in_the_stores_files(
    portal: RunningPortal, tmp_path: Path
) -> None:
    # The evidence store holds ciphertext; the tracking store no code and no name.
    held = (portal.spool_dir / "tracking.db").read_bytes()
    assert b"Budi" not in held
    assert b"Rina" not in held

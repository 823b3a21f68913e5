"""Per-institution views of a trail: what each party may read, all verifying on one chain.

Over HTTP the institution is the bearer token's; on the command line ``--as`` names it.
"""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
from datetime import datetime
from typing import Any

from streams.audit.access_log import AccessLog
from streams.audit.trail import WITHHELD
from streams.domain.chain import EntryFields, entry_hash
from tests.hubtools import RunningHub, http_get


def _view(hub: RunningHub, case_id: str, viewer: str) -> tuple[int, dict[str, Any]]:
    status, body = http_get(f"{hub.base_url}/cases/{case_id}/trail", hub.token(viewer).secret)
    return status, json.loads(body)


def _report_fields(view: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = view["entries"][0]["fields"]
    return fields


def _assert_verifies(view: dict[str, Any]) -> None:
    assert view["verified"] is True
    prev = "0" * 64
    for entry in view["entries"]:
        assert entry["prev_hash"] == prev
        assert entry_hash(fields_in_view(view["case_id"], entry)) == entry["hash"]
        prev = entry["hash"]


def fields_in_view(case_id: str, entry: dict[str, Any]) -> EntryFields:
    """An entry's hashed fields as a reader finds them in a view, without the hub."""
    topic, partition, offset = entry["accepted_from"].rsplit(":", 2)
    return EntryFields(
        case_id=case_id,
        seq=entry["seq"],
        prev_hash=entry["prev_hash"],
        recorded_at=datetime.fromisoformat(entry["recorded_at"]),
        source_topic=topic,
        source_partition=int(partition),
        source_offset=int(offset),
        key_id=entry["key_id"],
        signature=bytes.fromhex(entry["signature"]),
        event=bytes.fromhex(entry["committed_event"]),
    )


def test_each_party_sees_what_its_role_entitles_it_to(hub: RunningHub) -> None:
    case_id = hub.open_case("bawaslu.33")
    public = hub.trail_json(case_id)
    ppk_status, ppk = _view(hub, case_id, "ppk.3374")
    bkn_status, bkn = _view(hub, case_id, "bkn")

    assert (ppk_status, bkn_status) == (200, 200)
    assert (public["view"], ppk["view"], bkn["view"]) == ("public", "ppk.3374", "bkn")
    assert _report_fields(public)["subject_name"] == WITHHELD
    assert _report_fields(public)["reporter_identity"] == WITHHELD
    # The employing agency may know whom the case is about, never who reported it.
    assert _report_fields(ppk)["subject_name"] == "Test Subject"
    assert _report_fields(ppk)["reporter_identity"] == WITHHELD
    assert "Test Reporter" not in json.dumps(ppk)
    # The recommending authority of the case's period may know both.
    assert _report_fields(bkn)["reporter_identity"] == "Test Reporter"
    for view in (public, ppk, bkn):
        _assert_verifies(view)
    assert [e["hash"] for e in ppk["entries"]] == [e["hash"] for e in public["entries"]]


def test_an_institution_outside_the_case_is_refused(hub: RunningHub) -> None:
    case_id = hub.open_case("bawaslu.33")  # reported now: BKN's period, not KASN's
    status, body = _view(hub, case_id, "kasn")
    assert status == 403
    assert "not party" in body["error"]
    assert body["reason"] == "not_entitled"


def test_cli_shows_an_institutions_view(hub: RunningHub) -> None:
    case_id = hub.open_case("bawaslu.33")
    env = dict(os.environ, KAWAL_AUDIT_DB_URL=hub.store.url, KAWAL_HOME=str(hub.home))

    def kawal(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "streams.cli", "case", "trail", case_id, *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)

    ppk = kawal("--as", "ppk.3374", "--json")
    assert ppk.returncode == 0, ppk.stderr
    assert _report_fields(json.loads(ppk.stdout))["reporter_identity"] == WITHHELD
    [logged] = AccessLog(hub.store.engine).entries([case_id])
    assert (logged.principal, logged.credential) == ("ppk.3374", f"cli:{getpass.getuser()}")
    assert logged.path == f"kawal case trail {case_id} --as ppk.3374"
    assert "subject_name" in logged.fields
    assert "reporter_identity" not in logged.fields
    assert "(ppk.3374 view)" in kawal("--as", "ppk.3374").stdout
    refused = kawal("--as", "kasn")
    assert refused.returncode == 5
    assert "not party" in refused.stderr

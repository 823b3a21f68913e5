"""Per-institution views of a trail: what each party may read, all verifying on one chain.

Over HTTP the institution is the bearer token's; on the command line ``--as`` names it. What
each view shows is the disclosure policy's (``docs/disclosure-policy.md``); the in-process
tests of every event are in ``test_disclosure_views.py``.
"""

from __future__ import annotations

import getpass
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from streams.audit.access_log import AccessLog
from streams.audit.trail import WITHHELD
from streams.domain.chain import EntryFields, entry_hash
from tests.hubtools import RunningHub, http_get
from tests.in_process import Done, kawal_here


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


def test_each_party_sees_what_the_policy_grants_its_roles(hub: RunningHub) -> None:
    case_id = hub.open_case("bawaslu.33")
    public = hub.trail_json(case_id)
    ppk_status, ppk = _view(hub, case_id, "ppk.3374")
    bkn_status, bkn = _view(hub, case_id, "bkn")
    bpasn_status, bpasn = _view(hub, case_id, "bpasn")
    inspectorate_status, inspectorate = _view(hub, case_id, "inspektorat.3374")

    assert (ppk_status, bkn_status, bpasn_status, inspectorate_status) == (200, 200, 200, 200)
    assert (public["view"], ppk["view"], bkn["view"]) == ("public", "ppk.3374", "bkn")
    assert _report_fields(public)["subject_name"] == WITHHELD
    assert _report_fields(public)["reporter_identity"] == WITHHELD
    # The employing agency may know whom the case is about, never who reported it.
    assert _report_fields(ppk)["subject_name"] == "Test Subject"
    assert _report_fields(ppk)["reporter_identity"] == WITHHELD
    assert _report_fields(ppk)["summary"] == WITHHELD
    assert "Test Reporter" not in json.dumps(ppk)
    # ... nor the verification's findings, which can name the reporter too.
    assert ppk["entries"][2]["fields"]["findings"] == WITHHELD
    # The recommending authority of the case's period may know both.
    assert _report_fields(bkn)["reporter_identity"] == "Test Reporter"
    # No appeal yet: the appeals body has no part in the case, the inspectorate needs no name.
    for outsider in (bpasn, inspectorate):
        assert _report_fields(outsider)["subject_name"] == WITHHELD
        assert _report_fields(outsider)["subject_nip"] == WITHHELD
        assert "Test Subject" not in json.dumps(outsider)
    for view in (public, ppk, bkn, bpasn, inspectorate):
        _assert_verifies(view)
    assert [e["hash"] for e in ppk["entries"]] == [e["hash"] for e in public["entries"]]


def test_an_institution_outside_the_case_is_refused(hub: RunningHub) -> None:
    case_id = hub.open_case("bawaslu.33")  # reported now: BKN's period, not KASN's
    status, body = _view(hub, case_id, "kasn")
    assert status == 403
    assert "not party" in body["detail"]
    assert body["reason"] == "not_entitled"


def test_cli_shows_an_institutions_view(hub: RunningHub) -> None:
    case_id = hub.open_case("bawaslu.33")
    env = {"KAWAL_AUDIT_DB_URL": hub.store.url, "KAWAL_HOME": str(hub.home)}

    def kawal(*args: str) -> Done:
        return kawal_here(env, "case", "trail", case_id, *args)

    ppk = kawal("--as", "ppk.3374", "--json")
    assert ppk.returncode == 0, ppk.stderr
    assert _report_fields(json.loads(ppk.stdout))["reporter_identity"] == WITHHELD
    [logged] = AccessLog(hub.store.engine).entries([case_id])
    assert (logged.principal, logged.credential) == ("ppk.3374", f"cli:{getpass.getuser()}")
    assert logged.path == f"kawal case trail {case_id} --as ppk.3374"
    assert "subject_name" in logged.fields
    assert "reporter_identity" not in logged.fields
    listed = kawal("--as", "ppk.3374")
    assert listed.returncode == 0, listed.stderr
    assert "(ppk.3374 view)" in listed.stdout
    assert "--json shows the view's values" in listed.stdout
    assert "Test Subject" not in listed.stdout
    # The listing shows no personal data, so it logs no read: the JSON view's read only.
    assert AccessLog(hub.store.engine).entries([case_id]) == [logged]
    refused = kawal("--as", "kasn")
    assert refused.returncode == 5
    assert "not party" in refused.stderr
    # An id the registry does not list is a usage error, named with the id it resembles.
    unknown = kawal("--as", "PPK.3374")
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == (
        "kawal: --as: 'PPK.3374' is not in the institutions registry; did you mean "
        "'ppk.3374'?; give a registered institution id"
    )


def test_cli_applies_the_disclosure_policy_file(hub: RunningHub, tmp_path: Path) -> None:
    case_id = hub.open_case("bawaslu.33")
    strict, wrong = tmp_path / "strict.toml", tmp_path / "wrong.toml"
    strict.write_text('[[sees_nothing]]\nrole = "ppk"\nwhy = "Stricter."\n', "utf-8")
    wrong.write_text(
        '[[allow]]\nrole = "ppk"\nevents = ["ReportReceived"]\nfields = ["case_number"]\n'
        'why = "Wrong."\n',
        "utf-8",
    )

    def kawal(policy: Path) -> Done:
        env = {"KAWAL_AUDIT_DB_URL": hub.store.url, "KAWAL_DISCLOSURE_FILE": str(policy)}
        return kawal_here(env, "case", "trail", case_id, "--as", "ppk.3374", "--json")

    shown = kawal(strict)
    refused = kawal(wrong)

    assert shown.returncode == 0, shown.stderr
    assert _report_fields(json.loads(shown.stdout))["subject_name"] == WITHHELD
    assert refused.returncode != 0
    assert "[[allow]] row 1 (role 'ppk'): 'case_number' is not a personal-data" in refused.stderr

"""``kawal access verify``: the access log checked row by row against the hub's key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from streams.audit.access_log import AccessLog
from streams.audit.store import AuditStore
from streams.cli import main
from streams.cli.exits import EXIT_OK, EXIT_UNVERIFIED
from streams.domain.hub_signer import HubSigner
from streams.domain.keys import load_key_registry
from streams.domain.principals import Principal, PrincipalRole
from streams.local.keyring import ensure_local_keys
from streams.settings import Settings

CASE = "0b5c6a1e-0000-4000-8000-000000000001"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AuditStore:
    """The audit store of a home with the hub's keys, and three reads logged by the hub."""
    monkeypatch.setenv("KAWAL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KAWAL_AUDIT_DB_URL", raising=False)
    settings = Settings()
    ensure_local_keys(settings)
    opened = AuditStore(settings.audit_url)
    opened.create_schema()
    signer = HubSigner(settings.key_dir, load_key_registry(settings.key_registry_file))
    log = AccessLog(opened.engine, signer.key_at)
    bkn = Principal("bkn", PrincipalRole.INSTITUTION, "tok_1")
    for field in ("summary", "subject_name", "reporter_identity"):
        log.record(bkn, CASE, [field], f"/cases/{CASE}/trail")
    return opened


def test_a_log_as_the_hub_wrote_it_verifies(
    store: AuditStore, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["access", "verify"]) == EXIT_OK
    assert (
        capsys.readouterr().out == "access log verified: 3 rows as the hub wrote and signed them\n"
    )
    assert main(["access", "verify", "--json"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out) == {
        "chained": 3,
        "before_chain": 0,
        "verified": True,
        "findings": [],
    }


def test_a_deleted_read_is_named_by_the_row_after_it(
    store: AuditStore, capsys: pytest.CaptureFixture[str]
) -> None:
    with store.engine.begin() as conn:
        second, third = (
            conn.execute(text("SELECT id FROM access_log ORDER BY id")).scalars().all()[1:]
        )
        conn.execute(text("DELETE FROM access_log WHERE id = :id"), {"id": second})

    assert main(["access", "verify"]) == EXIT_UNVERIFIED
    finding, verdict = capsys.readouterr().out.splitlines()
    assert finding == (
        f"rows_missing: access-log row {third} names a predecessor no row before it has: rows "
        "before it were deleted"
    )
    assert verdict.startswith("access log NOT verified: 1 finding in 2 rows;")
    assert "restore the audit store from a backup" in verdict
    assert main(["access", "verify", "--json"]) == EXIT_UNVERIFIED
    shown = json.loads(capsys.readouterr().out)
    assert (shown["verified"], [f["code"] for f in shown["findings"]]) == (False, ["rows_missing"])

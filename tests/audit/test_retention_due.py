"""``kawal retention``: when each case's personal data is erased, read from the trails.

The officer asks the hub when each case's personal data goes; the answer must be the moment and
rule the retention timer will erase it by, from the same moments the lifecycle keeps.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.audit.retention_due import retention_statuses
from streams.audit.store import AuditStore
from streams.cli import main
from streams.cli.exits import EXIT_OK, EXIT_UNKNOWN_CASE
from streams.domain.erasure import COMMAND_ACTOR, RETENTION_ACTOR, erasure_event
from streams.domain.retention import load_retention_rules, parse_rules
from streams.settings import Settings
from streams.vault.data_keys import DataKeyVault
from streams.vault.kek_source import ensure_local_kek, load_kek_ring
from tests.disclosure_case import closed
from tests.entrytools import signed_rows
from tests.hubtools import report

CODEC = AvroCodec(default_catalog())
REPORTED = datetime(2024, 11, 18, 10, tzinfo=UTC)
CLOSED = datetime(2024, 12, 21, 10, tzinfo=UTC)
ERASED = datetime(2025, 2, 1, 8, tzinfo=UTC)


def a_case(
    number: str, *, close: bool = False, erase: bool = False, rule: str | None = None
) -> list[dict[str, Any]]:
    """A reported case, closed and erased if asked (by ``kawal erase``, or by ``rule``)."""
    first = report("bawaslu.33", number)
    first["envelope"]["event_time"] = REPORTED
    case_id = first["envelope"]["case_id"]
    events = [first]
    if close:
        _, closing = closed(case_id)
        closing["envelope"]["event_time"] = CLOSED
        events.append(closing)
    if erase:
        events.append(
            erasure_event(
                case_id,
                reason="erasure request 2025/001",
                erased_at=ERASED,
                retention_rule=rule,
                actor=COMMAND_ACTOR if rule is None else RETENTION_ACTOR,
                now=ERASED,
            )
        )
    return events


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KAWAL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KAWAL_AUDIT_DB_URL", raising=False)
    monkeypatch.delenv("KAWAL_RETENTION_FILE", raising=False)
    return tmp_path / "home"


def stored(home: Path) -> dict[str, str]:
    """A store with an open, a closed and an erased case; their ids by kind."""
    home.mkdir(parents=True, exist_ok=True)
    store = AuditStore(Settings(home=home).audit_url)
    store.create_schema()
    cases = {
        "open": a_case("001/LP/2024"),
        "closed": a_case("002/LP/2024", close=True),
        "erased": a_case("003/LP/2024", close=True, erase=True),
        "expired": a_case("004/LP/2024", close=True, erase=True, rule="closed_case"),
    }
    for events in cases.values():
        store.insert(signed_rows(CODEC, events))
    store.close()
    return {kind: events[0]["envelope"]["case_id"] for kind, events in cases.items()}


def test_each_case_is_due_by_the_rule_the_timer_will_erase_it_by(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = stored(home)

    assert main(["retention", "--json"]) == EXIT_OK
    found = json.loads(capsys.readouterr().out)

    def erased(kind: str, rule: str | None, by: str) -> dict[str, Any]:
        return {
            "case_id": ids[kind],
            "reported_at": REPORTED.isoformat(),
            "closed_at": CLOSED.isoformat(),
            "erased_at": ERASED.isoformat(),
            "rule": rule,
            "due_at": None,
            "erased_by": by,
            "key_destroyed_at": None,
        }

    # Soonest due first, then those no rule applies to yet, then the erased, by case id.
    assert found[:2] == [
        {
            "case_id": ids["closed"],
            "reported_at": REPORTED.isoformat(),
            "closed_at": CLOSED.isoformat(),
            "erased_at": None,
            "rule": "closed_case",
            "due_at": "2029-12-21T10:00:00+00:00",
            "erased_by": None,
            "key_destroyed_at": None,
        },
        {
            "case_id": ids["open"],
            "reported_at": REPORTED.isoformat(),
            "closed_at": None,
            "erased_at": None,
            "rule": None,
            "due_at": None,
            "erased_by": None,
            "key_destroyed_at": None,
        },
    ]
    # Before, an erasure by a rule did not say which: "rule": null, as one by command.
    by_command, by_rule = (
        erased("erased", None, "command"),
        erased("expired", "closed_case", "rule"),
    )
    assert found[2:] == sorted([by_command, by_rule], key=lambda status: str(status["case_id"]))
    assert main(["retention", ids["expired"]]) == EXIT_OK
    assert f"erased {ERASED.isoformat()} by rule closed_case" in capsys.readouterr().out
    assert main(["retention", ids["erased"]]) == EXIT_OK
    assert f"erased {ERASED.isoformat()} by kawal erase" in capsys.readouterr().out
    assert main(["retention", ids["open"]]) == EXIT_OK
    assert "not due: no retention rule has started (they start when a case is closed)" in (
        capsys.readouterr().out
    )


def test_an_erasure_stopped_before_its_event_is_shown_with_what_to_do(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `kawal erase` destroyed the key, then could not publish its event (exit 8): before,
    # nothing showed it afterwards; the case read "not due" as any other.
    ids = stored(home)
    settings = Settings(home=home)
    ensure_local_kek(settings)
    vault = DataKeyVault(settings.effective_vault_url, load_kek_ring(settings))
    vault.create_schema()
    vault.keys_for([ids["open"], ids["closed"]], create=True)
    vault.erase(ids["open"], "erasure request 2025/002")
    vault.close()

    assert main(["retention", ids["open"]]) == EXIT_OK
    said = capsys.readouterr().out
    assert main(["retention", "--json"]) == EXIT_OK
    found = {status["case_id"]: status for status in json.loads(capsys.readouterr().out)}

    assert "erasure unfinished: its data key was destroyed " in said
    assert f"run `kawal erase {ids['open']} --reason ...` again while the hub runs" in said
    assert found[ids["open"]]["key_destroyed_at"] is not None
    assert found[ids["closed"]]["key_destroyed_at"] is None
    assert found[ids["erased"]]["key_destroyed_at"] is None  # its erasure is recorded


def test_without_a_vault_unfinished_erasures_are_said_not_looked_for(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stored(home)

    assert main(["retention"]) == EXIT_OK

    assert "unfinished erasures not looked for: " in capsys.readouterr().err


def test_a_rule_on_the_report_applies_to_an_open_case_and_the_earliest_end_wins(
    home: Path,
) -> None:
    ids = stored(home)
    source = {"legal_source": "Law 27/2022", "why": "agreed by the institutions"}
    rules = parse_rules(
        {
            "rule": [
                {"id": "closed_case", "after": "closed", "years": 5, **source},
                {"id": "any_case", "after": "reported", "days": 30, **source},
            ]
        },
        "(test)",
    )
    store = AuditStore(Settings(home=home).audit_url)
    due = {
        s.case_id: (s.rule and s.rule.id, s.due_at) for s in retention_statuses(store, CODEC, rules)
    }
    store.close()
    assert due[ids["open"]] == ("any_case", datetime(2024, 12, 18, 10, tzinfo=UTC))
    assert due[ids["closed"]] == ("any_case", datetime(2024, 12, 18, 10, tzinfo=UTC))
    assert due[ids["erased"]] == (None, None)
    assert load_retention_rules()[0].id == "closed_case"


def test_a_case_not_in_the_store_is_exit_3_naming_where_the_cases_are(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stored(home)
    absent = "0b5c6a1e-0000-4000-8000-00000000dead"
    assert main(["retention", absent, "--json"]) == EXIT_UNKNOWN_CASE
    error = json.loads(capsys.readouterr().out)["error"]
    assert f"no case {absent} in the audit store" in error
    assert "kawal case list" in error

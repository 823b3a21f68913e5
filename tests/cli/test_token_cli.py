"""``kawal token issue|list|revoke`` and ``kawal access log`` as an operator runs them."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from streams.audit.access_log import AccessLog
from streams.audit.store import AuditStore
from streams.audit.tokens import TokenStore
from streams.cli import main
from streams.cli.exits import EXIT_ERROR, EXIT_OK, EXIT_UNKNOWN_CASE, EXIT_USAGE
from streams.cli.tokens import expiry
from streams.domain.principals import AccessProblem, AccessRefusal, Principal, PrincipalRole
from streams.settings import Settings
from tests.audit.treetools import hub_key_at
from tests.storetools import chained_rows

CASE = "0b5c6a1e-0000-4000-8000-000000000001"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KAWAL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KAWAL_AUDIT_DB_URL", raising=False)
    return tmp_path / "home"


def kawal_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    code = main([*args, "--json"])
    return code, json.loads(capsys.readouterr().out)


def store_of(home: Path) -> AuditStore:
    return AuditStore(Settings(home=home).audit_url)


def test_a_token_is_shown_once_and_works_until_revoked(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, issued = kawal_json(capsys, "token", "issue", "bkn", "--expires", "30d")
    assert code == EXIT_OK
    tokens = TokenStore(store_of(home).engine)
    assert tokens.resolve(issued["token"]) == Principal(
        "bkn", PrincipalRole.INSTITUTION, issued["id"]
    )

    code, listed = kawal_json(capsys, "token", "list")
    assert code == EXIT_OK
    assert [(t["id"], t["principal"], t["role"], t["revoked"]) for t in listed] == [
        (issued["id"], "bkn", "institution", False)
    ]
    assert issued["token"] not in json.dumps(listed)

    code, revoked = kawal_json(capsys, "token", "revoke", issued["id"], "--reason", "lost")
    assert code == EXIT_OK
    assert (revoked["revoked"], revoked["revoked_reason"]) == (True, "lost")
    refused = tokens.resolve(issued["token"])
    assert isinstance(refused, AccessRefusal)
    assert refused.problem is AccessProblem.TOKEN_REVOKED


@pytest.mark.parametrize(
    "reason",
    ["Dewi NIK 3201011505800001 shared it", "sent by dewi@example.org", "call 0812 3456 7890"],
)
def test_a_revocation_reason_naming_someone_is_refused_and_the_token_stays(
    home: Path, capsys: pytest.CaptureFixture[str], reason: str
) -> None:
    # Kept with the token and listed to operators: like a key's, it says why, naming no one.
    code, issued = kawal_json(capsys, "token", "issue", "bkn", "--expires", "30d")
    assert code == EXIT_OK

    with pytest.raises(SystemExit) as usage:
        main(["token", "revoke", issued["id"], "--reason", reason])

    said = capsys.readouterr().err
    assert usage.value.code == EXIT_USAGE
    assert "--reason: looks like it holds personal data" in said
    assert reason not in said
    assert TokenStore(store_of(home).engine).resolve(issued["token"]) == Principal(
        "bkn", PrincipalRole.INSTITUTION, issued["id"]
    )


def test_an_operator_token_named_with_a_nik_is_refused_without_quoting_it(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["token", "issue", "3201011505800001", "--role", "operator", "--expires", "1d"])

    said = capsys.readouterr()
    assert code == EXIT_ERROR
    assert "the token's name looks like it holds personal data" in said.err
    assert "3201011505800001" not in said.err + said.out


def test_an_operator_token_and_the_human_listing(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    day = (datetime.now(UTC) + timedelta(days=200)).date().isoformat()
    assert main(["token", "issue", "ops.ana", "--role", "operator", "--expires", day]) == 0
    printed = capsys.readouterr()
    secret = printed.out.strip()
    assert secret.startswith("kawal_")
    assert "shown once" in printed.err

    assert main(["token", "list"]) == EXIT_OK
    listing = capsys.readouterr().out
    assert "ops.ana" in listing
    assert "operator" in listing
    assert f"expires {day}T00:00:00+00:00" in listing
    assert secret not in listing


def test_an_expired_token_is_listed_as_expired_as_the_hub_refuses_it(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kawal_json(capsys, "token", "issue", "bkn", "--expires", "30d")  # makes the store
    tokens = TokenStore(store_of(home).engine)
    now = datetime.now(UTC)
    lapsed = tokens.issue("bkn", PrincipalRole.INSTITUTION, now - timedelta(hours=1), {"bkn"})
    revoked = tokens.issue("kasn", PrincipalRole.INSTITUTION, now - timedelta(hours=1), {"kasn"})
    tokens.revoke(revoked.id, "lost")
    refused = tokens.resolve(lapsed.secret)
    assert isinstance(refused, AccessRefusal)
    assert refused.problem is AccessProblem.TOKEN_EXPIRED

    code, listed = kawal_json(capsys, "token", "list")
    assert code == EXIT_OK
    states = {token["id"]: token["state"] for token in listed}
    assert states[lapsed.id] == "expired"
    assert states[revoked.id] == "revoked"
    assert sorted(states.values()) == ["active", "expired", "revoked"]
    assert main(["token", "list"]) == EXIT_OK
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert lines[lapsed.id].endswith("  expired")
    assert "  revoked " in lines[revoked.id]
    assert "active" not in lines[lapsed.id] + lines[revoked.id]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody.9999", "--expires", "1d"], "not in the institutions registry"),
        (["bkn", "--role", "operator", "--expires", "1d"], "is an institution"),
        (["bkn", "--expires", "2001-01-01"], "in the past"),
        # A token forgotten in a script would work for ever: a year is the most.
        (["bkn", "--expires", "367d"], "a token lives at most 366 days"),
        (["bkn", "--expires", "2099-01-01"], "a token lives at most 366 days"),
        (["kawal", "--expires", "1d"], "'kawal' is the hub itself, which reads nothing over HTTP"),
    ],
)
def test_an_unusable_token_is_refused_with_a_clear_message(
    home: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, error = kawal_json(capsys, "token", "issue", *args)

    assert code == EXIT_ERROR
    assert message in error["error"]
    assert main(["token", "issue", *args]) == EXIT_ERROR
    assert message in capsys.readouterr().err


def test_revoking_an_unknown_token_and_listing_without_a_store(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, error = kawal_json(capsys, "token", "list")
    assert code == EXIT_ERROR
    assert "no audit store" in error["error"]

    kawal_json(capsys, "token", "issue", "bkn", "--expires", "1h")
    code, error = kawal_json(capsys, "token", "revoke", "tok_nope")
    assert code == EXIT_ERROR
    assert "kawal token list" in error["error"]


def test_expiry_takes_durations_dates_and_date_times() -> None:
    now = datetime(2026, 3, 1, 9, 0, 30, 123, tzinfo=UTC)
    at_second = now.replace(microsecond=0)

    assert expiry("90m", now) == at_second + timedelta(minutes=90)
    assert expiry("12h", now) == at_second + timedelta(hours=12)
    assert expiry("30d", now) == at_second + timedelta(days=30)
    assert expiry("8w", now) == at_second + timedelta(weeks=8)
    assert expiry("2027-01-01") == datetime(2027, 1, 1, tzinfo=UTC)
    assert expiry("2027-01-01T07:00:00+07:00") == datetime(2027, 1, 1, tzinfo=UTC)
    for bad in ("soon", "2027-01-01T07:00:00", "30y", "99999999d", "9" * 30 + "w", "\u0663d"):
        with pytest.raises(argparse.ArgumentTypeError):
            expiry(bad)
    with pytest.raises(SystemExit) as usage:
        main(["token", "issue", "bkn", "--expires", "soon"])
    assert usage.value.code == EXIT_USAGE


def test_the_access_log_by_case_institution_and_reader(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kawal_json(capsys, "token", "issue", "bkn", "--expires", "1h")  # makes the store
    store = store_of(home)
    # A case whose report bawaslu.33 sent: bawaslu.33 is party to it, kasn is not.
    store.insert(_reported_case())
    log = AccessLog(store.engine, hub_key_at())
    when = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    bkn = Principal("bkn", PrincipalRole.INSTITUTION, "tok_1")
    log.record(bkn, CASE, ["reporter_identity"], f"/cases/{CASE}/trail", when)

    code, everything = kawal_json(capsys, "access", "log")
    assert code == EXIT_OK
    assert everything == [
        {
            "read_at": when.isoformat(),
            "principal": "bkn",
            "role": "institution",
            "credential": "tok_1",
            "case_id": CASE,
            "fields": ["reporter_identity"],
            "path": f"/cases/{CASE}/trail",
        }
    ]
    assert kawal_json(capsys, "access", "log", "--case", CASE)[1] == everything
    assert kawal_json(capsys, "access", "log", "--institution", "bawaslu.33")[1] == everything
    assert kawal_json(capsys, "access", "log", "--institution", "kasn")[1] == []
    assert kawal_json(capsys, "access", "log", "--reader", "ppk.3374")[1] == []
    code, error = kawal_json(capsys, "access", "log", "--institution", "nobody.9999")
    assert code == EXIT_USAGE  # as `case overdue --institution` and `case trail --as` answer
    assert "'nobody.9999' is not a registered institution" in error["error"]
    assert main(["access", "log"]) == EXIT_OK
    assert "reporter_identity" in capsys.readouterr().out


def test_a_line_feed_in_a_logged_credential_starts_no_row_of_its_own(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # An identity provider's subject is the client's to choose: before, it split the listing.
    kawal_json(capsys, "token", "issue", "bkn", "--expires", "1h")  # makes the store
    store = store_of(home)
    store.insert(_reported_case())
    forged = "oidc:mallory\n2026-03-01T09:00:00+00:00  kasn  institution  tok_9"
    bkn = Principal("bkn", PrincipalRole.INSTITUTION, forged)
    AccessLog(store.engine, hub_key_at()).record(bkn, CASE, ["summary"], f"/cases/{CASE}/trail")
    store.close()

    assert main(["access", "log"]) == EXIT_OK

    [row] = capsys.readouterr().out.splitlines()
    assert "oidc:mallory\\u000a2026-03-01T09:00:00+00:00  kasn" in row


def test_a_read_on_the_command_line_is_found_by_its_institution_or_its_os_user(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kawal_json(capsys, "token", "issue", "bkn", "--expires", "1h")  # makes the store
    store = store_of(home)
    # As `kawal case trail CASE --as bawaslu.33 --json` records it.
    cli = Principal("bawaslu.33", PrincipalRole.INSTITUTION, "cli:ops")
    AccessLog(store.engine, hub_key_at()).record(
        cli, CASE, ["subject_name"], f"kawal case trail {CASE}"
    )
    store.close()

    for reader in ("bawaslu.33", "cli:ops"):
        code, found = kawal_json(capsys, "access", "log", "--reader", reader)
        assert code == EXIT_OK
        assert [(r["principal"], r["credential"]) for r in found] == [("bawaslu.33", "cli:ops")]
    assert main(["access", "log", "--reader", "cli:ops"]) == EXIT_OK
    [line] = capsys.readouterr().out.splitlines()
    assert line.split()[1:4] == ["bawaslu.33", "institution", "cli:ops"]
    assert main(["access", "log", "--reader", "cli:nobody"]) == EXIT_OK
    assert capsys.readouterr().out.strip() == (
        "no logged read of personal data matches --reader cli:nobody"
    )


def test_the_access_log_of_a_case_not_in_the_store_is_an_error_not_an_empty_record(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kawal_json(capsys, "token", "issue", "bkn", "--expires", "1h")  # makes the store
    store = store_of(home)
    store.insert(_reported_case())
    store.close()
    typo = "0b5c6a1e-0000-4000-8000-000000000002"

    code, error = kawal_json(capsys, "access", "log", "--case", typo)
    assert code == EXIT_UNKNOWN_CASE
    assert f"no case {typo} in the audit store" in error["error"]
    assert "kawal case list" in error["error"]
    assert main(["access", "log", "--case", typo]) == EXIT_UNKNOWN_CASE
    assert "kawal case list" in capsys.readouterr().err
    assert kawal_json(capsys, "access", "log", "--case", CASE) == (EXIT_OK, [])


def test_the_access_log_of_a_period_from_a_day_or_moment_to_a_whole_day(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kawal_json(capsys, "token", "issue", "bkn", "--expires", "1h")  # makes the store
    store = store_of(home)
    log = AccessLog(store.engine, hub_key_at())
    bkn = Principal("bkn", PrincipalRole.INSTITUTION, "tok_1")
    for day, hour in ((1, 9), (2, 23), (3, 0)):
        when = datetime(2026, 3, day, hour, tzinfo=UTC)
        log.record(bkn, CASE, ["summary"], f"/cases/{CASE}/trail", when)
    store.close()

    def days(*args: str) -> list[str]:
        code, found = kawal_json(capsys, "access", "log", *args)
        assert code == EXIT_OK
        return [record["read_at"][:13] for record in found]

    assert days("--from", "2026-03-02") == ["2026-03-02T23", "2026-03-03T00"]
    assert days("--to", "2026-03-02") == ["2026-03-01T09", "2026-03-02T23"]
    assert days("--from", "2026-03-02", "--to", "2026-03-02") == ["2026-03-02T23"]
    # 2026-03-03T06:00+07:00 is 2026-03-02T23:00 UTC: the read at that moment is in.
    assert days("--from", "2026-03-03T06:00+07:00") == ["2026-03-02T23", "2026-03-03T00"]
    assert main(["access", "log", "--from", "2026-03-04"]) == EXIT_OK
    assert "matches --from 2026-03-04" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--from", "yesterday"), "from 'yesterday' is not a date (2026-12-01"),
        (("--to", "2026-03-02T10:00"), "with its offset"),
        (("--from", "2026-03-03", "--to", "2026-03-02"), "ends (2026-03-02) before it starts"),
    ],
)
def test_a_period_that_is_not_one_says_how_to_write_it(
    home: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], said: str
) -> None:
    kawal_json(capsys, "token", "issue", "bkn", "--expires", "1h")  # makes the store
    code, error = kawal_json(capsys, "access", "log", *args)
    assert code == EXIT_ERROR
    assert said in error["error"]


def _reported_case() -> list[dict[str, Any]]:
    from tests.hubtools import default_codec, report

    first = report("bawaslu.33")
    first["envelope"]["case_id"] = CASE
    rows = chained_rows(CASE, 1)
    rows[0]["event"] = default_codec().encode("ReportReceived", first)
    return rows

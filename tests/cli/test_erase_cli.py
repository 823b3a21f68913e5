"""``kawal erase`` on the running hub: the values go, every chain and signature still verifies.

The command runs in this process with the hub's ``KAWAL_HOME`` (its vault, keys and store) and
broker, as an operator on the hub's machine would run it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.contract import read_topic
from connectors.signed_fixtures import signed_event_of
from schemas.catalog import default_catalog
from streams.audit.store import AuditRow, AuditStore
from streams.cli import main
from streams.cli.exits import EXIT_NOT_RECORDED, EXIT_OK, EXIT_UNKNOWN_CASE, EXIT_USAGE
from streams.domain.erasure import ERASURE_EVENT, erasure_event_id
from streams.domain.institutions import HUB_INSTITUTION
from streams.local.processes import free_port
from streams.settings import Settings
from streams.topics import inbound_topic
from streams.vault.data_keys import DataKeyVault
from streams.vault.kek_source import load_kek_ring
from tests.hubtools import WAIT_SECONDS, RunningHub, institution_view

REASON = "erasure request 2030/001 under Law 27/2022"
#: Values of the case's personal-data fields (tests.hubtools.report and verification).
PERSONAL = (
    "Test Reporter",
    "Test Subject",
    "198501012010011001",
    "Shared campaign material.",
    "Campaigned for a candidate pair on social media.",
)
CATALOG = default_catalog()


@pytest.fixture
def as_hub(hub: RunningHub, monkeypatch: pytest.MonkeyPatch) -> RunningHub:
    """``kawal`` commands of this test run with the hub's home and broker."""
    monkeypatch.setenv("KAWAL_HOME", str(hub.home))
    monkeypatch.setenv("KAWAL_BROKER_URL", f"tansu://{hub.bootstrap[0]}")
    return hub


@pytest.fixture
def vault(hub: RunningHub) -> Iterator[DataKeyVault]:
    """The hub's own vault."""
    settings = Settings(home=hub.home)
    opened = DataKeyVault.open_existing(settings.effective_vault_url, load_kek_ring(settings))
    yield opened
    opened.close()


def kawal(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Exit code, output and errors of ``kawal ARGS``."""
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def erase(capsys: pytest.CaptureFixture[str], case_id: str, reason: str = REASON) -> Any:
    code, out, err = kawal(capsys, "erase", case_id, "--reason", reason, "--json")
    assert code == EXIT_OK, err
    return json.loads(out)


def cli_trail(capsys: pytest.CaptureFixture[str], case_id: str) -> dict[str, Any]:
    """Bawaslu Central Java's view of the case, as ``kawal case trail --as`` prints it."""
    code, out, err = kawal(capsys, "case", "trail", case_id, "--as", "bawaslu.33", "--json")
    assert code == EXIT_OK, err
    view: dict[str, Any] = json.loads(out)
    return view


def wait_for_erasure(hub: RunningHub, case_id: str) -> list[AuditRow]:
    """The case's trail once the audit store holds its PersonalDataErased."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        rows = hub.store.trail(case_id)
        if any(row.event_type == ERASURE_EVENT for row in rows):
            return rows
        time.sleep(0.2)
    raise AssertionError(f"no {ERASURE_EVENT} in the trail\n{hub.worker.log_tail(30)}")


def shown(view: dict[str, Any]) -> list[str]:
    """The personal-data values a view shows."""
    text = json.dumps(view)
    return [value for value in PERSONAL if value in text]


def test_an_erased_case_shows_no_value_and_every_chain_and_signature_verifies(
    as_hub: RunningHub, capsys: pytest.CaptureFixture[str]
) -> None:
    hub = as_hub
    case_id = hub.open_case()
    token = hub.token("bawaslu.33").secret
    assert shown(cli_trail(capsys, case_id)) == list(PERSONAL)
    assert shown(hub.trail_json(case_id, token)) == list(PERSONAL)

    done = erase(capsys, case_id)

    assert (done["erasure"], done["event"], done["reason"]) == ("erased", "published", REASON)
    assert done["event_id"] == erasure_event_id(case_id)
    rows = wait_for_erasure(hub, case_id)
    for view in (cli_trail(capsys, case_id), hub.trail_json(case_id, token)):
        assert view["verified"] is True, view["problem"]
        assert shown(view) == []
        [entry] = [e for e in view["entries"] if e["event_type"] == ERASURE_EVENT]
        assert entry["event_id"] == done["event_id"]
        assert entry["fields"]["reason"] == REASON
        assert entry["fields"]["retention_rule"] is None
        assert entry["envelope"]["source"] == "kawal"
    assert [row.event_type for row in rows][-1] == ERASURE_EVENT
    code, out, _ = kawal(capsys, "audit", "verify", case_id)
    assert code == EXIT_OK
    assert "verified 1 cases" in out


def test_erasing_again_changes_nothing(
    as_hub: RunningHub, capsys: pytest.CaptureFixture[str], vault: DataKeyVault
) -> None:
    hub = as_hub
    case_id = hub.open_case()
    first = erase(capsys, case_id)
    before = [row.hash for row in wait_for_erasure(hub, case_id)]

    again = erase(capsys, case_id, "a second request 2030/002")
    code, out, _ = kawal(capsys, "erase", case_id, "--reason", "a third request")

    assert (again["erasure"], again["event"]) == ("already_erased", "already_recorded")
    assert (again["erased_at"], again["reason"]) == (first["erased_at"], REASON)
    assert code == EXIT_OK
    assert "already erased" in out
    assert "already in the case's trail" in out
    tombstone = vault.tombstone(case_id)
    assert tombstone is not None
    assert tombstone.reason == REASON
    # No second event: the topic, read to its end, holds the case's erasure once.
    on_topic = read_topic(hub.bootstrap, inbound_topic(HUB_INSTITUTION))
    erasures = [m for m in on_topic if m.key == case_id.encode()]
    assert [signed_event_of(hub.codec, m.value)["envelope"]["event_id"] for m in erasures] == [
        first["event_id"]
    ]
    assert [row.hash for row in hub.store.trail(case_id)] == before


def test_an_unknown_case_is_refused_and_nothing_erased(
    as_hub: RunningHub, capsys: pytest.CaptureFixture[str], vault: DataKeyVault
) -> None:
    unknown = str(uuid.uuid4())

    code, out, err = kawal(capsys, "erase", unknown, "--reason", REASON, "--json")

    assert code == EXIT_UNKNOWN_CASE
    assert f"no case {unknown} in the audit store" in json.loads(out)["error"]
    assert "nothing was erased" in err
    assert vault.tombstone(unknown) is None


#: Reasons refused on the command line, and what the refusal says.
REFUSED: tuple[tuple[list[str], str], ...] = (
    (["--reason", "  "], "needs a reason"),
    (["--reason", "request of NIP 198501012010011001"], "looks like it holds personal data"),
    (["--reason", "asked by budi@example.go.id"], "looks like it holds personal data"),
    (["--reason", "x" * 501], "keep it to 500"),
    ([], "the following arguments are required: --reason"),
)


def test_a_reason_missing_or_that_may_name_someone_is_refused_before_anything_is_erased(
    as_hub: RunningHub, capsys: pytest.CaptureFixture[str], vault: DataKeyVault
) -> None:
    case_id = as_hub.open_case()

    for args, says in REFUSED:
        with pytest.raises(SystemExit) as refused:
            main(["erase", case_id, *args])

        assert refused.value.code == EXIT_USAGE, args
        err = capsys.readouterr().err
        assert says in err, args
        assert "198501012010011001" not in err
        assert "budi@" not in err
    assert vault.tombstone(case_id) is None
    assert isinstance(vault.keys_for([case_id], create=False)[case_id], bytes)


def test_a_case_id_that_is_no_uuid_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["erase", "LP/001/2024", "--reason", REASON])

    assert refused.value.code == EXIT_USAGE
    assert "a case id is a UUID" in capsys.readouterr().err


@pytest.mark.slow
def test_a_key_destroyed_without_its_event_is_completed_by_running_again(
    as_hub: RunningHub,
    capsys: pytest.CaptureFixture[str],
    vault: DataKeyVault,
) -> None:
    hub = as_hub
    case_id = hub.open_case()
    # Its own process: a Kafka client that never reached its broker leaves sockets behind.
    down = dict(
        os.environ,
        KAWAL_BROKER_URL=f"tansu://127.0.0.1:{free_port()}",
        KAWAL_BROKER_WAIT_SECONDS="1",
    )
    command = [sys.executable, "-m", "streams.cli", "erase", case_id, "--reason", REASON, "--json"]

    failed = subprocess.run(command, env=down, capture_output=True, text=True, timeout=120)

    assert failed.returncode == EXIT_NOT_RECORDED
    assert json.loads(failed.stdout)["event"] == "not_published"
    assert f"the data key of case {case_id} is destroyed" in failed.stderr
    assert f"run `kawal erase {case_id} --reason ...` again" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert vault.tombstone(case_id) is not None
    assert ERASURE_EVENT not in [row.event_type for row in hub.store.trail(case_id)]

    done = erase(capsys, case_id, "a second request 2030/002")

    assert (done["erasure"], done["event"], done["reason"]) == (
        "already_erased",
        "published",
        REASON,
    )
    assert wait_for_erasure(hub, case_id)[-1].event_id == erasure_event_id(case_id)


def test_a_replay_into_an_empty_store_restores_no_erased_value(
    as_hub: RunningHub,
    capsys: pytest.CaptureFixture[str],
    vault: DataKeyVault,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    hub = as_hub
    erased, kept = hub.open_case(), hub.open_case()
    erase(capsys, erased)
    wait_for_erasure(hub, erased)
    rebuilt_url = f"sqlite:///{tmp_path / 'rebuilt.db'}"
    monkeypatch.setenv("KAWAL_AUDIT_DB_URL", rebuilt_url)

    code, out, err = kawal(capsys, "replay", "--json")

    assert code == EXIT_OK, err
    assert json.loads(out)["inserted"] > 0
    rebuilt = AuditStore(rebuilt_url)
    try:
        views = {case: view_of(hub, rebuilt, case, vault) for case in (erased, kept)}
    finally:
        rebuilt.close()
    assert all(view["verified"] for view in views.values())
    assert shown(views[erased]) == []
    assert ERASURE_EVENT in [entry["event_type"] for entry in views[erased]["entries"]]
    # The replay itself restores values: only the erased case's are gone.
    assert shown(views[kept]) == list(PERSONAL)


def view_of(
    hub: RunningHub, store: AuditStore, case_id: str, vault: DataKeyVault
) -> dict[str, Any]:
    """Bawaslu Central Java's view of ``case_id`` in ``store``, opened with the hub's vault."""
    return institution_view(store, hub.home, case_id, vault, "bawaslu.33")


def test_a_case_id_in_another_spelling_is_the_same_case(
    as_hub: RunningHub, capsys: pytest.CaptureFixture[str]
) -> None:
    case_id = as_hub.open_case()
    spelled = "{" + case_id.upper() + "}"

    assert cli_trail(capsys, spelled) == cli_trail(capsys, case_id)
    code, out, _ = kawal(capsys, "audit", "verify", case_id.upper(), "--json")
    assert (code, json.loads(out)["cases"]) == (EXIT_OK, 1)
    for command in (["case", "trail"], ["audit", "proof"], ["erase", "--reason", REASON]):
        with pytest.raises(SystemExit) as usage:
            main([*command, "LP-2024-001"])
        assert usage.value.code == EXIT_USAGE
        assert "a case id is a UUID" in capsys.readouterr().err

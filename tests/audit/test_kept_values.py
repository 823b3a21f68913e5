"""``kawal audit verify`` opens every entry's kept personal values: what the chain cannot see.

A damaged ``vaulted_disclosures`` record, or a data key the vault lost, leaves every chain and
signature intact; only an institution's view would find the values gone. Verify finds both,
at their case and seq, without showing a value; an erased case is no finding.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text

from streams.audit.store import AuditStore
from streams.audit.verify import verify_store
from streams.cli.exits import EXIT_UNCHECKED
from streams.hub.pipeline import Pipeline
from streams.vault.data_keys import DataKeyVault
from tests.hub.steptools import accepted_case, keyring, step_pipeline
from tests.in_process import kawal_here
from tests.storetools import kawal_in


def setup(home: Path) -> tuple[Pipeline, AuditStore, DataKeyVault, str]:
    step = step_pipeline(home)
    store = AuditStore(f"sqlite:///{home / 'audit.db'}")
    store.create_schema()
    vault = step.case_keys
    assert isinstance(vault, DataKeyVault)
    return step, store, vault, accepted_case(step, store)


def sql(engine_owner: AuditStore | DataKeyVault, statement: str, **params: object) -> None:
    with engine_owner.engine.begin() as conn:
        conn.execute(text(statement), params)


def test_a_damaged_value_record_is_found_at_its_case_and_seq(tmp_path: Path) -> None:
    step, store, vault, case_id = setup(tmp_path)
    registry = keyring(step).registry
    assert verify_store(store, keys=registry, vault=vault).ok

    sql(
        store,
        "UPDATE audit_entries SET vaulted_disclosures = :v WHERE case_id = :c AND seq = 1",
        v=b"\x00" * 60,
        c=case_id,
    )
    report_ = verify_store(store, keys=registry, vault=vault)

    [finding] = report_.findings
    assert (finding.case_id, finding.seq) == (case_id, 1)
    assert "do not open with the case's data key" in finding.reason
    # Without the vault the chain and signatures still verify: only this check sees it.
    assert verify_store(store, keys=registry).ok


def test_a_data_key_the_vault_lost_is_found_and_an_erased_case_is_not(tmp_path: Path) -> None:
    step, store, vault, case_id = setup(tmp_path)
    other = accepted_case(step, store)
    vault.erase(other, "a data subject's request")

    sql(vault, "DELETE FROM case_data_keys WHERE case_id = :c", c=case_id)
    found = verify_store(store, vault=vault)

    assert [(f.case_id, f.seq) for f in found.findings] == [(case_id, 1)]
    assert "a data key the vault does not hold" in found.findings[0].reason


def test_the_cli_checks_the_values_with_the_hubs_vault_and_says_when_it_cannot(
    tmp_path: Path,
) -> None:
    _, store, vault, case_id = setup(tmp_path)
    assert kawal_in(tmp_path, "audit", "verify").returncode == 0
    sql(
        store,
        "UPDATE audit_entries SET vaulted_disclosures = :v WHERE case_id = :c AND seq = 1",
        v=b"\x00" * 60,
        c=case_id,
    )

    damaged = kawal_in(tmp_path, "audit", "verify", "--json")
    store.close()
    vault.close()
    (tmp_path / "vault.db").rename(tmp_path / "vault.moved")
    without_vault = kawal_in(tmp_path, "audit", "verify")

    assert damaged.returncode == 4
    result = json.loads(damaged.stdout)
    assert result["kept_values_checked"] is True
    assert [(f["case_id"], f["seq"]) for f in result["findings"]] == [(case_id, 1)]
    # Not a success: a cron check must not see one. Said on stdout, with what to do.
    assert without_vault.returncode == EXIT_UNCHECKED == 9
    assert "verified 1 cases" in without_vault.stdout
    assert "kept personal values not checked: " in without_vault.stdout
    assert "run it where the vault and its KEK file are" in without_vault.stdout


def test_a_kek_file_that_is_missing_is_not_a_success_and_json_says_why(tmp_path: Path) -> None:
    # An operator's KAWAL_KEK_FILE named a missing file: verify printed `verified N cases`,
    # warned on stderr only, and exited 0.
    _, store, vault, _ = setup(tmp_path)
    store.close()
    vault.close()
    missing = {"KAWAL_HOME": str(tmp_path), "KAWAL_KEK_FILE": str(tmp_path / "nowhere.toml")}

    text_run = kawal_here(missing, "audit", "verify")
    json_run = kawal_here(missing, "audit", "verify", "--json")
    checked = kawal_in(tmp_path, "audit", "verify", "--json")

    assert text_run.returncode == json_run.returncode == EXIT_UNCHECKED
    said = text_run.stdout.splitlines()[-1]
    assert said.startswith("kept personal values not checked: ")
    assert f"no KEK file at {tmp_path / 'nowhere.toml'}" in said
    result = json.loads(json_run.stdout)
    assert result["findings"] == []
    assert result["kept_values_checked"] is False
    assert result["kept_value_entries"] > 0
    assert "no KEK file at" in result["kept_values_unchecked"]
    assert checked.returncode == 0
    assert json.loads(checked.stdout)["kept_values_unchecked"] is None


def test_without_the_vault_a_store_that_keeps_no_personal_value_verifies(tmp_path: Path) -> None:
    # Nothing of the kind to check: no reason to fail the check.
    _, store, vault, _ = setup(tmp_path)
    sql(store, "UPDATE audit_entries SET vaulted_disclosures = :v", v=b"")
    store.close()
    vault.close()
    (tmp_path / "vault.db").rename(tmp_path / "vault.moved")

    done = kawal_in(tmp_path, "audit", "verify", "--json")

    assert done.returncode == 0, done.stdout
    result = json.loads(done.stdout)
    assert (result["kept_value_entries"], result["kept_values_unchecked"]) == (0, None)
    assert result["kept_values_checked"] is False


def test_a_broken_chain_without_the_vault_is_still_exit_4(tmp_path: Path) -> None:
    _, store, vault, case_id = setup(tmp_path)
    sql(
        store,
        "UPDATE audit_entries SET hash = :h WHERE case_id = :c AND seq = 1",
        h="0" * 64,
        c=case_id,
    )
    store.close()
    vault.close()
    (tmp_path / "vault.db").rename(tmp_path / "vault.moved")

    done = kawal_in(tmp_path, "audit", "verify")

    assert done.returncode == 4
    assert "kept personal values not checked" in done.stdout


def test_a_view_of_a_case_whose_data_key_the_vault_lost_says_so_and_what_to_do(
    tmp_path: Path,
) -> None:
    _, store, vault, case_id = setup(tmp_path)
    kept = kawal_in(tmp_path, "case", "trail", case_id, "--as", "bawaslu.33", "--json")
    assert json.loads(kept.stdout)["values_problem"] is None

    sql(vault, "DELETE FROM case_data_keys WHERE case_id = :c", c=case_id)
    store.close()
    vault.close()
    lost = kawal_in(tmp_path, "case", "trail", case_id, "--as", "bawaslu.33", "--json")
    text_view = kawal_in(tmp_path, "case", "trail", case_id, "--as", "bawaslu.33")

    shown = json.loads(lost.stdout)
    # The chain still verifies; the values are not quietly shown as withheld by policy.
    assert shown["verified"] is True
    assert "the vault holds no data key for this case" in shown["values_problem"]
    assert "restore the vault" in shown["values_problem"]
    assert "the vault holds no data key for this case" in lost.stderr
    assert "restore the vault" in text_view.stderr


def test_the_case_page_says_when_the_vault_lost_the_cases_data_key() -> None:
    from datetime import UTC, datetime

    from streams.audit.trail import KEY_MISSING
    from streams.web.render import case_page

    shown = {"case_id": "39bb4c73-c5a2-58eb-a398-5fa95ed8ef51", "verified": True}
    view = shown | {"first_bad_seq": None, "problem": None, "entries": []}

    page = case_page(view | {"values_problem": KEY_MISSING}, None, datetime.now(UTC), "en")

    assert "restore the vault (KAWAL_VAULT_URL) from a backup" in page
    assert "restore the vault" not in case_page(view, None, datetime.now(UTC), "en")

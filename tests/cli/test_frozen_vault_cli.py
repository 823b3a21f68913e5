"""``kawal`` commands on a data-key vault that stops answering end, saying what they did.

The vault on PostgreSQL of its own. A command waits at the vault (another session holds its
table locked) and the server is then frozen (its processes stopped): a command whose
statement was sent waited for ever, as one on a vault whose disk or network path hung after
it connected. Now each command gives up once a statement has had no answer for the vault's
deadline, exits non-zero and says what did not answer, what was changed, and what to do.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from streams.app import create_vault
from streams.audit.store import AuditStore
from streams.cli.exits import EXIT_ERROR, EXIT_NOT_RECORDED
from streams.local.keyring import ensure_local_keys
from streams.local.processes import free_port
from streams.settings import Settings
from streams.vault.data_keys import DataKeyVault
from streams.vault.kek_source import load_kek_ring
from streams.vault.tables import CaseDataKey
from tests.audit.treetools import keyring, signed_rows
from tests.hub.steptools import accepted_case, step_pipeline
from tests.postgres import PostgresServer

CASE = "7a1e0c2a-0000-4000-8000-0000000000e1"
REASON = "erasure request 2030/002 under Law 27/2022"
#: Longest wait for a command to start, reach the vault and give up on a loaded machine.
ROOM = 120.0
SAID = "gave no answer within 10 s: its database is frozen, overloaded or cut off"


@dataclass(frozen=True)
class Home:
    """A hub's home whose vault is a PostgreSQL database, and the commands' environment."""

    settings: Settings
    env: dict[str, str]
    vault_dsn: str


@pytest.fixture
def home(tmp_path: Path, postgres: PostgresServer) -> Home:
    """A home with its keys and KEK, its vault on ``postgres``, a case with its key and trail."""
    name = f"cli_vault_{os.getpid()}_{time.monotonic_ns()}"
    url = postgres.create_database(name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAWAL_")}
    env |= {
        "KAWAL_HOME": str(tmp_path / "home"),
        "KAWAL_VAULT_URL": url,
        # Nothing listens there: a published event is refused within a second.
        "KAWAL_BROKER_URL": f"tansu://127.0.0.1:{free_port()}",
        "KAWAL_BROKER_WAIT_SECONDS": "1",
    }
    settings = Settings(home=tmp_path / "home", vault_url=url)
    # The hub's keys too: erase refuses before the vault when no hub key can sign its event.
    ensure_local_keys(settings)
    vault = create_vault(settings)
    vault.keys_for([CASE], create=True)
    vault.close()
    store = AuditStore(settings.audit_url)
    store.create_schema()
    store.insert(signed_rows(keyring(), CASE, 2))
    store.close()
    return Home(settings, env, _dsn(postgres, name))


def _dsn(postgres: PostgresServer, database: str) -> str:
    return postgres.admin_dsn.replace("dbname=postgres", f"dbname={database}")


@dataclass(frozen=True)
class Ran:
    """What a command did: its exit code (None: still running after ROOM), output, errors."""

    code: int | None
    out: str
    err: str


def frozen_at_the_vault(
    home: Home, postgres: PostgresServer, *commands: Sequence[str]
) -> list[Ran]:
    """``kawal ARGV`` of each of ``commands`` at once, the vault frozen once each waits at it.

    At once, so that one freeze serves them all: each waits the vault's deadline of its own.
    """
    with psycopg.connect(home.vault_dsn) as holder:
        holder.execute(f"LOCK TABLE {CaseDataKey.__tablename__} IN ACCESS EXCLUSIVE MODE")
        running = [
            subprocess.Popen(
                [sys.executable, "-m", "streams.cli", *argv],
                env=home.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for argv in commands
        ]
        try:
            _until_waiting(home.vault_dsn, running)
            with postgres.frozen():
                ran = [_ended(command) for command in running]
        finally:
            for command in running:
                if command.poll() is None:
                    command.kill()
                    command.wait()
        holder.rollback()
    return ran


def _ended(command: subprocess.Popen[str]) -> Ran:
    """What ``command`` did once it ended; its code None if it still ran after ROOM."""
    try:
        out, err = command.communicate(timeout=ROOM)
        code: int | None = command.returncode
    except subprocess.TimeoutExpired:
        command.kill()
        out, err = command.communicate()
        code = None
    return Ran(code, out, err)


def _until_waiting(dsn: str, commands: list[subprocess.Popen[str]]) -> None:
    """Return once a session of each of ``commands`` waits for the lock on the vault's table."""
    waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
    deadline = time.monotonic() + ROOM
    with psycopg.connect(dsn, autocommit=True) as watcher:
        while _count(watcher.execute(waiting).fetchone()) < len(commands):
            for command in commands:
                assert command.poll() is None, command.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.2)


def _count(row: tuple[object, ...] | None) -> int:
    return int(str(row[0])) if row else 0


def kawal(home: Home, *argv: str) -> Ran:
    done = subprocess.run(
        [sys.executable, "-m", "streams.cli", *argv],
        env=home.env,
        capture_output=True,
        text=True,
        timeout=ROOM,
        check=False,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


def tombstone_of(home: Home) -> object:
    vault = DataKeyVault.open_existing(
        home.settings.effective_vault_url, load_kek_ring(home.settings)
    )
    try:
        return vault.tombstone(CASE)
    finally:
        vault.close()


def test_an_erasure_the_frozen_vault_did_not_commit_says_so_and_runs_again(
    home: Home, postgres: PostgresServer
) -> None:
    [ran] = frozen_at_the_vault(home, postgres, ["erase", CASE, "--reason", REASON, "--json"])
    not_erased = tombstone_of(home)
    again = kawal(home, "erase", CASE, "--reason", REASON, "--json")

    assert ran.code == EXIT_ERROR, ran
    assert json.loads(ran.out)["erasure"] == "not_erased"
    assert SAID in ran.err
    assert f"case {CASE} is not erased: the vault did not commit the erasure" in ran.err
    assert f"run `kawal erase {CASE} --reason ...` again once the vault answers" in ran.err
    assert not_erased is None
    # Run again: the key is destroyed; the event waits for a broker (none listens here).
    assert again.code == EXIT_NOT_RECORDED, again
    assert json.loads(again.out)["erasure"] == "erased"
    assert tombstone_of(home) is not None


#: Seconds the vault's server spends in the erasure's commit: past the command's 10 s deadline.
COMMIT_SECONDS = 15
#: A trigger PostgreSQL runs inside COMMIT (deferred), as a server whose disk stalls on the
#: commit's flush: the erasure is sent and applied, and its commit is not answered in time.
STALLED_COMMIT = f"""
CREATE FUNCTION stall_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_sleep({COMMIT_SECONDS}); RETURN NULL; END $$;
CREATE CONSTRAINT TRIGGER stall_commit AFTER UPDATE ON {CaseDataKey.__tablename__}
DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION stall_commit();
"""


def test_an_erasure_whose_commit_is_not_answered_says_its_outcome_is_not_known(
    home: Home,
) -> None:
    with psycopg.connect(home.vault_dsn, autocommit=True) as admin:
        admin.execute(STALLED_COMMIT)

    ran = kawal(home, "erase", CASE, "--reason", REASON, "--json")

    assert ran.code == EXIT_ERROR, ran
    assert json.loads(ran.out)["erasure"] == "unknown"
    assert SAID in ran.err
    assert f"whether the data key of case {CASE} is destroyed is not known" in ran.err
    assert f"run `kawal erase {CASE} --reason ...` again once the vault answers" in ran.err
    # The server finished the commit after the command gave up: "not known" was the truth.
    deadline = time.monotonic() + ROOM
    while tombstone_of(home) is None:
        assert time.monotonic() < deadline, "the stalled commit never ended"
        time.sleep(0.5)


def test_a_rewrap_on_a_frozen_vault_ends_and_says_to_run_it_again(
    home: Home, postgres: PostgresServer
) -> None:
    [ran] = frozen_at_the_vault(home, postgres, ["kek", "rewrap"])

    assert ran.code == EXIT_ERROR, ran
    assert SAID in ran.err
    assert "run `kawal kek rewrap` again: it goes on where it stopped" in ran.err


def test_the_kek_list_of_a_frozen_vault_shows_no_count_and_says_why(
    home: Home, postgres: PostgresServer
) -> None:
    [ran] = frozen_at_the_vault(home, postgres, ["kek", "list"])

    assert ran.code == EXIT_ERROR, ran
    assert "?" in ran.out
    assert "kawal: data keys not counted: the data-key vault" in ran.err
    assert SAID in ran.err


def test_a_trail_and_a_verification_on_a_frozen_vault_end_and_change_nothing(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    name = f"cli_case_vault_{os.getpid()}_{time.monotonic_ns()}"
    url = postgres.create_database(name)
    # The hub's pipeline step, in this process, writes a case as the worker and sink would:
    # its report's personal values kept under a data key of the vault.
    step = step_pipeline(tmp_path / "home", vault_url=url)
    settings = Settings(home=tmp_path / "home", vault_url=url)
    store = AuditStore(settings.audit_url)
    store.create_schema()
    try:
        case_id = accepted_case(step, store)
    finally:
        store.close()
        assert isinstance(step.case_keys, DataKeyVault)
        step.case_keys.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAWAL_")}
    env |= {"KAWAL_HOME": str(settings.home), "KAWAL_VAULT_URL": url}
    home = Home(settings, env, _dsn(postgres, name))

    trail, verified = frozen_at_the_vault(
        home,
        postgres,
        ["case", "trail", case_id, "--as", "bawaslu.33", "--json"],
        ["audit", "verify", "--json"],
    )

    for ran in (trail, verified):
        assert ran.code == EXIT_ERROR, ran
        assert SAID in ran.err
        assert "nothing was changed; once the vault answers again" in ran.err
    assert SAID in json.loads(verified.out)["error"]

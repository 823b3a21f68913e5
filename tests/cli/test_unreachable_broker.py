"""A command that needs the broker says so when it cannot reach it, within its wait.

Every command that reads or writes the broker through a kafka-python client stops after
KAWAL_BROKER_WAIT_SECONDS with one line naming the broker and what to do, without a traceback.
"""

from __future__ import annotations

from pathlib import Path

from streams.cli.exits import EXIT_ERROR
from streams.local.keyring import ensure_local_keys
from streams.local.processes import free_port
from streams.settings import Settings
from tests.without_broker import run_without_broker

#: The wait the commands are given, s.
WAIT_SECONDS = 0.5
#: Longest a refusal may take once the command's modules are loaded, s: twenty times the wait,
#: room for a loaded machine, and still under the hub's default wait (15 s) and kafka-python's
#: (30 s), one of which a command that ignored the setting would wait.
LONGEST_SECONDS = 10.0


def test_every_broker_command_without_a_broker_is_a_clear_error_within_its_wait(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    ensure_local_keys(Settings(home=home))
    callback = tmp_path / "callback.toml"
    callback.write_text(
        'institution = "bawaslu.33"\ncallback_url = "http://127.0.0.1:9/x"\ntoken = "t"\n'
    )
    url = f"kafka://127.0.0.1:{free_port()}"
    settings = {
        "KAWAL_HOME": str(home),
        "KAWAL_BROKER_URL": url,
        "KAWAL_BROKER_WAIT_SECONDS": str(WAIT_SECONDS),
        "KAWAL_CONNECTOR_METRICS_PORT": "0",
    }
    commands = [
        ["dlq", "list"],
        ["dlq", "replay"],
        ["replay"],
        ["topics", "strays"],
        ["topics", "strays", "--delete", "kawal.inbound.nope"],
        ["connector", "run", "bawaslu-callback", "--config", str(callback)],
    ]

    # Each command twice: the first loads its modules, which takes what the machine's load makes
    # it; only the second is timed.
    done = run_without_broker(
        settings, tmp_path / "ran.json", *(c for command in commands for c in (command, command))
    )

    for command, first, ran in zip(commands, done[::2], done[1::2], strict=True):
        assert first.returncode == EXIT_ERROR, (command, first.stderr)
        assert first.stderr.splitlines()[-1:] == ran.stderr.splitlines()[-1:], command
        assert ran.returncode == EXIT_ERROR, (command, ran.stderr)
        *logs, refusal = ran.stderr.splitlines()
        # A connector is a serving process: its logs are its output, kafka-python's included.
        assert not logs or command[0] == "connector", (command, ran.stderr)
        assert refusal.startswith(f"kawal: the broker at {url} did not answer")
        assert refusal.count("KafkaTimeoutError") == 1, (command, refusal)
        assert refusal.endswith("or set KAWAL_BROKER_URL")
        # A broker that runs but does not answer is not to be started again: the runbook.
        assert "see docs/operations.md#kawalbrokerunanswered if it is" in refusal
        assert ran.seconds < LONGEST_SECONDS, f"{command}: refused after {ran.seconds:.1f} s"

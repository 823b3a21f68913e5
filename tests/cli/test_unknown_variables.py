"""A ``KAWAL_*`` variable no setting reads stops every kind of process, exit 13, nothing started.

Each kind runs as an operator starts it, in a process of its own, with a misspelt setting in
its environment: before, it started and ignored it (the web port's default served, SQLite stored
the trail, the broker was met without a password). The message names the variable and the
setting it resembles; the value is never repeated (it may be a password).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from streams.cli.exits import EXIT_ERROR, EXIT_OK, EXIT_UNKNOWN_SETTING
from streams.contract.generated_files import PROJECT_ROOT
from streams.unknown_variables import closest_known, known_variables

SECRET = "s3cret-value-0042"
#: Every kind of process `kawal` starts, with the arguments it needs to get as far as starting.
KINDS = {
    "up": ["up", "--ephemeral"],
    "worker": ["worker"],
    "sink": ["sink"],
    "demo": ["demo"],
    "connector run": ["connector", "run", "siasn", "--config", "siasn.toml"],
    "connector demo": ["connector", "demo"],
    "command": ["case", "list"],
    "status": ["status"],
}
#: Misspelt settings as an operator types them, and the setting each was meant to be.
MISSPELT = {
    "KAWAL_WEBPORT": "KAWAL_WEB_PORT",
    "KAWAL_AUDIT_DB_UR": "KAWAL_AUDIT_DB_URL",
    "KAWAL_BROKER_PASWORD": "KAWAL_BROKER_PASSWORD",
    "KAWAL_WEB_TLS_CRT": "KAWAL_WEB_TLS_CERT",
}


def kawal(env: dict[str, str], *argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``kawal ARGV`` in a process of its own, with ``env`` as its whole environment."""
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", *argv],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def environment(home: Path, **variables: str) -> dict[str, str]:
    """This test run's environment (its own KAWAL_* included) with a home and ``variables``."""
    return {**os.environ, "KAWAL_HOME": str(home), **variables}


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_every_kind_of_process_refuses_a_misspelt_setting(kind: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = environment(home, KAWAL_WEBPORT=SECRET)

    result = kawal(env, *KINDS[kind], cwd=tmp_path)

    assert result.returncode == EXIT_UNKNOWN_SETTING, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("kawal: no setting of kawal reads the variable KAWAL_WEBPORT ")
    assert "(did you mean KAWAL_WEB_PORT?)" in line
    assert "KAWAL_TOLERATED_VARIABLES" in line  # the way out, for another version's setting
    assert SECRET not in result.stdout + result.stderr
    assert not home.exists()  # refused before anything was started or written


@pytest.mark.parametrize(("misspelt", "meant"), MISSPELT.items())
def test_each_misspelt_setting_is_named_with_the_one_it_resembles(
    misspelt: str, meant: str, tmp_path: Path
) -> None:
    value = f"postgresql://kawal:{SECRET}@db.example/kawal"
    result = kawal(environment(tmp_path / "home", **{misspelt: value}), "status", cwd=tmp_path)

    assert result.returncode == EXIT_UNKNOWN_SETTING
    assert f"the variable {misspelt} (did you mean {meant}?)" in result.stderr
    assert SECRET not in result.stderr
    assert "db.example" not in result.stderr


def test_every_unknown_variable_is_named_in_one_line(tmp_path: Path) -> None:
    env = environment(tmp_path / "home", KAWAL_WEBPORT="1", kawal_sinkport="2", KAWAL_QQQ="3")

    result = kawal(env, "status", cwd=tmp_path)

    assert result.returncode == EXIT_UNKNOWN_SETTING
    [line] = result.stderr.splitlines()
    # In any case, as the settings themselves are read; nothing close is said so.
    assert "the variable kawal_sinkport (did you mean KAWAL_SINK_PORT?)" in line
    assert "the variable KAWAL_QQQ (no known variable is close)" in line
    assert "the variable KAWAL_WEBPORT (did you mean KAWAL_WEB_PORT?)" in line


def test_a_misspelt_secret_file_is_refused_without_its_content(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "kawal_broker_pasword").write_text(SECRET)
    env = environment(tmp_path / "home", KAWAL_SECRETS_DIR=str(secrets))

    result = kawal(env, "status", cwd=tmp_path)

    assert result.returncode == EXIT_UNKNOWN_SETTING
    assert "the secret file kawal_broker_pasword (did you mean kawal_broker_password?)" in (
        result.stderr
    )
    assert SECRET not in result.stderr


def test_a_tolerated_variable_lets_the_command_run(tmp_path: Path) -> None:
    env = environment(
        tmp_path / "home",
        KAWAL_NEW_SETTING=SECRET,
        KAWAL_OTHER_ONE="x",
        KAWAL_TOLERATED_VARIABLES="KAWAL_NEW_SETTING, KAWAL_OTHER_ONE",
    )

    result = kawal(env, "deadline", "due", "--start", "2024-11-01", "--days", "3", cwd=tmp_path)

    assert result.returncode == EXIT_OK, result.stderr
    assert "2024-11" in result.stdout


def test_a_correct_environment_runs_the_command(tmp_path: Path) -> None:
    result = kawal(
        environment(tmp_path / "home", KAWAL_WEB_PORT="8099"),
        *("deadline", "due", "--start", "2024-11-01", "--days", "3"),
        cwd=tmp_path,
    )

    assert result.returncode == EXIT_OK, result.stderr


def test_a_tolerated_list_that_names_no_variable_is_refused(tmp_path: Path) -> None:
    env = environment(tmp_path / "home", KAWAL_TOLERATED_VARIABLES=f"KAWAL_A,{SECRET}")

    result = kawal(env, "status", cwd=tmp_path)

    assert result.returncode == EXIT_ERROR
    assert result.stderr.startswith("kawal: KAWAL_TOLERATED_VARIABLES takes names of KAWAL_*")
    assert SECRET not in result.stderr


def test_no_known_variable_is_suggested_for_a_name_unlike_any() -> None:
    assert closest_known("KAWAL_ZZZ") is None
    assert closest_known("KAWAL_BROKER_USER") == "KAWAL_BROKER_USERNAME"


#: Python names that are no variables (the case ids' UUID namespace, the broker transport's
#: name) and the example of how to write KAWAL_TOLERATED_VARIABLES.
NOT_VARIABLES = {
    "KAWAL_CASE_NAMESPACE",
    "KAWAL_TRANSPORT",
    "KAWAL_NEW_SETTING",
    "KAWAL_OTHER_SETTING",
}
#: Files whose examples are misspelt on purpose: this test, the check's doctests.
MISSPELLING_EXAMPLES = {Path(__file__), PROJECT_ROOT / "streams" / "unknown_variables.py"}
#: A name standing alone: not a ``__KAWAL_X__`` placeholder, nor a prefix (``KAWAL_BROKER_{x}``).
VARIABLE = re.compile(r"(?<![A-Za-z0-9_])KAWAL_[A-Z0-9_]*[A-Z0-9](?![A-Za-z0-9_])")
#: Where the project sets or reads variables: its code, tooling, manifests and CI.
SCANNED = ("streams", "connectors", "monitoring", "schemas", "bench", "tests", "deploy", "tools")


def scanned_files() -> list[Path]:
    """Every text file of the project that may name a variable, but the misspelt examples'."""
    files = [PROJECT_ROOT / "Makefile", PROJECT_ROOT / ".ci" / "run"]
    for folder in SCANNED:
        files += [
            path
            for path in (PROJECT_ROOT / folder).rglob("*")
            if path.is_file()
            and "node_modules" not in path.parts
            and "__pycache__" not in path.parts
            and path.suffix in {"", ".py", ".yaml", ".yml", ".toml", ".sh", ".txt", ".json"}
            and path not in MISSPELLING_EXAMPLES
        ]
    return files


def test_every_variable_the_project_names_is_known() -> None:
    # The test suite, the benchmarks and the manifests run kawal processes with these set:
    # one unknown would stop them all.
    named = {
        (name, path.relative_to(PROJECT_ROOT).as_posix())
        for path in scanned_files()
        for name in VARIABLE.findall(path.read_text("utf-8", errors="replace"))
    }

    unknown = sorted((name, where) for name, where in named if name not in known_variables())

    assert [(name, where) for name, where in unknown if name not in NOT_VARIABLES] == []

"""What stops `kawal connector run` at its start, with what to do: an institution the registry
does not list, and a metrics port another process holds."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from connectors.errors import ConnectorConfigError
from connectors.host import build, check_registered
from streams.settings import Settings
from tests.hubtools import START_SECONDS

pytestmark = pytest.mark.slow


def run_status(tmp_path: Path, institution: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``kawal connector run authority-status`` against no broker: it must stop by itself.

    An outbound connector, which would otherwise wait for its feed for ever.
    """
    return run_against_no_broker(tmp_path, "authority-status", institution, **env)


def run_against_no_broker(
    tmp_path: Path, name: str, institution: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """``kawal connector run NAME`` for ``institution``, its system a SQLite file, no broker."""
    config = tmp_path / f"{name}.toml"
    config.write_text(
        f'institution = "{institution}"\ndatabase_url = "sqlite:///{tmp_path / f"{name}.db"}"\n'
    )
    environment = dict(
        os.environ,
        KAWAL_HOME=str(tmp_path / "home"),
        KAWAL_BROKER_URL="tansu://127.0.0.1:9",
        KAWAL_CONNECTOR_METRICS_PORT="0",
    )
    command = [sys.executable, "-m", "streams.cli", "connector", "run", name]
    return subprocess.run(
        [*command, "--config", str(config)],
        env=environment | env,
        capture_output=True,
        text=True,
        timeout=START_SECONDS,  # a hang guard: imports take a minute on a starved machine
        check=False,
    )


@pytest.mark.parametrize("name", ["authority-status", "ppk-decrees"])
def test_an_institution_the_registry_in_force_lists_is_taken(tmp_path: Path, name: str) -> None:
    registry = tmp_path / "institutions.toml"
    registry.write_text('[[institution]]\nid = "my-agency"\nrole = "ppk"\nname = "M"\n')
    database = f"sqlite:///{tmp_path / 'system.db'}"
    connector = build(name, {"institution": "my-agency", "database_url": database})

    check_registered(connector, Settings(institutions_file=registry))

    with pytest.raises(ConnectorConfigError, match="not in the institutions registry"):
        check_registered(connector, Settings(institutions_file=None))


@pytest.mark.parametrize(
    ("institution", "hint"),
    [
        ("my-agency", None),
        ("BAWASLU.33", "; did you mean 'bawaslu.33'?"),
        ("bawaslu.3", "; did you mean 'bawaslu.33'?"),
    ],
)
def test_an_unregistered_institution_stops_the_run_before_it_connects(
    tmp_path: Path, institution: str, hint: str | None
) -> None:
    run = run_status(tmp_path, institution)

    assert run.returncode == 1
    assert f"institution {institution!r} is not in the institutions registry" in run.stderr
    assert "bundled streams/data/institutions.toml" in run.stderr
    assert "KAWAL_INSTITUTIONS_FILE" in run.stderr
    if hint is None:
        assert "did you mean" not in run.stderr
    else:
        assert hint in run.stderr
    assert "running for" not in run.stderr


def init_keys(tmp_path: Path) -> None:
    """Keys of the hub and every institution in the home ``run_against_no_broker`` uses.

    A connector checks its keys before it serves its metrics: without them, it stops there.
    """
    made = subprocess.run(
        [sys.executable, "-m", "streams.cli", "keys", "init"],
        env=dict(os.environ, KAWAL_HOME=str(tmp_path / "home")),
        capture_output=True,
        text=True,
        timeout=START_SECONDS,
        check=False,
    )
    assert made.returncode == 0, made.stderr


def test_a_metrics_port_in_use_is_named_with_its_setting(tmp_path: Path) -> None:
    init_keys(tmp_path)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        run = run_status(
            tmp_path, "kasn", KAWAL_WEB_HOST="127.0.0.1", KAWAL_CONNECTOR_METRICS_PORT=str(port)
        )

    assert run.returncode == 1
    assert f"port {port} on 127.0.0.1 for the connector's metrics is in use" in run.stderr
    assert "set KAWAL_CONNECTOR_METRICS_PORT to a free port, or to 0" in run.stderr
    assert "check the paths" not in run.stderr


def test_an_inbound_connector_without_its_key_stops_at_once_saying_how_to_make_one(
    tmp_path: Path,
) -> None:
    # Before, it ran "for ppk.3374" and said so only at the first record it had to sign.
    run = run_against_no_broker(tmp_path, "ppk-decrees", "ppk.3374")

    assert run.returncode == 1, run.stderr
    assert f"no private key of ppk.3374 is in {tmp_path / 'home' / 'keys' / 'ppk.3374'}" in (
        run.stderr
    )
    assert "kawal keys new ppk.3374 --use signing" in run.stderr
    assert "running for" not in run.stderr


def test_keys_are_checked_before_it_says_it_runs_and_before_it_binds_its_metrics_port(
    tmp_path: Path,
) -> None:
    """The walkthrough saw ``running for ...`` logged, its port taken, then the key refused.

    With the metrics port held by another process, a connector that checked its keys first
    names the key, and never reaches the port.
    """
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        run = run_against_no_broker(
            tmp_path,
            "ppk-decrees",
            "ppk.3374",
            KAWAL_WEB_HOST="127.0.0.1",
            KAWAL_CONNECTOR_METRICS_PORT=str(port),
        )

    assert run.returncode == 1, run.stderr
    assert "no private key of ppk.3374" in run.stderr
    assert "for the connector's metrics is in use" not in run.stderr
    assert "running for" not in run.stderr
    assert "connector metrics on" not in run.stderr


def test_an_outbound_connector_given_a_registry_without_the_hubs_key_stops_at_once(
    tmp_path: Path,
) -> None:
    # Started in a home of its own with KAWAL_KEYS_FILE forgotten, ppk-inbox dead-lettered its
    # whole feed as hub_unknown_key.
    registry = tmp_path / "keys.toml"
    registry.write_text("# no key at all\n")

    run = run_status(tmp_path, "kasn", KAWAL_KEYS_FILE=str(registry))

    assert run.returncode == 1, run.stderr
    assert f"the key registry in force ({registry}) holds no hub (kawal) signing key" in run.stderr
    assert "set KAWAL_KEYS_FILE to the key registry the hub's operators give" in run.stderr

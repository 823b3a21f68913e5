"""A connector beside a damaged file in its institution's key folder: it runs, and says so.

Before, one damaged ``*.pem`` in ``keys/<institution>/`` stopped ``kawal connector run`` at
its start, even beside the valid key it signs with. Now the file is set aside, logged once with
its path and the runbook, exported as ``kawal_connector_key_file_damaged{file,damage}``, and
the connector runs on its valid key; with no usable key it still stops at its start, naming the
file and what to do.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from connectors.host import only_copy, run_held
from monitoring.connectors import ConnectorMetrics
from streams.domain.key_files import RUNBOOK
from streams.local.embedded import EmbeddedBroker
from streams.local.keyring import ensure_local_keys, keyring_of
from streams.settings import Settings
from tests.connectors.test_connector_start import run_against_no_broker
from tests.connectors.test_inbound_refusals import INSTITUTION, AsItComes

pytestmark = pytest.mark.slow

CUT = b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI"
#: Longest wait for the connector's first read of its keys, s.
DEADLINE = 120.0


def home_with_keys(tmp_path: Path) -> Settings:
    """A home whose every institution holds a signing and an encryption key."""
    settings = Settings(home=tmp_path / "home")
    ensure_local_keys(settings)
    return settings


def test_a_damaged_file_beside_the_valid_key_is_exported_and_the_connector_runs(
    tmp_path: Path, embedded_broker: EmbeddedBroker
) -> None:
    settings = home_with_keys(tmp_path)
    spare = settings.key_dir / INSTITUTION / "0a1b2c3d4e5f6a7b.pem"
    spare.write_bytes(CUT)
    connector, metrics, stop = AsItComes([]), ConnectorMetrics(), threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            with only_copy(connector.name, settings.home):
                run_held(
                    connector,
                    [embedded_broker.bootstrap_servers],
                    settings.home,
                    stop,
                    keyring=keyring_of(settings),
                    metrics=metrics,
                    wait=2.0,
                )
        except BaseException as exc:  # reported by the test, not lost in the thread
            failure.append(exc)

    labels = {"connector": connector.name, "institution": INSTITUTION}
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + DEADLINE
        while metrics.registry.get_sample_value("kawal_connector_up", labels) != 1.0:
            assert not failure, f"the connector stopped: {failure!r}"
            assert time.monotonic() < deadline, "the connector never completed a pass"
            time.sleep(0.2)
    finally:
        stop.set()
        thread.join(DEADLINE)

    damaged = labels | {"file": spare.name, "damage": "truncated"}
    assert metrics.registry.get_sample_value("kawal_connector_key_file_damaged", damaged) == 1.0
    assert not failure


def test_with_only_a_damaged_key_the_connector_stops_at_its_start_naming_the_file(
    tmp_path: Path,
) -> None:
    settings = home_with_keys(tmp_path)
    [key] = (settings.key_dir / "ppk.3374").glob("*.pem")
    key.write_bytes(CUT)

    run = run_against_no_broker(tmp_path, "ppk-decrees", "ppk.3374")

    assert run.returncode == 1, run.stderr
    assert f"ppk.3374/{key.stem} is in the key registry: restore the file from the backup" in (
        run.stderr
    )
    assert f"Set aside in {key.parent}: {key.name} ({RUNBOOK})" in run.stderr
    assert "is set aside (truncated)" in run.stderr
    assert "running for" not in run.stderr
    assert "MC4CAQ" not in run.stderr
    assert "Traceback" not in run.stderr


def test_a_damaged_file_beside_the_valid_key_does_not_stop_the_start(tmp_path: Path) -> None:
    settings = home_with_keys(tmp_path)
    spare = settings.key_dir / "ppk.3374" / "stray.pem"
    spare.write_text("not a key\n")

    run = run_against_no_broker(tmp_path, "ppk-decrees", "ppk.3374", KAWAL_BROKER_WAIT_SECONDS="1")

    # It got past its keys to the broker, which is not there.
    assert "running for" in run.stderr, run.stderr
    assert "is set aside (not_a_key)" in run.stderr
    assert str(spare) in run.stderr
    assert "no private key of ppk.3374" not in run.stderr

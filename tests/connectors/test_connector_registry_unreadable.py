"""A connector whose key registry file no longer reads says so on its metrics, pass by pass.

It goes on with the registry it read last (a half-done edit must not stop an institution's
reports), and that registry may still hold a key revoked since: ops must see it.
``kawal_connector_key_registry_readable`` is 0 from the first pass that finds the file
unreadable and 1 again from the first pass after it is mended. The outbound runner's gauge is
checked on a running connector in ``test_connector_key_reload``.
"""

from __future__ import annotations

from pathlib import Path

from kafka import KafkaProducer

from monitoring.connectors import ConnectorMetrics
from streams.broker.checkpoints import CheckpointStore
from streams.local.keyring import ensure_local_keys, keyring_of
from streams.settings import Settings
from tests.connectors.test_inbound_refusals import AsItComes, report, runner_of


def test_an_unreadable_registry_is_exported_at_the_next_pass_and_cleared_once_mended(
    producer: KafkaProducer, checkpoints: CheckpointStore, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path / "home")
    ensure_local_keys(settings)
    registry_file = settings.local_key_registry
    connector = AsItComes([report()])
    connector.down = True  # the passes read no record: only the registry check matters here
    metrics = ConnectorMetrics()
    runner = runner_of(connector, producer, checkpoints, metrics, keyring_of(settings))
    labels = {"connector": connector.name, "institution": connector.institution}

    def readable() -> float | None:
        return metrics.registry.get_sample_value("kawal_connector_key_registry_readable", labels)

    assert readable() == 1.0
    held = {entry.id for entry in runner.keys.registry.entries()}
    good = registry_file.read_text()
    registry_file.write_text(good + "\n[[keys]]\nid = \n")  # an edit half done
    runner.run_once()
    assert readable() == 0.0
    assert runner.keys.problem is not None
    assert {entry.id for entry in runner.keys.registry.entries()} == held  # the last one read

    registry_file.write_text(good)
    runner.run_once()
    assert readable() == 1.0

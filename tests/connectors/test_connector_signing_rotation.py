"""A signing key made and registered while a connector runs signs its next records, no restart.

An institution rotates as docs/operations.md says: ``kawal keys new`` writes the new private
key where its connector reads keys, the printed entry goes into the key registry, and the old
key is revoked (here, as after a leak). The connector re-reads the registry before each batch;
its key folder is read again once the registry names a valid key it does not hold. Before, the
keys it read first were all it ever held: it went on signing with the old key, then, once that
was revoked, signed nothing until someone restarted it.
"""

from __future__ import annotations

from pathlib import Path

from kafka import KafkaProducer

from connectors.contract import read_topic
from monitoring.connectors import ConnectorMetrics
from schemas.catalog import default_catalog
from schemas.codec import AvroCodec, CodecError
from streams.broker.checkpoints import CheckpointStore
from streams.domain.keys import KeyUse
from streams.local.keyring import ensure_local_keys, keyring_of
from streams.settings import Settings
from streams.topics import inbound_topic
from tests.connectors.test_inbound_refusals import INSTITUTION, AsItComes, report, runner_of
from tests.in_process import kawal_here


def signed_by(bootstrap: list[str], source_id: str) -> list[str]:
    """The key ids of the records published for the system record ``source_id``."""
    codec = AvroCodec(default_catalog())
    found = []
    for message in read_topic(bootstrap, inbound_topic(INSTITUTION)):
        try:
            signed = codec.decode(message.value).record
            event = codec.decode(signed["event"]).record
        except CodecError:
            continue  # another test's raw record on the session's broker
        if event["case_number"] == source_id:
            found.append(signed["key_id"])
    return found


def test_a_key_made_and_registered_while_the_connector_runs_signs_after_the_old_is_revoked(
    kawal_broker: list[str],
    producer: KafkaProducer,
    checkpoints: CheckpointStore,
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    settings = Settings(home=home)
    ensure_local_keys(settings)
    keyring = keyring_of(settings)
    first, second, third = report(), report(), report()
    connector = AsItComes([first])
    runner = runner_of(connector, producer, checkpoints, ConnectorMetrics(), keyring)
    runner.run_once()
    [old] = signed_by(kawal_broker, first["id"])

    env = {"KAWAL_HOME": str(home)}
    # Valid from before the system's records (dated 2024), so that the backlog signs too.
    made = kawal_here(
        env, "keys", "new", INSTITUTION, "--use", KeyUse.SIGNING.value, "--valid-from", "2024-01-01"
    )
    assert made.returncode == 0, made.stderr
    registry = settings.local_key_registry
    registry.write_text(registry.read_text() + made.stdout)
    [new_file] = [
        path
        for path in (home / "keys" / INSTITUTION).glob("*.pem")
        if f"{INSTITUTION}/{path.stem}" != old
    ]
    new = f"{INSTITUTION}/{new_file.stem}"

    connector.reports.append(second)
    runner.run_once()
    # Both are valid in the overlap: the one valid from later is the new one, so it signs.
    assert signed_by(kawal_broker, second["id"]) == [new]

    revoked = kawal_here(env, "keys", "revoke", old, "--reason", "leaked")
    assert revoked.returncode == 0, revoked.stderr
    connector.reports.append(third)
    runner.run_once()
    assert signed_by(kawal_broker, third["id"]) == [new]
    assert runner.keys.problem is None
